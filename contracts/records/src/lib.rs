//! RecordRegistry: salted commitments of medical records, anchored on chain.
//!
//! A custodian (a provider holding Write consent for the record's category, or the patient for
//! their own uploads) anchors the commitment of a record version; anyone can then
//! [`RecordRegistry::verify`] that a document is exactly the one anchored. Only commitments go
//! on chain, never documents: a commitment is a salted hash (see `medledger-proofs`) that reveals
//! nothing about the record. Consent is checked by a call to the ConsentRegistry.
#![cfg_attr(not(feature = "std"), no_std, no_main)]

#[ink::contract]
pub mod record_registry {
    use ink::codegen::TraitCallBuilder;
    use ink::storage::Mapping;
    use medledger_consent::consent_registry::ConsentRegistryRef;
    use medledger_events::{Access, AnchorInfo, DataCategory, Purpose, RecordAnchored};

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

    #[ink(storage)]
    pub struct RecordRegistry {
        consent_registry: AccountId,
        records: Mapping<Hash, Record>,
        anchors: Mapping<Hash, AnchorInfo>,
    }

    /// Why a RecordRegistry message was refused.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub enum Error {
        /// The caller is neither the patient nor a grantee with Write consent for the category.
        NotAuthorized,
        /// A record with this id exists already.
        RecordExists,
        /// This commitment is anchored already.
        CommitmentExists,
        /// The call to the ConsentRegistry failed.
        ConsentCheckFailed,
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
            }
        }

        /// Anchors version 1 of record `record_id` of `patient`, with `commitment`.
        ///
        /// The caller must be the patient, or hold a consent of the patient granting Write
        /// access to `category` for purpose Treatment.
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
            if custodian != patient && !self.may_write(patient, custodian, category)? {
                return Err(Error::NotAuthorized);
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
            self.anchors.insert(
                commitment,
                &AnchorInfo {
                    record_id,
                    version: 1,
                    patient,
                    custodian,
                    category,
                    anchored_at: self.env().block_timestamp(),
                    block_number: self.env().block_number(),
                    superseded_by: None,
                },
            );
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

        /// Where and when `commitment` was anchored, or `None` if it never was.
        #[ink(message)]
        pub fn verify(&self, commitment: Hash) -> Option<AnchorInfo> {
            self.anchors.get(commitment)
        }

        /// The latest state of record `record_id`, if it exists.
        #[ink(message)]
        pub fn record(&self, record_id: Hash) -> Option<Record> {
            self.records.get(record_id)
        }

        /// The ConsentRegistry this registry asks.
        #[ink(message)]
        pub fn consent_registry(&self) -> AccountId {
            self.consent_registry
        }

        fn may_write(
            &self,
            patient: AccountId,
            custodian: AccountId,
            category: DataCategory,
        ) -> Result<bool> {
            let registry: ConsentRegistryRef =
                ink::env::call::FromAccountId::from_account_id(self.consent_registry);
            match registry
                .call()
                .is_authorized(
                    patient,
                    custodian,
                    category,
                    Purpose::Treatment,
                    Access::Write,
                )
                .try_invoke()
            {
                Ok(Ok(allowed)) => Ok(allowed),
                _ => Err(Error::ConsentCheckFailed),
            }
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
    }
}
