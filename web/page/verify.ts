// The verify view's checks: the commitment is computed here, from the file and its salt;
// only the commitment (or the proof's root) is looked up.

import { blake2AsU8a, concatU8a, hexToU8a, u8aToHex } from 'dedot/utils';
import { gql } from './api';
import type { Chain } from './chain';
import { categoryLabel, when } from './words';

const enc = new TextEncoder();

function hexToBytes(hex: string): Uint8Array {
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`${hex} is not a 32-byte hex value`);
  return hexToU8a(hex.startsWith('0x') ? hex : `0x${hex}`);
}

const toHex = u8aToHex;

/** blake2b-256 of the parts one after another. */
const h = (...parts: Uint8Array[]): Uint8Array => blake2AsU8a(concatU8a(...parts), 256);

/** `blake2b_256("medledger/category/v1" || category_salt || [index])`, as medledger-proofs computes it. */
export function categoryCommitment(salt: string, index: number): string {
  return toHex(h(enc.encode('medledger/category/v1'), hexToBytes(salt), Uint8Array.of(index)));
}

/** A category as the API names it (LAB_RESULTS) and as a receipt does (LabResults), alike. */
const sameCategory = (a: string, b: string) => a.replace(/_/g, '').toLowerCase() === b.replace(/_/g, '').toLowerCase();

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

/** Current, superseded and outside-the-consent matches, and failures, each look different. */
export type VerdictState = 'current' | 'superseded' | 'outside' | 'nomatch' | 'unchecked';

export interface Verdict {
  state: VerdictState;
  lines: string[];
}

const no = (line: string): Verdict => ({ state: 'nomatch', lines: [line] });

/** Names organizations in verdicts (set by the page: its directory). */
let name: (account: string) => string = (account) => account;
export function nameOrganizations(namer: (account: string) => string) {
  name = namer;
}

export async function verifyDocument(document: Uint8Array, evidence: any, graphql: string, chain: Chain | null): Promise<Verdict> {
  if (evidence?.format === 'medledger-receipt/v1') return verifyReceipt(document, evidence, graphql, chain);
  if (evidence?.format === 'medledger-proof/v1') return verifyProof(document, evidence, graphql, chain);
  return no('This file is neither a medledger receipt nor a medledger proof.');
}

async function verifyReceipt(document: Uint8Array, receipt: any, graphql: string, chain: Chain | null): Promise<Verdict> {
  const c = commitment(receipt.salt, document);
  if (c !== receipt.commitment) {
    return no('NO MATCH: this is not the document the receipt was made for.');
  }
  // Only the commitment and the custodian go to the API; the category stays here.
  const data = await gql(graphql, 'query($c: Hash!, $k: AccountId) { verifyCommitment(commitment: $c, custodian: $k) { recordId version patient custodian categoryCommitment writeConsentCategories blockNumber anchoredAt current claims { insurer claimRef } } }', { c, k: receipt.custodian });
  const anchor = data.verifyCommitment?.[0];
  if (!anchor) return no(`NOT ANCHORED: ${receipt.custodian} anchored no such document.`);
  const lines = [
    `MATCH: version ${anchor.version} of record ${anchor.recordId}, anchored by ${name(anchor.custodian)} in block #${anchor.blockNumber} at ${when(anchor.anchoredAt)}: ${anchor.current ? 'CURRENT' : 'SUPERSEDED (a later version exists)'}.`,
    anchor.claims.length ? `Used by ${anchor.claims.length} claim(s).` : 'No claim used it.',
  ];
  if (anchor.patient !== receipt.patient || anchor.recordId !== receipt.record_id) {
    return no(`NO MATCH: the anchor is of record ${anchor.recordId} of ${anchor.patient}, not what the receipt says.`);
  }
  if (categoryCommitment(receipt.category_salt, receipt.category_index) !== anchor.categoryCommitment) {
    return { state: 'nomatch', lines: [...lines, 'NOT PROVEN: the receipt does not open the record\'s category.'] };
  }
  // The chain could not check the category when the record was anchored: it is checked here.
  let outside = false;
  if (anchor.writeConsentCategories === null) {
    lines.push(`Category: ${categoryLabel(receipt.category)}, uploaded by the patient.`);
  } else if (anchor.writeConsentCategories.some((c: string) => sameCategory(c, receipt.category))) {
    lines.push(`Category: ${categoryLabel(receipt.category)}, covered by the provider's consent to add records when it was anchored.`);
  } else {
    outside = true;
    lines.push(`OUTSIDE THE CONSENT: ${categoryLabel(receipt.category)} was NOT covered by the provider's consent to add records when it anchored this record.`);
  }
  if (!chain) return { state: 'unchecked', lines: [...lines, 'NOT CHECKED on the chain: the node could not be reached.'] };
  const onChain = await (chain.records.query as any).verify(receipt.custodian, c, { caller: receipt.custodian });
  lines.push(onChain.data ? 'The chain agrees.' : 'The chain does NOT know this anchor.');
  const state: VerdictState = !onChain.data ? 'nomatch' : outside ? 'outside' : anchor.current ? 'current' : 'superseded';
  return { state, lines };
}

async function verifyProof(document: Uint8Array, proof: any, graphql: string, chain: Chain | null): Promise<Verdict> {
  if (commitment(proof.salt, document) !== proof.leaf) {
    return no('NO MATCH: this is not the document the proof was made for.');
  }
  if (rootOf(proof.leaf, proof.path) !== proof.root) {
    return no("NO MATCH: the proof's path does not lead to its root.");
  }
  // Only the bundle goes to the API, never the salt.
  const bundle = { leaf: proof.leaf, path: proof.path, root: proof.root, block_number: proof.block_number, block_hash: proof.block_hash };
  const data = await gql(graphql, 'query($b: JSON!) { verifyInclusion(bundle: $b) { valid explanation } }', { b: bundle });
  const lines = [data.verifyInclusion.valid ? `MATCH: ${data.verifyInclusion.explanation}` : `NO MATCH: ${data.verifyInclusion.explanation}`];
  if (!data.verifyInclusion.valid) return { state: 'nomatch', lines };
  lines.push(`A batch proof shows only that ${name(proof.org)} committed to this document then: it names no patient, and no consent was checked.`);
  if (!chain) return { state: 'unchecked', lines: [...lines, 'NOT CHECKED on the chain: the node could not be reached.'] };
  const onChain = await (chain.records.query as any).verifyBatch(proof.org, proof.root, { caller: proof.org });
  const agrees = Boolean(onChain.data) && Number(onChain.data.blockNumber) === Number(proof.block_number);
  lines.push(agrees ? 'The chain agrees.' : `The chain does NOT know this batch of ${name(proof.org)} in block #${proof.block_number}.`);
  return { state: agrees ? 'current' : 'nomatch', lines };
}
