//! RecordRegistry: salted commitments of medical records, anchored on chain.
//!
//! A custodian (a provider holding Write consent for the record's category, or the patient for
//! their own uploads) anchors the commitment of a record version; anyone can then
//! [`RecordRegistry::verify`] that a document is exactly the one anchored. Only commitments go
//! on chain, never documents: a commitment is a salted hash (see `medledger-proofs`) that reveals
//! nothing about the record. Consent is checked by a call to the ConsentRegistry.
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

#[ink::contract]
pub mod record_registry {
    #[cfg(not(test))]
    use ink::codegen::TraitCallBuilder;
    use ink::prelude::vec::Vec;
    use ink::storage::Mapping;
    #[cfg(not(test))]
    use medledger_consent::consent_registry::ConsentRegistryRef;
    use medledger_consent::consent_registry::Org;
    use medledger_events::{
        Access, AmendReason, AnchorInfo, BatchAnchored, BatchInfo, ClaimAttested, DataCategory,
        DuplicateClaimUse, Purpose, RecordAmended, RecordAnchored, Role,
    };

    /// The most documents one claim may name.
    pub const MAX_CLAIM_DOCUMENTS: usize = 32;

    /// The latest state of one record.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct Record {
        pub patient: AccountId,
        pub custodian: AccountId,
        pub category: DataCategory,
        pub latest_version: u32,
        pub latest_commitment: Hash,
    }

    /// An attested claim.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct ClaimInfo {
        pub insurer: AccountId,
        pub patient: AccountId,
        pub documents: u32,
        pub all_current: bool,
        pub attested_at: Timestamp,
    }

    #[ink(storage)]
    pub struct RecordRegistry {
        consent_registry: AccountId,
        records: Mapping<Hash, Record>,
        anchors: Mapping<Hash, AnchorInfo>,
        batches: Mapping<Hash, BatchInfo>,
        claims: Mapping<Hash, ClaimInfo>,
        /// commitment -> the first claim that used it.
        claim_uses: Mapping<Hash, Hash>,
    }

    /// Why a RecordRegistry message was refused.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub enum Error {
        /// The caller is neither the patient nor an active provider with Write consent for
        /// the category (or, for claims, lacks Read + Payment consent).
        NotAuthorized,
        /// A record with this id exists already.
        RecordExists,
        /// This commitment is anchored already.
        CommitmentExists,
        /// The call to the ConsentRegistry failed.
        ConsentCheckFailed,
        /// There is no record with this id.
        UnknownRecord,
        /// Only the record's custodian may amend it.
        NotCustodian,
        /// Only active registered organizations may anchor batches.
        NotActiveOrg,
        /// A batch needs at least one leaf.
        EmptyBatch,
        /// This root is anchored already.
        BatchExists,
        /// Only active insurers may attest claims.
        NotInsurer,
        /// A claim needs at least one document.
        EmptyClaim,
        /// A claim may name at most [`MAX_CLAIM_DOCUMENTS`] documents.
        TooManyDocuments,
        /// The claim names the same document twice.
        DuplicateDocument,
        /// A claim with this reference was attested already.
        ClaimExists,
        /// A version counter would overflow.
        Overflow,
    }

    pub type Result<T> = core::result::Result<T, Error>;

    impl RecordRegistry {
        /// Creates the registry, checking consents against the ConsentRegistry at
        /// `consent_registry`.
        #[ink(constructor)]
        pub fn new(consent_registry: AccountId) -> Self {
            Self {
                consent_registry,
                records: Mapping::default(),
                anchors: Mapping::default(),
                batches: Mapping::default(),
                claims: Mapping::default(),
                claim_uses: Mapping::default(),
            }
        }

        /// Anchors version 1 of record `record_id` of `patient`, with `commitment`.
        ///
        /// The caller must be the patient, or an active provider holding a consent of the
        /// patient granting Write access to `category` for purpose Treatment.
        ///
        /// # Errors
        /// - [`Error::RecordExists`] if `record_id` is taken.
        /// - [`Error::CommitmentExists`] if `commitment` is anchored already.
        /// - [`Error::NotAuthorized`] if the caller may not write this patient's `category`.
        /// - [`Error::ConsentCheckFailed`] if the ConsentRegistry could not be asked.
        #[ink(message)]
        pub fn anchor(
            &mut self,
            patient: AccountId,
            record_id: Hash,
            commitment: Hash,
            category: DataCategory,
        ) -> Result<()> {
            let custodian = self.env().caller();
            if self.records.contains(record_id) {
                return Err(Error::RecordExists);
            }
            if self.anchors.contains(commitment) {
                return Err(Error::CommitmentExists);
            }
            if custodian != patient {
                let provider = self
                    .consent_org(custodian)?
                    .is_some_and(|org| org.active && org.role == Role::Provider);
                let may_write = provider
                    && self.consent_allows(
                        patient,
                        custodian,
                        category,
                        Purpose::Treatment,
                        Access::Write,
                    )?;
                if !may_write {
                    return Err(Error::NotAuthorized);
                }
            }
            self.records.insert(
                record_id,
                &Record {
                    patient,
                    custodian,
                    category,
                    latest_version: 1,
                    latest_commitment: commitment,
                },
            );
            self.insert_anchor(commitment, record_id, 1, patient, custodian, category);
            self.env().emit_event(RecordAnchored {
                patient,
                record_id,
                commitment,
                custodian,
                category,
                version: 1,
            });
            Ok(())
        }

        /// Anchors the next version of `record_id`; the previous one becomes superseded.
        ///
        /// # Errors
        /// [`Error::UnknownRecord`]; [`Error::NotCustodian`] unless the caller anchored the
        /// record; [`Error::CommitmentExists`]; [`Error::Overflow`].
        #[ink(message)]
        pub fn amend(
            &mut self,
            record_id: Hash,
            commitment: Hash,
            reason: AmendReason,
        ) -> Result<()> {
            let mut record = self.records.get(record_id).ok_or(Error::UnknownRecord)?;
            if self.env().caller() != record.custodian {
                return Err(Error::NotCustodian);
            }
            if self.anchors.contains(commitment) {
                return Err(Error::CommitmentExists);
            }
            let version = record
                .latest_version
                .checked_add(1)
                .ok_or(Error::Overflow)?;
            let previous = record.latest_commitment;
            if let Some(mut old) = self.anchors.get(previous) {
                old.superseded_by = Some(commitment);
                self.anchors.insert(previous, &old);
            }
            self.insert_anchor(
                commitment,
                record_id,
                version,
                record.patient,
                record.custodian,
                record.category,
            );
            record.latest_version = version;
            record.latest_commitment = commitment;
            self.records.insert(record_id, &record);
            self.env().emit_event(RecordAmended {
                patient: record.patient,
                record_id,
                commitment,
                previous,
                version,
                reason,
            });
            Ok(())
        }

        /// Anchors the Merkle root of `leaf_count` commitments (see `medledger-proofs`) in one
        /// call: nothing is stored per leaf, so the cost does not grow with the batch.
        ///
        /// # Errors
        /// [`Error::EmptyBatch`]; [`Error::NotActiveOrg`] unless the caller is an active
        /// registered organization; [`Error::BatchExists`]; [`Error::ConsentCheckFailed`].
        #[ink(message)]
        pub fn anchor_batch(&mut self, root: Hash, leaf_count: u32) -> Result<()> {
            if leaf_count == 0 {
                return Err(Error::EmptyBatch);
            }
            let org = self.env().caller();
            if !self.consent_org(org)?.is_some_and(|o| o.active) {
                return Err(Error::NotActiveOrg);
            }
            if self.batches.contains(root) {
                return Err(Error::BatchExists);
            }
            self.batches.insert(
                root,
                &BatchInfo {
                    org,
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

        /// An insurer attests that claim `claim_ref` of `patient` rests on `commitments`.
        /// Returns whether every commitment is anchored for this patient and current (not
        /// superseded). A commitment an earlier claim already used emits
        /// [`DuplicateClaimUse`], the fraud signal, besides the [`ClaimAttested`] event.
        ///
        /// # Errors
        /// [`Error::EmptyClaim`], [`Error::TooManyDocuments`], [`Error::DuplicateDocument`],
        /// [`Error::ClaimExists`]; [`Error::NotInsurer`] unless the caller is an active
        /// insurer; [`Error::NotAuthorized`] unless it holds Read + Payment consent for every
        /// anchored document's category; [`Error::ConsentCheckFailed`].
        #[ink(message)]
        pub fn attest_claim(
            &mut self,
            claim_ref: Hash,
            patient: AccountId,
            commitments: Vec<Hash>,
        ) -> Result<bool> {
            if commitments.is_empty() {
                return Err(Error::EmptyClaim);
            }
            if commitments.len() > MAX_CLAIM_DOCUMENTS {
                return Err(Error::TooManyDocuments);
            }
            for (i, c) in commitments.iter().enumerate() {
                if commitments.iter().take(i).any(|earlier| earlier == c) {
                    return Err(Error::DuplicateDocument);
                }
            }
            if self.claims.contains(claim_ref) {
                return Err(Error::ClaimExists);
            }
            let insurer = self.env().caller();
            if !self
                .consent_org(insurer)?
                .is_some_and(|org| org.active && org.role == Role::Insurer)
            {
                return Err(Error::NotInsurer);
            }
            let mut all_current = true;
            for c in &commitments {
                match self.anchors.get(c) {
                    Some(anchor) if anchor.patient == patient => {
                        if !self.consent_allows(
                            patient,
                            insurer,
                            anchor.category,
                            Purpose::Payment,
                            Access::Read,
                        )? {
                            return Err(Error::NotAuthorized);
                        }
                        all_current &= anchor.superseded_by.is_none();
                    }
                    _ => all_current = false,
                }
            }
            for c in &commitments {
                match self.claim_uses.get(c) {
                    Some(first_claim_ref) => self.env().emit_event(DuplicateClaimUse {
                        patient,
                        commitment: *c,
                        claim_ref,
                        first_claim_ref,
                    }),
                    None => self.claim_uses.insert(c, &claim_ref).map_or((), |_| ()),
                }
            }
            let documents = u32::try_from(commitments.len()).map_err(|_| Error::Overflow)?;
            self.claims.insert(
                claim_ref,
                &ClaimInfo {
                    insurer,
                    patient,
                    documents,
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

        /// Where and when `commitment` was anchored, or `None` if it never was.
        #[ink(message)]
        pub fn verify(&self, commitment: Hash) -> Option<AnchorInfo> {
            self.anchors.get(commitment)
        }

        /// Where and when a batch `root` was anchored, or `None`.
        #[ink(message)]
        pub fn verify_batch(&self, root: Hash) -> Option<BatchInfo> {
            self.batches.get(root)
        }

        /// The latest state of record `record_id`, if it exists.
        #[ink(message)]
        pub fn record(&self, record_id: Hash) -> Option<Record> {
            self.records.get(record_id)
        }

        /// The attested claim `claim_ref`, if any.
        #[ink(message)]
        pub fn claim(&self, claim_ref: Hash) -> Option<ClaimInfo> {
            self.claims.get(claim_ref)
        }

        /// The ConsentRegistry this registry asks.
        #[ink(message)]
        pub fn consent_registry(&self) -> AccountId {
            self.consent_registry
        }

        fn insert_anchor(
            &mut self,
            commitment: Hash,
            record_id: Hash,
            version: u32,
            patient: AccountId,
            custodian: AccountId,
            category: DataCategory,
        ) {
            self.anchors.insert(
                commitment,
                &AnchorInfo {
                    record_id,
                    version,
                    patient,
                    custodian,
                    category,
                    anchored_at: self.env().block_timestamp(),
                    block_number: self.env().block_number(),
                    superseded_by: None,
                },
            );
        }

        /// The ConsentRegistry's organization entry for `account`.
        #[cfg(not(test))]
        fn consent_org(&self, account: AccountId) -> Result<Option<Org>> {
            let registry: ConsentRegistryRef =
                ink::env::call::FromAccountId::from_account_id(self.consent_registry);
            match registry.call().org(account).try_invoke() {
                Ok(Ok(org)) => Ok(org),
                _ => Err(Error::ConsentCheckFailed),
            }
        }

        /// The ConsentRegistry's rule for this access.
        #[cfg(not(test))]
        fn consent_allows(
            &self,
            patient: AccountId,
            grantee: AccountId,
            category: DataCategory,
            purpose: Purpose,
            access: Access,
        ) -> Result<bool> {
            let registry: ConsentRegistryRef =
                ink::env::call::FromAccountId::from_account_id(self.consent_registry);
            match registry
                .call()
                .is_authorized(patient, grantee, category, purpose, access)
                .try_invoke()
            {
                Ok(Ok(allowed)) => Ok(allowed),
                _ => Err(Error::ConsentCheckFailed),
            }
        }

        // Unit tests cannot make cross-contract calls (ink!'s off-chain environment has none):
        // they script the ConsentRegistry's answers instead. The e2e tests use the real one.
        #[cfg(test)]
        fn consent_org(&self, account: AccountId) -> Result<Option<Org>> {
            scripted_consent::org(account)
        }

        #[cfg(test)]
        fn consent_allows(
            &self,
            patient: AccountId,
            grantee: AccountId,
            category: DataCategory,
            purpose: Purpose,
            access: Access,
        ) -> Result<bool> {
            scripted_consent::allows(patient, grantee, category, purpose, access)
        }
    }

    /// The ConsentRegistry's answers, as unit tests script them.
    #[cfg(test)]
    pub(crate) mod scripted_consent {
        use super::*;
        use std::cell::RefCell;

        type Grant = (AccountId, AccountId, DataCategory, Purpose, Access);

        std::thread_local! {
            static ORGS: RefCell<Vec<(AccountId, Org)>> = const { RefCell::new(Vec::new()) };
            static GRANTS: RefCell<Vec<Grant>> = const { RefCell::new(Vec::new()) };
            static DOWN: RefCell<bool> = const { RefCell::new(false) };
        }

        pub fn register(account: AccountId, role: Role, active: bool) {
            let org = Org {
                role,
                flags: 0,
                active,
            };
            ORGS.with(|o| o.borrow_mut().push((account, org)));
        }

        pub fn grant(
            patient: AccountId,
            grantee: AccountId,
            category: DataCategory,
            purpose: Purpose,
            access: Access,
        ) {
            GRANTS.with(|g| {
                g.borrow_mut()
                    .push((patient, grantee, category, purpose, access))
            });
        }

        pub fn go_down() {
            DOWN.with(|d| *d.borrow_mut() = true);
        }

        pub fn org(account: AccountId) -> Result<Option<Org>> {
            if DOWN.with(|d| *d.borrow()) {
                return Err(Error::ConsentCheckFailed);
            }
            Ok(ORGS.with(|o| {
                o.borrow()
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == account)
                    .map(|(_, org)| org.clone())
            }))
        }

        pub fn allows(
            patient: AccountId,
            grantee: AccountId,
            category: DataCategory,
            purpose: Purpose,
            access: Access,
        ) -> Result<bool> {
            if DOWN.with(|d| *d.borrow()) {
                return Err(Error::ConsentCheckFailed);
            }
            let active = org(grantee)?.is_some_and(|o| o.active);
            Ok(active
                && GRANTS.with(|g| {
                    g.borrow()
                        .contains(&(patient, grantee, category, purpose, access))
                }))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use ink::env::test::{default_accounts, recorded_events, set_block_timestamp, set_caller};
        use ink::env::DefaultEnvironment;
        use ink::scale::Decode;

        type Env = DefaultEnvironment;

        fn registry() -> RecordRegistry {
            let a = default_accounts::<Env>();
            set_caller::<Env>(a.alice);
            RecordRegistry::new(a.frank)
        }

        #[ink::test]
        fn a_patient_anchors_their_own_record_and_anyone_can_verify_it() {
            // given
            let mut registry = registry();
            let a = default_accounts::<Env>();
            set_caller::<Env>(a.charlie);
            set_block_timestamp::<Env>(42_000);
            let (record_id, commitment) = (Hash::from([1; 32]), Hash::from([2; 32]));
            // when
            registry
                .anchor(a.charlie, record_id, commitment, DataCategory::Imaging)
                .expect("own upload");
            // then
            let event = recorded_events().last().expect("one event");
            let anchored = RecordAnchored::decode(&mut &event.data[..]).expect("decodes");
            assert_eq!(anchored.patient, a.charlie);
            assert_eq!(anchored.commitment, commitment);
            assert_eq!(anchored.version, 1);
            set_caller::<Env>(a.eve);
            let info = registry.verify(commitment).expect("anchored");
            assert_eq!(info.record_id, record_id);
            assert_eq!(info.custodian, a.charlie);
            assert_eq!(info.anchored_at, 42_000);
            assert_eq!(info.superseded_by, None);
            assert_eq!(registry.verify(Hash::from([3; 32])), None);
            assert_eq!(
                registry.record(record_id).map(|r| r.latest_commitment),
                Some(commitment)
            );
        }

        #[ink::test]
        fn record_ids_and_commitments_are_anchored_once() {
            let mut registry = registry();
            let a = default_accounts::<Env>();
            set_caller::<Env>(a.charlie);
            let c = DataCategory::LabResults;
            registry
                .anchor(a.charlie, Hash::from([1; 32]), Hash::from([2; 32]), c)
                .expect("first anchor");
            assert_eq!(
                registry.anchor(a.charlie, Hash::from([1; 32]), Hash::from([5; 32]), c),
                Err(Error::RecordExists)
            );
            assert_eq!(
                registry.anchor(a.charlie, Hash::from([6; 32]), Hash::from([2; 32]), c),
                Err(Error::CommitmentExists)
            );
        }
    }

    #[cfg(test)]
    mod rules {
        use super::scripted_consent as consent;
        use super::*;
        use ink::env::test::{recorded_events, set_block_timestamp, set_callee, set_caller};
        use ink::env::DefaultEnvironment;
        use ink::scale::Decode;

        type Env = DefaultEnvironment;

        /// The cast: one account per kind of caller.
        const ACTORS: [(&str, u8); 8] = [
            ("patient", 1),
            ("provider", 2),
            ("insurer", 3),
            ("researcher", 4),
            ("suspended provider", 5),
            ("suspended insurer", 6),
            ("provider without consent", 7),
            ("stranger", 8),
        ];

        fn id(name: &str) -> AccountId {
            let byte = ACTORS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, b)| *b)
                .unwrap_or(0);
            AccountId::from([byte; 32])
        }

        const LABS: DataCategory = DataCategory::LabResults;
        const RECORD: [u8; 32] = [0xa1; 32];
        const FIRST: [u8; 32] = [0xc1; 32];

        /// Everyone registered as named; the patient consents to the provider writing labs and
        /// to the insurers reading them for payment; the provider anchored RECORD as FIRST.
        fn world() -> RecordRegistry {
            std::thread_local!(static WORLDS: core::cell::Cell<u32> = const { core::cell::Cell::new(0) });
            let n = WORLDS.with(|w| {
                w.set(w.get() + 1);
                w.get()
            });
            let mut contract = [0xee; 32];
            contract[..4].copy_from_slice(&n.to_le_bytes());
            set_callee::<Env>(AccountId::from(contract));
            for (name, role, active) in [
                ("provider", Role::Provider, true),
                ("provider without consent", Role::Provider, true),
                ("insurer", Role::Insurer, true),
                ("researcher", Role::Researcher, true),
                ("suspended provider", Role::Provider, false),
                ("suspended insurer", Role::Insurer, false),
            ] {
                consent::register(id(name), role, active);
            }
            let p = id("patient");
            for writer in ["provider", "suspended provider", "insurer"] {
                consent::grant(p, id(writer), LABS, Purpose::Treatment, Access::Write);
            }
            for payer in ["insurer", "suspended insurer", "provider"] {
                consent::grant(p, id(payer), LABS, Purpose::Payment, Access::Read);
            }
            set_block_timestamp::<Env>(7_000);
            set_caller::<Env>(id("provider"));
            let mut r = RecordRegistry::new(AccountId::from([0xcc; 32]));
            r.anchor(p, Hash::from(RECORD), Hash::from(FIRST), LABS)
                .expect("provider anchors");
            r
        }

        fn who_succeeds(call: impl Fn(&mut RecordRegistry) -> bool) -> Vec<&'static str> {
            let mut ok = Vec::new();
            for (name, byte) in ACTORS {
                let mut r = world();
                set_caller::<Env>(AccountId::from([byte; 32]));
                if call(&mut r) {
                    ok.push(name);
                }
            }
            ok
        }

        fn last_event<E: Decode>() -> E {
            let event = recorded_events().last().expect("an event");
            E::decode(&mut &event.data[..]).expect("decodes as the shared type")
        }

        #[ink::test]
        fn who_may_anchor_amend_batch_and_attest() {
            let p = id("patient");
            assert_eq!(
                who_succeeds(|r| r
                    .anchor(p, Hash::from([2; 32]), Hash::from([3; 32]), LABS)
                    .is_ok()),
                ["patient", "provider"],
                "the patient, or an active provider with write consent"
            );
            assert_eq!(
                who_succeeds(|r| r
                    .amend(
                        Hash::from(RECORD),
                        Hash::from([4; 32]),
                        AmendReason::Correction
                    )
                    .is_ok()),
                ["provider"],
                "only the custodian"
            );
            assert_eq!(
                who_succeeds(|r| r.anchor_batch(Hash::from([5; 32]), 100).is_ok()),
                [
                    "provider",
                    "insurer",
                    "researcher",
                    "provider without consent"
                ],
                "any active organization"
            );
            assert_eq!(
                who_succeeds(|r| r
                    .attest_claim(
                        Hash::from([6; 32]),
                        p,
                        ink::prelude::vec![Hash::from(FIRST)]
                    )
                    .is_ok()),
                ["insurer"],
                "only an active insurer with read + payment consent"
            );
        }

        #[ink::test]
        fn an_amendment_supersedes_the_previous_version() {
            let mut r = world();
            let second = Hash::from([0xc2; 32]);
            r.amend(Hash::from(RECORD), second, AmendReason::Addendum)
                .expect("amend");
            let amended: RecordAmended = last_event();
            assert_eq!((amended.version, amended.previous), (2, Hash::from(FIRST)));
            assert_eq!(
                r.verify(Hash::from(FIRST)).and_then(|a| a.superseded_by),
                Some(second)
            );
            let new = r.verify(second).expect("anchored");
            assert_eq!(
                (new.version, new.superseded_by, new.custodian),
                (2, None, id("provider"))
            );
            assert_eq!(
                r.record(Hash::from(RECORD)).map(|x| x.latest_version),
                Some(2)
            );
            assert_eq!(
                r.amend(Hash::from(RECORD), second, AmendReason::Other),
                Err(Error::CommitmentExists)
            );
            assert_eq!(
                r.amend(Hash::from([9; 32]), Hash::from([8; 32]), AmendReason::Other),
                Err(Error::UnknownRecord)
            );
        }

        #[ink::test]
        fn a_batch_is_one_event_and_one_entry_whatever_its_size() {
            let mut r = world();
            let root = Hash::from([0xbb; 32]);
            let before = recorded_events().count();
            r.anchor_batch(root, 10_000).expect("batch");
            assert_eq!(recorded_events().count(), before + 1);
            let anchored: BatchAnchored = last_event();
            assert_eq!(
                (anchored.org, anchored.leaf_count),
                (id("provider"), 10_000)
            );
            assert_eq!(
                r.verify_batch(root).map(|b| (b.leaf_count, b.anchored_at)),
                Some((10_000, 7_000))
            );
            assert_eq!(r.anchor_batch(root, 1), Err(Error::BatchExists));
            assert_eq!(
                r.anchor_batch(Hash::from([1; 32]), 0),
                Err(Error::EmptyBatch)
            );
        }

        #[ink::test]
        fn a_claim_on_current_anchors_is_current_and_a_reused_document_is_flagged() {
            let mut r = world();
            let p = id("patient");
            set_caller::<Env>(id("insurer"));
            let claim1 = Hash::from([0x01; 32]);
            assert_eq!(
                r.attest_claim(claim1, p, ink::prelude::vec![Hash::from(FIRST)]),
                Ok(true)
            );
            let attested: ClaimAttested = last_event();
            assert_eq!((attested.documents, attested.all_current), (1, true));
            // the same document in a second claim
            let claim2 = Hash::from([0x02; 32]);
            assert_eq!(
                r.attest_claim(claim2, p, ink::prelude::vec![Hash::from(FIRST)]),
                Ok(true)
            );
            let events: Vec<_> = recorded_events().collect();
            let duplicate = events
                .iter()
                .find_map(|e| {
                    DuplicateClaimUse::decode(&mut &e.data[..])
                        .ok()
                        .filter(|d| d.claim_ref == claim2)
                })
                .expect("a DuplicateClaimUse event");
            assert_eq!(
                (duplicate.commitment, duplicate.first_claim_ref),
                (Hash::from(FIRST), claim1)
            );
            assert_eq!(r.claim(claim2).map(|c| c.insurer), Some(id("insurer")));
            assert_eq!(
                r.attest_claim(claim2, p, ink::prelude::vec![Hash::from(FIRST)]),
                Err(Error::ClaimExists)
            );
        }

        #[ink::test]
        fn a_claim_on_superseded_or_unknown_documents_is_not_current() {
            let mut r = world();
            let p = id("patient");
            r.amend(
                Hash::from(RECORD),
                Hash::from([0xc2; 32]),
                AmendReason::Correction,
            )
            .expect("amend");
            set_caller::<Env>(id("insurer"));
            assert_eq!(
                r.attest_claim(
                    Hash::from([1; 32]),
                    p,
                    ink::prelude::vec![Hash::from(FIRST)]
                ),
                Ok(false)
            );
            let unknown = ink::prelude::vec![Hash::from([0xc2; 32]), Hash::from([0xdd; 32])];
            assert_eq!(r.attest_claim(Hash::from([2; 32]), p, unknown), Ok(false));
            // anchored for another patient: not this patient's document
            assert_eq!(
                r.attest_claim(
                    Hash::from([3; 32]),
                    id("stranger"),
                    ink::prelude::vec![Hash::from([0xc2; 32])]
                ),
                Ok(false)
            );
        }

        #[ink::test]
        fn claims_are_bounded_and_refuse_repeats() {
            let mut r = world();
            let p = id("patient");
            set_caller::<Env>(id("insurer"));
            assert_eq!(
                r.attest_claim(Hash::from([1; 32]), p, Vec::new()),
                Err(Error::EmptyClaim)
            );
            let too_many = (0..=MAX_CLAIM_DOCUMENTS as u8)
                .map(|i| Hash::from([i; 32]))
                .collect();
            assert_eq!(
                r.attest_claim(Hash::from([1; 32]), p, too_many),
                Err(Error::TooManyDocuments)
            );
            let twice = ink::prelude::vec![Hash::from(FIRST), Hash::from(FIRST)];
            assert_eq!(
                r.attest_claim(Hash::from([1; 32]), p, twice),
                Err(Error::DuplicateDocument)
            );
        }

        // ---- the audit's holes: each test states the promise and fails on this code ----

        #[ink::test]
        fn hole1_copying_a_pending_anchor_does_not_block_the_honest_call() {
            let mut r = world();
            let p = id("patient");
            let (record, commitment) = (Hash::from([0x51; 32]), Hash::from([0x52; 32]));
            // the stranger copies the provider's pending call, as their own upload
            set_caller::<Env>(id("stranger"));
            let _ = r.anchor(id("stranger"), record, commitment, LABS);
            set_caller::<Env>(id("provider"));
            assert_eq!(
                r.anchor(p, record, commitment, LABS),
                Ok(()),
                "the honest anchor is blocked by a copy"
            );
            let info = r.verify(commitment).expect("anchored");
            assert_eq!((info.patient, info.custodian), (p, id("provider")));
        }

        #[ink::test]
        fn hole2_a_suspended_provider_cannot_amend() {
            let mut r = world();
            consent::register(id("provider"), Role::Provider, false);
            set_caller::<Env>(id("provider"));
            assert!(
                r.amend(Hash::from(RECORD), Hash::from([0x53; 32]), AmendReason::Other)
                    .is_err(),
                "a suspended provider supersedes the version insurers rely on"
            );
        }

        #[ink::test]
        fn hole5_a_claim_on_documents_not_anchored_to_the_patient_is_refused() {
            let mut r = world();
            set_caller::<Env>(id("insurer"));
            let unknown = ink::prelude::vec![Hash::from([0x54; 32])];
            assert!(
                r.attest_claim(Hash::from([0x55; 32]), id("stranger"), unknown)
                    .is_err(),
                "an insurer without consent attests for any patient"
            );
        }

        #[ink::test]
        fn hole5_nobody_can_pre_poison_another_patients_document() {
            let mut r = world();
            // an insurer attests a claim of another patient naming the patient's document
            set_caller::<Env>(id("insurer"));
            let _ = r.attest_claim(
                Hash::from([0x56; 32]),
                id("stranger"),
                ink::prelude::vec![Hash::from(FIRST)],
            );
            // then the patient's honest first claim on it
            let before = recorded_events().count();
            r.attest_claim(
                Hash::from([0x57; 32]),
                id("patient"),
                ink::prelude::vec![Hash::from(FIRST)],
            )
            .expect("honest claim");
            let duplicates = recorded_events()
                .skip(before)
                .filter(|e| DuplicateClaimUse::decode(&mut &e.data[..]).is_ok())
                .count();
            assert_eq!(duplicates, 0, "a false fraud signal on an honest claim");
        }

        #[ink::test]
        fn hole5_claim_references_are_per_insurer() {
            let mut r = world();
            consent::register(id("researcher"), Role::Insurer, true);
            consent::grant(
                id("patient"),
                id("researcher"),
                LABS,
                Purpose::Payment,
                Access::Read,
            );
            let claim = Hash::from([0x58; 32]);
            set_caller::<Env>(id("researcher"));
            let _ = r.attest_claim(claim, id("patient"), ink::prelude::vec![Hash::from(FIRST)]);
            set_caller::<Env>(id("insurer"));
            assert_eq!(
                r.attest_claim(claim, id("patient"), ink::prelude::vec![Hash::from(FIRST)]),
                Ok(true),
                "another insurer squats the claim reference"
            );
        }

        #[ink::test]
        fn hole7_the_anchor_event_does_not_reveal_the_category() {
            let p = id("patient");
            let (record, commitment) = (Hash::from([0x59; 32]), Hash::from([0x5a; 32]));
            let mut emitted = Vec::new();
            for category in [DataCategory::LabResults, DataCategory::SubstanceUse] {
                let mut r = world();
                set_caller::<Env>(p);
                r.anchor(p, record, commitment, category).expect("own upload");
                emitted.push(recorded_events().last().expect("event").data);
            }
            assert_eq!(
                emitted[0], emitted[1],
                "the public event tells a SubstanceUse record from a LabResults one"
            );
        }

        #[ink::test]
        fn an_unreachable_consent_registry_fails_the_call() {
            let mut r = world();
            consent::go_down();
            set_caller::<Env>(id("provider"));
            assert_eq!(
                r.anchor(
                    id("patient"),
                    Hash::from([2; 32]),
                    Hash::from([3; 32]),
                    LABS
                ),
                Err(Error::ConsentCheckFailed)
            );
            set_caller::<Env>(id("patient"));
            r.anchor(
                id("patient"),
                Hash::from([2; 32]),
                Hash::from([3; 32]),
                LABS,
            )
            .expect("the patient's own upload needs no consent check");
        }
    }

    #[cfg(all(test, feature = "e2e-tests"))]
    mod e2e_tests {
        use super::*;
        use ink::env::Event;
        use ink::scale::Decode;
        use ink_e2e::ContractsBackend;
        use medledger_consent::consent_registry::{ConsentRegistry, ConsentRegistryRef};
        use medledger_events::Role;

        type E2EResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;

        #[ink_e2e::test]
        async fn a_provider_anchors_only_with_write_consent<Client: E2EBackend>(
            mut client: Client,
        ) -> E2EResult<()> {
            // given: both contracts, bob a registered provider
            let mut consent_ctor = ConsentRegistryRef::new();
            let consent = client
                .instantiate("medledger-consent", &ink_e2e::alice(), &mut consent_ctor)
                .submit()
                .await
                .expect("instantiate consent");
            let mut consent_calls = consent.call_builder::<ConsentRegistry>();
            let mut records_ctor = RecordRegistryRef::new(consent.account_id);
            let records = client
                .instantiate("medledger-records", &ink_e2e::alice(), &mut records_ctor)
                .submit()
                .await
                .expect("instantiate records");
            let mut record_calls = records.call_builder::<RecordRegistry>();
            let bob = ink_e2e::account_id(ink_e2e::AccountKeyring::Bob);
            let charlie = ink_e2e::account_id(ink_e2e::AccountKeyring::Charlie);
            client
                .call(
                    &ink_e2e::alice(),
                    &consent_calls.register_org(bob, Role::Provider, 0),
                )
                .submit()
                .await
                .expect("register bob");
            let anchor = record_calls.anchor(
                charlie,
                Hash::from([1; 32]),
                Hash::from([2; 32]),
                DataCategory::LabResults,
            );

            // when: bob anchors without consent, then it is refused
            let refused = client.call(&ink_e2e::bob(), &anchor).dry_run().await?;
            assert_eq!(refused.return_value(), Err(Error::NotAuthorized));

            // when: charlie grants bob write access to lab results
            client
                .call(
                    &ink_e2e::charlie(),
                    &consent_calls.grant(
                        bob,
                        DataCategory::LabResults.bit(),
                        Purpose::Treatment.bit(),
                        Access::Write.bit(),
                        0,
                        None,
                        Hash::from([0; 32]),
                    ),
                )
                .submit()
                .await
                .expect("grant");
            let result = client
                .call(&ink_e2e::bob(), &anchor)
                .submit()
                .await
                .expect("anchor with consent");

            // then: the event decodes with the shared type and verify finds the anchor
            let emitted = result.contract_emitted_events()?;
            let event = emitted
                .iter()
                .find(|e| e.topics.first().map(|t| t.0) == RecordAnchored::SIGNATURE_TOPIC)
                .expect("RecordAnchored emitted");
            let anchored = RecordAnchored::decode(&mut &event.event.data[..])?;
            assert_eq!(anchored.custodian, bob);
            assert_eq!(anchored.patient, charlie);
            let verify = record_calls.verify(Hash::from([2; 32]));
            let info = client
                .call(&ink_e2e::eve(), &verify)
                .dry_run()
                .await?
                .return_value()
                .expect("anchored");
            assert_eq!(info.record_id, Hash::from([1; 32]));
            assert_eq!(info.custodian, bob);
            Ok(())
        }

        #[ink_e2e::test]
        async fn amendments_batches_and_claims_on_a_node<Client: E2EBackend>(
            mut client: Client,
        ) -> E2EResult<()> {
            // given: both contracts; bob a provider with write consent, charlie an insurer
            // with payment consent, both from patient dave
            let mut consent_ctor = ConsentRegistryRef::new();
            let consent = client
                .instantiate("medledger-consent", &ink_e2e::alice(), &mut consent_ctor)
                .submit()
                .await
                .expect("instantiate consent");
            let mut c = consent.call_builder::<ConsentRegistry>();
            let mut records_ctor = RecordRegistryRef::new(consent.account_id);
            let records = client
                .instantiate("medledger-records", &ink_e2e::alice(), &mut records_ctor)
                .submit()
                .await
                .expect("instantiate records");
            let mut r = records.call_builder::<RecordRegistry>();
            let id = ink_e2e::account_id;
            use ink_e2e::AccountKeyring::{Bob, Charlie, Dave};
            let (bob, charlie, dave) = (id(Bob), id(Charlie), id(Dave));
            client
                .call(&ink_e2e::alice(), &c.register_org(bob, Role::Provider, 0))
                .submit()
                .await?;
            client
                .call(
                    &ink_e2e::alice(),
                    &c.register_org(charlie, Role::Insurer, 0),
                )
                .submit()
                .await?;
            let labs = DataCategory::LabResults;
            client
                .call(
                    &ink_e2e::dave(),
                    &c.grant(
                        bob,
                        labs.bit(),
                        Purpose::Treatment.bit(),
                        Access::Write.bit(),
                        0,
                        None,
                        Hash::default(),
                    ),
                )
                .submit()
                .await?;
            let (record, v1, v2) = (
                Hash::from([1; 32]),
                Hash::from([2; 32]),
                Hash::from([3; 32]),
            );
            client
                .call(&ink_e2e::bob(), &r.anchor(dave, record, v1, labs))
                .submit()
                .await?;

            // amend: version 2 supersedes version 1
            let out = client
                .call(
                    &ink_e2e::bob(),
                    &r.amend(record, v2, AmendReason::Correction),
                )
                .submit()
                .await?;
            let emitted = out.contract_emitted_events()?;
            let amended = RecordAmended::decode(&mut &emitted[0].event.data[..])?;
            assert_eq!((amended.version, amended.previous), (2, v1));
            let old = client
                .call(&ink_e2e::eve(), &r.verify(v1))
                .dry_run()
                .await?
                .return_value();
            assert_eq!(old.and_then(|a| a.superseded_by), Some(v2));
            let refused = client
                .call(
                    &ink_e2e::dave(),
                    &r.amend(record, Hash::from([9; 32]), AmendReason::Other),
                )
                .dry_run()
                .await?;
            assert_eq!(refused.return_value(), Err(Error::NotCustodian));

            // batch: any active organization, one event
            let out = client
                .call(
                    &ink_e2e::bob(),
                    &r.anchor_batch(Hash::from([7; 32]), 10_000),
                )
                .submit()
                .await?;
            let emitted = out.contract_emitted_events()?;
            let batch = BatchAnchored::decode(&mut &emitted[0].event.data[..])?;
            assert_eq!((batch.org, batch.leaf_count), (bob, 10_000));
            let refused = client
                .call(&ink_e2e::dave(), &r.anchor_batch(Hash::from([8; 32]), 1))
                .dry_run()
                .await?;
            assert_eq!(refused.return_value(), Err(Error::NotActiveOrg));

            // claims: refused without payment consent, then attested; a reuse is flagged
            let claim = r.attest_claim(Hash::from([5; 32]), dave, ink::prelude::vec![v2]);
            let refused = client.call(&ink_e2e::charlie(), &claim).dry_run().await?;
            assert_eq!(refused.return_value(), Err(Error::NotAuthorized));
            client
                .call(
                    &ink_e2e::dave(),
                    &c.grant(
                        charlie,
                        labs.bit(),
                        Purpose::Payment.bit(),
                        Access::Read.bit(),
                        0,
                        None,
                        Hash::default(),
                    ),
                )
                .submit()
                .await?;
            let out = client.call(&ink_e2e::charlie(), &claim).submit().await?;
            assert_eq!(out.return_value(), Ok(true));
            let again = r.attest_claim(Hash::from([6; 32]), dave, ink::prelude::vec![v2]);
            let out = client.call(&ink_e2e::charlie(), &again).submit().await?;
            let duplicate = out
                .contract_emitted_events()?
                .iter()
                .find(|e| e.topics.first().map(|t| t.0) == DuplicateClaimUse::SIGNATURE_TOPIC)
                .map(|e| DuplicateClaimUse::decode(&mut &e.event.data[..]))
                .expect("a DuplicateClaimUse event")?;
            assert_eq!(
                (duplicate.commitment, duplicate.first_claim_ref),
                (v2, Hash::from([5; 32]))
            );
            let refused = client
                .call(
                    &ink_e2e::bob(),
                    &r.attest_claim(Hash::from([7; 32]), dave, ink::prelude::vec![v2]),
                )
                .dry_run()
                .await?;
            assert_eq!(refused.return_value(), Err(Error::NotInsurer));
            Ok(())
        }
    }
}
