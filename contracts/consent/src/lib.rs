//! ConsentRegistry: the patients' consents and the registered organizations they grant to.
//!
//! A registrar (a health authority's account) registers organizations with a [`Role`]. A patient
//! grants one consent per grantee, naming data categories, purposes, access and a validity
//! window, and may revoke it at any time. [`ConsentRegistry::is_authorized`] is the one rule
//! everybody (the RecordRegistry, insurers, the indexer's users) relies on.
//!
//! The contract stores no health data: only bit sets, timestamps and a hash of the off-chain
//! consent document. It never iterates over user-sized collections.
#![cfg_attr(not(feature = "std"), no_std, no_main)]

#[ink::contract]
pub mod consent_registry {
    use ink::storage::Mapping;
    use medledger_events::{
        Access, AccessSet, CategorySet, ConsentGranted, ConsentRevoked, DataCategory,
        OrgRegistered, Purpose, PurposeSet, Role, ALL_ACCESS, ALL_CATEGORIES, ALL_PURPOSES,
        KNOWN_FLAGS,
    };

    /// A registered organization.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct Org {
        pub role: Role,
        pub flags: u32,
        pub active: bool,
    }

    /// The consent of one (patient, grantee) pair.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct Consent {
        pub categories: CategorySet,
        pub purposes: PurposeSet,
        pub access: AccessSet,
        pub valid_from: Timestamp,
        pub expires_at: Option<Timestamp>,
        pub terms_hash: Hash,
        pub version: u32,
        pub revoked: bool,
    }

    #[ink(storage)]
    pub struct ConsentRegistry {
        registrar: AccountId,
        orgs: Mapping<AccountId, Org>,
        consents: Mapping<(AccountId, AccountId), Consent>,
    }

    /// Why a ConsentRegistry message was refused.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub enum Error {
        /// Only the registrar may do this.
        NotRegistrar,
        /// The account is already a registered organization.
        AlreadyRegistered,
        /// The flags contain bits that mean nothing.
        UnknownFlags,
        /// Consents can only be granted to registered organizations.
        GranteeNotRegistered,
        /// A patient cannot grant a consent to themself.
        SelfGrant,
        /// The category set is empty or names no known category.
        InvalidCategories,
        /// The purpose set is empty or names no known purpose.
        InvalidPurposes,
        /// The access set is empty or names no known access.
        InvalidAccess,
        /// `expires_at` is not after `valid_from`.
        InvalidValidity,
        /// There is no active consent to revoke for this pair.
        NoActiveConsent,
        /// A counter would overflow.
        Overflow,
    }

    pub type Result<T> = core::result::Result<T, Error>;

    impl ConsentRegistry {
        /// Creates the registry with the caller as its registrar.
        #[ink(constructor)]
        pub fn new() -> Self {
            Self {
                registrar: Self::env().caller(),
                orgs: Mapping::default(),
                consents: Mapping::default(),
            }
        }

        /// Registers `account` as an organization with `role` and `flags`.
        ///
        /// # Errors
        /// - [`Error::NotRegistrar`] unless the caller is the registrar.
        /// - [`Error::UnknownFlags`] if `flags` has bits beyond the known flags.
        /// - [`Error::AlreadyRegistered`] if `account` is registered already.
        #[ink(message)]
        pub fn register_org(&mut self, account: AccountId, role: Role, flags: u32) -> Result<()> {
            self.ensure_registrar()?;
            if flags & !KNOWN_FLAGS != 0 {
                return Err(Error::UnknownFlags);
            }
            if self.orgs.contains(account) {
                return Err(Error::AlreadyRegistered);
            }
            self.orgs.insert(
                account,
                &Org {
                    role,
                    flags,
                    active: true,
                },
            );
            self.env().emit_event(OrgRegistered {
                org: account,
                role,
                flags,
            });
            Ok(())
        }

        /// Grants `grantee` a consent, or replaces the caller's existing consent to it.
        ///
        /// `categories`, `purposes` and `access` are bit sets (see `medledger-events`);
        /// the consent is valid from `valid_from` until `expires_at` (exclusive; `None` for no
        /// end), in milliseconds of block time. `terms_hash` commits to the off-chain consent
        /// document.
        ///
        /// # Errors
        /// - [`Error::SelfGrant`] if the caller grants to themself.
        /// - [`Error::GranteeNotRegistered`] if `grantee` is not a registered organization.
        /// - [`Error::InvalidCategories`], [`Error::InvalidPurposes`], [`Error::InvalidAccess`]
        ///   for an empty set or unknown bits.
        /// - [`Error::InvalidValidity`] if `expires_at` is not after `valid_from`.
        #[ink(message)]
        #[allow(clippy::too_many_arguments)]
        pub fn grant(
            &mut self,
            grantee: AccountId,
            categories: CategorySet,
            purposes: PurposeSet,
            access: AccessSet,
            valid_from: Timestamp,
            expires_at: Option<Timestamp>,
            terms_hash: Hash,
        ) -> Result<()> {
            let patient = self.env().caller();
            if patient == grantee {
                return Err(Error::SelfGrant);
            }
            if !self.orgs.contains(grantee) {
                return Err(Error::GranteeNotRegistered);
            }
            if categories == 0 || categories & !ALL_CATEGORIES != 0 {
                return Err(Error::InvalidCategories);
            }
            if purposes == 0 || purposes & !ALL_PURPOSES != 0 {
                return Err(Error::InvalidPurposes);
            }
            if access == 0 || access & !ALL_ACCESS != 0 {
                return Err(Error::InvalidAccess);
            }
            if expires_at.is_some_and(|end| end <= valid_from) {
                return Err(Error::InvalidValidity);
            }
            let version = match self.consents.get((patient, grantee)) {
                Some(previous) => previous.version.checked_add(1).ok_or(Error::Overflow)?,
                None => 1,
            };
            self.consents.insert(
                (patient, grantee),
                &Consent {
                    categories,
                    purposes,
                    access,
                    valid_from,
                    expires_at,
                    terms_hash,
                    version,
                    revoked: false,
                },
            );
            self.env().emit_event(ConsentGranted {
                patient,
                grantee,
                categories,
                purposes,
                access,
                valid_from,
                expires_at,
                terms_hash,
                version,
                by: patient,
            });
            Ok(())
        }

        /// Revokes the caller's consent to `grantee`, effective at once.
        ///
        /// # Errors
        /// - [`Error::NoActiveConsent`] if there is no consent, or it is revoked already.
        #[ink(message)]
        pub fn revoke(&mut self, grantee: AccountId) -> Result<()> {
            let patient = self.env().caller();
            let mut consent = self
                .consents
                .get((patient, grantee))
                .filter(|c| !c.revoked)
                .ok_or(Error::NoActiveConsent)?;
            consent.revoked = true;
            self.consents.insert((patient, grantee), &consent);
            self.env().emit_event(ConsentRevoked {
                patient,
                grantee,
                version: consent.version,
                by: patient,
            });
            Ok(())
        }

        /// Whether `grantee` may use `patient`'s data of `category` for `purpose` with `access`
        /// right now: a registered, active organization holding an unrevoked consent that is
        /// valid at the current block time and covers the category, purpose and access.
        #[ink(message)]
        pub fn is_authorized(
            &self,
            patient: AccountId,
            grantee: AccountId,
            category: DataCategory,
            purpose: Purpose,
            access: Access,
        ) -> bool {
            let active_org = self.orgs.get(grantee).is_some_and(|org| org.active);
            if !active_org {
                return false;
            }
            let now = self.env().block_timestamp();
            self.consents.get((patient, grantee)).is_some_and(|c| {
                !c.revoked
                    && c.valid_from <= now
                    && c.expires_at.is_none_or(|end| now < end)
                    && c.categories & category.bit() != 0
                    && c.purposes & purpose.bit() != 0
                    && c.access & access.bit() != 0
            })
        }

        /// The consent of the pair, revoked or not, if one was ever granted.
        #[ink(message)]
        pub fn consent(&self, patient: AccountId, grantee: AccountId) -> Option<Consent> {
            self.consents.get((patient, grantee))
        }

        /// The organization registered under `account`, if any.
        #[ink(message)]
        pub fn org(&self, account: AccountId) -> Option<Org> {
            self.orgs.get(account)
        }

        /// The current registrar.
        #[ink(message)]
        pub fn registrar(&self) -> AccountId {
            self.registrar
        }

        fn ensure_registrar(&self) -> Result<()> {
            if self.env().caller() == self.registrar {
                Ok(())
            } else {
                Err(Error::NotRegistrar)
            }
        }
    }

    impl Default for ConsentRegistry {
        fn default() -> Self {
            Self::new()
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use ink::env::test::{
            default_accounts, recorded_events, set_block_timestamp, set_caller, DefaultAccounts,
        };
        use ink::env::DefaultEnvironment;
        use ink::scale::Decode;

        type Env = DefaultEnvironment;

        const ALL_READ_WRITE: AccessSet = ALL_ACCESS;
        const LABS: CategorySet = DataCategory::LabResults.bit();
        const TREATMENT: PurposeSet = Purpose::Treatment.bit();
        const READ: AccessSet = Access::Read.bit();

        fn accounts() -> DefaultAccounts<Env> {
            default_accounts::<Env>()
        }

        /// Alice is the registrar, Bob a registered provider, Charlie the patient.
        fn setup() -> ConsentRegistry {
            let a = accounts();
            set_caller::<Env>(a.alice);
            let mut registry = ConsentRegistry::new();
            registry
                .register_org(a.bob, Role::Provider, 0)
                .expect("registrar registers bob");
            registry
        }

        fn grant_labs(registry: &mut ConsentRegistry, expires_at: Option<Timestamp>) -> Result<()> {
            registry.grant(
                accounts().bob,
                LABS,
                TREATMENT,
                READ,
                0,
                expires_at,
                Hash::from([7; 32]),
            )
        }

        fn last_event<E: Decode>() -> E {
            let event = recorded_events().last().expect("an event was emitted");
            E::decode(&mut &event.data[..]).expect("event decodes as the shared type")
        }

        fn authorized(registry: &ConsentRegistry, category: DataCategory) -> bool {
            let a = accounts();
            registry.is_authorized(a.charlie, a.bob, category, Purpose::Treatment, Access::Read)
        }

        #[ink::test]
        fn register_org_emits_event_and_stores_org() {
            // given
            let registry = setup();
            // then
            let event: OrgRegistered = last_event();
            assert_eq!(event.org, accounts().bob);
            assert_eq!(event.role, Role::Provider);
            assert_eq!(
                registry.org(accounts().bob),
                Some(Org {
                    role: Role::Provider,
                    flags: 0,
                    active: true
                })
            );
            assert_eq!(registry.registrar(), accounts().alice);
        }

        #[ink::test]
        fn register_org_refuses_everyone_but_the_registrar() {
            // given
            let mut registry = setup();
            let a = accounts();
            for caller in [a.bob, a.charlie, a.django, a.eve] {
                set_caller::<Env>(caller);
                // when
                let result = registry.register_org(a.frank, Role::Insurer, 0);
                // then
                assert_eq!(result, Err(Error::NotRegistrar), "caller {caller:?}");
            }
            assert_eq!(registry.org(a.frank), None);
        }

        #[ink::test]
        fn register_org_refuses_duplicates_and_unknown_flags() {
            let mut registry = setup();
            let a = accounts();
            assert_eq!(
                registry.register_org(a.bob, Role::Insurer, 0),
                Err(Error::AlreadyRegistered)
            );
            assert_eq!(
                registry.register_org(a.frank, Role::Insurer, 0b10),
                Err(Error::UnknownFlags)
            );
        }

        #[ink::test]
        fn grant_authorizes_exactly_what_it_names() {
            // given
            let mut registry = setup();
            set_caller::<Env>(accounts().charlie);
            // when
            grant_labs(&mut registry, None).expect("patient grants");
            // then
            let event: ConsentGranted = last_event();
            assert_eq!(event.patient, accounts().charlie);
            assert_eq!(event.grantee, accounts().bob);
            assert_eq!(event.version, 1);
            assert!(authorized(&registry, DataCategory::LabResults));
            assert!(!authorized(&registry, DataCategory::Imaging));
            assert!(!authorized(&registry, DataCategory::Genomics));
            let a = accounts();
            assert!(!registry.is_authorized(
                a.charlie,
                a.bob,
                DataCategory::LabResults,
                Purpose::Research,
                Access::Read
            ));
            assert!(!registry.is_authorized(
                a.charlie,
                a.bob,
                DataCategory::LabResults,
                Purpose::Treatment,
                Access::Write
            ));
            // a consent is per patient: nobody else's data is covered
            assert!(!registry.is_authorized(
                a.django,
                a.bob,
                DataCategory::LabResults,
                Purpose::Treatment,
                Access::Read
            ));
        }

        #[ink::test]
        fn a_new_grant_replaces_the_old_one_and_bumps_its_version() {
            let mut registry = setup();
            set_caller::<Env>(accounts().charlie);
            grant_labs(&mut registry, None).expect("first grant");
            registry
                .grant(
                    accounts().bob,
                    DataCategory::Imaging.bit(),
                    TREATMENT,
                    ALL_READ_WRITE,
                    0,
                    None,
                    Hash::from([8; 32]),
                )
                .expect("second grant");
            let event: ConsentGranted = last_event();
            assert_eq!(event.version, 2);
            assert!(!authorized(&registry, DataCategory::LabResults));
            assert!(authorized(&registry, DataCategory::Imaging));
        }

        #[ink::test]
        fn grant_refuses_bad_input() {
            let mut registry = setup();
            let a = accounts();
            set_caller::<Env>(a.charlie);
            let h = Hash::from([0; 32]);
            assert_eq!(
                registry.grant(a.frank, LABS, TREATMENT, READ, 0, None, h),
                Err(Error::GranteeNotRegistered)
            );
            assert_eq!(
                registry.grant(a.charlie, LABS, TREATMENT, READ, 0, None, h),
                Err(Error::SelfGrant)
            );
            assert_eq!(
                registry.grant(a.bob, 0, TREATMENT, READ, 0, None, h),
                Err(Error::InvalidCategories)
            );
            assert_eq!(
                registry.grant(a.bob, 1 << 14, TREATMENT, READ, 0, None, h),
                Err(Error::InvalidCategories)
            );
            assert_eq!(
                registry.grant(a.bob, LABS, 0, READ, 0, None, h),
                Err(Error::InvalidPurposes)
            );
            assert_eq!(
                registry.grant(a.bob, LABS, 1 << 6, READ, 0, None, h),
                Err(Error::InvalidPurposes)
            );
            assert_eq!(
                registry.grant(a.bob, LABS, TREATMENT, 0, 0, None, h),
                Err(Error::InvalidAccess)
            );
            assert_eq!(
                registry.grant(a.bob, LABS, TREATMENT, 4, 0, None, h),
                Err(Error::InvalidAccess)
            );
            assert_eq!(
                registry.grant(a.bob, LABS, TREATMENT, READ, 10, Some(10), h),
                Err(Error::InvalidValidity)
            );
            assert_eq!(registry.consent(a.charlie, a.bob), None);
        }

        #[ink::test]
        fn validity_window_is_judged_at_read_time() {
            // given: valid from 1_000 until 2_000 (exclusive)
            let mut registry = setup();
            let a = accounts();
            set_caller::<Env>(a.charlie);
            registry
                .grant(
                    a.bob,
                    LABS,
                    TREATMENT,
                    READ,
                    1_000,
                    Some(2_000),
                    Hash::from([1; 32]),
                )
                .expect("grant");
            // then
            set_block_timestamp::<Env>(999);
            assert!(!authorized(&registry, DataCategory::LabResults));
            set_block_timestamp::<Env>(1_000);
            assert!(authorized(&registry, DataCategory::LabResults));
            set_block_timestamp::<Env>(1_999);
            assert!(authorized(&registry, DataCategory::LabResults));
            set_block_timestamp::<Env>(2_000);
            assert!(!authorized(&registry, DataCategory::LabResults));
        }

        #[ink::test]
        fn revoke_ends_access_at_once() {
            // given
            let mut registry = setup();
            set_caller::<Env>(accounts().charlie);
            grant_labs(&mut registry, None).expect("grant");
            // when
            registry.revoke(accounts().bob).expect("revoke");
            // then
            let event: ConsentRevoked = last_event();
            assert_eq!(event.patient, accounts().charlie);
            assert_eq!(event.version, 1);
            assert!(!authorized(&registry, DataCategory::LabResults));
            assert_eq!(
                registry.revoke(accounts().bob),
                Err(Error::NoActiveConsent),
                "a revoked consent cannot be revoked again"
            );
        }

        #[ink::test]
        fn only_the_patient_can_revoke_their_consent() {
            let mut registry = setup();
            let a = accounts();
            set_caller::<Env>(a.charlie);
            grant_labs(&mut registry, None).expect("grant");
            // Everyone else revokes "their own" consent to bob, which does not exist.
            for caller in [a.alice, a.bob, a.django, a.eve] {
                set_caller::<Env>(caller);
                assert_eq!(registry.revoke(a.bob), Err(Error::NoActiveConsent));
            }
            assert!(authorized(&registry, DataCategory::LabResults));
        }
    }

    #[cfg(all(test, feature = "e2e-tests"))]
    mod e2e_tests {
        use super::*;
        use ink::env::Event;
        use ink::scale::Decode;
        use ink_e2e::ContractsBackend;

        type E2EResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;

        #[ink_e2e::test]
        async fn grant_and_revoke_on_a_node<Client: E2EBackend>(
            mut client: Client,
        ) -> E2EResult<()> {
            // given: alice deploys and registers bob as a provider
            let mut constructor = ConsentRegistryRef::new();
            let contract = client
                .instantiate("medledger-consent", &ink_e2e::alice(), &mut constructor)
                .submit()
                .await
                .expect("instantiate");
            let mut call_builder = contract.call_builder::<ConsentRegistry>();
            let bob = ink_e2e::account_id(ink_e2e::AccountKeyring::Bob);
            let charlie = ink_e2e::account_id(ink_e2e::AccountKeyring::Charlie);
            client
                .call(
                    &ink_e2e::alice(),
                    &call_builder.register_org(bob, Role::Provider, 0),
                )
                .submit()
                .await
                .expect("register_org");

            // when: charlie grants bob lab results for treatment
            let grant = call_builder.grant(
                bob,
                DataCategory::LabResults.bit(),
                Purpose::Treatment.bit(),
                Access::Read.bit(),
                0,
                None,
                Hash::from([9; 32]),
            );
            let result = client
                .call(&ink_e2e::charlie(), &grant)
                .submit()
                .await
                .expect("grant");

            // then: the event decodes with the shared type, and bob is authorized
            let emitted = result.contract_emitted_events()?;
            assert_eq!(emitted.len(), 1);
            let event = &emitted[0];
            assert_eq!(
                event.topics.first().map(|t| t.0),
                ConsentGranted::SIGNATURE_TOPIC
            );
            let granted = ConsentGranted::decode(&mut &event.event.data[..])?;
            assert_eq!(granted.patient, charlie);
            assert_eq!(granted.grantee, bob);
            assert_eq!(granted.version, 1);
            let check = call_builder.is_authorized(
                charlie,
                bob,
                DataCategory::LabResults,
                Purpose::Treatment,
                Access::Read,
            );
            assert!(client
                .call(&ink_e2e::alice(), &check)
                .dry_run()
                .await?
                .return_value());

            // when: charlie revokes
            let revoke = call_builder.revoke(bob);
            let result = client.call(&ink_e2e::charlie(), &revoke).submit().await?;
            let emitted = result.contract_emitted_events()?;
            let revoked = ConsentRevoked::decode(&mut &emitted[0].event.data[..])?;
            assert_eq!(revoked.version, 1);
            assert!(!client
                .call(&ink_e2e::alice(), &check)
                .dry_run()
                .await?
                .return_value());

            // and a stranger cannot register organizations
            let refused = client
                .call(
                    &ink_e2e::charlie(),
                    &call_builder.register_org(charlie, Role::Insurer, 0),
                )
                .dry_run()
                .await?;
            assert_eq!(refused.return_value(), Err(Error::NotRegistrar));
            Ok(())
        }
    }
}
