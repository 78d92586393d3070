// The patient's page: connect a wallet, see and change who may use which data, see who used
// it (live), and verify a document without it leaving the machine. Where the chain is comes
// from the server's /config.json; everything the mirror knows comes from GraphQL.

import { gql, subscribe } from './api';
import { type Account, type Chain, type PageConfig, Refused, connectChain, prepare, walletAccounts } from './chain';
import { type VerdictState, nameOrganizations, verifyDocument } from './verify';
import { CATEGORIES, PURPOSES, accessLabel, categoryLabel, isSensitive, kindLabel, purposeLabel, statusLabel, when } from './words';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

let config: PageConfig;
let chain: Chain | null = null;
let account: Account | null = null;
let accounts: Account[] = [];
let stopLive: (() => void) | null = null;
/** Registered organizations by account, as the API mirrors them. */
interface Org {
  account: string;
  name: string | null;
  kind: string | null;
  role: string;
  flags: number;
  active: boolean;
}
let orgs = new Map<string, Org>();
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
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

/** An organization as people know it: its name, the short address beside it. */
function orgName(account: string): string {
  const org = orgs.get(account);
  if (org?.name) return `${org.name} (${short(account)})`;
  return org ? `Unnamed organization ${short(account)}` : short(account);
}

/** `orgName` with the full address on hover and for screen readers' details. */
function orgCell(account: string): HTMLElement {
  return el('span', orgName(account), { title: account });
}

/** Every registered organization, read once per refresh (a handful to a few hundred). */
async function loadOrganizations() {
  const found = new Map<string, Org>();
  let after: string | null = null;
  for (let page = 0; page < 20; page += 1) {
    const data: any = await gql(
      config.graphql,
      'query($a: String) { organizations(first: 100, after: $a) { nodes { account name kind role flags active } pageInfo { hasNextPage endCursor } } }',
      { a: after },
    );
    for (const o of data.organizations.nodes) found.set(o.account, o);
    if (!data.organizations.pageInfo.hasNextPage) break;
    after = data.organizations.pageInfo.endCursor;
  }
  orgs = found;
}

/** Fills `select` with the organizations `keep` accepts whose name contains what `search` holds. */
function pickList(search: HTMLInputElement, select: HTMLSelectElement, keep: (o: Org) => boolean) {
  const typed = search.value.trim().toLowerCase();
  const chosen = select.value;
  const matching = [...orgs.values()]
    .filter((o) => keep(o) && (!typed || (o.name ?? '').toLowerCase().includes(typed) || o.account.toLowerCase().startsWith(typed)))
    .sort((a, b) => (a.name ?? '~').localeCompare(b.name ?? '~'));
  select.replaceChildren(
    ...matching.map((o) => el('option', `${o.name ?? 'Unnamed organization'}${o.kind ? ` — ${kindLabel(o.kind)}` : ''} (${short(o.account)})`, { value: o.account })),
  );
  if (matching.some((o) => o.account === chosen)) select.value = chosen;
  else if (matching.length === 1) select.value = matching[0].account;
}

/** Asks the person to confirm what will be signed and its fee, then signs and waits. */
async function sign(what: string, contract: 'consent' | 'records', method: string, args: unknown[]) {
  if (!account) return;
  problem(null);
  try {
    const chain = await theChain();
    status('Checking the call with the chain…');
    const chainNow = BigInt(await chain.client.query.timestamp.now());
    const withNow = (a: unknown): unknown =>
      a === NOW ? chainNow : a && typeof a === 'object' && !Array.isArray(a) ? Object.fromEntries(Object.entries(a).map(([k, v]) => [k, withNow(v)])) : a;
    const prepared = await prepare(chain, chain[contract], account, method, args.map(withNow));
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
    for (const form of document.querySelectorAll<HTMLFormElement>('#signed-in form')) form.reset();
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
  const [data, windowsNow, accesses] = await Promise.all([
    gql(
      config.graphql,
      `query($p: AccountId!) {
        consents(patient: $p, first: 100) { asOf { block time } nodes { grantee categories purposes access expiresAt status } }
        delegations(patient: $p, first: 100) { nodes { delegate expiresAt removedAt } }
        emergencyBlocks(patient: $p, first: 100) { nodes { provider changedAt } }
      }`,
      { p: me },
    ),
    everything('emergencyWindows', 'provider reason openedAt endsAt endedAt', me),
    everything('accessLog', 'accessor outcome categories purpose emergency at', me),
  ]);
  // The directory is read once, and again only when an organization it lacks shows up (one
  // registered since): a live update does not page through every organization.
  const named = [
    ...data.consents.nodes.map((c: any) => c.grantee),
    ...data.emergencyBlocks.nodes.map((b: any) => b.provider),
    ...windowsNow.map((w: any) => w.provider),
    ...accesses.map((a: any) => a.accessor),
  ];
  if (orgs.size === 0 || named.some((a: string) => !orgs.has(a))) await loadOrganizations();
  if (account?.address !== me) return; // another account was chosen meanwhile
  // Open or not by the chain's time, as the mirror has it, not this computer's clock.
  const now = Date.parse(data.consents.asOf?.time ?? '') || Date.now();

  const body = $('consents').querySelector('tbody')!;
  body.replaceChildren();
  for (const c of data.consents.nodes) {
    const row = el('tr');
    const cell = (label: string, content: string | HTMLElement) => {
      const td = el('td', undefined, { 'data-label': label });
      td.append(content);
      return td;
    };
    const categories = el('span');
    c.categories.forEach((name: string, i: number) => {
      if (i > 0) categories.append(', ');
      categories.append(el('span', categoryLabel(name), isSensitive(name) ? { class: 'sensitive' } : {}));
    });
    const inForce = c.status === 'ACTIVE';
    row.append(
      cell('Organization', orgCell(c.grantee)),
      cell('What', categories),
      cell('For', c.purposes.map(purposeLabel).join(', ')),
      cell('Access', accessLabel(c.access)),
      cell('Until', when(c.expiresAt)),
      cell('Status', el('span', statusLabel(c.status), { class: inForce ? 'ok' : 'off' })),
    );
    const action = el('td');
    if (c.status !== 'REVOKED' && c.status !== 'EXPIRED') {
      const who = orgName(c.grantee);
      const revoke = el('button', 'Revoke', { type: 'button', 'aria-label': `Revoke the consent of ${who}` });
      revoke.addEventListener('click', () => sign(`Revoke the consent of ${who}, at once`, 'consent', 'revoke', [me, c.grantee]));
      action.append(revoke);
    }
    row.append(action);
    body.append(row);
  }
  $('consents-note').textContent = data.consents.nodes.length
    ? `As the chain stood at ${when(data.consents.asOf?.time)} (block #${data.consents.asOf?.block ?? '—'}).`
    : 'You have not allowed any organization yet.';

  pickList($<HTMLInputElement>('grantee-search'), $<HTMLSelectElement>('grantee'), (o) => o.active);
  pickList($<HTMLInputElement>('block-search'), $<HTMLSelectElement>('block-provider'), (o) => (o.flags & 1) === 1);

  const delegates = $('delegates');
  delegates.replaceChildren();
  for (const d of data.delegations.nodes.filter((d: any) => !d.removedAt)) {
    const item = el('li', `${d.delegate} until ${when(d.expiresAt)} `);
    const remove = el('button', 'Remove', { type: 'button', 'aria-label': `Remove the delegate ${d.delegate}` });
    remove.addEventListener('click', () => sign(`Remove ${d.delegate} as your delegate`, 'consent', 'removeDelegate', [d.delegate]));
    item.append(remove);
    delegates.append(item);
  }

  const blocked = $('blocked');
  blocked.replaceChildren();
  for (const b of data.emergencyBlocks.nodes) {
    const who = orgName(b.provider);
    const item = el('li', `${who}, since ${when(b.changedAt)} `);
    const unblock = el('button', 'Allow again', { type: 'button', 'aria-label': `Allow ${who} to break glass again` });
    unblock.addEventListener('click', () => sign(`Allow ${who} to break glass on your data again`, 'consent', 'setEmergencyBlock', [me, b.provider, false]));
    item.append(unblock);
    blocked.append(item);
  }
  if (!data.emergencyBlocks.nodes.length) blocked.append(el('li', 'None.', { class: 'note' }));

  // Open emergency windows are alerts, at the top, with the way to end them.
  const windows = $('windows');
  const alerts = $('alerts');
  windows.replaceChildren();
  alerts.replaceChildren();
  for (const w of windowsNow) {
    const open = !w.endedAt && new Date(w.endsAt).getTime() > now;
    const who = orgName(w.provider);
    const item = el('li', `${brokeGlass(w)}: ${open ? `open until ${when(w.endsAt)}` : 'ended'} `);
    if (open) {
      const alert = el('div', undefined, { class: 'alert' });
      alert.append(el('strong', 'Emergency access is open. '), `${who} opened your records (${reasonLabel(w.reason)}) at ${when(w.openedAt)}, until ${when(w.endsAt)}. `);
      const end = el('button', 'End it now', { type: 'button', 'aria-label': `End the emergency window of ${who}` });
      end.addEventListener('click', () => sign(`End the emergency window of ${who} now`, 'consent', 'endEmergency', [me, w.provider]));
      alert.append(end);
      alerts.append(alert);
    }
    windows.append(item);
  }
  if (!windowsNow.length) windows.append(el('li', 'No provider has broken glass on your data.', { class: 'note' }));

  // Accesses, refused attempts and emergency windows, newest first.
  const items: [string, HTMLElement][] = [
    ...accesses.map((a: any): [string, HTMLElement] => [
      a.at,
      accessItem(a.outcome === 'DENIED', a.accessor, a.categories, a.purpose, a.at, a.emergency),
    ]),
    ...windowsNow.map((w: any): [string, HTMLElement] => {
      const item = el('li', undefined, { class: 'alert-item' });
      item.append(el('span', 'Emergency access: ', { class: 'tag alert-tag' }), brokeGlass(w));
      return [w.openedAt, item];
    }),
  ];
  items.sort(([a], [b]) => Date.parse(b) - Date.parse(a));
  $('activity').replaceChildren(...items.map(([, item]) => item));
  if (!items.length) $('activity').append(el('li', 'Nobody has used your data yet.', { class: 'note' }));
}

/** An emergency reason, in words. */
function reasonLabel(reason: string): string {
  return reason.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/** An emergency window, in words. */
function brokeGlass(w: { provider: string; reason: string; openedAt: string }): string {
  return `${orgName(w.provider)} broke glass (${reasonLabel(w.reason)}) at ${when(w.openedAt)}`;
}

function accessItem(denied: boolean, accessor: string, categories: string[], purpose: string, at: string, emergency = false) {
  const item = el('li', undefined, denied ? { class: 'alert-item' } : {});
  item.append(
    el('span', denied ? 'Refused: ' : emergency ? 'Emergency access: ' : 'Used: ', { class: denied || emergency ? 'tag alert-tag' : 'tag' }),
    `${orgName(accessor)} — ${categories.map(categoryLabel).join(', ')} for ${purposeLabel(purpose)}, ${when(at)}`,
  );
  if (denied) item.append(el('span', ' (no consent of yours covered it; nothing was shared)', { class: 'note' }));
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
  $('intro').hidden = true;
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
  access.append(checkbox('access', 'read', 'See my records'), checkbox('access', 'write', 'Add records (e.g. new lab results)'));

  for (const [search, select, keep] of [
    ['grantee-search', 'grantee', (o: Org) => o.active],
    ['block-search', 'block-provider', (o: Org) => (o.flags & 1) === 1],
  ] as const) {
    $<HTMLInputElement>(search).addEventListener('input', async () => {
      const [input, list] = [$<HTMLInputElement>(search), $<HTMLSelectElement>(select)];
      pickList(input, list, keep);
      // Nothing matches: perhaps an organization registered since the directory was read.
      if (list.options.length === 0 && input.value.trim()) {
        await loadOrganizations().catch(() => {});
        pickList(input, list, keep);
      }
    });
  }

  $('grant').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = $('grant');
    const grantee = $<HTMLSelectElement>('grantee').value;
    const cats = checked(form, 'category');
    const purposes = checked(form, 'purpose').map(Number);
    const acc = checked(form, 'access');
    const until = $<HTMLInputElement>('until').value;
    if (!grantee || cats.length === 0 || purposes.length === 0 || acc.length === 0) {
      problem('Choose an organization, at least one kind of record, one purpose, and whether it may see or add records.');
      return;
    }
    const catBits = cats.reduce((bits, c) => bits | (1 << CATEGORIES.findIndex(([v]) => v === c)), 0);
    const purposeBits = purposes.reduce((bits, p) => bits | (1 << p), 0);
    const accessBits = (acc.includes('read') ? 1 : 0) | (acc.includes('write') ? 2 : 0);
    const how = acc.includes('write') ? (acc.includes('read') ? 'see and add to' : 'add to') : 'see';
    const untilText = until ? ` until the end of ${new Date(`${until}T12:00:00`).toLocaleDateString(undefined, { dateStyle: 'long' })}` : ', with no end date';
    const what = `Let ${orgName(grantee)} ${how} your ${cats.map((c) => categoryLabel(c)).join(', ')} records, for ${purposes.map((p) => PURPOSES[p]).join(', ')}${untilText}`;
    const expires = until ? END_OF_DAY_MS(until) : undefined;
    // Valid from the chain's time now: this computer's clock may run ahead of it.
    const scope = { categories: catBits, purposes: purposeBits, access: accessBits, validFrom: NOW, expiresAt: expires };
    sign(what, 'consent', 'grant', [account?.address, grantee, scope, `0x${'00'.repeat(32)}`]);
  });

  $('delegate').addEventListener('submit', (event) => {
    event.preventDefault();
    const delegate = $<HTMLInputElement>('delegate-address').value.trim();
    const until = $<HTMLInputElement>('delegate-until').value;
    sign(`Let ${delegate} manage your consents until ${until}`, 'consent', 'setDelegate', [delegate, END_OF_DAY_MS(until)]);
  });

  $('block').addEventListener('submit', (event) => {
    event.preventDefault();
    const provider = $<HTMLSelectElement>('block-provider').value;
    if (!provider) {
      problem('Find the provider by its name and choose it first.');
      return;
    }
    sign(`Bar ${orgName(provider)} from breaking glass on your data`, 'consent', 'setEmergencyBlock', [account?.address, provider, true]);
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
      // Names for the organizations the verdict mentions (a failure leaves addresses).
      if (orgs.size === 0) await loadOrganizations().catch(() => {});
      const chain = await theChain().catch(() => null);
      const result = await verifyDocument(new Uint8Array(await doc.arrayBuffer()), evidence, config.graphql, chain);
      const [headline, ...rest] = result.lines;
      const box = el('div', undefined, { class: `verdict ${result.state}` });
      box.append(el('p', VERDICT_TITLES[result.state], { class: 'verdict-title' }), el('p', headline ?? ''));
      verdict.replaceChildren(box, ...rest.map((line) => el('p', line)));
    } catch (e) {
      const box = el('div', undefined, { class: 'verdict nomatch' });
      box.append(el('p', 'Could not verify', { class: 'verdict-title' }), el('p', messageOf(e)));
      verdict.replaceChildren(box);
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

/** What each verdict means, in a few words, above the details. */
const VERDICT_TITLES: Record<VerdictState, string> = {
  current: '✓ Match: this is the current version',
  superseded: '⚠ Match, but superseded: a newer version exists',
  outside: '⚠ Match, but outside the consent: the provider was not allowed to add this kind of record',
  nomatch: '✗ No match: this is not the anchored document',
  unchecked: '? Not checked: the chain could not be reached',
};

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
  nameOrganizations(orgName);
  document.body.dataset.ready = 'true';
}

main().catch((e) => problem(describe(e)));
