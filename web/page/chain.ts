// The chain, through dedot: the two contracts from the server's /config.json, dry runs that
// say why a call would fail before anything is signed, and signing through a wallet that
// implements the `window.injectedWeb3` protocol (polkadot{.js} extension, Talisman, SubWallet).

import { Contract } from '@dedot/contracts';
import { DedotClient, WsProvider } from 'dedot';
import { sentence } from './words';

export interface ContractConfig {
  address: string;
  metadata: unknown;
}

export interface PageConfig {
  nodeUrl: string;
  graphql: string;
  consentRegistry: ContractConfig;
  recordRegistry: ContractConfig;
}

export interface Chain {
  client: DedotClient;
  consent: Contract;
  records: Contract;
  decimals: number;
  symbol: string;
}

export async function connectChain(config: PageConfig): Promise<Chain> {
  const client = await DedotClient.legacy(new WsProvider(config.nodeUrl));
  const properties: any = await client.chainSpec.properties().catch(() => ({}));
  const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);
  return {
    client,
    consent: new Contract(client, config.consentRegistry.metadata as any, config.consentRegistry.address),
    records: new Contract(client, config.recordRegistry.metadata as any, config.recordRegistry.address),
    decimals: Number(first(properties.tokenDecimals) ?? 12),
    symbol: String(first(properties.tokenSymbol) ?? 'UNIT'),
  };
}

export interface Account {
  address: string;
  name?: string;
  signer: any;
}

/** The accounts of every wallet injected into the page. */
export async function walletAccounts(): Promise<Account[] | null> {
  const injected = (window as any).injectedWeb3 as Record<string, any> | undefined;
  if (!injected || Object.keys(injected).length === 0) return null;
  const accounts: Account[] = [];
  for (const wallet of Object.values(injected)) {
    const extension = await wallet.enable('medledger');
    for (const account of await extension.accounts.get()) {
      accounts.push({ address: account.address, name: account.name, signer: extension.signer });
    }
  }
  return accounts;
}

/** A call the contract accepted in a dry run, ready to be signed. */
export interface Prepared {
  fee: string;
  send: () => Promise<number>;
}

/** A refusal in the contract's words. */
export class Refused extends Error {}

/**
 * Dry-runs `method(args)` on `contract` as `account`; a refusal is thrown as a sentence.
 * The returned call carries the fee and sends the transaction, resolving with its finalized
 * block number.
 */
export async function prepare(chain: Chain, contract: Contract, account: Account, method: string, args: unknown[]): Promise<Prepared> {
  const query = (contract.query as any)[method];
  const dry = await query(...args, { caller: account.address });
  if (dry.data?.isErr) throw new Refused(sentence(String(dry.data.err?.type ?? dry.data.err)));
  const margin = (v: bigint) => v + v / 5n;
  const gasLimit = { refTime: margin(dry.raw.gasRequired.refTime), proofSize: margin(dry.raw.gasRequired.proofSize) };
  const tx = (contract.tx as any)[method](...args, { gasLimit });
  const info = await tx.paymentInfo(account.address);
  return {
    fee: units(BigInt(info.partialFee), chain.decimals, chain.symbol),
    send: async () => {
      const result = await tx.signAndSend(account.address, { signer: account.signer }).untilFinalized();
      if (result.dispatchError) {
        const meta = chain.client.registry.findErrorMeta(result.dispatchError);
        throw new Refused(meta ? `The chain refused: ${meta.pallet}.${meta.name}` : 'The chain refused the transaction.');
      }
      const status = result.status as any;
      return Number(status.value?.blockNumber ?? 0);
    },
  };
}

function units(planck: bigint, decimals: number, symbol: string): string {
  const scale = 10n ** BigInt(decimals);
  const whole = planck / scale;
  const fraction = (planck % scale).toString().padStart(decimals, '0').slice(0, 6);
  return `${whole}.${fraction} ${symbol}`;
}
