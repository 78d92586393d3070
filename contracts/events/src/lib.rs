//! Events and shared types of the medledger contracts.
//!
//! The contracts emit these `#[ink::event]` structs, and the off-chain indexer decodes
//! `ContractEmitted` data with the very same types (`scale::Decode`), matched by
//! `<E as ink::env::Event>::SIGNATURE_TOPIC`. A field change is then a compile error on both
//! sides instead of a silent drift. This crate holds types only: no storage, no logic beyond
//! bit-set helpers, and nothing that could ever carry health data — a record's category, in
//! particular, only ever appears as a salted commitment.
#![cfg_attr(not(feature = "std"), no_std, no_main)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::arithmetic_side_effects,
        clippy::cast_possible_truncation,
        clippy::cast_possible_wrap,
        clippy::cast_sign_loss,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing
    )
)]

use ink::primitives::{AccountId, Hash};

/// Milliseconds since the Unix epoch, as returned by `block_timestamp`.
pub type Timestamp = u64;

/// A set of [`DataCategory`] bits.
pub type CategorySet = u16;
/// A set of [`Purpose`] bits.
pub type PurposeSet = u8;
/// A set of [`Access`] bits.
pub type AccessSet = u8;

/// What an organization is registered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum Role {
    /// Holds and anchors patients' records (a clinic, a lab, a hospital).
    Provider,
    /// Pays claims and attests their documents.
    Insurer,
    /// Uses data for research.
    Researcher,
    /// Audits the others.
    Auditor,
    /// An application acting for patients.
    App,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: [Role; 5] = [
        Role::Provider,
        Role::Insurer,
        Role::Researcher,
        Role::Auditor,
        Role::App,
    ];
}

/// Organization flag: may open an emergency ("break glass") access window.
pub const FLAG_EMERGENCY: u32 = 1;
/// Every flag bit that has a meaning; others are refused.
pub const KNOWN_FLAGS: u32 = FLAG_EMERGENCY;

/// A part of a patient's health data. Consents name categories as a [`CategorySet`].
///
/// The last four are *sensitive*: nothing ever implies them, they are only covered when
/// their own bit is granted, and emergency windows never cover them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum DataCategory {
    /// Name, birth date, contact details.
    Demographics,
    /// Allergies and intolerances.
    Allergies,
    /// Prescriptions and medication history.
    Medications,
    /// Diagnoses and problem lists.
    Problems,
    /// Laboratory results.
    LabResults,
    /// Imaging studies and reports.
    Imaging,
    /// Clinicians' notes.
    ClinicalNotes,
    /// Vaccinations.
    Immunizations,
    /// Procedures performed.
    Procedures,
    /// Genetic data (sensitive).
    Genomics,
    /// Mental health (sensitive).
    MentalHealth,
    /// Substance use (sensitive).
    SubstanceUse,
    /// Sexual and reproductive health (sensitive).
    SexualHealth,
    /// Bills and payments.
    Billing,
}

impl DataCategory {
    /// Every category, in bit order.
    pub const ALL: [DataCategory; 14] = [
        DataCategory::Demographics,
        DataCategory::Allergies,
        DataCategory::Medications,
        DataCategory::Problems,
        DataCategory::LabResults,
        DataCategory::Imaging,
        DataCategory::ClinicalNotes,
        DataCategory::Immunizations,
        DataCategory::Procedures,
        DataCategory::Genomics,
        DataCategory::MentalHealth,
        DataCategory::SubstanceUse,
        DataCategory::SexualHealth,
        DataCategory::Billing,
    ];

    /// The category's index: its bit position in a [`CategorySet`], and the byte its
    /// category commitment commits to.
    pub const fn index(self) -> u8 {
        self as u8
    }

    /// The bit of this category in a [`CategorySet`].
    pub const fn bit(self) -> CategorySet {
        1 << self.index()
    }

    /// Whether the category is sensitive (never implied by any other grant).
    pub const fn is_sensitive(self) -> bool {
        matches!(
            self,
            DataCategory::Genomics
                | DataCategory::MentalHealth
                | DataCategory::SubstanceUse
                | DataCategory::SexualHealth
        )
    }
}

/// Every bit of a [`CategorySet`] that names a category.
pub const ALL_CATEGORIES: CategorySet = (1 << DataCategory::ALL.len()) - 1;

/// The domain separator of a record's category commitment:
/// `blake2b_256(CATEGORY_DOMAIN || category_salt[32] || [category index])`.
///
/// The salt is random per record and kept by the custodian and the receipt holder; without
/// it the commitment does not say which of the fourteen categories it is.
pub const CATEGORY_DOMAIN: &[u8] = b"medledger/category/v1";

/// Why data is used: HL7 PurposeOfUse. Consents name purposes as a [`PurposeSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum Purpose {
    /// Care of the patient.
    Treatment,
    /// Paying for care.
    Payment,
    /// Running the organization (quality, administration).
    Operations,
    /// Research.
    Research,
    /// Public health reporting.
    PublicHealth,
    /// At the patient's own request.
    PatientRequest,
}

impl Purpose {
    /// Every purpose, in bit order.
    pub const ALL: [Purpose; 6] = [
        Purpose::Treatment,
        Purpose::Payment,
        Purpose::Operations,
        Purpose::Research,
        Purpose::PublicHealth,
        Purpose::PatientRequest,
    ];

    /// The bit of this purpose in a [`PurposeSet`].
    pub const fn bit(self) -> PurposeSet {
        1 << (self as u8)
    }
}

/// Every bit of a [`PurposeSet`] that names a purpose.
pub const ALL_PURPOSES: PurposeSet = (1 << Purpose::ALL.len()) - 1;

/// What a grantee may do with the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum Access {
    /// Read the records.
    Read,
    /// Anchor (write) records for the patient.
    Write,
}

impl Access {
    /// The bit of this access in an [`AccessSet`].
    pub const fn bit(self) -> AccessSet {
        1 << (self as u8)
    }
}

/// Every bit of an [`AccessSet`] that names an access.
pub const ALL_ACCESS: AccessSet = 0b11;

/// The registrar's settings of the ConsentRegistry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct Policy {
    /// How long a break-glass window lasts, in milliseconds.
    pub emergency_window_ms: Timestamp,
    /// After a patient ends a window, how long the provider may not break glass for that
    /// patient again, in milliseconds (0: no cool-down).
    pub emergency_cooldown_ms: Timestamp,
    /// The longest a patient may appoint a delegate for, in milliseconds from the
    /// appointment.
    pub max_delegation_ms: Timestamp,
}

/// Why an emergency provider broke the glass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum EmergencyReason {
    /// The patient cannot consent (unconscious, incapacitated).
    PatientIncapacitated,
    /// A threat to life or limb that cannot wait for consent.
    LifeThreatening,
    /// Anything else; the justification document says what.
    Other,
}

/// Why a record got a new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum AmendReason {
    /// The previous version was wrong.
    Correction,
    /// Information was added.
    Addendum,
    /// Anything else.
    Other,
}

/// A record, named the way the RecordRegistry keys it: record ids are chosen by their
/// custodian and only unique per custodian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct RecordKey {
    /// Who anchored the record: a provider, or the patient for their own uploads.
    pub custodian: AccountId,
    /// The custodian's id of the record.
    pub record_id: Hash,
}

/// An anchored document, named the way the RecordRegistry keys it: anchors live in their
/// custodian's key space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct AnchorKey {
    /// Who anchored the document.
    pub custodian: AccountId,
    /// The document's salted commitment.
    pub commitment: Hash,
}

/// Where and when a commitment was anchored: the answer of `RecordRegistry::verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct AnchorInfo {
    /// The custodian's id of the record this commitment is a version of.
    pub record_id: Hash,
    /// 1 for the first version, one more for each amendment.
    pub version: u32,
    /// Whose record it is.
    pub patient: AccountId,
    /// Who anchored it.
    pub custodian: AccountId,
    /// The record's salted category commitment (see [`CATEGORY_DOMAIN`]).
    pub category_commitment: Hash,
    /// Block time of the anchoring.
    pub anchored_at: Timestamp,
    /// Block number of the anchoring.
    pub block_number: u32,
    /// The commitment of the next version, once the record has been amended.
    pub superseded_by: Option<Hash>,
}

/// Where and when a batch root was anchored: the answer of `RecordRegistry::verify_batch`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct BatchInfo {
    /// How many commitments the Merkle tree has.
    pub leaf_count: u32,
    /// Block time of the anchoring.
    pub anchored_at: Timestamp,
    /// Block number of the anchoring.
    pub block_number: u32,
}

// ---- ConsentRegistry events --------------------------------------------------------------

/// The registrar registered an organization.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRegistered {
    /// The organization's account.
    #[ink(topic)]
    pub org: AccountId,
    /// What it is registered as.
    pub role: Role,
    /// Its flags (see [`FLAG_EMERGENCY`]).
    pub flags: u32,
}

/// The registrar suspended an organization: its access ends at once.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSuspended {
    /// The organization's account.
    #[ink(topic)]
    pub org: AccountId,
}

/// The registrar reinstated a suspended organization.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgReinstated {
    /// The organization's account.
    #[ink(topic)]
    pub org: AccountId,
}

/// The registrar proposed a successor, who must accept.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrarProposed {
    /// The registrar now.
    #[ink(topic)]
    pub current: AccountId,
    /// The proposed successor.
    #[ink(topic)]
    pub proposed: AccountId,
}

/// The proposed registrar accepted: the handover is done.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrarChanged {
    /// The registrar before.
    #[ink(topic)]
    pub previous: AccountId,
    /// The registrar now.
    #[ink(topic)]
    pub registrar: AccountId,
}

/// The registrar changed the emergency and delegation limits.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyChanged {
    /// The limits from now on.
    pub policy: Policy,
}

/// The registrar upgraded a contract's code (either contract emits it for itself).
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractUpgraded {
    /// The code the contract runs from now on.
    #[ink(topic)]
    pub code_hash: Hash,
    /// The storage layout version before the upgrade.
    pub from_version: u32,
    /// The storage layout version the new code migrated the storage to.
    pub storage_version: u32,
}

/// A patient (or their delegate) granted or replaced the consent of a (patient, grantee) pair.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentGranted {
    /// Whose data.
    #[ink(topic)]
    pub patient: AccountId,
    /// Who may use it.
    #[ink(topic)]
    pub grantee: AccountId,
    /// Which data categories.
    pub categories: CategorySet,
    /// For which purposes.
    pub purposes: PurposeSet,
    /// Read, Write or both.
    pub access: AccessSet,
    /// From when (block time, inclusive).
    pub valid_from: Timestamp,
    /// Until when (block time, exclusive); `None` for no end.
    pub expires_at: Option<Timestamp>,
    /// Salted commitment to the off-chain consent document.
    pub terms_hash: Hash,
    /// 1 for the first grant of the pair, bumped by every later grant.
    pub version: u32,
    /// Who signed: the patient, or a delegate.
    pub by: AccountId,
}

/// A consent was revoked.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRevoked {
    /// Whose data.
    #[ink(topic)]
    pub patient: AccountId,
    /// Who may no longer use it.
    #[ink(topic)]
    pub grantee: AccountId,
    /// The version of the consent that was revoked.
    pub version: u32,
    /// Who signed: the patient, or a delegate.
    pub by: AccountId,
}

/// A patient appointed (or re-appointed) a delegate to manage their consents until
/// `expires_at`.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegateSet {
    /// Whose consents.
    #[ink(topic)]
    pub patient: AccountId,
    /// Who manages them.
    #[ink(topic)]
    pub delegate: AccountId,
    /// When the delegation ends (block time, exclusive).
    pub expires_at: Timestamp,
}

/// A patient removed a delegate.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegateRemoved {
    /// Whose consents.
    #[ink(topic)]
    pub patient: AccountId,
    /// Who no longer manages them.
    #[ink(topic)]
    pub delegate: AccountId,
}

/// An emergency provider opened a window of read access to the patient's non-sensitive data
/// for treatment. This event is the patient's alert.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyAccessOpened {
    /// Whose data.
    #[ink(topic)]
    pub patient: AccountId,
    /// Who broke the glass.
    #[ink(topic)]
    pub provider: AccountId,
    /// Why.
    pub reason: EmergencyReason,
    /// Commitment to the off-chain justification.
    pub justification_hash: Hash,
    /// When the window ends (block time, exclusive).
    pub ends_at: Timestamp,
}

/// The patient (or a delegate) closed an emergency window early.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyAccessEnded {
    /// Whose data.
    #[ink(topic)]
    pub patient: AccountId,
    /// Whose window ended.
    #[ink(topic)]
    pub provider: AccountId,
    /// Who ended it: the patient or a delegate.
    pub by: AccountId,
    /// Until when the provider may not break glass for this patient again.
    pub cooldown_until: Timestamp,
}

/// A patient (or a delegate) blocked or unblocked a provider from breaking glass.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyBlockChanged {
    /// Whose data.
    #[ink(topic)]
    pub patient: AccountId,
    /// Which provider.
    #[ink(topic)]
    pub provider: AccountId,
    /// Whether the provider is blocked from now on.
    pub blocked: bool,
    /// Who signed: the patient or a delegate.
    pub by: AccountId,
    /// Set when blocking ended an open window (at this block): until when the cool-down
    /// then started runs, as when the patient ends a window.
    pub cooldown_until: Option<Timestamp>,
}

// ---- RecordRegistry events ---------------------------------------------------------------

/// A record's first version was anchored.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordAnchored {
    /// Whose record.
    #[ink(topic)]
    pub patient: AccountId,
    /// Who anchored it (a provider, or the patient).
    #[ink(topic)]
    pub custodian: AccountId,
    /// The salted commitment of the document.
    #[ink(topic)]
    pub commitment: Hash,
    /// The custodian's id of the record.
    pub record_id: Hash,
    /// The salted commitment of the record's category.
    pub category_commitment: Hash,
    /// Always 1.
    pub version: u32,
}

/// The custodian anchored the next version of a record.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordAmended {
    /// Whose record.
    #[ink(topic)]
    pub patient: AccountId,
    /// Who amended it: the record's custodian.
    #[ink(topic)]
    pub custodian: AccountId,
    /// The salted commitment of the new version.
    #[ink(topic)]
    pub commitment: Hash,
    /// The custodian's id of the record.
    pub record_id: Hash,
    /// The commitment this version supersedes.
    pub previous: Hash,
    /// The new version's number.
    pub version: u32,
    /// Why.
    pub reason: AmendReason,
}

/// An organization anchored the Merkle root of many commitments.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchAnchored {
    /// Who anchored it.
    #[ink(topic)]
    pub org: AccountId,
    /// The Merkle root.
    #[ink(topic)]
    pub root: Hash,
    /// How many commitments the tree has.
    pub leaf_count: u32,
}

/// An insurer attested a claim's documents against the anchors.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimAttested {
    /// Whose claim.
    #[ink(topic)]
    pub patient: AccountId,
    /// Who attested it.
    #[ink(topic)]
    pub insurer: AccountId,
    /// The insurer's reference of the claim.
    #[ink(topic)]
    pub claim_ref: Hash,
    /// The documents the claim rests on (at most 32).
    pub documents: ink::prelude::vec::Vec<AnchorKey>,
    /// Whether none of them is superseded by an amendment.
    pub all_current: bool,
}

/// A document of a claim was already used by an earlier claim of the same patient: a fraud
/// signal.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateClaimUse {
    /// Whose documents.
    #[ink(topic)]
    pub patient: AccountId,
    /// Who attested the new claim.
    #[ink(topic)]
    pub insurer: AccountId,
    /// The reused document's commitment.
    #[ink(topic)]
    pub commitment: Hash,
    /// The new claim's reference.
    pub claim_ref: Hash,
    /// Who attested the first claim that used the document.
    pub first_insurer: AccountId,
    /// That first claim's reference.
    pub first_claim_ref: Hash,
}

/// A registered organization declared an access the rule allows.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecorded {
    /// Whose data.
    #[ink(topic)]
    pub patient: AccountId,
    /// Who accessed it.
    #[ink(topic)]
    pub accessor: AccountId,
    /// The anchored record accessed, if one was named; its category was checked.
    pub record: Option<RecordKey>,
    /// The categories read.
    pub categories: CategorySet,
    /// Why.
    pub purpose: Purpose,
    /// Whether only an emergency window allowed it.
    pub emergency: bool,
}

/// A registered organization declared an access the rule refuses. This event is the alert.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessDenied {
    /// Whose data.
    #[ink(topic)]
    pub patient: AccountId,
    /// Who tried.
    #[ink(topic)]
    pub accessor: AccountId,
    /// The anchored record, if one was named; its category was checked.
    pub record: Option<RecordKey>,
    /// The categories asked for.
    pub categories: CategorySet,
    /// Why.
    pub purpose: Purpose,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_bits_are_distinct_and_cover_the_set() {
        let mut all = 0;
        for c in DataCategory::ALL {
            assert_eq!(all & c.bit(), 0, "{c:?} shares a bit");
            all |= c.bit();
        }
        assert_eq!(all, ALL_CATEGORIES);
    }

    #[test]
    fn exactly_four_categories_are_sensitive() {
        let sensitive: Vec<_> = DataCategory::ALL
            .into_iter()
            .filter(|c| c.is_sensitive())
            .collect();
        assert_eq!(
            sensitive,
            [
                DataCategory::Genomics,
                DataCategory::MentalHealth,
                DataCategory::SubstanceUse,
                DataCategory::SexualHealth
            ]
        );
    }

    #[test]
    fn purpose_bits_cover_the_set() {
        let all = Purpose::ALL.iter().fold(0, |acc, p| acc | p.bit());
        assert_eq!(all, ALL_PURPOSES);
        assert_eq!(Access::Read.bit() | Access::Write.bit(), ALL_ACCESS);
    }

    #[test]
    fn signature_topics_differ_per_event() {
        use ink::env::Event;
        let topics = [
            OrgRegistered::SIGNATURE_TOPIC,
            OrgSuspended::SIGNATURE_TOPIC,
            OrgReinstated::SIGNATURE_TOPIC,
            RegistrarProposed::SIGNATURE_TOPIC,
            RegistrarChanged::SIGNATURE_TOPIC,
            PolicyChanged::SIGNATURE_TOPIC,
            ContractUpgraded::SIGNATURE_TOPIC,
            ConsentGranted::SIGNATURE_TOPIC,
            ConsentRevoked::SIGNATURE_TOPIC,
            DelegateSet::SIGNATURE_TOPIC,
            DelegateRemoved::SIGNATURE_TOPIC,
            EmergencyAccessOpened::SIGNATURE_TOPIC,
            EmergencyAccessEnded::SIGNATURE_TOPIC,
            EmergencyBlockChanged::SIGNATURE_TOPIC,
            RecordAnchored::SIGNATURE_TOPIC,
            RecordAmended::SIGNATURE_TOPIC,
            BatchAnchored::SIGNATURE_TOPIC,
            ClaimAttested::SIGNATURE_TOPIC,
            DuplicateClaimUse::SIGNATURE_TOPIC,
            AccessRecorded::SIGNATURE_TOPIC,
            AccessDenied::SIGNATURE_TOPIC,
        ];
        for (i, a) in topics.iter().enumerate() {
            assert!(a.is_some());
            for b in &topics[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
