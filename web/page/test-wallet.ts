// A wallet for the browser test only (never served): it injects itself into
// `window.injectedWeb3` as an extension does and signs with the dev keys //Dave and //Eve,
// exactly as the polkadot{.js} extension signs (`ExtrinsicPayload` from the payload the page
// hands it, signed with the account's sr25519 key).

import { Keyring } from '@polkadot/keyring';
import { TypeRegistry } from '@polkadot/types';
import { cryptoWaitReady } from '@polkadot/util-crypto';

const w = window as any;
const ready = cryptoWaitReady().then(() => {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  keyring.addFromUri('//Dave', { name: 'Dave (test)' });
  keyring.addFromUri('//Eve', { name: 'Eve (test)' });
  return keyring;
});
let id = 0;
w.medledgerTestWallet = { signed: [] as unknown[] };
w.injectedWeb3 = w.injectedWeb3 ?? {};
w.injectedWeb3['medledger-test-wallet'] = {
  version: '1.0.0',
  enable: async (_origin: string) => {
    const keyring = await ready;
    const accounts = keyring.getPairs().map((p) => ({ address: p.address, name: String(p.meta.name), type: 'sr25519' }));
    return {
      accounts: {
        get: async () => accounts,
        subscribe: (cb: (a: unknown[]) => void) => {
          cb(accounts);
          return () => {};
        },
      },
      signer: {
        signPayload: async (payload: any) => {
          const registry = new TypeRegistry();
          registry.setSignedExtensions(payload.signedExtensions);
          const pair = keyring.getPair(payload.address);
          const { signature } = registry.createType('ExtrinsicPayload', payload, { version: payload.version }).sign(pair);
          w.medledgerTestWallet.signed.push(payload);
          id += 1;
          return { id, signature };
        },
      },
    };
  },
};
