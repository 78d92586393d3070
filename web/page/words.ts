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
