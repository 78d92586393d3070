// The verify view's checks: the commitment is computed here, from the file and its salt;
// only the commitment (or the proof's root) is looked up.

import { blake2AsU8a, concatU8a, hexToU8a, u8aToHex } from 'dedot/utils';
import { gql } from './api';
import type { Chain } from './chain';

const enc = new TextEncoder();

function hexToBytes(hex: string): Uint8Array {
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`${hex} is not a 32-byte hex value`);
  return hexToU8a(hex.startsWith('0x') ? hex : `0x${hex}`);
}

const toHex = u8aToHex;

/** blake2b-256 of the parts one after another. */
const h = (...parts: Uint8Array[]): Uint8Array => blake2AsU8a(concatU8a(...parts), 256);

/** `blake2b_256("medledger/record/v1" || salt || document)`, as medledger-proofs computes it. */
export function commitment(salt: string, document: Uint8Array): string {
  return toHex(h(enc.encode('medledger/record/v1'), hexToBytes(salt), document));
}

function rootOf(leaf: string, path: { side: string; sibling: string }[]): string {
  let acc = h(Uint8Array.of(0), hexToBytes(leaf));
  for (const step of path) {
    const sibling = hexToBytes(step.sibling);
    acc = step.side === 'left' ? h(Uint8Array.of(1), sibling, acc) : h(Uint8Array.of(1), acc, sibling);
  }
  return toHex(acc);
}

export interface Verdict {
  ok: boolean;
  lines: string[];
}

export async function verifyDocument(document: Uint8Array, evidence: any, graphql: string, chain: Chain | null): Promise<Verdict> {
  if (evidence?.format === 'medledger-receipt/v1') return verifyReceipt(document, evidence, graphql, chain);
  if (evidence?.format === 'medledger-proof/v1') return verifyProof(document, evidence, graphql, chain);
  return { ok: false, lines: ['This file is neither a medledger receipt nor a medledger proof.'] };
}

async function verifyReceipt(document: Uint8Array, receipt: any, graphql: string, chain: Chain | null): Promise<Verdict> {
  const c = commitment(receipt.salt, document);
  if (c !== receipt.commitment) {
    return { ok: false, lines: ['NO MATCH: this is not the document the receipt was made for.'] };
  }
  const data = await gql(graphql, 'query($c: Hash!, $k: AccountId) { verifyCommitment(commitment: $c, custodian: $k) { recordId version patient custodian blockNumber anchoredAt current claims { insurer claimRef } } }', { c, k: receipt.custodian });
  const anchor = data.verifyCommitment?.[0];
  if (!anchor) return { ok: false, lines: [`NOT ANCHORED: ${receipt.custodian} anchored no such document.`] };
  const lines = [
    `MATCH: version ${anchor.version} of record ${anchor.recordId}, anchored by ${anchor.custodian} in block #${anchor.blockNumber} at ${anchor.anchoredAt}: ${anchor.current ? 'CURRENT' : 'SUPERSEDED (a later version exists)'}.`,
    anchor.claims.length ? `Used by ${anchor.claims.length} claim(s).` : 'No claim used it.',
  ];
  if (anchor.patient !== receipt.patient || anchor.recordId !== receipt.record_id) {
    return { ok: false, lines: [`NO MATCH: the anchor is of record ${anchor.recordId} of ${anchor.patient}, not what the receipt says.`] };
  }
  if (!chain) return { ok: false, lines: [...lines, 'NOT CHECKED on the chain: the node could not be reached.'] };
  const onChain = await (chain.records.query as any).verify(receipt.custodian, c, { caller: receipt.custodian });
  lines.push(onChain.data ? 'The chain agrees.' : 'The chain does NOT know this anchor.');
  return { ok: Boolean(onChain.data), lines };
}

async function verifyProof(document: Uint8Array, proof: any, graphql: string, chain: Chain | null): Promise<Verdict> {
  if (commitment(proof.salt, document) !== proof.leaf) {
    return { ok: false, lines: ['NO MATCH: this is not the document the proof was made for.'] };
  }
  if (rootOf(proof.leaf, proof.path) !== proof.root) {
    return { ok: false, lines: ["NO MATCH: the proof's path does not lead to its root."] };
  }
  // Only the bundle goes to the API, never the salt.
  const bundle = { leaf: proof.leaf, path: proof.path, root: proof.root, block_number: proof.block_number, block_hash: proof.block_hash };
  const data = await gql(graphql, 'query($b: JSON!) { verifyInclusion(bundle: $b) { valid explanation } }', { b: bundle });
  const lines = [data.verifyInclusion.valid ? `MATCH: ${data.verifyInclusion.explanation}` : `NO MATCH: ${data.verifyInclusion.explanation}`];
  if (!data.verifyInclusion.valid) return { ok: false, lines };
  if (!chain) return { ok: false, lines: [...lines, 'NOT CHECKED on the chain: the node could not be reached.'] };
  const onChain = await (chain.records.query as any).verifyBatch(proof.org, proof.root, { caller: proof.org });
  const agrees = Boolean(onChain.data) && Number(onChain.data.blockNumber) === Number(proof.block_number);
  lines.push(agrees ? 'The chain agrees.' : `The chain does NOT know this batch of ${proof.org} in block #${proof.block_number}.`);
  return { ok: agrees, lines };
}
