// The patient's page: connect a wallet, see and change who may use which data, see who used
// it (live), and verify a document without it leaving the machine. Where the chain is comes
// from the server's /config.json; everything the mirror knows comes from GraphQL.

import { gql, subscribe } from './api';
import { type Account, type Chain, type PageConfig, Refused, connectChain, prepare, walletAccounts } from './chain';
import { verifyDocument } from './verify';
import { CATEGORIES, PURPOSES } from './words';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

let config: PageConfig;
let chain: Chain | null = null;
let account: Account | null = null;
let accounts: Account[] = [];
let stopLive: (() => void) | null = null;
/** Stands for "the chain's time when signing" in a call's arguments. */
const NOW = Symbol('now');

function status(text: string) {
  $('status').textContent = text;
}

function problem(text: string | null) {
  const p = $('problem');
  p.hidden = !text;
  p.textContent = text ?? '';
}

/** An error's message, or the thrown value as text. */
function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The chain, connected on first use. */
async function theChain(): Promise<Chain> {
  chain ??= await connectChain(config);
  return chain;
}

/** What went wrong, in words: a refusal as the contract means it, anything else by message. */
function describe(e: unknown): string {
  if (e instanceof Refused) return e.message;
  const message = messageOf(e);
  if (/Cancelled|Rejected by user|cancel/i.test(message)) return 'You did not sign: nothing was sent.';
  return `Something went wrong: ${message}`;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, attrs: Record<string, string> = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function checkbox(name: string, value: string, label: string, sensitive = false) {
  const wrap = el('label');
  const box = el('input', undefined, { type: 'checkbox', name, value });
  wrap.append(box, ` ${label}`);
  if (sensitive) {
    wrap.classList.add('sensitive');
    wrap.append(el('span', ' (sensitive)'));
  }
  return wrap;
}

function checked(form: HTMLElement, name: string): string[] {
  return Array.from(form.querySelectorAll<HTMLInputElement>(`input[name="${name}"]:checked`), (b) => b.value);
}

function short(address: string) {
  return `${address.slice(0, 6)}…${address.slice(-6)}`;
}

/** Asks the person to confirm what will be signed and its fee, then signs and waits. */
async function sign(what: string, contract: 'consent' | 'records', method: string, args: unknown[]) {
  if (!account) return;
  problem(null);
  try {
    const chain = await theChain();
    status('Checking the call with the chain…');
    const chainNow = BigInt(await chain.client.query.timestamp.now());
    const prepared = await prepare(chain, chain[contract], account, method, args.map((a) => (a === NOW ? chainNow : a)));
    $('confirm-what').textContent = what;
    $('confirm-fee').textContent = `Fee: about ${prepared.fee}. Signed by ${account.name ?? account.address}.`;
    const dialog = $<HTMLDialogElement>('confirm');
    if (dialog.open) return;
    // Escape closes the dialog without a value: never take an earlier "sign" for this one.
    dialog.returnValue = '';
    const answer = await new Promise<string>((resolve) => {
      dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true });
      dialog.showModal();
      $('confirm-sign').focus();
    });
    status('');
    if (answer !== 'sign') return;
    status('Waiting for your wallet and then for the chain to finalize…');
    const block = await prepared.send();
    status(`Done: ${what} (finalized in block #${block}).`);
    await refresh();
  } catch (e) {
    status('');
    problem(describe(e));
  }
}

/** The end of `date` (YYYY-MM-DD) in the patient's own time zone, in milliseconds. */
const END_OF_DAY_MS = (date: string) => BigInt(new Date(`${date}T23:59:59`).getTime());

/** Every node of a connection, newest last: pages through `after` (a patient's lists are short). */
async function everything(field: string, selection: string, patient: string): Promise<any[]> {
  const nodes: any[] = [];
  let after: string | null = null;
  for (let page = 0; page < 50; page += 1) {
    const data: any = await gql(
      config.graphql,
      `query($p: AccountId!, $a: String) { ${field}(patient: $p, first: 100, after: $a) { nodes { ${selection} } pageInfo { hasNextPage endCursor } } }`,
      { p: patient, a: after },
    );
    nodes.push(...data[field].nodes);
    if (!data[field].pageInfo.hasNextPage) break;
    after = data[field].pageInfo.endCursor;
  }
  return nodes;
}

async function refresh() {
  if (!account) return;
  const me = account.address;
  const data = await gql(
    config.graphql,
    `query($p: AccountId!) {
      consents(patient: $p, first: 100) { asOf { block time } nodes { grantee categories purposes access expiresAt status } }
      organizations(first: 100) { nodes { account role flags active } }
      delegations(patient: $p, first: 100) { nodes { delegate expiresAt removedAt } }
    }`,
    { p: me },
  );
  const [windowsNow, accesses] = await Promise.all([
    everything('emergencyWindows', 'provider reason openedAt endsAt endedAt', me),
    everything('accessLog', 'accessor outcome categories purpose emergency at', me),
  ]);
  if (account?.address !== me) return; // another account was chosen meanwhile
  const body = $('consents').querySelector('tbody')!;
  body.replaceChildren();
  for (const c of data.consents.nodes) {
    const row = el('tr');
    row.append(
      el('td', c.grantee),
      el('td', c.categories.join(', ')),
      el('td', c.purposes.join(', ')),
      el('td', c.access.join(', ')),
      el('td', c.expiresAt ?? 'no end'),
      el('td', c.status),
    );
    const cell = el('td');
    if (c.status !== 'REVOKED' && c.status !== 'EXPIRED') {
      const revoke = el('button', 'Revoke', { type: 'button', 'aria-label': `Revoke the consent of ${c.grantee}` });
      revoke.addEventListener('click', () => sign(`Revoke the consent of ${c.grantee}, at once`, 'consent', 'revoke', [c.grantee]));
      cell.append(revoke);
    }
    row.append(cell);
    body.append(row);
  }
  $('consents-note').textContent = `Status as of block #${data.consents.asOf.block ?? '—'} of the chain.`;

  const grantee = $<HTMLSelectElement>('grantee');
  const chosen = grantee.value;
  grantee.replaceChildren(el('option', 'Choose an organization', { value: '' }));
  for (const o of data.organizations.nodes.filter((o: any) => o.active)) {
    grantee.append(el('option', `${o.role} — ${o.account}`, { value: o.account }));
  }
  grantee.value = chosen;

  const delegates = $('delegates');
  delegates.replaceChildren();
  for (const d of data.delegations.nodes.filter((d: any) => !d.removedAt)) {
    const item = el('li', `${d.delegate} until ${d.expiresAt} `);
    const remove = el('button', 'Remove', { type: 'button', 'aria-label': `Remove the delegate ${d.delegate}` });
    remove.addEventListener('click', () => sign(`Remove ${d.delegate} as your delegate`, 'consent', 'removeDelegate', [d.delegate]));
    item.append(remove);
    delegates.append(item);
  }

  const windows = $('windows');
  windows.replaceChildren();
  // Open or not by the chain's time, as the mirror has it, not this computer's clock.
  const now = Date.parse(data.consents.asOf.time ?? '') || Date.now();
  for (const w of windowsNow) {
    const open = !w.endedAt && new Date(w.endsAt).getTime() > now;
    const item = el('li', `${brokeGlass(w)}: ${open ? `open until ${w.endsAt}` : 'ended'} `);
    if (open) {
      const end = el('button', 'End now', { type: 'button', 'aria-label': `End the emergency window of ${w.provider}` });
      end.addEventListener('click', () => sign(`End the emergency window of ${w.provider} now`, 'consent', 'endEmergency', [w.provider]));
      item.append(end);
    }
    windows.append(item);
  }

  // Accesses, denied attempts and emergency windows, newest first.
  const items: [string, HTMLElement][] = [
    ...accesses.map((a: any): [string, HTMLElement] => [
      a.at,
      accessItem(a.outcome === 'DENIED', a.accessor, a.categories, a.purpose, a.at, a.emergency),
    ]),
    ...windowsNow.map((w: any): [string, HTMLElement] => {
      const item = el('li');
      item.append(el('span', 'EMERGENCY ', { class: 'denied' }), brokeGlass(w));
      return [w.openedAt, item];
    }),
  ];
  items.sort(([a], [b]) => Date.parse(b) - Date.parse(a));
  $('activity').replaceChildren(...items.map(([, item]) => item));
}

/** An emergency window, in words. */
function brokeGlass(w: { provider: string; reason: string; openedAt: string }): string {
  return `${w.provider} broke glass (${w.reason}) at ${w.openedAt}`;
}

function accessItem(denied: boolean, accessor: string, categories: string[], purpose: string, at: string, emergency = false) {
  const item = el('li');
  item.append(
    el('span', denied ? 'DENIED ' : emergency ? 'Emergency access ' : 'Access ', { class: denied ? 'denied' : '' }),
    `${accessor}: ${categories.join(', ')} for ${purpose} at ${at}`,
  );
  return item;
}

function live() {
  stopLive?.();
  if (!account) return;
  stopLive = subscribe(
    config.graphql,
    'subscription($p: AccountId!) { patientActivity(patient: $p) { kind at details } }',
    { p: account.address },
    (data) => {
      // The alert: an emergency window opened on my data. Everything else shows in the
      // lists, read again from the API.
      if (data.patientActivity.kind === 'EmergencyAccessOpened') {
        problem('Emergency access to your data was opened by a provider. You can end it below.');
      }
      refresh().catch((e) => problem(describe(e)));
    },
    (message) => {
      document.body.dataset.live = 'stopped';
      problem(message);
    },
    () => {
      document.body.dataset.live = 'subscribed';
    },
  );
}

async function connect() {
  problem(null);
  let found: Account[] | null;
  try {
    found = await walletAccounts();
  } catch (e) {
    problem(`The wallet refused to connect: ${messageOf(e)}`);
    return;
  }
  $('no-wallet').hidden = found !== null;
  if (found === null) return;
  if (found.length === 0) {
    problem('The wallet shares no account with this page: add or allow an account in it, then connect again.');
    return;
  }
  accounts = found;
  const select = $<HTMLSelectElement>('account');
  select.replaceChildren(...accounts.map((a, i) => el('option', a.name ? `${a.name} (${short(a.address)})` : a.address, { value: String(i) })));
  $('account-label').hidden = false;
  choose(0);
}

function choose(index: number) {
  account = accounts[index] ?? null;
  $('signed-in').hidden = !account;
  refresh().catch((e) => problem(describe(e)));
  live();
}

function buildForms() {
  const categories = $('categories');
  for (const [value, label, sensitive] of CATEGORIES) categories.append(checkbox('category', value, label, sensitive));
  const purposes = $('purposes');
  PURPOSES.forEach((label, i) => purposes.append(checkbox('purpose', String(i), label)));
  const access = $('access');
  access.append(checkbox('access', 'read', 'Read'), checkbox('access', 'write', 'Write (may anchor records)'));

  $('grant').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = $('grant');
    const grantee = $<HTMLSelectElement>('grantee').value;
    const cats = checked(form, 'category');
    const purposes = checked(form, 'purpose').map(Number);
    const acc = checked(form, 'access');
    const until = $<HTMLInputElement>('until').value;
    if (!grantee || cats.length === 0 || purposes.length === 0 || acc.length === 0) {
      problem('Choose an organization, at least one category, one purpose and read or write.');
      return;
    }
    const catBits = cats.reduce((bits, c) => bits | (1 << CATEGORIES.findIndex(([v]) => v === c)), 0);
    const purposeBits = purposes.reduce((bits, p) => bits | (1 << p), 0);
    const accessBits = (acc.includes('read') ? 1 : 0) | (acc.includes('write') ? 2 : 0);
    const what = `Let ${grantee} ${acc.join(' and ')} your ${cats.map((c) => CATEGORIES.find(([v]) => v === c)?.[1]).join(', ')} for ${purposes.map((p) => PURPOSES[p]).join(', ')}${until ? ` until ${until}` : ', with no end date'}`;
    const expires = until ? END_OF_DAY_MS(until) : undefined;
    // Valid from the chain's time now: this computer's clock may run ahead of it.
    sign(what, 'consent', 'grant', [grantee, catBits, purposeBits, accessBits, NOW, expires, `0x${'00'.repeat(32)}`]);
  });

  $('delegate').addEventListener('submit', (event) => {
    event.preventDefault();
    const delegate = $<HTMLInputElement>('delegate-address').value.trim();
    const until = $<HTMLInputElement>('delegate-until').value;
    sign(`Let ${delegate} manage your consents until ${until}`, 'consent', 'setDelegate', [delegate, END_OF_DAY_MS(until)]);
  });

  $('block').addEventListener('submit', (event) => {
    event.preventDefault();
    const provider = $<HTMLInputElement>('block-address').value.trim();
    sign(`Forbid ${provider} to break glass on your data`, 'consent', 'setEmergencyBlock', [provider, true]);
  });

  $('verify-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const verdict = $('verdict');
    verdict.replaceChildren(el('p', 'Checking…'));
    try {
      const doc = $<HTMLInputElement>('verify-document').files?.[0];
      const ev = $<HTMLInputElement>('verify-evidence').files?.[0];
      if (!doc || !ev) throw new Error('choose the document and its receipt or proof');
      const evidence = JSON.parse(await ev.text());
      const chain = await theChain().catch(() => null);
      const result = await verifyDocument(new Uint8Array(await doc.arrayBuffer()), evidence, config.graphql, chain);
      verdict.replaceChildren(...result.lines.map((line, i) => el('p', line, i === 0 ? { class: result.ok ? 'match' : 'nomatch' } : {})));
    } catch (e) {
      verdict.replaceChildren(el('p', `Could not verify: ${messageOf(e)}`, { class: 'nomatch' }));
    }
  });
}

function tabs() {
  const show = (view: 'patient' | 'verify') => {
    $('patient').hidden = view !== 'patient';
    $('verify').hidden = view !== 'verify';
    $('tab-patient').setAttribute('aria-pressed', String(view === 'patient'));
    $('tab-verify').setAttribute('aria-pressed', String(view === 'verify'));
  };
  $('tab-patient').addEventListener('click', () => show('patient'));
  $('tab-verify').addEventListener('click', () => show('verify'));
}

async function main() {
  tabs();
  buildForms();
  $('connect').addEventListener('click', () => connect());
  $<HTMLSelectElement>('account').addEventListener('change', (e) => choose(Number((e.target as HTMLSelectElement).value)));
  const response = await fetch('/config.json');
  if (!response.ok) {
    problem(`This server does not say where the chain is: ${(await response.text()).trim()}`);
    return;
  }
  config = await response.json();
  document.body.dataset.ready = 'true';
}

main().catch((e) => problem(describe(e)));
