// Names people read: categories (with the contracts' `is_sensitive`: Genomics, MentalHealth,
// SubstanceUse, SexualHealth), purposes, and the contracts' errors as sentences.

export const CATEGORIES = [
  ['DEMOGRAPHICS', 'Demographics', false],
  ['ALLERGIES', 'Allergies', false],
  ['MEDICATIONS', 'Medications', false],
  ['PROBLEMS', 'Problems', false],
  ['LAB_RESULTS', 'Lab results', false],
  ['IMAGING', 'Imaging', false],
  ['CLINICAL_NOTES', 'Clinical notes', false],
  ['IMMUNIZATIONS', 'Immunizations', false],
  ['PROCEDURES', 'Procedures', false],
  ['GENOMICS', 'Genomics', true],
  ['MENTAL_HEALTH', 'Mental health', true],
  ['SUBSTANCE_USE', 'Substance use', true],
  ['SEXUAL_HEALTH', 'Sexual health', true],
  ['BILLING', 'Billing', false],
] as const;

export const PURPOSES = ['Treatment', 'Payment', 'Operations', 'Research', 'Public health', 'Patient request'];

/** The same name however it is spelled: `LAB_RESULTS`, `LabResults`, `lab-results`. */
const key = (name: string) => name.replace(/[^a-zA-Z0-9]/g, '').toLowerCase();

/** A category as people read it ("Lab results"), from any spelling the API or a receipt uses. */
export function categoryLabel(name: string): string {
  return CATEGORIES.find(([value, label]) => key(value) === key(name) || key(label) === key(name))?.[1] ?? name;
}

/** Whether a category (any spelling) is one of the contracts' sensitive ones. */
export function isSensitive(name: string): boolean {
  return CATEGORIES.some(([value, , sensitive]) => sensitive && key(value) === key(name));
}

/** A purpose as people read it ("Patient request"), from any spelling. */
export function purposeLabel(name: string): string {
  return PURPOSES.find((label) => key(label) === key(name)) ?? name;
}

/** Read and/or write, in words. */
export function accessLabel(names: string[]): string {
  const read = names.some((n) => key(n) === 'read');
  const write = names.some((n) => key(n) === 'write');
  return read && write ? 'See and add records' : write ? 'Add records' : 'See records';
}

/** An organization's kind as people read it. */
export function kindLabel(kind: string | null | undefined): string {
  const kinds: Record<string, string> = {
    hospital: 'hospital', clinic: 'clinic', laboratory: 'laboratory', pharmacy: 'pharmacy',
    insurer: 'insurer', research: 'research', publichealth: 'public health', app: 'app',
  };
  return kind ? kinds[key(kind)] ?? kind.toLowerCase() : '';
}

/** A consent's status, in words. */
export function statusLabel(status: string): string {
  const words: Record<string, string> = {
    active: 'Active', pending: 'Not yet valid', expired: 'Ended (date passed)',
    revoked: 'Revoked', lapsed: 'Ended (delegate gone)', suspended: 'Paused (organization suspended)',
  };
  return words[key(status)] ?? status;
}

/** A moment in the person's own language, format and time zone. */
export function when(iso: string | null | undefined): string {
  if (!iso) return 'no end';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return new Intl.DateTimeFormat(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short',
  }).format(t);
}

/** What a contract error means, for the person who signed. */
const SENTENCES: Record<string, string> = {
  NotRegistrar: 'Only the registrar may do this.',
  GranteeNotRegistered: 'Consents can only be granted to registered organizations.',
  SelfGrant: 'You cannot grant a consent, delegation or emergency access to yourself.',
  InvalidCategories: 'Choose at least one category.',
  InvalidPurposes: 'Choose at least one purpose.',
  InvalidAccess: 'Choose read, write or both.',
  InvalidValidity: 'The end date must be after today.',
  NoActiveConsent: 'There is no active consent for this organization to revoke.',
  NotDelegate: 'This account is not a delegate of the patient.',
  NoDelegate: 'You have no such delegate.',
  DelegationTooLong: 'The delegation would last longer than the registrar allows (at most a year by default).',
  NoOpenEmergency: 'This provider has no open emergency window on your data.',
  EmergencyBlocked: 'You have blocked this provider from emergency access.',
  Overflow: 'A counter or a time would overflow.',
};

/** `NotAuthorized` -> "Not authorized." when no sentence is known. */
export function sentence(errorName: string): string {
  const known = SENTENCES[errorName];
  if (known) return `${known} (${errorName})`;
  const words = errorName.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return `${words.charAt(0).toUpperCase()}${words.slice(1)}. (${errorName})`;
}
