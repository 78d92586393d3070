//! RecordRegistry: salted commitments of medical records, anchored on chain, and the access
//! log.
//!
//! A custodian (a provider holding the patient's Write consent, or the patient for their own
//! uploads) anchors the commitment of a record version; anyone holding the document and its
//! receipt can then [`RecordRegistry::verify`] that it is exactly the one anchored. Only
//! commitments go on chain, never documents, and never a record's category in the clear: it
//! is a salted category commitment whose opening no message takes. Records, anchors, batches
//! and claims live in the key space of whoever made them, so copying someone's pending call
//! cannot block it or take its place. Consent is checked by a call to the ConsentRegistry,
//! whose registrar also upgrades this contract, after announcing it.
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

#[cfg(test)]
mod tests;

#[cfg(all(test, feature = "e2e-tests"))]
mod e2e_tests;

/// The RecordRegistry contract.
#[ink::contract]
pub mod record_registry {
    use ink::codegen::TraitCallBuilder;
    use ink::env::call::FromAccountId;
    use ink::env::CallFlags;
    use ink::prelude::vec::Vec;
    use ink::storage::{Lazy, Mapping};
    #[cfg(not(test))]
    use medledger_consent::consent_registry::ConsentRegistryRef;
    use medledger_consent::consent_registry::{AccessVerdict, Org, Standing};
    use medledger_events::{
        Access, AccessDenied, AccessRecorded, AmendReason, AnchorInfo, AnchorKey, BatchAnchored,
        BatchInfo, CategorySet, ClaimAttested, ClaimOverlap, ClaimReuse, ContractUpgraded,
        DuplicateClaimUse, PendingUpgrade, Purpose, RecordAmended, RecordAnchored, RecordKey, Role,
        UpgradeAnnounced, UpgradeCancelled, ALL_CATEGORIES,
    };

    /// The layout version of this build's storage. An upgrade migrates older storage to it.
    /// Version 1 was the second release; version 2 (the third release) adds per-insurer and
    /// per-record claim uses and announced upgrades, in cells of their own.
    #[cfg(not(feature = "test-next"))]
    pub const STORAGE_VERSION: u32 = 2;
    /// The layout version of the test-only next build (feature `test-next`), which exists to
    /// prove upgrades: it migrates version 2 storage to 3.
    #[cfg(feature = "test-next")]
    pub const STORAGE_VERSION: u32 = 3;

    /// The most documents one claim may name.
    pub const MAX_CLAIM_DOCUMENTS: usize = 32;

    /// The latest state of one record.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct Record {
        /// Whose record.
        pub patient: AccountId,
        /// The salted commitment of the record's category, the same for every version.
        pub category_commitment: Hash,
        /// The number of the latest version.
        pub latest_version: u32,
        /// The commitment of the latest version.
        pub latest_commitment: Hash,
    }

    /// An attested claim.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct ClaimInfo {
        /// Whose claim.
        pub patient: AccountId,
        /// How many documents it names.
        pub documents: u32,
        /// Whether none of them was superseded when attested.
        pub all_current: bool,
        /// Block time of the attestation.
        pub attested_at: Timestamp,
    }

    /// A claim, named the way this contract keys it: references are only unique per insurer.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct ClaimKey {
        /// Who attested the claim.
        pub insurer: AccountId,
        /// The insurer's reference.
        pub claim_ref: Hash,
    }

    /// (patient, insurer, commitment or [`record_key`]): what one insurer claimed.
    type InsurerUse = (AccountId, AccountId, Hash);

    /// What a claim's document shares with an earlier claim, in the order the signal looks:
    /// the document itself, then its record.
    const OVERLAPS: [ClaimOverlap; 2] = [ClaimOverlap::SameDocument, ClaimOverlap::SameRecord];

    /// The RecordRegistry's storage. Every field is a `Lazy` cell or a `Mapping`, each under
    /// its own key, so the root holds no bytes: a later build that adds fields still loads
    /// this storage, and its `migrate` can transform it.
    #[ink(storage)]
    pub struct RecordRegistry {
        /// The ConsentRegistry asked for organizations, consents and the registrar.
        consent_registry: Lazy<AccountId>,
        /// The layout version of this storage.
        storage_version: Lazy<u32>,
        /// (custodian, record_id) -> the record's latest state.
        records: Mapping<(AccountId, Hash), Record>,
        /// (custodian, commitment) -> where and when it was anchored.
        anchors: Mapping<(AccountId, Hash), AnchorInfo>,
        /// (organization, root) -> the anchored batch.
        batches: Mapping<(AccountId, Hash), BatchInfo>,
        /// (insurer, claim_ref) -> the attested claim.
        claims: Mapping<(AccountId, Hash), ClaimInfo>,
        /// (patient, commitment) -> the first claim that used the document.
        claim_uses: Mapping<(AccountId, Hash), ClaimKey>,
        /// (patient, [`record_key`]) -> the first claim that used any version of the record
        /// (layout 2). Kept apart from documents, so that no commitment, which its custodian
        /// chooses freely, can stand for a record.
        record_claim_uses: Mapping<(AccountId, Hash), ClaimKey>,
        /// (patient, insurer, commitment) -> that insurer's first claim that used the
        /// document (layout 2).
        insurer_claim_uses: Mapping<InsurerUse, Hash>,
        /// (patient, insurer, [`record_key`]) -> that insurer's first claim that used any
        /// version of the record (layout 2).
        insurer_record_uses: Mapping<InsurerUse, Hash>,
        /// The upgrade the registrar announced for this contract, if any (layout 2).
        pending_upgrade: Lazy<Option<PendingUpgrade>>,
        /// Test-only next build: when the storage was migrated to layout 3.
        #[cfg(feature = "test-next")]
        migrated_at: Lazy<Timestamp>,
    }

    /// Why a RecordRegistry message was refused.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub enum Error {
        /// Only the patient or a registered provider may anchor or amend a patient's records.
        NotProvider,
        /// Only registered insurers may attest claims.
        NotInsurer,
        /// The organization is suspended.
        OrgSuspended,
        /// The patient's consent in force does not cover this (Write for treatment to anchor
        /// or amend, Read for payment to attest a claim).
        NotAuthorized,
        /// The caller already anchored a record with this id.
        RecordExists,
        /// The caller already anchored this commitment.
        CommitmentExists,
        /// The call to the ConsentRegistry failed.
        ConsentCheckFailed,
        /// No record with this id was anchored by this custodian (for this patient).
        UnknownRecord,
        /// Only active registered organizations may anchor batches.
        NotActiveOrg,
        /// A batch needs at least one leaf.
        EmptyBatch,
        /// The caller already anchored this root.
        BatchExists,
        /// A claim needs at least one document.
        EmptyClaim,
        /// A claim may name at most [`MAX_CLAIM_DOCUMENTS`] documents.
        TooManyDocuments,
        /// The claim names the same document twice.
        DuplicateDocument,
        /// The caller already attested a claim with this reference.
        ClaimExists,
        /// A document of the claim is not anchored by the named custodian for the claim's
        /// patient.
        DocumentNotAnchored,
        /// The category set is empty or names no known category.
        InvalidCategories,
        /// Only registered organizations may write the access log.
        NotRegistered,
        /// Only the ConsentRegistry's registrar may upgrade this contract.
        NotRegistrar,
        /// `set_code_hash` failed, or the new code could not migrate the storage; nothing
        /// changed.
        UpgradeFailed,
        /// `migrate` runs only inside an upgrade, called by the contract itself.
        NotUpgrading,
        /// The storage is of a layout version this code cannot migrate from.
        UnsupportedStorageVersion,
        /// A version counter or a time would overflow.
        Overflow,
        /// No upgrade to this code was announced.
        UpgradeNotAnnounced,
        /// The announced upgrade's delay has not passed yet.
        UpgradeTooEarly,
    }

    /// The result of a RecordRegistry message.
    pub type Result<T> = core::result::Result<T, Error>;

    impl RecordRegistry {
        /// Creates the registry, asking the ConsentRegistry at `consent_registry`.
        #[ink(constructor)]
        pub fn new(consent_registry: AccountId) -> Self {
            let mut registry = Self {
                consent_registry: Lazy::new(),
                storage_version: Lazy::new(),
                records: Mapping::default(),
                anchors: Mapping::default(),
                batches: Mapping::default(),
                claims: Mapping::default(),
                claim_uses: Mapping::default(),
                record_claim_uses: Mapping::default(),
                insurer_claim_uses: Mapping::default(),
                insurer_record_uses: Mapping::default(),
                pending_upgrade: Lazy::new(),
                #[cfg(feature = "test-next")]
                migrated_at: Lazy::new(),
            };
            registry.consent_registry.set(&consent_registry);
            registry.storage_version.set(&STORAGE_VERSION);
            registry
        }

        /// Anchors version 1 of the caller's record `record_id` of `patient`, with the
        /// document's `commitment` and the record's `category_commitment` (see
        /// `medledger-proofs`). The caller becomes the record's custodian.
        ///
        /// The caller must be the patient, or an active provider holding the patient's
        /// consent in force for Write access and purpose Treatment. Which category the
        /// consent names is checked off chain, by whoever opens the category commitment.
        ///
        /// # Errors
        /// - [`Error::RecordExists`] if the caller anchored `record_id` already.
        /// - [`Error::CommitmentExists`] if the caller anchored `commitment` already.
        /// - [`Error::NotProvider`], [`Error::OrgSuspended`], [`Error::NotAuthorized`] if the
        ///   caller may not write this patient's records.
        /// - [`Error::ConsentCheckFailed`] if the ConsentRegistry could not be asked.
        #[ink(message)]
        pub fn anchor(
            &mut self,
            patient: AccountId,
            record_id: Hash,
            commitment: Hash,
            category_commitment: Hash,
        ) -> Result<()> {
            let custodian = self.env().caller();
            if self.records.contains((custodian, record_id)) {
                return Err(Error::RecordExists);
            }
            if self.anchors.contains((custodian, commitment)) {
                return Err(Error::CommitmentExists);
            }
            self.ensure_may_write(patient, custodian)?;
            self.records.insert(
                (custodian, record_id),
                &Record {
                    patient,
                    category_commitment,
                    latest_version: 1,
                    latest_commitment: commitment,
                },
            );
            self.insert_anchor(commitment, record_id, 1, patient, category_commitment);
            self.env().emit_event(RecordAnchored {
                patient,
                custodian,
                commitment,
                record_id,
                category_commitment,
                version: 1,
            });
            Ok(())
        }

        /// Anchors the next version of the caller's record `record_id`; the previous one
        /// becomes superseded. Authority is checked again, as for [`Self::anchor`]: a
        /// suspended provider, or one whose Write consent was revoked or expired, cannot
        /// amend (the patient always may amend their own uploads).
        ///
        /// # Errors
        /// [`Error::UnknownRecord`] unless the caller anchored `record_id`;
        /// [`Error::CommitmentExists`]; [`Error::NotProvider`], [`Error::OrgSuspended`],
        /// [`Error::NotAuthorized`]; [`Error::ConsentCheckFailed`]; [`Error::Overflow`].
        #[ink(message)]
        pub fn amend(
            &mut self,
            record_id: Hash,
            commitment: Hash,
            reason: AmendReason,
        ) -> Result<()> {
            let custodian = self.env().caller();
            let mut record = self
                .records
                .get((custodian, record_id))
                .ok_or(Error::UnknownRecord)?;
            if self.anchors.contains((custodian, commitment)) {
                return Err(Error::CommitmentExists);
            }
            self.ensure_may_write(record.patient, custodian)?;
            let version = record
                .latest_version
                .checked_add(1)
                .ok_or(Error::Overflow)?;
            let previous = record.latest_commitment;
            if let Some(mut old) = self.anchors.get((custodian, previous)) {
                old.superseded_by = Some(commitment);
                self.anchors.insert((custodian, previous), &old);
            }
            self.insert_anchor(
                commitment,
                record_id,
                version,
                record.patient,
                record.category_commitment,
            );
            record.latest_version = version;
            record.latest_commitment = commitment;
            self.records.insert((custodian, record_id), &record);
            self.env().emit_event(RecordAmended {
                patient: record.patient,
                custodian,
                commitment,
                record_id,
                previous,
                version,
                reason,
            });
            Ok(())
        }

        /// Anchors the Merkle root of `leaf_count` commitments (see `medledger-proofs`) in one
        /// call: nothing is stored per leaf, so the cost does not grow with the batch.
        ///
        /// A batch attests only that this organization committed to these documents at this
        /// block. Its leaves name no patient and no category, so no consent is checked: a
        /// batch proof says nothing of whose documents they are or who allowed them.
        ///
        /// # Errors
        /// [`Error::EmptyBatch`]; [`Error::NotActiveOrg`] unless the caller is an active
        /// registered organization; [`Error::BatchExists`] if the caller anchored `root`
        /// already; [`Error::ConsentCheckFailed`].
        #[ink(message)]
        pub fn anchor_batch(&mut self, root: Hash, leaf_count: u32) -> Result<()> {
            if leaf_count == 0 {
                return Err(Error::EmptyBatch);
            }
            let org = self.env().caller();
            if self.batches.contains((org, root)) {
                return Err(Error::BatchExists);
            }
            if !self.consent_org(org)?.is_some_and(|o| o.active) {
                return Err(Error::NotActiveOrg);
            }
            self.batches.insert(
                (org, root),
                &BatchInfo {
                    leaf_count,
                    anchored_at: self.env().block_timestamp(),
                    block_number: self.env().block_number(),
                },
            );
            self.env().emit_event(BatchAnchored {
                org,
                root,
                leaf_count,
            });
            Ok(())
        }

        /// The caller, an insurer, attests that its claim `claim_ref` of `patient` rests on
        /// `documents`, each anchored for `patient` by the named custodian. Returns whether
        /// none of them is superseded.
        ///
        /// A document that an earlier claim of the patient used, itself or through another
        /// version of its record, emits [`DuplicateClaimUse`] besides [`ClaimAttested`]:
        /// `SameInsurer` when this insurer claimed it before (billed twice), else
        /// `OtherInsurer` naming the first insurer (a document shared by two payers). An
        /// insurer's own earlier claim wins over another's, so claiming a document first does
        /// not hide a rival's reuse, nor make the rival's own first claim look like one.
        ///
        /// # Errors
        /// [`Error::EmptyClaim`], [`Error::TooManyDocuments`], [`Error::DuplicateDocument`],
        /// [`Error::ClaimExists`]; [`Error::NotInsurer`], [`Error::OrgSuspended`],
        /// [`Error::NotAuthorized`] unless the caller is an active insurer with the
        /// patient's consent in force for Read access and purpose Payment;
        /// [`Error::DocumentNotAnchored`]; [`Error::ConsentCheckFailed`].
        #[ink(message)]
        pub fn attest_claim(
            &mut self,
            claim_ref: Hash,
            patient: AccountId,
            documents: Vec<AnchorKey>,
        ) -> Result<bool> {
            if documents.is_empty() {
                return Err(Error::EmptyClaim);
            }
            if documents.len() > MAX_CLAIM_DOCUMENTS {
                return Err(Error::TooManyDocuments);
            }
            for (i, d) in documents.iter().enumerate() {
                if documents
                    .iter()
                    .take(i)
                    .any(|earlier| earlier.commitment == d.commitment)
                {
                    return Err(Error::DuplicateDocument);
                }
            }
            let insurer = self.env().caller();
            if self.claims.contains((insurer, claim_ref)) {
                return Err(Error::ClaimExists);
            }
            match self.consent_standing(
                patient,
                insurer,
                Role::Insurer,
                Purpose::Payment,
                Access::Read,
            )? {
                Standing::Consented => {}
                Standing::NotInRole => return Err(Error::NotInsurer),
                Standing::Suspended => return Err(Error::OrgSuspended),
                Standing::NoConsent => return Err(Error::NotAuthorized),
            }
            let mut all_current = true;
            let mut records = Vec::with_capacity(documents.len());
            for d in &documents {
                let anchor = self
                    .anchors
                    .get((d.custodian, d.commitment))
                    .filter(|a| a.patient == patient)
                    .ok_or(Error::DocumentNotAnchored)?;
                all_current &= anchor.superseded_by.is_none();
                records.push(record_key(d.custodian, anchor.record_id));
            }
            let this = ClaimKey { insurer, claim_ref };
            for (d, record) in documents.iter().zip(records) {
                let own = [
                    self.insurer_claim_uses
                        .get((patient, insurer, d.commitment)),
                    self.insurer_record_uses.get((patient, insurer, record)),
                ];
                let first = [
                    self.claim_uses.get((patient, d.commitment)),
                    self.record_claim_uses.get((patient, record)),
                ];
                if let Some(signal) = reuse_signal(&own, &first, this) {
                    let (earlier, reuse, overlap) = signal;
                    self.env().emit_event(DuplicateClaimUse {
                        patient,
                        insurer,
                        commitment: d.commitment,
                        claim_ref,
                        first_insurer: earlier.insurer,
                        first_claim_ref: earlier.claim_ref,
                        reuse,
                        overlap,
                    });
                }
                if own[0].is_none() {
                    self.insurer_claim_uses
                        .insert((patient, insurer, d.commitment), &claim_ref);
                }
                if own[1].is_none() {
                    self.insurer_record_uses
                        .insert((patient, insurer, record), &claim_ref);
                }
                if first[0].is_none() {
                    self.claim_uses.insert((patient, d.commitment), &this);
                }
                if first[1].is_none() {
                    self.record_claim_uses.insert((patient, record), &this);
                }
            }
            let count = u32::try_from(documents.len()).map_err(|_| Error::Overflow)?;
            self.claims.insert(
                (insurer, claim_ref),
                &ClaimInfo {
                    patient,
                    documents: count,
                    all_current,
                    attested_at: self.env().block_timestamp(),
                },
            );
            self.env().emit_event(ClaimAttested {
                patient,
                insurer,
                claim_ref,
                documents,
                all_current,
            });
            Ok(all_current)
        }

        /// The caller, an active registered organization, declares that it reads
        /// `categories` of `patient`'s data for `purpose`, from `record` if it names one.
        /// Emits [`AccessRecorded`] when the ConsentRegistry's rule allows every category, and
        /// [`AccessDenied`] (the alert) when not; either way the call succeeds and returns
        /// whether access was allowed.
        ///
        /// A named record must be anchored for `patient` by its custodian. Whether it is of a
        /// declared category is not checked here: that would need the opening of its category
        /// commitment in the call, which would publish the category for good. The receipt
        /// holder checks it off chain (the API's `verifyCommitment` with the category).
        ///
        /// # Errors
        /// [`Error::InvalidCategories`] for an empty set or unknown bits;
        /// [`Error::UnknownRecord`]; [`Error::NotRegistered`] unless the caller is a
        /// registered organization; [`Error::OrgSuspended`] while it is suspended (its
        /// attempts alert no one); [`Error::ConsentCheckFailed`].
        #[ink(message)]
        pub fn record_access(
            &mut self,
            patient: AccountId,
            categories: CategorySet,
            purpose: Purpose,
            record: Option<RecordKey>,
        ) -> Result<bool> {
            if categories == 0 || categories & !ALL_CATEGORIES != 0 {
                return Err(Error::InvalidCategories);
            }
            if let Some(key) = &record {
                let anchored = self
                    .records
                    .get((key.custodian, key.record_id))
                    .is_some_and(|r| r.patient == patient);
                if !anchored {
                    return Err(Error::UnknownRecord);
                }
            }
            let accessor = self.env().caller();
            let verdict = self.consent_verdict(patient, accessor, categories, purpose)?;
            let emergency = match verdict {
                AccessVerdict::Unregistered => return Err(Error::NotRegistered),
                AccessVerdict::Suspended => return Err(Error::OrgSuspended),
                AccessVerdict::Denied => {
                    self.env().emit_event(AccessDenied {
                        patient,
                        accessor,
                        record,
                        categories,
                        purpose,
                    });
                    return Ok(false);
                }
                AccessVerdict::ByConsent => false,
                AccessVerdict::ByEmergency => true,
            };
            self.env().emit_event(AccessRecorded {
                patient,
                accessor,
                record,
                categories,
                purpose,
                emergency,
            });
            Ok(true)
        }

        /// Announces that this contract will switch to the uploaded `code_hash`, no sooner
        /// than the ConsentRegistry's upgrade delay from now. Only the ConsentRegistry's
        /// registrar may; a new announcement replaces an earlier one.
        ///
        /// # Errors
        /// [`Error::NotRegistrar`]; [`Error::ConsentCheckFailed`]; [`Error::Overflow`].
        #[ink(message)]
        pub fn announce_upgrade(&mut self, code_hash: Hash) -> Result<()> {
            self.ensure_registrar()?;
            let effective_at = self
                .env()
                .block_timestamp()
                .checked_add(self.consent_upgrade_delay()?)
                .ok_or(Error::Overflow)?;
            self.pending_upgrade.set(&Some(PendingUpgrade {
                code_hash,
                effective_at,
            }));
            self.env().emit_event(UpgradeAnnounced {
                code_hash,
                effective_at,
            });
            Ok(())
        }

        /// Withdraws the announced upgrade.
        ///
        /// # Errors
        /// [`Error::NotRegistrar`]; [`Error::ConsentCheckFailed`];
        /// [`Error::UpgradeNotAnnounced`] when none is.
        #[ink(message)]
        pub fn cancel_upgrade(&mut self) -> Result<()> {
            self.ensure_registrar()?;
            let pending = self.pending_upgrade().ok_or(Error::UpgradeNotAnnounced)?;
            self.pending_upgrade.set(&None);
            self.env().emit_event(UpgradeCancelled {
                code_hash: pending.code_hash,
            });
            Ok(())
        }

        /// Applies the announced upgrade once its delay has passed: replaces the contract's
        /// code with `code_hash`, then lets the new code migrate the storage (see
        /// [`Self::migrate`]) in the same transaction; when the new code cannot, nothing
        /// changes. Only the ConsentRegistry's registrar may.
        ///
        /// Every storage field is a `Lazy` cell or a `Mapping` that writes itself at once, so
        /// the root this message writes back when it returns holds no bytes: the old code
        /// cannot overwrite what the new code's migration wrote.
        ///
        /// # Errors
        /// [`Error::NotRegistrar`]; [`Error::ConsentCheckFailed`];
        /// [`Error::UpgradeNotAnnounced`] unless this code was announced;
        /// [`Error::UpgradeTooEarly`] before its `effective_at`; [`Error::UpgradeFailed`] when
        /// the code is not uploaded or cannot migrate this storage.
        #[ink(message)]
        pub fn upgrade(&mut self, code_hash: Hash) -> Result<()> {
            self.ensure_registrar()?;
            let pending = self
                .pending_upgrade()
                .filter(|p| p.code_hash == code_hash)
                .ok_or(Error::UpgradeNotAnnounced)?;
            if self.env().block_timestamp() < pending.effective_at {
                return Err(Error::UpgradeTooEarly);
            }
            self.pending_upgrade.set(&None);
            let from_version = self.storage_version();
            self.env()
                .set_code_hash(&code_hash)
                .map_err(|_| Error::UpgradeFailed)?;
            let mut this: RecordRegistryRef =
                FromAccountId::from_account_id(self.env().account_id());
            let storage_version = match this
                .call_mut()
                .migrate()
                .call_flags(CallFlags::ALLOW_REENTRY)
                .try_invoke()
            {
                Ok(Ok(Ok(version))) => version,
                _ => return Err(Error::UpgradeFailed),
            };
            self.env().emit_event(ContractUpgraded {
                code_hash,
                from_version,
                storage_version,
            });
            Ok(())
        }

        /// Brings the storage to this code's [`STORAGE_VERSION`], one layout version at a
        /// time, and returns it. Only [`Self::upgrade`] calls it, as the contract itself.
        ///
        /// # Errors
        /// [`Error::NotUpgrading`] for any other caller; [`Error::UnsupportedStorageVersion`]
        /// when the storage is newer than this code, or of a version it has no step from.
        #[ink(message)]
        pub fn migrate(&mut self) -> Result<u32> {
            if self.env().caller() != self.env().account_id() {
                return Err(Error::NotUpgrading);
            }
            let mut version = self.storage_version();
            if version > STORAGE_VERSION {
                return Err(Error::UnsupportedStorageVersion);
            }
            while version < STORAGE_VERSION {
                self.migrate_from(version)?;
                version = version.checked_add(1).ok_or(Error::Overflow)?;
                self.storage_version.set(&version);
            }
            Ok(version)
        }

        /// Where and when `custodian` anchored `commitment`, or `None` if it did not.
        #[ink(message)]
        pub fn verify(&self, custodian: AccountId, commitment: Hash) -> Option<AnchorInfo> {
            self.anchors.get((custodian, commitment))
        }

        /// Where and when `org` anchored the batch `root`, or `None`.
        #[ink(message)]
        pub fn verify_batch(&self, org: AccountId, root: Hash) -> Option<BatchInfo> {
            self.batches.get((org, root))
        }

        /// The latest state of `custodian`'s record `record_id`, if it exists.
        #[ink(message)]
        pub fn record(&self, custodian: AccountId, record_id: Hash) -> Option<Record> {
            self.records.get((custodian, record_id))
        }

        /// `insurer`'s claim `claim_ref`, if attested.
        #[cfg(test)]
        pub fn claim(&self, insurer: AccountId, claim_ref: Hash) -> Option<ClaimInfo> {
            self.claims.get((insurer, claim_ref))
        }

        /// The first claim of `patient` that used the document `commitment`, if any.
        #[ink(message)]
        pub fn first_claim_use(&self, patient: AccountId, commitment: Hash) -> Option<ClaimKey> {
            self.claim_uses.get((patient, commitment))
        }

        /// The first claim of `patient` that used any version of `custodian`'s record
        /// `record_id`, if any (claims attested since layout 2).
        #[cfg(test)]
        pub fn first_record_claim(
            &self,
            patient: AccountId,
            custodian: AccountId,
            record_id: Hash,
        ) -> Option<ClaimKey> {
            self.record_claim_uses
                .get((patient, record_key(custodian, record_id)))
        }

        /// The upgrade announced for this contract, if any.
        #[ink(message)]
        pub fn pending_upgrade(&self) -> Option<PendingUpgrade> {
            self.pending_upgrade.get().flatten()
        }

        /// The ConsentRegistry this registry asks.
        #[ink(message)]
        pub fn consent_registry(&self) -> AccountId {
            // Set by the constructor; the zero account answers no call.
            self.consent_registry
                .get()
                .unwrap_or(AccountId::from([0; 32]))
        }

        /// The layout version of the storage (0 if it was never set, which no code migrates).
        #[ink(message)]
        pub fn storage_version(&self) -> u32 {
            self.storage_version.get().unwrap_or(0)
        }

        fn insert_anchor(
            &mut self,
            commitment: Hash,
            record_id: Hash,
            version: u32,
            patient: AccountId,
            category_commitment: Hash,
        ) {
            let custodian = self.env().caller();
            self.anchors.insert(
                (custodian, commitment),
                &AnchorInfo {
                    record_id,
                    version,
                    patient,
                    custodian,
                    category_commitment,
                    anchored_at: self.env().block_timestamp(),
                    block_number: self.env().block_number(),
                    superseded_by: None,
                },
            );
        }

        /// The patient may always write their own records; anyone else must be an active
        /// provider with the patient's Write consent for treatment in force.
        fn ensure_may_write(&self, patient: AccountId, writer: AccountId) -> Result<()> {
            if writer == patient {
                return Ok(());
            }
            match self.consent_standing(
                patient,
                writer,
                Role::Provider,
                Purpose::Treatment,
                Access::Write,
            )? {
                Standing::Consented => Ok(()),
                Standing::NotInRole => Err(Error::NotProvider),
                Standing::Suspended => Err(Error::OrgSuspended),
                Standing::NoConsent => Err(Error::NotAuthorized),
            }
        }

        /// Refuses anyone but the ConsentRegistry's registrar.
        fn ensure_registrar(&self) -> Result<()> {
            if self.env().caller() != self.consent_registrar()? {
                return Err(Error::NotRegistrar);
            }
            Ok(())
        }

        /// One migration step: storage of layout `version` to `version + 1`.
        ///
        /// 1 to 2 (the second release to the third) changes no stored value: what layout 2
        /// adds lives in cells of its own that read as empty, and every stored type kept its
        /// encoding. Claims attested before are followed by their commitments only.
        fn migrate_from(&mut self, version: u32) -> Result<()> {
            match version {
                1 => Ok(()),
                #[cfg(feature = "test-next")]
                2 => {
                    // The test-only next build adds a field: when the migration ran.
                    self.migrated_at.set(&self.env().block_timestamp());
                    Ok(())
                }
                _ => Err(Error::UnsupportedStorageVersion),
            }
        }

        #[cfg(not(test))]
        fn consent_ref(&self) -> ConsentRegistryRef {
            FromAccountId::from_account_id(self.consent_registry())
        }

        /// The ConsentRegistry's organization entry for `account`.
        #[cfg(not(test))]
        fn consent_org(&self, account: AccountId) -> Result<Option<Org>> {
            match self.consent_ref().call().org(account).try_invoke() {
                Ok(Ok(org)) => Ok(org),
                _ => Err(Error::ConsentCheckFailed),
            }
        }

        /// The ConsentRegistry's answer to [`consents_to`](medledger_consent::consent_registry::ConsentRegistry::consents_to).
        #[cfg(not(test))]
        fn consent_standing(
            &self,
            patient: AccountId,
            grantee: AccountId,
            role: Role,
            purpose: Purpose,
            access: Access,
        ) -> Result<Standing> {
            match self
                .consent_ref()
                .call()
                .consents_to(patient, grantee, role, purpose, access)
                .try_invoke()
            {
                Ok(Ok(standing)) => Ok(standing),
                _ => Err(Error::ConsentCheckFailed),
            }
        }

        /// The ConsentRegistry's answer to [`access_verdict`](medledger_consent::consent_registry::ConsentRegistry::access_verdict).
        #[cfg(not(test))]
        fn consent_verdict(
            &self,
            patient: AccountId,
            accessor: AccountId,
            categories: CategorySet,
            purpose: Purpose,
        ) -> Result<AccessVerdict> {
            match self
                .consent_ref()
                .call()
                .access_verdict(patient, accessor, categories, purpose)
                .try_invoke()
            {
                Ok(Ok(verdict)) => Ok(verdict),
                _ => Err(Error::ConsentCheckFailed),
            }
        }

        /// The ConsentRegistry's registrar.
        #[cfg(not(test))]
        fn consent_registrar(&self) -> Result<AccountId> {
            match self.consent_ref().call().registrar().try_invoke() {
                Ok(Ok(registrar)) => Ok(registrar),
                _ => Err(Error::ConsentCheckFailed),
            }
        }

        /// The ConsentRegistry's upgrade delay, which both contracts' upgrades wait.
        #[cfg(not(test))]
        fn consent_upgrade_delay(&self) -> Result<Timestamp> {
            match self.consent_ref().call().upgrade_terms().try_invoke() {
                Ok(Ok(terms)) => Ok(terms.delay_ms),
                _ => Err(Error::ConsentCheckFailed),
            }
        }

        // Unit tests cannot make cross-contract calls (ink!'s off-chain environment has none):
        // they script the ConsentRegistry's answers instead (see tests.rs). The e2e tests use
        // the real one.
        #[cfg(test)]
        fn consent_org(&self, account: AccountId) -> Result<Option<Org>> {
            crate::tests::scripted_consent::org(account)
        }

        #[cfg(test)]
        fn consent_standing(
            &self,
            patient: AccountId,
            grantee: AccountId,
            role: Role,
            purpose: Purpose,
            access: Access,
        ) -> Result<Standing> {
            crate::tests::scripted_consent::standing(patient, grantee, role, purpose, access)
        }

        #[cfg(test)]
        fn consent_verdict(
            &self,
            patient: AccountId,
            accessor: AccountId,
            categories: CategorySet,
            purpose: Purpose,
        ) -> Result<AccessVerdict> {
            crate::tests::scripted_consent::verdict(patient, accessor, categories, purpose)
        }

        #[cfg(test)]
        fn consent_registrar(&self) -> Result<AccountId> {
            crate::tests::scripted_consent::registrar()
        }

        #[cfg(test)]
        fn consent_upgrade_delay(&self) -> Result<Timestamp> {
            crate::tests::scripted_consent::upgrade_delay()
        }
    }

    /// The key a record is remembered under by the claims that used it: `blake2b_256` of its
    /// custodian and id.
    fn record_key(custodian: AccountId, record_id: Hash) -> Hash {
        let mut out = [0u8; 32];
        ink::env::hash_encoded::<ink::env::hash::Blake2x256, _>(&(custodian, record_id), &mut out);
        Hash::from(out)
    }

    /// What an earlier claim has in common with the document a new claim (`this`) names,
    /// given the claims that used that document and its record ([`OVERLAPS`]) before: by
    /// this insurer (`own`) or by anyone (`first`). This insurer's own earlier claim comes
    /// first, else the first claim of anyone. What `this` claim wrote itself, for an earlier
    /// document of the same record, is no reuse.
    fn reuse_signal(
        own: &[Option<Hash>; 2],
        first: &[Option<ClaimKey>; 2],
        this: ClaimKey,
    ) -> Option<(ClaimKey, ClaimReuse, ClaimOverlap)> {
        let mine = OVERLAPS.iter().zip(own).find_map(|(overlap, claim_ref)| {
            let claim_ref = claim_ref.filter(|r| *r != this.claim_ref)?;
            let earlier = ClaimKey {
                insurer: this.insurer,
                claim_ref,
            };
            Some((earlier, ClaimReuse::SameInsurer, *overlap))
        });
        mine.or_else(|| {
            // Claims attested before layout 2 left only the first use of each commitment.
            OVERLAPS.iter().zip(first).find_map(|(overlap, earlier)| {
                let earlier = earlier.filter(|e| *e != this)?;
                let reuse = if earlier.insurer == this.insurer {
                    ClaimReuse::SameInsurer
                } else {
                    ClaimReuse::OtherInsurer
                };
                Some((earlier, reuse, *overlap))
            })
        })
    }
}
