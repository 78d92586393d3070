//! Events and shared types of the medledger contracts.
//!
//! The contracts emit these `#[ink::event]` structs, and the off-chain indexer decodes
//! `ContractEmitted` data with the very same types (`scale::Decode`), matched by
//! `<E as ink::env::Event>::SIGNATURE_TOPIC`. A field change is then a compile error on both
//! sides instead of a silent drift. This crate holds types only: no storage, no logic beyond
//! bit-set helpers, and nothing that could ever carry health data.
#![cfg_attr(not(feature = "std"), no_std, no_main)]
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
    Provider,
    Insurer,
    Researcher,
    Auditor,
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
/// their own bit is granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum DataCategory {
    Demographics,
    Allergies,
    Medications,
    Problems,
    LabResults,
    Imaging,
    ClinicalNotes,
    Immunizations,
    Procedures,
    Genomics,
    MentalHealth,
    SubstanceUse,
    SexualHealth,
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

    /// The bit of this category in a [`CategorySet`].
    pub const fn bit(self) -> CategorySet {
        1 << (self as u8)
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

/// Why data is used: HL7 PurposeOfUse. Consents name purposes as a [`PurposeSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum Purpose {
    Treatment,
    Payment,
    Operations,
    Research,
    PublicHealth,
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

/// Where and when a commitment was anchored: the answer of `RecordRegistry::verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct AnchorInfo {
    pub record_id: Hash,
    pub version: u32,
    pub patient: AccountId,
    pub custodian: AccountId,
    pub category: DataCategory,
    pub anchored_at: Timestamp,
    pub block_number: u32,
    /// The commitment of the next version, once the record has been amended.
    pub superseded_by: Option<Hash>,
}

/// The registrar registered an organization.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRegistered {
    #[ink(topic)]
    pub org: AccountId,
    pub role: Role,
    pub flags: u32,
}

/// A patient (or their delegate) granted or replaced the consent of a (patient, grantee) pair.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentGranted {
    #[ink(topic)]
    pub patient: AccountId,
    #[ink(topic)]
    pub grantee: AccountId,
    pub categories: CategorySet,
    pub purposes: PurposeSet,
    pub access: AccessSet,
    pub valid_from: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub terms_hash: Hash,
    /// 1 for the first grant of the pair, bumped by every later grant.
    pub version: u32,
    /// Who signed: the patient, or later a delegate.
    pub by: AccountId,
}

/// A consent was revoked.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRevoked {
    #[ink(topic)]
    pub patient: AccountId,
    #[ink(topic)]
    pub grantee: AccountId,
    /// The version of the consent that was revoked.
    pub version: u32,
    pub by: AccountId,
}

/// A record version was anchored.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordAnchored {
    #[ink(topic)]
    pub patient: AccountId,
    #[ink(topic)]
    pub record_id: Hash,
    #[ink(topic)]
    pub commitment: Hash,
    pub custodian: AccountId,
    pub category: DataCategory,
    pub version: u32,
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

/// The registrar suspended an organization: its access ends at once.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSuspended {
    #[ink(topic)]
    pub org: AccountId,
}

/// The registrar reinstated a suspended organization.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgReinstated {
    #[ink(topic)]
    pub org: AccountId,
}

/// The registrar proposed a successor, who must accept.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrarProposed {
    #[ink(topic)]
    pub current: AccountId,
    #[ink(topic)]
    pub proposed: AccountId,
}

/// The proposed registrar accepted: the handover is done.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrarChanged {
    #[ink(topic)]
    pub previous: AccountId,
    #[ink(topic)]
    pub registrar: AccountId,
}

/// The registrar changed the length of emergency access windows.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyWindowChanged {
    pub window_ms: u64,
}

/// The registrar upgraded the contract's code.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractUpgraded {
    #[ink(topic)]
    pub code_hash: Hash,
    pub storage_version: u32,
}

/// A patient appointed (or re-appointed) a delegate to manage their consents until
/// `expires_at`.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegateSet {
    #[ink(topic)]
    pub patient: AccountId,
    #[ink(topic)]
    pub delegate: AccountId,
    pub expires_at: Timestamp,
}

/// A patient removed a delegate.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegateRemoved {
    #[ink(topic)]
    pub patient: AccountId,
    #[ink(topic)]
    pub delegate: AccountId,
}

/// An emergency provider opened a window of read access to the patient's non-sensitive data
/// for treatment. This event is the patient's alert.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyAccessOpened {
    #[ink(topic)]
    pub patient: AccountId,
    #[ink(topic)]
    pub provider: AccountId,
    pub reason: EmergencyReason,
    pub justification_hash: Hash,
    pub ends_at: Timestamp,
}

/// The patient (or a delegate) closed an emergency window early.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyAccessEnded {
    #[ink(topic)]
    pub patient: AccountId,
    #[ink(topic)]
    pub provider: AccountId,
    pub by: AccountId,
}

/// A grantee declared an access the rule allows.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecorded {
    #[ink(topic)]
    pub patient: AccountId,
    #[ink(topic)]
    pub accessor: AccountId,
    #[ink(topic)]
    pub record_id: Hash,
    pub categories: CategorySet,
    pub purpose: Purpose,
    /// Whether only an emergency window allowed it.
    pub emergency: bool,
}

/// A caller declared an access the rule refuses. This event is the alert.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessDenied {
    #[ink(topic)]
    pub patient: AccountId,
    #[ink(topic)]
    pub accessor: AccountId,
    #[ink(topic)]
    pub record_id: Hash,
    pub categories: CategorySet,
    pub purpose: Purpose,
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

/// Where and when a batch root was anchored: the answer of `RecordRegistry::verify_batch`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct BatchInfo {
    pub org: AccountId,
    pub leaf_count: u32,
    pub anchored_at: Timestamp,
    pub block_number: u32,
}

/// The custodian anchored the next version of a record.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordAmended {
    #[ink(topic)]
    pub patient: AccountId,
    #[ink(topic)]
    pub record_id: Hash,
    #[ink(topic)]
    pub commitment: Hash,
    /// The commitment this version supersedes.
    pub previous: Hash,
    pub version: u32,
    pub reason: AmendReason,
}

/// An organization anchored the Merkle root of many commitments.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchAnchored {
    #[ink(topic)]
    pub org: AccountId,
    #[ink(topic)]
    pub root: Hash,
    pub leaf_count: u32,
}

/// An insurer attested a claim's documents against the anchors.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimAttested {
    #[ink(topic)]
    pub patient: AccountId,
    #[ink(topic)]
    pub insurer: AccountId,
    #[ink(topic)]
    pub claim_ref: Hash,
    pub documents: u32,
    /// Whether every commitment is anchored, for this patient, and not superseded.
    pub all_current: bool,
}

/// A commitment in a claim was already used by an earlier claim: a fraud signal.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateClaimUse {
    #[ink(topic)]
    pub patient: AccountId,
    #[ink(topic)]
    pub commitment: Hash,
    #[ink(topic)]
    pub claim_ref: Hash,
    pub first_claim_ref: Hash,
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
            ConsentGranted::SIGNATURE_TOPIC,
            ConsentRevoked::SIGNATURE_TOPIC,
            RecordAnchored::SIGNATURE_TOPIC,
            OrgSuspended::SIGNATURE_TOPIC,
            OrgReinstated::SIGNATURE_TOPIC,
            RegistrarProposed::SIGNATURE_TOPIC,
            RegistrarChanged::SIGNATURE_TOPIC,
            EmergencyWindowChanged::SIGNATURE_TOPIC,
            ContractUpgraded::SIGNATURE_TOPIC,
            DelegateSet::SIGNATURE_TOPIC,
            DelegateRemoved::SIGNATURE_TOPIC,
            EmergencyAccessOpened::SIGNATURE_TOPIC,
            EmergencyAccessEnded::SIGNATURE_TOPIC,
            AccessRecorded::SIGNATURE_TOPIC,
            AccessDenied::SIGNATURE_TOPIC,
            RecordAmended::SIGNATURE_TOPIC,
            BatchAnchored::SIGNATURE_TOPIC,
            ClaimAttested::SIGNATURE_TOPIC,
            DuplicateClaimUse::SIGNATURE_TOPIC,
        ];
        for (i, a) in topics.iter().enumerate() {
            assert!(a.is_some());
            for b in &topics[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
