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

use ink::prelude::string::String;
use ink::prelude::vec::Vec;
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

/// What an organization is, as the people it serves know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum OrgKind {
    /// A hospital.
    Hospital,
    /// A clinic or a practice.
    Clinic,
    /// A medical laboratory.
    Laboratory,
    /// A pharmacy.
    Pharmacy,
    /// A health insurer or another payer.
    Insurer,
    /// A research institution.
    Research,
    /// A public health authority.
    PublicHealth,
    /// An application acting for patients.
    App,
}

impl OrgKind {
    /// Every kind, in declaration order.
    pub const ALL: [OrgKind; 8] = [
        OrgKind::Hospital,
        OrgKind::Clinic,
        OrgKind::Laboratory,
        OrgKind::Pharmacy,
        OrgKind::Insurer,
        OrgKind::Research,
        OrgKind::PublicHealth,
        OrgKind::App,
    ];
}

/// An identifier an organization is known by elsewhere, as a FHIR `Identifier`: the system
/// that issued it (a URI) and the value within that system.
#[derive(Debug, Clone, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct OrgIdentifier {
    /// The issuing system, e.g. [`NPI_SYSTEM`] or [`URL_SYSTEM`].
    pub system: String,
    /// The identifier within that system.
    pub value: String,
}

/// The system of a US National Provider Identifier (its value: ten digits).
pub const NPI_SYSTEM: &str = "http://hl7.org/fhir/sid/us-npi";
/// The system of an identifier that is a URL, such as the organization's FHIR
/// `Organization` resource (its value: the URL).
pub const URL_SYSTEM: &str = "urn:ietf:rfc:3986";

/// The longest display name, in bytes of UTF-8.
pub const MAX_ORG_NAME: usize = 64;
/// The longest profile, in bytes of its SCALE encoding: what the ConsentRegistry stores and
/// checks (it does not read profiles, see [`OrgProfile`]).
pub const MAX_PROFILE_BYTES: usize = 512;
/// The most identifiers one organization may carry.
pub const MAX_ORG_IDENTIFIERS: usize = 4;
/// The longest identifier system, in bytes.
pub const MAX_IDENTIFIER_SYSTEM: usize = 64;
/// The longest identifier value, in bytes (long enough for a FHIR resource URL).
pub const MAX_IDENTIFIER_VALUE: usize = 200;

/// What people need to recognize an organization: public by nature, set by the registrar.
///
/// The ConsentRegistry keeps it as bytes, the SCALE encoding of this type, bounded to
/// [`MAX_PROFILE_BYTES`] and not read on chain (reading and checking text would add a sixth
/// to the contract's code); clients write it with [`OrgProfile::to_bytes`] after
/// [`OrgProfile::check`], as the CLI does, and read it with [`OrgProfile::from_bytes`], as the
/// indexer does. Names are bytes on chain, as Substrate's own identity pallet keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct OrgProfile {
    /// The name people know it by, e.g. "Riverside Clinic".
    pub name: String,
    /// What kind of organization it is.
    pub kind: OrgKind,
    /// Identifiers it is known by elsewhere (at most [`MAX_ORG_IDENTIFIERS`]).
    pub identifiers: Vec<OrgIdentifier>,
}

/// Why an [`OrgProfile`] is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileProblem {
    /// The name is empty, or longer than [`MAX_ORG_NAME`] bytes.
    NameLength,
    /// A text has a control character, or starts or ends with a space.
    BadText,
    /// More than [`MAX_ORG_IDENTIFIERS`] identifiers.
    TooManyIdentifiers,
    /// Its encoding is longer than [`MAX_PROFILE_BYTES`].
    TooLong,
    /// The bytes are not a profile's SCALE encoding.
    Undecodable,
    /// An identifier's system is empty or longer than [`MAX_IDENTIFIER_SYSTEM`] bytes, or
    /// its value empty or longer than [`MAX_IDENTIFIER_VALUE`] bytes.
    IdentifierLength,
}

/// Whether `text` is 1 to `max` bytes without control characters or surrounding spaces.
fn text_ok(text: &str, max: usize) -> Result<(), ProfileProblem> {
    if text.is_empty() || text.len() > max {
        return Err(ProfileProblem::IdentifierLength);
    }
    let bytes = text.as_bytes();
    let spaced = bytes.first() == Some(&b' ') || bytes.last() == Some(&b' ');
    if spaced || bytes.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Err(ProfileProblem::BadText);
    }
    Ok(())
}

impl OrgProfile {
    /// The SCALE encoding the ConsentRegistry stores.
    pub fn to_bytes(&self) -> Vec<u8> {
        ink::scale::Encode::encode(self)
    }

    /// The profile these bytes encode, if they encode exactly one that passes
    /// [`OrgProfile::check`].
    ///
    /// # Errors
    /// [`ProfileProblem::Undecodable`], or what [`OrgProfile::check`] finds.
    pub fn from_bytes(bytes: &[u8]) -> Result<OrgProfile, ProfileProblem> {
        if bytes.len() > MAX_PROFILE_BYTES {
            return Err(ProfileProblem::TooLong);
        }
        let profile = <OrgProfile as ink::scale::DecodeAll>::decode_all(&mut &*bytes)
            .map_err(|_| ProfileProblem::Undecodable)?;
        profile.check()?;
        Ok(profile)
    }

    /// Checks a profile's bounds: a name of 1 to [`MAX_ORG_NAME`] bytes, at most
    /// [`MAX_ORG_IDENTIFIERS`] identifiers of bounded length, no control characters or
    /// surrounding spaces in any text, and at most [`MAX_PROFILE_BYTES`] in all (the one bound
    /// the ConsentRegistry itself enforces).
    ///
    /// # Errors
    /// The first [`ProfileProblem`] found.
    pub fn check(&self) -> Result<(), ProfileProblem> {
        text_ok(&self.name, MAX_ORG_NAME).map_err(|p| match p {
            ProfileProblem::IdentifierLength => ProfileProblem::NameLength,
            other => other,
        })?;
        if self.identifiers.len() > MAX_ORG_IDENTIFIERS {
            return Err(ProfileProblem::TooManyIdentifiers);
        }
        for id in &self.identifiers {
            text_ok(&id.system, MAX_IDENTIFIER_SYSTEM)?;
            text_ok(&id.value, MAX_IDENTIFIER_VALUE)?;
        }
        if ink::scale::Encode::encoded_size(self) > MAX_PROFILE_BYTES {
            return Err(ProfileProblem::TooLong);
        }
        Ok(())
    }
}

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

/// An upgrade the registrar announced: the code a contract may switch to, and from when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct PendingUpgrade {
    /// The uploaded code the contract will run.
    pub code_hash: Hash,
    /// The earliest block time the upgrade may be applied: the announcement's time plus the
    /// upgrade delay then in force.
    pub effective_at: Timestamp,
}

/// How a contract's upgrades are governed: how long an announced upgrade waits, and the one
/// announced, if any (the ConsentRegistry's delay applies to both contracts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct UpgradeTerms {
    /// How long an upgrade announced now would wait, in milliseconds.
    pub delay_ms: Timestamp,
    /// The upgrade announced and not yet applied or withdrawn.
    pub pending: Option<PendingUpgrade>,
}

/// How a document of a new claim was claimed before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum ClaimReuse {
    /// The same insurer claimed it before: possibly billed twice.
    SameInsurer,
    /// Only other insurers claimed it before: a document shared by two payers
    /// (coordination of benefits), or another payer claiming it first.
    OtherInsurer,
}

/// What a document of a new claim has in common with an earlier claim's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum ClaimOverlap {
    /// The very same anchored document (commitment).
    SameDocument,
    /// Another version of the same record (same custodian and record id).
    SameRecord,
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
    /// Its name, kind and identifiers: an [`OrgProfile`] in its SCALE encoding (read it
    /// with [`OrgProfile::from_bytes`]).
    pub profile: Vec<u8>,
}

/// The registrar changed an organization's name, kind or identifiers.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUpdated {
    /// The organization's account.
    #[ink(topic)]
    pub org: AccountId,
    /// Its name, kind and identifiers from now on: an [`OrgProfile`] in its SCALE encoding.
    pub profile: Vec<u8>,
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

/// The registrar announced an upgrade of a contract's code (either contract emits it for
/// itself): patients and apps have until `effective_at` to look at the new code.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeAnnounced {
    /// The code the contract may run from `effective_at` on.
    #[ink(topic)]
    pub code_hash: Hash,
    /// The earliest block time the upgrade may be applied.
    pub effective_at: Timestamp,
}

/// The registrar withdrew an announced upgrade.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeCancelled {
    /// The code that was announced.
    #[ink(topic)]
    pub code_hash: Hash,
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

/// A document of a claim, or another version of its record, was already used by an earlier
/// claim of the same patient. By the same insurer, it is a fraud signal (billed twice); by
/// other insurers only, a document shared by two payers.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateClaimUse {
    /// Whose documents.
    #[ink(topic)]
    pub patient: AccountId,
    /// Who attested the new claim.
    #[ink(topic)]
    pub insurer: AccountId,
    /// The new claim's document that was claimed before.
    #[ink(topic)]
    pub commitment: Hash,
    /// The new claim's reference.
    pub claim_ref: Hash,
    /// Who attested the earlier claim: the same insurer when `reuse` is `SameInsurer`, else
    /// the first insurer that claimed it.
    pub first_insurer: AccountId,
    /// That earlier claim's reference.
    pub first_claim_ref: Hash,
    /// Whether the same insurer claimed it before, or only others.
    pub reuse: ClaimReuse,
    /// The same document, or another version of the same record.
    pub overlap: ClaimOverlap,
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

/// The events whose layout changed in the contracts' third version, as the second version
/// emitted them (storage layout 1). Their signature topics differ from the new ones (ink!
/// derives a topic from the event's name and field types), so the indexer tells them apart
/// and still reads a chain's history from before an upgrade.
pub mod v2 {
    use super::Role;
    use ink::primitives::{AccountId, Hash};

    /// The registrar registered an organization (no name, kind or identifiers yet).
    #[ink::event]
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct OrgRegistered {
        /// The organization's account.
        #[ink(topic)]
        pub org: AccountId,
        /// What it is registered as.
        pub role: Role,
        /// Its flags.
        pub flags: u32,
    }

    /// A document of a claim was already used by an earlier claim of the same patient (by
    /// commitment only; `first_insurer` is whoever claimed it first).
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
            OrgUpdated::SIGNATURE_TOPIC,
            UpgradeAnnounced::SIGNATURE_TOPIC,
            UpgradeCancelled::SIGNATURE_TOPIC,
            v2::OrgRegistered::SIGNATURE_TOPIC,
            v2::DuplicateClaimUse::SIGNATURE_TOPIC,
        ];
        for (i, a) in topics.iter().enumerate() {
            assert!(a.is_some());
            for b in &topics[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    fn clinic() -> OrgProfile {
        OrgProfile {
            name: "Riverside Clinic".into(),
            kind: OrgKind::Clinic,
            identifiers: vec![
                OrgIdentifier {
                    system: NPI_SYSTEM.into(),
                    value: "1234567893".into(),
                },
                OrgIdentifier {
                    system: URL_SYSTEM.into(),
                    value: "https://fhir.riverside.example/Organization/1".into(),
                },
            ],
        }
    }

    #[test]
    fn a_profile_within_its_bounds_passes() {
        assert_eq!(clinic().check(), Ok(()));
        let longest = OrgProfile {
            name: "é".repeat(MAX_ORG_NAME / 2),
            identifiers: vec![
                OrgIdentifier {
                    system: "s".repeat(MAX_IDENTIFIER_SYSTEM),
                    value: "v".repeat(MAX_IDENTIFIER_VALUE),
                },
                OrgIdentifier {
                    system: NPI_SYSTEM.into(),
                    value: "1234567893".into(),
                },
            ],
            ..clinic()
        };
        assert_eq!(longest.check(), Ok(()));
    }

    #[test]
    fn a_profile_beyond_its_bounds_says_what_is_wrong() {
        let with_name = |name: &str| OrgProfile {
            name: name.into(),
            ..clinic()
        };
        assert_eq!(with_name("").check(), Err(ProfileProblem::NameLength));
        assert_eq!(
            with_name(&"x".repeat(MAX_ORG_NAME + 1)).check(),
            Err(ProfileProblem::NameLength)
        );
        for bad in [" Riverside", "Riverside ", "River\nside", "River\u{7f}side"] {
            assert_eq!(
                with_name(bad).check(),
                Err(ProfileProblem::BadText),
                "{bad:?}"
            );
        }
        let mut many = clinic();
        many.identifiers = vec![many.identifiers[0].clone(); MAX_ORG_IDENTIFIERS + 1];
        assert_eq!(many.check(), Err(ProfileProblem::TooManyIdentifiers));
        let mut long_value = clinic();
        long_value.identifiers[1].value = "v".repeat(MAX_IDENTIFIER_VALUE + 1);
        assert_eq!(long_value.check(), Err(ProfileProblem::IdentifierLength));
        let mut empty_system = clinic();
        empty_system.identifiers[0].system.clear();
        assert_eq!(empty_system.check(), Err(ProfileProblem::IdentifierLength));
    }

    #[test]
    fn a_profile_travels_as_bytes_and_comes_back_checked() {
        let bytes = clinic().to_bytes();
        assert!(bytes.len() <= MAX_PROFILE_BYTES);
        assert_eq!(OrgProfile::from_bytes(&bytes), Ok(clinic()));
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            OrgProfile::from_bytes(&longer),
            Err(ProfileProblem::Undecodable)
        );
        assert_eq!(
            OrgProfile::from_bytes(b"not a profile"),
            Err(ProfileProblem::Undecodable)
        );
        let unnamed = OrgProfile {
            name: String::new(),
            ..clinic()
        };
        assert_eq!(
            OrgProfile::from_bytes(&unnamed.to_bytes()),
            Err(ProfileProblem::NameLength)
        );
        // the largest profile the field bounds allow is more than the contract stores
        let largest = OrgProfile {
            name: "n".repeat(MAX_ORG_NAME),
            identifiers: vec![
                OrgIdentifier {
                    system: "s".repeat(MAX_IDENTIFIER_SYSTEM),
                    value: "v".repeat(MAX_IDENTIFIER_VALUE),
                };
                MAX_ORG_IDENTIFIERS
            ],
            ..clinic()
        };
        assert_eq!(
            largest.check(),
            Err(ProfileProblem::TooLong),
            "the byte bound also binds"
        );
        assert_eq!(
            OrgProfile::from_bytes(&largest.to_bytes()),
            Err(ProfileProblem::TooLong)
        );
    }

    #[test]
    fn the_second_releases_events_keep_their_signature_topics() {
        use ink::env::Event;
        // What the second version's metadata lists (contracts/releases/v2); the indexer reads
        // a chain's history from before an upgrade by these.
        assert_eq!(
            v2::OrgRegistered::SIGNATURE_TOPIC,
            Some(ink::blake2x256!("OrgRegistered(AccountId,Role,u32)"))
        );
        assert_eq!(
            v2::DuplicateClaimUse::SIGNATURE_TOPIC,
            Some(ink::blake2x256!(
                "DuplicateClaimUse(AccountId,AccountId,Hash,Hash,AccountId,Hash)"
            ))
        );
    }
}
