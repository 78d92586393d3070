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
pub mod consent_registry {
    use ink::storage::Mapping;
    use medledger_events::{
        Access, AccessDenied, AccessRecorded, AccessSet, CategorySet, ConsentGranted,
        ConsentRevoked, ContractUpgraded, DataCategory, DelegateRemoved, DelegateSet,
        EmergencyAccessEnded, EmergencyAccessOpened, EmergencyReason, EmergencyWindowChanged,
        OrgRegistered, OrgReinstated, OrgSuspended, Purpose, PurposeSet, RegistrarChanged,
        RegistrarProposed, Role, ALL_ACCESS, ALL_CATEGORIES, ALL_PURPOSES, FLAG_EMERGENCY,
        KNOWN_FLAGS,
    };

    /// The layout version of this contract's storage, bumped by upgrades that change it.
    pub const STORAGE_VERSION: u32 = 1;
    /// How long a break-glass window lasts unless the registrar changes it: 4 hours.
    pub const DEFAULT_EMERGENCY_WINDOW_MS: Timestamp = 4 * 60 * 60 * 1000;
    /// The longest the registrar may make a break-glass window: 24 hours.
    pub const MAX_EMERGENCY_WINDOW_MS: Timestamp = 24 * 60 * 60 * 1000;

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
        pending_registrar: Option<AccountId>,
        orgs: Mapping<AccountId, Org>,
        consents: Mapping<(AccountId, AccountId), Consent>,
        /// (patient, delegate) -> when the delegation ends.
        delegates: Mapping<(AccountId, AccountId), Timestamp>,
        /// (patient, provider) -> when the break-glass window ends.
        emergencies: Mapping<(AccountId, AccountId), Timestamp>,
        emergency_window_ms: Timestamp,
        storage_version: u32,
    }

    /// Why a ConsentRegistry message was refused.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub enum Error {
        /// Only the registrar may do this.
        NotRegistrar,
        /// The account is already a registered organization.
        AlreadyRegistered,
        /// The account is not a registered organization.
        NotRegistered,
        /// The organization is suspended already.
        AlreadySuspended,
        /// The organization is not suspended.
        NotSuspended,
        /// The flags contain bits that mean nothing.
        UnknownFlags,
        /// No registrar handover was proposed to the caller.
        NotProposedRegistrar,
        /// Consents can only be granted to registered organizations.
        GranteeNotRegistered,
        /// A patient cannot grant a consent, delegate or emergency access to themself.
        SelfGrant,
        /// The category set is empty or names no known category.
        InvalidCategories,
        /// The purpose set is empty or names no known purpose.
        InvalidPurposes,
        /// The access set is empty or names no known access.
        InvalidAccess,
        /// `expires_at` is not after `valid_from` (or, for a delegate, not in the future).
        InvalidValidity,
        /// There is no active consent to revoke for this pair.
        NoActiveConsent,
        /// The caller is not an unexpired delegate of the patient.
        NotDelegate,
        /// The patient has no such delegate.
        NoDelegate,
        /// Only active providers flagged EMERGENCY may break the glass.
        NotEmergencyProvider,
        /// The provider has no open emergency window for this patient.
        NoOpenEmergency,
        /// An emergency window must be longer than zero and at most the hard cap.
        InvalidEmergencyWindow,
        /// `set_code_hash` failed: the code hash is not an uploaded contract.
        UpgradeFailed,
        /// A counter or a time would overflow.
        Overflow,
    }

    pub type Result<T> = core::result::Result<T, Error>;

    /// What a consent allows, as `grant` and `grant_for` take it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub struct Scope {
        pub categories: CategorySet,
        pub purposes: PurposeSet,
        pub access: AccessSet,
        pub valid_from: Timestamp,
        pub expires_at: Option<Timestamp>,
    }

    impl ConsentRegistry {
        /// Creates the registry with the caller as its registrar.
        #[ink(constructor)]
        pub fn new() -> Self {
            Self {
                registrar: Self::env().caller(),
                pending_registrar: None,
                orgs: Mapping::default(),
                consents: Mapping::default(),
                delegates: Mapping::default(),
                emergencies: Mapping::default(),
                emergency_window_ms: DEFAULT_EMERGENCY_WINDOW_MS,
                storage_version: STORAGE_VERSION,
            }
        }

        // ---- registrar -------------------------------------------------------------------

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

        /// Suspends an organization: every access it had ends at once.
        ///
        /// # Errors
        /// [`Error::NotRegistrar`], [`Error::NotRegistered`], [`Error::AlreadySuspended`].
        #[ink(message)]
        pub fn suspend_org(&mut self, account: AccountId) -> Result<()> {
            self.set_org_active(account, false)?;
            self.env().emit_event(OrgSuspended { org: account });
            Ok(())
        }

        /// Reinstates a suspended organization.
        ///
        /// # Errors
        /// [`Error::NotRegistrar`], [`Error::NotRegistered`], [`Error::NotSuspended`].
        #[ink(message)]
        pub fn reinstate_org(&mut self, account: AccountId) -> Result<()> {
            self.set_org_active(account, true)?;
            self.env().emit_event(OrgReinstated { org: account });
            Ok(())
        }

        /// Proposes `proposed` as the next registrar; nothing changes until they accept.
        /// A new proposal replaces an earlier one.
        ///
        /// # Errors
        /// [`Error::NotRegistrar`].
        #[ink(message)]
        pub fn propose_registrar(&mut self, proposed: AccountId) -> Result<()> {
            self.ensure_registrar()?;
            self.pending_registrar = Some(proposed);
            self.env().emit_event(RegistrarProposed {
                current: self.registrar,
                proposed,
            });
            Ok(())
        }

        /// The proposed registrar takes over.
        ///
        /// # Errors
        /// [`Error::NotProposedRegistrar`] unless the caller is the proposed registrar.
        #[ink(message)]
        pub fn accept_registrar(&mut self) -> Result<()> {
            let caller = self.env().caller();
            if self.pending_registrar != Some(caller) {
                return Err(Error::NotProposedRegistrar);
            }
            let previous = self.registrar;
            self.registrar = caller;
            self.pending_registrar = None;
            self.env().emit_event(RegistrarChanged {
                previous,
                registrar: caller,
            });
            Ok(())
        }

        /// Sets how long break-glass windows opened from now on last.
        ///
        /// # Errors
        /// [`Error::NotRegistrar`]; [`Error::InvalidEmergencyWindow`] for zero or more than
        /// [`MAX_EMERGENCY_WINDOW_MS`].
        #[ink(message)]
        pub fn set_emergency_window(&mut self, window_ms: Timestamp) -> Result<()> {
            self.ensure_registrar()?;
            if window_ms == 0 || window_ms > MAX_EMERGENCY_WINDOW_MS {
                return Err(Error::InvalidEmergencyWindow);
            }
            self.emergency_window_ms = window_ms;
            self.env().emit_event(EmergencyWindowChanged { window_ms });
            Ok(())
        }

        /// Replaces the contract's code with the uploaded `code_hash`, keeping its storage.
        ///
        /// # Errors
        /// [`Error::NotRegistrar`]; [`Error::UpgradeFailed`] when the code is not uploaded.
        #[ink(message)]
        pub fn upgrade(&mut self, code_hash: Hash) -> Result<()> {
            self.ensure_registrar()?;
            self.env()
                .set_code_hash(&code_hash)
                .map_err(|_| Error::UpgradeFailed)?;
            self.env().emit_event(ContractUpgraded {
                code_hash,
                storage_version: self.storage_version,
            });
            Ok(())
        }

        // ---- patients and delegates -------------------------------------------------------

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
            let scope = Scope {
                categories,
                purposes,
                access,
                valid_from,
                expires_at,
            };
            self.grant_as(patient, patient, grantee, scope, terms_hash)
        }

        /// Grants a consent on behalf of `patient`, as their delegate.
        ///
        /// # Errors
        /// [`Error::NotDelegate`] unless the caller is an unexpired delegate of `patient`; the
        /// errors of [`Self::grant`] otherwise.
        #[ink(message)]
        pub fn grant_for(
            &mut self,
            patient: AccountId,
            grantee: AccountId,
            scope: Scope,
            terms_hash: Hash,
        ) -> Result<()> {
            let delegate = self.ensure_delegate_of(patient)?;
            self.grant_as(patient, delegate, grantee, scope, terms_hash)
        }

        /// Revokes the caller's consent to `grantee`, effective at once.
        ///
        /// # Errors
        /// - [`Error::NoActiveConsent`] if there is no consent, or it is revoked already.
        #[ink(message)]
        pub fn revoke(&mut self, grantee: AccountId) -> Result<()> {
            let patient = self.env().caller();
            self.revoke_as(patient, patient, grantee)
        }

        /// Revokes `patient`'s consent to `grantee`, as their delegate.
        ///
        /// # Errors
        /// [`Error::NotDelegate`]; [`Error::NoActiveConsent`].
        #[ink(message)]
        pub fn revoke_for(&mut self, patient: AccountId, grantee: AccountId) -> Result<()> {
            let delegate = self.ensure_delegate_of(patient)?;
            self.revoke_as(patient, delegate, grantee)
        }

        /// Appoints `delegate` (a guardian or proxy) to manage the caller's consents until
        /// `expires_at`. Delegation always expires; appointing again moves the end.
        /// A delegate manages consents and emergency windows only, and cannot appoint
        /// delegates: this message always acts for the caller's own data.
        ///
        /// # Errors
        /// [`Error::SelfGrant`]; [`Error::InvalidValidity`] if `expires_at` is not in the
        /// future.
        #[ink(message)]
        pub fn set_delegate(&mut self, delegate: AccountId, expires_at: Timestamp) -> Result<()> {
            let patient = self.env().caller();
            if delegate == patient {
                return Err(Error::SelfGrant);
            }
            if expires_at <= self.env().block_timestamp() {
                return Err(Error::InvalidValidity);
            }
            self.delegates.insert((patient, delegate), &expires_at);
            self.env().emit_event(DelegateSet {
                patient,
                delegate,
                expires_at,
            });
            Ok(())
        }

        /// Removes one of the caller's delegates, effective at once.
        ///
        /// # Errors
        /// [`Error::NoDelegate`] if there is no such delegate.
        #[ink(message)]
        pub fn remove_delegate(&mut self, delegate: AccountId) -> Result<()> {
            let patient = self.env().caller();
            self.delegates
                .take((patient, delegate))
                .ok_or(Error::NoDelegate)?;
            self.env().emit_event(DelegateRemoved { patient, delegate });
            Ok(())
        }

        // ---- emergency access -------------------------------------------------------------

        /// Opens a window of read access to `patient`'s non-sensitive data for treatment, for
        /// the registrar's configured window length. Only active providers flagged EMERGENCY
        /// may; the emitted event is the patient's alert.
        ///
        /// # Errors
        /// [`Error::NotEmergencyProvider`]; [`Error::SelfGrant`]; [`Error::Overflow`].
        #[ink(message)]
        pub fn break_glass(
            &mut self,
            patient: AccountId,
            reason: EmergencyReason,
            justification_hash: Hash,
        ) -> Result<()> {
            let provider = self.env().caller();
            let may = self.orgs.get(provider).is_some_and(|org| {
                org.active && org.role == Role::Provider && org.flags & FLAG_EMERGENCY != 0
            });
            if !may {
                return Err(Error::NotEmergencyProvider);
            }
            if provider == patient {
                return Err(Error::SelfGrant);
            }
            let ends_at = self
                .env()
                .block_timestamp()
                .checked_add(self.emergency_window_ms)
                .ok_or(Error::Overflow)?;
            self.emergencies.insert((patient, provider), &ends_at);
            self.env().emit_event(EmergencyAccessOpened {
                patient,
                provider,
                reason,
                justification_hash,
                ends_at,
            });
            Ok(())
        }

        /// Closes `provider`'s emergency window on the caller's data at once.
        ///
        /// # Errors
        /// [`Error::NoOpenEmergency`].
        #[ink(message)]
        pub fn end_emergency(&mut self, provider: AccountId) -> Result<()> {
            let patient = self.env().caller();
            self.end_emergency_as(patient, patient, provider)
        }

        /// Closes `provider`'s emergency window on `patient`'s data, as their delegate.
        ///
        /// # Errors
        /// [`Error::NotDelegate`]; [`Error::NoOpenEmergency`].
        #[ink(message)]
        pub fn end_emergency_for(&mut self, patient: AccountId, provider: AccountId) -> Result<()> {
            let delegate = self.ensure_delegate_of(patient)?;
            self.end_emergency_as(patient, delegate, provider)
        }

        // ---- the rule ---------------------------------------------------------------------

        /// Whether `grantee` may use `patient`'s data of `category` for `purpose` with `access`
        /// right now: a registered, active organization holding either an unrevoked consent
        /// valid at the current block time that covers the category, purpose and access, or
        /// an open emergency window (read, treatment, non-sensitive categories only).
        #[ink(message)]
        pub fn is_authorized(
            &self,
            patient: AccountId,
            grantee: AccountId,
            category: DataCategory,
            purpose: Purpose,
            access: Access,
        ) -> bool {
            self.is_active_org(grantee)
                && (self.consent_allows(patient, grantee, category, purpose, access)
                    || self.emergency_allows(patient, grantee, category, purpose, access))
        }

        /// Declares that the caller accesses `record_id` of `patient` (categories `categories`)
        /// for `purpose`. Emits [`AccessRecorded`] when the rule allows every category for
        /// reading, and [`AccessDenied`] (the alert) when not; either way the call succeeds
        /// and returns whether access was allowed.
        ///
        /// # Errors
        /// [`Error::InvalidCategories`] for an empty set or unknown bits.
        #[ink(message)]
        pub fn record_access(
            &mut self,
            patient: AccountId,
            categories: CategorySet,
            purpose: Purpose,
            record_id: Hash,
        ) -> Result<bool> {
            if categories == 0 || categories & !ALL_CATEGORIES != 0 {
                return Err(Error::InvalidCategories);
            }
            let accessor = self.env().caller();
            let named = || {
                DataCategory::ALL
                    .into_iter()
                    .filter(move |c| categories & c.bit() != 0)
            };
            let active = self.is_active_org(accessor);
            let by_consent = active
                && named()
                    .all(|c| self.consent_allows(patient, accessor, c, purpose, Access::Read));
            let allowed = active
                && named().all(|c| {
                    self.consent_allows(patient, accessor, c, purpose, Access::Read)
                        || self.emergency_allows(patient, accessor, c, purpose, Access::Read)
                });
            if allowed {
                self.env().emit_event(AccessRecorded {
                    patient,
                    accessor,
                    record_id,
                    categories,
                    purpose,
                    emergency: !by_consent,
                });
            } else {
                self.env().emit_event(AccessDenied {
                    patient,
                    accessor,
                    record_id,
                    categories,
                    purpose,
                });
            }
            Ok(allowed)
        }

        // ---- queries ----------------------------------------------------------------------

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

        /// The proposed next registrar, until they accept.
        #[ink(message)]
        pub fn pending_registrar(&self) -> Option<AccountId> {
            self.pending_registrar
        }

        /// When `delegate`'s delegation by `patient` ends, if one was set (it may have ended).
        #[ink(message)]
        pub fn delegate(&self, patient: AccountId, delegate: AccountId) -> Option<Timestamp> {
            self.delegates.get((patient, delegate))
        }

        /// When `provider`'s emergency window on `patient` ends, if one was opened.
        #[ink(message)]
        pub fn emergency(&self, patient: AccountId, provider: AccountId) -> Option<Timestamp> {
            self.emergencies.get((patient, provider))
        }

        /// The length of new emergency windows, in milliseconds.
        #[ink(message)]
        pub fn emergency_window(&self) -> Timestamp {
            self.emergency_window_ms
        }

        /// The layout version of the storage.
        #[ink(message)]
        pub fn storage_version(&self) -> u32 {
            self.storage_version
        }

        // ---- internals --------------------------------------------------------------------

        fn ensure_registrar(&self) -> Result<()> {
            if self.env().caller() == self.registrar {
                Ok(())
            } else {
                Err(Error::NotRegistrar)
            }
        }

        /// The caller, if an unexpired delegate of `patient`.
        fn ensure_delegate_of(&self, patient: AccountId) -> Result<AccountId> {
            let caller = self.env().caller();
            let now = self.env().block_timestamp();
            match self.delegates.get((patient, caller)) {
                Some(ends) if now < ends => Ok(caller),
                _ => Err(Error::NotDelegate),
            }
        }

        fn set_org_active(&mut self, account: AccountId, active: bool) -> Result<()> {
            self.ensure_registrar()?;
            let mut org = self.orgs.get(account).ok_or(Error::NotRegistered)?;
            match (org.active, active) {
                (false, false) => return Err(Error::AlreadySuspended),
                (true, true) => return Err(Error::NotSuspended),
                _ => {}
            }
            org.active = active;
            self.orgs.insert(account, &org);
            Ok(())
        }

        fn is_active_org(&self, account: AccountId) -> bool {
            self.orgs.get(account).is_some_and(|org| org.active)
        }

        fn consent_allows(
            &self,
            patient: AccountId,
            grantee: AccountId,
            category: DataCategory,
            purpose: Purpose,
            access: Access,
        ) -> bool {
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

        fn emergency_allows(
            &self,
            patient: AccountId,
            provider: AccountId,
            category: DataCategory,
            purpose: Purpose,
            access: Access,
        ) -> bool {
            access == Access::Read
                && purpose == Purpose::Treatment
                && !category.is_sensitive()
                && self
                    .emergencies
                    .get((patient, provider))
                    .is_some_and(|ends| self.env().block_timestamp() < ends)
        }

        fn grant_as(
            &mut self,
            patient: AccountId,
            by: AccountId,
            grantee: AccountId,
            scope: Scope,
            terms_hash: Hash,
        ) -> Result<()> {
            if patient == grantee {
                return Err(Error::SelfGrant);
            }
            if !self.orgs.contains(grantee) {
                return Err(Error::GranteeNotRegistered);
            }
            if scope.categories == 0 || scope.categories & !ALL_CATEGORIES != 0 {
                return Err(Error::InvalidCategories);
            }
            if scope.purposes == 0 || scope.purposes & !ALL_PURPOSES != 0 {
                return Err(Error::InvalidPurposes);
            }
            if scope.access == 0 || scope.access & !ALL_ACCESS != 0 {
                return Err(Error::InvalidAccess);
            }
            if scope.expires_at.is_some_and(|end| end <= scope.valid_from) {
                return Err(Error::InvalidValidity);
            }
            let version = match self.consents.get((patient, grantee)) {
                Some(previous) => previous.version.checked_add(1).ok_or(Error::Overflow)?,
                None => 1,
            };
            self.consents.insert(
                (patient, grantee),
                &Consent {
                    categories: scope.categories,
                    purposes: scope.purposes,
                    access: scope.access,
                    valid_from: scope.valid_from,
                    expires_at: scope.expires_at,
                    terms_hash,
                    version,
                    revoked: false,
                },
            );
            self.env().emit_event(ConsentGranted {
                patient,
                grantee,
                categories: scope.categories,
                purposes: scope.purposes,
                access: scope.access,
                valid_from: scope.valid_from,
                expires_at: scope.expires_at,
                terms_hash,
                version,
                by,
            });
            Ok(())
        }

        fn revoke_as(
            &mut self,
            patient: AccountId,
            by: AccountId,
            grantee: AccountId,
        ) -> Result<()> {
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
                by,
            });
            Ok(())
        }

        fn end_emergency_as(
            &mut self,
            patient: AccountId,
            by: AccountId,
            provider: AccountId,
        ) -> Result<()> {
            let now = self.env().block_timestamp();
            match self.emergencies.get((patient, provider)) {
                Some(ends) if now < ends => {}
                _ => return Err(Error::NoOpenEmergency),
            }
            self.emergencies.remove((patient, provider));
            self.env().emit_event(EmergencyAccessEnded {
                patient,
                provider,
                by,
            });
            Ok(())
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

    /// Exactly who may do what: every state-changing message against every kind of caller.
    #[cfg(test)]
    mod authorization_matrix {
        use super::*;
        use ink::env::test::{set_block_timestamp, set_callee, set_caller};
        use ink::env::DefaultEnvironment;

        type Env = DefaultEnvironment;

        /// The cast: one account per kind of caller.
        const ACTORS: [(&str, u8); 11] = [
            ("registrar", 1),
            ("patient", 2),
            ("delegate", 3),
            ("expired delegate", 4),
            ("provider", 5),
            ("insurer", 6),
            ("researcher", 7),
            ("auditor", 8),
            ("app", 9),
            ("suspended org", 10),
            ("stranger", 11),
        ];
        const NOW: Timestamp = 5_000;

        fn id(name: &str) -> AccountId {
            let byte = ACTORS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, b)| *b)
                .unwrap_or(0);
            AccountId::from([byte; 32])
        }

        fn labs_for_treatment() -> Scope {
            Scope {
                categories: DataCategory::LabResults.bit(),
                purposes: Purpose::Treatment.bit(),
                access: Access::Read.bit(),
                valid_from: 0,
                expires_at: None,
            }
        }

        /// A registry where every actor is what its name says, at time NOW: the patient has
        /// granted the provider and the insurer, has a delegate and an expired one, and the
        /// provider has an open emergency window on the patient.
        fn world() -> ConsentRegistry {
            // A distinct contract account per world keeps their storage apart.
            std::thread_local!(static WORLDS: core::cell::Cell<u32> = const { core::cell::Cell::new(0) });
            let n = WORLDS.with(|w| {
                w.set(w.get() + 1);
                w.get()
            });
            let mut contract = [0xee; 32];
            contract[..4].copy_from_slice(&n.to_le_bytes());
            set_callee::<Env>(AccountId::from(contract));
            set_block_timestamp::<Env>(1_000);
            set_caller::<Env>(id("registrar"));
            let mut r = ConsentRegistry::new();
            let orgs = [
                ("provider", Role::Provider, FLAG_EMERGENCY),
                ("insurer", Role::Insurer, 0),
                ("researcher", Role::Researcher, 0),
                ("auditor", Role::Auditor, 0),
                ("app", Role::App, 0),
                ("suspended org", Role::Provider, FLAG_EMERGENCY),
            ];
            for (name, role, flags) in orgs {
                r.register_org(id(name), role, flags).expect("register");
            }
            r.suspend_org(id("suspended org")).expect("suspend");
            set_caller::<Env>(id("patient"));
            for grantee in ["provider", "insurer", "suspended org"] {
                r.grant_as(
                    id("patient"),
                    id("patient"),
                    id(grantee),
                    labs_for_treatment(),
                    Hash::default(),
                )
                .expect("grant");
            }
            r.set_delegate(id("delegate"), 100_000).expect("delegate");
            r.set_delegate(id("expired delegate"), 2_000)
                .expect("expired delegate");
            set_caller::<Env>(id("provider"));
            r.break_glass(
                id("patient"),
                EmergencyReason::LifeThreatening,
                Hash::default(),
            )
            .expect("break glass");
            set_block_timestamp::<Env>(NOW);
            r
        }

        /// The actors for whom `call` succeeds, each on a fresh world.
        fn who_succeeds(call: impl Fn(&mut ConsentRegistry) -> bool) -> Vec<&'static str> {
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

        const ALL: [&str; 11] = [
            "registrar",
            "patient",
            "delegate",
            "expired delegate",
            "provider",
            "insurer",
            "researcher",
            "auditor",
            "app",
            "suspended org",
            "stranger",
        ];

        fn all_but(excluded: &[&str]) -> Vec<&'static str> {
            ALL.into_iter().filter(|n| !excluded.contains(n)).collect()
        }

        #[ink::test]
        fn registrar_messages_are_the_registrars_alone() {
            let newcomer = AccountId::from([99; 32]);
            assert_eq!(
                who_succeeds(|r| r.register_org(newcomer, Role::App, 0).is_ok()),
                ["registrar"]
            );
            assert_eq!(
                who_succeeds(|r| r.suspend_org(id("insurer")).is_ok()),
                ["registrar"]
            );
            assert_eq!(
                who_succeeds(|r| r.reinstate_org(id("suspended org")).is_ok()),
                ["registrar"]
            );
            assert_eq!(
                who_succeeds(|r| r.propose_registrar(newcomer).is_ok()),
                ["registrar"]
            );
            assert_eq!(
                who_succeeds(|r| r.set_emergency_window(60_000).is_ok()),
                ["registrar"]
            );
            // `upgrade` needs a real chain to succeed (see the e2e tests); here: refusals.
            let refused = who_succeeds(|r| {
                ink::env::caller::<Env>() != id("registrar")
                    && r.upgrade(Hash::default()) == Err(Error::NotRegistrar)
            });
            assert_eq!(refused, all_but(&["registrar"]));
        }

        #[ink::test]
        fn only_the_proposed_registrar_can_accept() {
            let accepted = who_succeeds(|r| {
                let caller = ink::env::caller::<Env>();
                set_caller::<Env>(id("registrar"));
                r.propose_registrar(id("stranger")).expect("propose");
                set_caller::<Env>(caller);
                r.accept_registrar().is_ok()
            });
            assert_eq!(accepted, ["stranger"]);
        }

        #[ink::test]
        fn consents_are_managed_by_the_patient_or_an_unexpired_delegate() {
            // grant and revoke act on the caller's own data: only the patient has one to revoke
            assert_eq!(
                who_succeeds(|r| r.revoke(id("provider")).is_ok()),
                ["patient"]
            );
            assert_eq!(
                who_succeeds(|r| r
                    .grant_for(
                        id("patient"),
                        id("researcher"),
                        labs_for_treatment(),
                        Hash::default()
                    )
                    .is_ok()),
                ["delegate"]
            );
            assert_eq!(
                who_succeeds(|r| r.revoke_for(id("patient"), id("provider")).is_ok()),
                ["delegate"]
            );
            // anyone may grant their own consent, except to themself
            let scope = labs_for_treatment();
            assert_eq!(
                who_succeeds(|r| r
                    .grant(
                        id("app"),
                        scope.categories,
                        scope.purposes,
                        scope.access,
                        0,
                        None,
                        Hash::default()
                    )
                    .is_ok()),
                all_but(&["app"])
            );
        }

        #[ink::test]
        fn delegates_are_managed_by_the_patient_only() {
            assert_eq!(
                who_succeeds(|r| r.remove_delegate(id("delegate")).is_ok()),
                ["patient"]
            );
            // set_delegate always acts for the caller's own data, so a delegate appointing
            // "another delegate" appoints one for themself, never for the patient.
            let appointed_for_patient = who_succeeds(|r| {
                r.set_delegate(AccountId::from([77; 32]), 90_000).is_ok()
                    && r.delegate(id("patient"), AccountId::from([77; 32]))
                        .is_some()
            });
            assert_eq!(appointed_for_patient, ["patient"]);
        }

        #[ink::test]
        fn emergency_access_is_opened_by_active_emergency_providers_only() {
            assert_eq!(
                who_succeeds(|r| r
                    .break_glass(
                        id("patient"),
                        EmergencyReason::PatientIncapacitated,
                        Hash::default()
                    )
                    .is_ok()),
                ["provider"]
            );
            assert_eq!(
                who_succeeds(|r| r.end_emergency(id("provider")).is_ok()),
                ["patient"]
            );
            assert_eq!(
                who_succeeds(|r| r.end_emergency_for(id("patient"), id("provider")).is_ok()),
                ["delegate"]
            );
        }

        #[ink::test]
        fn record_access_is_allowed_only_to_covered_active_grantees_and_never_reverts() {
            let record = Hash::from([5; 32]);
            let allowed = who_succeeds(|r| {
                r.record_access(
                    id("patient"),
                    DataCategory::LabResults.bit(),
                    Purpose::Treatment,
                    record,
                ) == Ok(true)
            });
            assert_eq!(allowed, ["provider", "insurer"]);
            let answered = who_succeeds(|r| {
                r.record_access(
                    id("patient"),
                    DataCategory::LabResults.bit(),
                    Purpose::Research,
                    record,
                )
                .is_ok()
            });
            assert_eq!(answered, ALL, "a denied access is recorded, not reverted");
        }
    }

    /// Time boundaries, suspension, emergency scope.
    #[cfg(test)]
    mod rules {
        use super::*;
        use ink::env::test::{default_accounts, recorded_events, set_block_timestamp, set_caller};
        use ink::env::DefaultEnvironment;
        use ink::scale::Decode;

        type Env = DefaultEnvironment;

        /// Alice registrar, Bob an EMERGENCY provider, Charlie the patient with a labs consent
        /// for Bob, Django Charlie's delegate until 10_000.
        fn setup() -> ConsentRegistry {
            let a = default_accounts::<Env>();
            set_block_timestamp::<Env>(0);
            set_caller::<Env>(a.alice);
            let mut r = ConsentRegistry::new();
            r.register_org(a.bob, Role::Provider, FLAG_EMERGENCY)
                .expect("register");
            set_caller::<Env>(a.charlie);
            r.grant(
                a.bob,
                DataCategory::LabResults.bit(),
                Purpose::Treatment.bit(),
                Access::Read.bit(),
                0,
                None,
                Hash::default(),
            )
            .expect("grant");
            r.set_delegate(a.django, 10_000).expect("delegate");
            r
        }

        fn can_read(r: &ConsentRegistry, category: DataCategory) -> bool {
            let a = default_accounts::<Env>();
            r.is_authorized(a.charlie, a.bob, category, Purpose::Treatment, Access::Read)
        }

        #[ink::test]
        fn suspension_cuts_access_at_once_and_reinstatement_restores_it() {
            let mut r = setup();
            let a = default_accounts::<Env>();
            assert!(can_read(&r, DataCategory::LabResults));
            set_caller::<Env>(a.alice);
            r.suspend_org(a.bob).expect("suspend");
            assert!(!can_read(&r, DataCategory::LabResults));
            assert_eq!(r.suspend_org(a.bob), Err(Error::AlreadySuspended));
            r.reinstate_org(a.bob).expect("reinstate");
            assert!(can_read(&r, DataCategory::LabResults));
            assert_eq!(r.reinstate_org(a.bob), Err(Error::NotSuspended));
            assert_eq!(r.suspend_org(a.eve), Err(Error::NotRegistered));
        }

        #[ink::test]
        fn a_delegate_acts_until_the_instant_its_delegation_ends() {
            let mut r = setup();
            let a = default_accounts::<Env>();
            set_caller::<Env>(a.django);
            set_block_timestamp::<Env>(9_999);
            r.revoke_for(a.charlie, a.bob).expect("delegate revokes");
            let event = recorded_events().last().expect("event");
            let revoked = ConsentRevoked::decode(&mut &event.data[..]).expect("decodes");
            assert_eq!((revoked.patient, revoked.by), (a.charlie, a.django));
            set_block_timestamp::<Env>(10_000);
            assert_eq!(r.revoke_for(a.charlie, a.bob), Err(Error::NotDelegate));
        }

        #[ink::test]
        fn a_removed_delegate_is_refused_and_delegations_must_end_in_the_future() {
            let mut r = setup();
            let a = default_accounts::<Env>();
            set_caller::<Env>(a.charlie);
            r.remove_delegate(a.django).expect("remove");
            assert_eq!(r.remove_delegate(a.django), Err(Error::NoDelegate));
            set_block_timestamp::<Env>(500);
            assert_eq!(r.set_delegate(a.django, 500), Err(Error::InvalidValidity));
            assert_eq!(r.set_delegate(a.charlie, 900), Err(Error::SelfGrant));
            set_caller::<Env>(a.django);
            assert_eq!(r.revoke_for(a.charlie, a.bob), Err(Error::NotDelegate));
        }

        #[ink::test]
        fn an_emergency_window_covers_non_sensitive_reads_for_treatment_until_it_ends() {
            let mut r = setup();
            let a = default_accounts::<Env>();
            set_block_timestamp::<Env>(1_000);
            set_caller::<Env>(a.bob);
            r.break_glass(
                a.charlie,
                EmergencyReason::LifeThreatening,
                Hash::from([4; 32]),
            )
            .expect("break glass");
            let event = recorded_events().last().expect("event");
            let opened = EmergencyAccessOpened::decode(&mut &event.data[..]).expect("decodes");
            let ends = 1_000 + DEFAULT_EMERGENCY_WINDOW_MS;
            assert_eq!((opened.patient, opened.ends_at), (a.charlie, ends));
            // beyond the consent (labs only): imaging yes, sensitive categories never
            assert!(can_read(&r, DataCategory::Imaging));
            assert!(!can_read(&r, DataCategory::MentalHealth));
            assert!(!can_read(&r, DataCategory::Genomics));
            assert!(!r.is_authorized(
                a.charlie,
                a.bob,
                DataCategory::Imaging,
                Purpose::Research,
                Access::Read
            ));
            assert!(!r.is_authorized(
                a.charlie,
                a.bob,
                DataCategory::Imaging,
                Purpose::Treatment,
                Access::Write
            ));
            set_block_timestamp::<Env>(ends - 1);
            assert!(can_read(&r, DataCategory::Imaging));
            set_block_timestamp::<Env>(ends);
            assert!(!can_read(&r, DataCategory::Imaging));
            assert!(
                can_read(&r, DataCategory::LabResults),
                "the consent itself remains"
            );
            set_caller::<Env>(a.charlie);
            assert_eq!(r.end_emergency(a.bob), Err(Error::NoOpenEmergency));
        }

        #[ink::test]
        fn the_patient_can_end_an_emergency_at_once() {
            let mut r = setup();
            let a = default_accounts::<Env>();
            set_caller::<Env>(a.bob);
            r.break_glass(a.charlie, EmergencyReason::Other, Hash::default())
                .expect("open");
            set_caller::<Env>(a.charlie);
            r.end_emergency(a.bob).expect("end");
            assert!(!can_read(&r, DataCategory::Imaging));
            assert_eq!(r.emergency(a.charlie, a.bob), None);
        }

        #[ink::test]
        fn the_registrar_bounds_the_emergency_window() {
            let mut r = setup();
            let a = default_accounts::<Env>();
            set_caller::<Env>(a.alice);
            assert_eq!(
                r.set_emergency_window(0),
                Err(Error::InvalidEmergencyWindow)
            );
            assert_eq!(
                r.set_emergency_window(MAX_EMERGENCY_WINDOW_MS + 1),
                Err(Error::InvalidEmergencyWindow)
            );
            r.set_emergency_window(MAX_EMERGENCY_WINDOW_MS)
                .expect("at the cap");
            assert_eq!(r.emergency_window(), MAX_EMERGENCY_WINDOW_MS);
            set_caller::<Env>(a.bob);
            set_block_timestamp::<Env>(0);
            r.break_glass(a.charlie, EmergencyReason::Other, Hash::default())
                .expect("open");
            assert_eq!(r.emergency(a.charlie, a.bob), Some(MAX_EMERGENCY_WINDOW_MS));
        }

        #[ink::test]
        fn registrar_handover_takes_two_steps() {
            let mut r = setup();
            let a = default_accounts::<Env>();
            set_caller::<Env>(a.alice);
            r.propose_registrar(a.eve).expect("propose");
            assert_eq!(r.registrar(), a.alice, "nothing changes before acceptance");
            assert_eq!(r.pending_registrar(), Some(a.eve));
            set_caller::<Env>(a.eve);
            r.accept_registrar().expect("accept");
            assert_eq!((r.registrar(), r.pending_registrar()), (a.eve, None));
            set_caller::<Env>(a.alice);
            assert_eq!(
                r.register_org(a.frank, Role::App, 0),
                Err(Error::NotRegistrar)
            );
            assert_eq!(r.storage_version(), STORAGE_VERSION);
        }

        // ---- the audit's holes: each test states the promise and fails on this code ----

        #[ink::test]
        fn hole3_break_glass_is_refused_while_a_window_is_open() {
            let mut r = setup();
            let a = default_accounts::<Env>();
            set_caller::<Env>(a.bob);
            r.break_glass(a.charlie, EmergencyReason::Other, Hash::default())
                .expect("first window");
            set_block_timestamp::<Env>(1_000);
            assert!(
                r.break_glass(a.charlie, EmergencyReason::Other, Hash::default())
                    .is_err(),
                "a second window while one is open extends access without end"
            );
        }

        #[ink::test]
        fn hole3_break_glass_is_refused_right_after_the_patient_ended_a_window() {
            let mut r = setup();
            let a = default_accounts::<Env>();
            set_caller::<Env>(a.bob);
            r.break_glass(a.charlie, EmergencyReason::Other, Hash::default())
                .expect("open");
            set_caller::<Env>(a.charlie);
            r.end_emergency(a.bob).expect("the patient ends it");
            set_caller::<Env>(a.bob);
            set_block_timestamp::<Env>(60_000);
            assert!(
                r.break_glass(a.charlie, EmergencyReason::Other, Hash::default())
                    .is_err(),
                "the provider re-opens a window the patient just ended"
            );
        }

        #[ink::test]
        fn hole4_a_delegate_that_is_an_organization_cannot_grant_itself() {
            let mut r = setup();
            let a = default_accounts::<Env>();
            set_caller::<Env>(a.alice);
            r.register_org(a.django, Role::Researcher, 0)
                .expect("the delegate is also an organization");
            set_caller::<Env>(a.django);
            let everything = Scope {
                categories: ALL_CATEGORIES,
                purposes: ALL_PURPOSES,
                access: ALL_ACCESS,
                valid_from: 0,
                expires_at: None,
            };
            assert!(
                r.grant_for(a.charlie, a.django, everything, Hash::default())
                    .is_err(),
                "a delegate grants itself everything, forever"
            );
        }

        #[ink::test]
        fn hole4_a_delegates_grant_ends_no_later_than_the_delegation() {
            let mut r = setup();
            let a = default_accounts::<Env>();
            set_caller::<Env>(a.alice);
            r.register_org(a.eve, Role::Insurer, 0).expect("register");
            set_caller::<Env>(a.django);
            let scope = Scope {
                categories: DataCategory::Billing.bit(),
                purposes: Purpose::Payment.bit(),
                access: Access::Read.bit(),
                valid_from: 0,
                expires_at: None,
            };
            assert!(
                r.grant_for(a.charlie, a.eve, scope, Hash::default())
                    .is_err(),
                "the delegation ends at 10_000 but the consent never does"
            );
        }

        #[ink::test]
        fn hole4_delegations_have_a_maximum_length() {
            let mut r = setup();
            let a = default_accounts::<Env>();
            set_caller::<Env>(a.charlie);
            assert!(
                r.set_delegate(a.eve, u64::MAX).is_err(),
                "a delegation that never ends is not 'always expiring'"
            );
        }

        #[ink::test]
        fn hole6_an_unregistered_account_cannot_write_the_access_log() {
            let mut r = setup();
            let a = default_accounts::<Env>();
            set_caller::<Env>(a.frank);
            let before = recorded_events().count();
            let result = r.record_access(
                a.charlie,
                DataCategory::MentalHealth.bit(),
                Purpose::Research,
                Hash::default(),
            );
            assert!(result.is_err(), "a stranger logs under the patient's topic");
            assert_eq!(recorded_events().count(), before);
        }

        #[ink::test]
        fn record_access_flags_emergency_reads_and_refuses_bad_sets() {
            let mut r = setup();
            let a = default_accounts::<Env>();
            set_caller::<Env>(a.bob);
            r.break_glass(a.charlie, EmergencyReason::Other, Hash::default())
                .expect("open");
            let both = DataCategory::LabResults.bit() | DataCategory::Imaging.bit();
            assert_eq!(
                r.record_access(a.charlie, both, Purpose::Treatment, Hash::default()),
                Ok(true)
            );
            let event = recorded_events().last().expect("event");
            let recorded = AccessRecorded::decode(&mut &event.data[..]).expect("decodes");
            assert!(recorded.emergency, "imaging was only covered by the window");
            let labs = DataCategory::LabResults.bit();
            r.record_access(a.charlie, labs, Purpose::Treatment, Hash::default())
                .expect("labs");
            let event = recorded_events().last().expect("event");
            let recorded = AccessRecorded::decode(&mut &event.data[..]).expect("decodes");
            assert!(!recorded.emergency);
            assert_eq!(
                r.record_access(a.charlie, 0, Purpose::Treatment, Hash::default()),
                Err(Error::InvalidCategories)
            );
            let genomics = DataCategory::Genomics.bit();
            assert_eq!(
                r.record_access(a.charlie, genomics, Purpose::Treatment, Hash::default()),
                Ok(false)
            );
            let event = recorded_events().last().expect("event");
            let denied = AccessDenied::decode(&mut &event.data[..]).expect("the alert");
            assert_eq!((denied.patient, denied.accessor), (a.charlie, a.bob));
        }
    }

    /// Random sequences of grants, revocations, delegations, suspensions, emergencies and time
    /// steps, checked against a plain-Rust model of the authorization rule.
    #[cfg(test)]
    mod model_check {
        use super::*;
        use ink::env::test::{set_block_timestamp, set_callee, set_caller};
        use ink::env::DefaultEnvironment;
        use proptest::prelude::*;
        use std::collections::HashMap;

        type Env = DefaultEnvironment;

        // Accounts: 0 registrar, 1-2 patients, 3 emergency provider, 4 insurer,
        // 5 unregistered, 6 delegate.
        fn acc(i: u8) -> AccountId {
            AccountId::from([i + 1; 32])
        }
        const PATIENTS: [u8; 2] = [1, 2];
        const GRANTEES: [u8; 3] = [3, 4, 5];
        const CATEGORIES: [DataCategory; 3] = [
            DataCategory::LabResults,
            DataCategory::Imaging,
            DataCategory::Genomics,
        ];
        const PURPOSES: [Purpose; 2] = [Purpose::Treatment, Purpose::Payment];
        const ACCESS: [Access; 2] = [Access::Read, Access::Write];
        const WINDOW: u64 = DEFAULT_EMERGENCY_WINDOW_MS;

        #[derive(Debug, Clone)]
        enum Step {
            Grant {
                patient: u8,
                grantee: u8,
                categories: u16,
                purposes: u8,
                access: u8,
                from: u64,
                until: Option<u64>,
            },
            GrantByDelegate {
                patient: u8,
                grantee: u8,
                categories: u16,
            },
            Revoke {
                patient: u8,
                grantee: u8,
            },
            Delegate {
                patient: u8,
                until: u64,
            },
            Suspend {
                org: u8,
            },
            Reinstate {
                org: u8,
            },
            BreakGlass {
                patient: u8,
            },
            EndEmergency {
                patient: u8,
            },
            Advance {
                ms: u64,
            },
        }

        fn step() -> impl Strategy<Value = Step> {
            let patient = prop::sample::select(PATIENTS.to_vec());
            let grantee = prop::sample::select(GRANTEES.to_vec());
            let org = prop::sample::select(vec![3u8, 4]);
            let cats = 0u16..(1 << 6);
            prop_oneof![
                (
                    patient.clone(),
                    grantee.clone(),
                    cats.clone(),
                    0u8..4,
                    0u8..4,
                    0u64..20_000,
                    prop::option::of(0u64..40_000)
                )
                    .prop_map(
                        |(patient, grantee, categories, purposes, access, from, until)| {
                            Step::Grant {
                                patient,
                                grantee,
                                categories,
                                purposes,
                                access,
                                from,
                                until,
                            }
                        }
                    ),
                (patient.clone(), grantee.clone(), cats).prop_map(
                    |(patient, grantee, categories)| Step::GrantByDelegate {
                        patient,
                        grantee,
                        categories
                    }
                ),
                (patient.clone(), grantee)
                    .prop_map(|(patient, grantee)| Step::Revoke { patient, grantee }),
                (patient.clone(), 0u64..40_000)
                    .prop_map(|(patient, until)| Step::Delegate { patient, until }),
                org.clone().prop_map(|org| Step::Suspend { org }),
                org.prop_map(|org| Step::Reinstate { org }),
                patient
                    .clone()
                    .prop_map(|patient| Step::BreakGlass { patient }),
                patient.prop_map(|patient| Step::EndEmergency { patient }),
                (0u64..WINDOW * 2).prop_map(|ms| Step::Advance { ms }),
            ]
        }

        /// A consent in the model: categories, purposes, access, from, until, revoked.
        type ModelConsent = (u16, u8, u8, u64, Option<u64>, bool);

        /// The rule, written out plainly.
        #[derive(Default)]
        struct Model {
            now: u64,
            suspended: HashMap<u8, bool>,
            consents: HashMap<(u8, u8), ModelConsent>,
            delegate_until: HashMap<u8, u64>,
            emergency_until: HashMap<u8, u64>,
        }

        impl Model {
            fn registered(&self, org: u8) -> bool {
                org == 3 || org == 4
            }

            fn authorized(
                &self,
                patient: u8,
                grantee: u8,
                c: DataCategory,
                p: Purpose,
                a: Access,
            ) -> bool {
                if !self.registered(grantee)
                    || self.suspended.get(&grantee).copied().unwrap_or(false)
                {
                    return false;
                }
                let by_consent = self.consents.get(&(patient, grantee)).is_some_and(
                    |&(cats, purps, access, from, until, revoked)| {
                        !revoked
                            && from <= self.now
                            && until.is_none_or(|u| self.now < u)
                            && cats & c.bit() != 0
                            && purps & p.bit() != 0
                            && access & a.bit() != 0
                    },
                );
                let by_emergency = grantee == 3
                    && a == Access::Read
                    && p == Purpose::Treatment
                    && !c.is_sensitive()
                    && self
                        .emergency_until
                        .get(&patient)
                        .is_some_and(|&u| self.now < u);
                by_consent || by_emergency
            }

            fn grant_ok(
                &self,
                grantee: u8,
                categories: u16,
                purposes: u8,
                access: u8,
                from: u64,
                until: Option<u64>,
            ) -> bool {
                self.registered(grantee)
                    && categories != 0
                    && purposes != 0
                    && access != 0
                    && until.is_none_or(|u| u > from)
            }
        }

        fn run(steps: &[Step]) -> core::result::Result<(), TestCaseError> {
            // a fresh contract account per case keeps storage apart
            std::thread_local!(static CASES: core::cell::Cell<u32> = const { core::cell::Cell::new(0) });
            let n = CASES.with(|c| {
                c.set(c.get() + 1);
                c.get()
            });
            let mut contract = [0xdd; 32];
            contract[..4].copy_from_slice(&n.to_le_bytes());
            set_callee::<Env>(AccountId::from(contract));
            set_block_timestamp::<Env>(0);
            set_caller::<Env>(acc(0));
            let mut r = ConsentRegistry::new();
            r.register_org(acc(3), Role::Provider, FLAG_EMERGENCY)
                .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            r.register_org(acc(4), Role::Insurer, 0)
                .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            let mut m = Model::default();

            for step in steps {
                let (result, expected_ok) = match step.clone() {
                    Step::Grant {
                        patient,
                        grantee,
                        categories,
                        purposes,
                        access,
                        from,
                        until,
                    } => {
                        set_caller::<Env>(acc(patient));
                        let ok = m.grant_ok(grantee, categories, purposes, access, from, until);
                        let res = r.grant(
                            acc(grantee),
                            categories,
                            purposes,
                            access,
                            from,
                            until,
                            Hash::default(),
                        );
                        if ok {
                            m.consents.insert(
                                (patient, grantee),
                                (categories, purposes, access, from, until, false),
                            );
                        }
                        (res.is_ok(), ok)
                    }
                    Step::GrantByDelegate {
                        patient,
                        grantee,
                        categories,
                    } => {
                        set_caller::<Env>(acc(6));
                        let is_delegate =
                            m.delegate_until.get(&patient).is_some_and(|&u| m.now < u);
                        let ok = is_delegate && m.grant_ok(grantee, categories, 1, 1, 0, None);
                        let scope = Scope {
                            categories,
                            purposes: 1,
                            access: 1,
                            valid_from: 0,
                            expires_at: None,
                        };
                        let res = r.grant_for(acc(patient), acc(grantee), scope, Hash::default());
                        if ok {
                            m.consents
                                .insert((patient, grantee), (categories, 1, 1, 0, None, false));
                        }
                        (res.is_ok(), ok)
                    }
                    Step::Revoke { patient, grantee } => {
                        set_caller::<Env>(acc(patient));
                        let entry = m.consents.get_mut(&(patient, grantee)).filter(|c| !c.5);
                        let ok = entry.is_some();
                        if let Some(c) = entry {
                            c.5 = true;
                        }
                        (r.revoke(acc(grantee)).is_ok(), ok)
                    }
                    Step::Delegate { patient, until } => {
                        set_caller::<Env>(acc(patient));
                        let ok = until > m.now;
                        if ok {
                            m.delegate_until.insert(patient, until);
                        }
                        (r.set_delegate(acc(6), until).is_ok(), ok)
                    }
                    Step::Suspend { org } => {
                        set_caller::<Env>(acc(0));
                        let ok = !m.suspended.get(&org).copied().unwrap_or(false);
                        m.suspended.insert(org, true);
                        (r.suspend_org(acc(org)).is_ok(), ok)
                    }
                    Step::Reinstate { org } => {
                        set_caller::<Env>(acc(0));
                        let ok = m.suspended.get(&org).copied().unwrap_or(false);
                        m.suspended.insert(org, false);
                        (r.reinstate_org(acc(org)).is_ok(), ok)
                    }
                    Step::BreakGlass { patient } => {
                        set_caller::<Env>(acc(3));
                        let ok = !m.suspended.get(&3).copied().unwrap_or(false);
                        if ok {
                            m.emergency_until.insert(patient, m.now + WINDOW);
                        }
                        (
                            r.break_glass(acc(patient), EmergencyReason::Other, Hash::default())
                                .is_ok(),
                            ok,
                        )
                    }
                    Step::EndEmergency { patient } => {
                        set_caller::<Env>(acc(patient));
                        let ok = m.emergency_until.get(&patient).is_some_and(|&u| m.now < u);
                        if ok {
                            m.emergency_until.remove(&patient);
                        }
                        (r.end_emergency(acc(3)).is_ok(), ok)
                    }
                    Step::Advance { ms } => {
                        m.now += ms;
                        set_block_timestamp::<Env>(m.now);
                        (true, true)
                    }
                };
                prop_assert_eq!(result, expected_ok, "step {:?} at {}", step, m.now);
                for p in PATIENTS {
                    for g in GRANTEES {
                        for c in CATEGORIES {
                            for purpose in PURPOSES {
                                for a in ACCESS {
                                    prop_assert_eq!(
                                        r.is_authorized(acc(p), acc(g), c, purpose, a),
                                        m.authorized(p, g, c, purpose, a),
                                        "patient {} grantee {} {:?} {:?} {:?} after {:?} at {}",
                                        p,
                                        g,
                                        c,
                                        purpose,
                                        a,
                                        step,
                                        m.now
                                    );
                                }
                            }
                        }
                    }
                }
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

            #[test]
            fn is_authorized_matches_the_model(steps in prop::collection::vec(step(), 1..40)) {
                let outcome = std::cell::RefCell::new(Ok(()));
                ink::env::test::run_test::<Env, _>(|_| {
                    *outcome.borrow_mut() = run(&steps);
                    Ok(())
                })
                .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                outcome.into_inner()?;
            }
        }
    }

    #[cfg(all(test, feature = "e2e-tests"))]
    mod e2e_tests {
        use super::*;
        use ink::env::Event;
        use ink::scale::Decode;
        use ink_e2e::ContractsBackend;
        use medledger_events::{
            AccessDenied, AccessRecorded, ContractUpgraded, EmergencyAccessEnded,
            EmergencyAccessOpened, OrgReinstated, OrgSuspended, RegistrarChanged,
        };

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

        /// The decoded events of type `E` a call emitted, via the shared event types.
        fn events_of<E: Event + Decode>(
            emitted: &[ink_e2e::events::EventWithTopics<
                ink_e2e::events::ContractEmitted<ink::env::DefaultEnvironment>,
            >],
        ) -> Vec<E> {
            emitted
                .iter()
                .filter(|e| e.topics.first().map(|t| t.0) == E::SIGNATURE_TOPIC)
                .filter_map(|e| E::decode(&mut &e.event.data[..]).ok())
                .collect()
        }

        #[ink_e2e::test]
        async fn every_message_works_on_a_node<Client: E2EBackend>(
            mut client: Client,
        ) -> E2EResult<()> {
            let mut ctor = ConsentRegistryRef::new();
            let contract = client
                .instantiate("medledger-consent", &ink_e2e::alice(), &mut ctor)
                .submit()
                .await
                .expect("instantiate");
            let mut r = contract.call_builder::<ConsentRegistry>();
            let id = ink_e2e::account_id;
            use ink_e2e::AccountKeyring::{Alice, Bob, Charlie, Dave, Eve, Ferdie};
            let (alice, bob, charlie, dave, eve, ferdie) = (
                id(Alice),
                id(Bob),
                id(Charlie),
                id(Dave),
                id(Eve),
                id(Ferdie),
            );

            // registrar: organizations, suspension, handover, emergency window
            let out = client
                .call(
                    &ink_e2e::alice(),
                    &r.register_org(bob, Role::Provider, FLAG_EMERGENCY),
                )
                .submit()
                .await?;
            let registered: Vec<OrgRegistered> = events_of(&out.contract_emitted_events()?);
            assert_eq!(registered.len(), 1);
            assert_eq!(
                (registered[0].org, registered[0].flags),
                (bob, FLAG_EMERGENCY)
            );
            client
                .call(
                    &ink_e2e::alice(),
                    &r.register_org(charlie, Role::Insurer, 0),
                )
                .submit()
                .await?;
            let out = client
                .call(&ink_e2e::alice(), &r.suspend_org(charlie))
                .submit()
                .await?;
            assert_eq!(
                events_of::<OrgSuspended>(&out.contract_emitted_events()?).len(),
                1
            );
            let out = client
                .call(&ink_e2e::alice(), &r.reinstate_org(charlie))
                .submit()
                .await?;
            assert_eq!(
                events_of::<OrgReinstated>(&out.contract_emitted_events()?).len(),
                1
            );
            client
                .call(&ink_e2e::alice(), &r.propose_registrar(ferdie))
                .submit()
                .await?;
            let out = client
                .call(&ink_e2e::ferdie(), &r.accept_registrar())
                .submit()
                .await?;
            let changed: Vec<RegistrarChanged> = events_of(&out.contract_emitted_events()?);
            assert_eq!((changed[0].previous, changed[0].registrar), (alice, ferdie));
            client
                .call(&ink_e2e::ferdie(), &r.propose_registrar(alice))
                .submit()
                .await?;
            client
                .call(&ink_e2e::alice(), &r.accept_registrar())
                .submit()
                .await?;
            client
                .call(&ink_e2e::alice(), &r.set_emergency_window(60 * 60 * 1000))
                .submit()
                .await?;

            // patient, delegate
            let scope = Scope {
                categories: DataCategory::LabResults.bit(),
                purposes: Purpose::Treatment.bit() | Purpose::Payment.bit(),
                access: Access::Read.bit(),
                valid_from: 0,
                expires_at: None,
            };
            client
                .call(
                    &ink_e2e::dave(),
                    &r.grant(
                        bob,
                        scope.categories,
                        scope.purposes,
                        scope.access,
                        0,
                        None,
                        Hash::default(),
                    ),
                )
                .submit()
                .await?;
            client
                .call(&ink_e2e::dave(), &r.set_delegate(eve, u64::MAX))
                .submit()
                .await?;
            let out = client
                .call(
                    &ink_e2e::eve(),
                    &r.grant_for(dave, charlie, scope, Hash::from([1; 32])),
                )
                .submit()
                .await?;
            let granted: Vec<ConsentGranted> = events_of(&out.contract_emitted_events()?);
            assert_eq!((granted[0].patient, granted[0].by), (dave, eve));
            let out = client
                .call(&ink_e2e::eve(), &r.revoke_for(dave, charlie))
                .submit()
                .await?;
            let revoked: Vec<ConsentRevoked> = events_of(&out.contract_emitted_events()?);
            assert_eq!((revoked[0].patient, revoked[0].by), (dave, eve));

            // emergency: open, ended by the delegate, opened again, ended by the patient
            let out = client
                .call(
                    &ink_e2e::bob(),
                    &r.break_glass(dave, EmergencyReason::LifeThreatening, Hash::from([2; 32])),
                )
                .submit()
                .await?;
            let opened: Vec<EmergencyAccessOpened> = events_of(&out.contract_emitted_events()?);
            assert_eq!((opened[0].patient, opened[0].provider), (dave, bob));
            let imaging = r.is_authorized(
                dave,
                bob,
                DataCategory::Imaging,
                Purpose::Treatment,
                Access::Read,
            );
            assert!(client
                .call(&ink_e2e::alice(), &imaging)
                .dry_run()
                .await?
                .return_value());
            client
                .call(&ink_e2e::eve(), &r.end_emergency_for(dave, bob))
                .submit()
                .await?;
            assert!(!client
                .call(&ink_e2e::alice(), &imaging)
                .dry_run()
                .await?
                .return_value());
            client
                .call(
                    &ink_e2e::bob(),
                    &r.break_glass(dave, EmergencyReason::Other, Hash::default()),
                )
                .submit()
                .await?;
            let out = client
                .call(&ink_e2e::dave(), &r.end_emergency(bob))
                .submit()
                .await?;
            let ended: Vec<EmergencyAccessEnded> = events_of(&out.contract_emitted_events()?);
            assert_eq!(ended[0].by, dave);
            client
                .call(&ink_e2e::dave(), &r.remove_delegate(eve))
                .submit()
                .await?;
            let refused = client
                .call(&ink_e2e::eve(), &r.revoke_for(dave, bob))
                .dry_run()
                .await?;
            assert_eq!(refused.return_value(), Err(Error::NotDelegate));

            // record_access: allowed, and denied without reverting
            let labs = DataCategory::LabResults.bit();
            let out = client
                .call(
                    &ink_e2e::bob(),
                    &r.record_access(dave, labs, Purpose::Treatment, Hash::from([3; 32])),
                )
                .submit()
                .await?;
            assert_eq!(
                events_of::<AccessRecorded>(&out.contract_emitted_events()?).len(),
                1
            );
            let out = client
                .call(
                    &ink_e2e::charlie(),
                    &r.record_access(dave, labs, Purpose::Treatment, Hash::from([3; 32])),
                )
                .submit()
                .await?;
            let denied: Vec<AccessDenied> = events_of(&out.contract_emitted_events()?);
            assert_eq!((denied[0].patient, denied[0].accessor), (dave, charlie));

            // upgrade: the registrar switches code (here to the uploaded same build); state stays
            let code_hash = client
                .upload("medledger-consent", &ink_e2e::alice())
                .submit()
                .await
                .expect("upload")
                .code_hash;
            let refused = client
                .call(&ink_e2e::bob(), &r.upgrade(code_hash))
                .dry_run()
                .await?;
            assert_eq!(refused.return_value(), Err(Error::NotRegistrar));
            let out = client
                .call(&ink_e2e::alice(), &r.upgrade(code_hash))
                .submit()
                .await?;
            let upgraded: Vec<ContractUpgraded> = events_of(&out.contract_emitted_events()?);
            assert_eq!(upgraded[0].code_hash, code_hash);
            let labs_read = r.is_authorized(
                dave,
                bob,
                DataCategory::LabResults,
                Purpose::Treatment,
                Access::Read,
            );
            assert!(client
                .call(&ink_e2e::alice(), &labs_read)
                .dry_run()
                .await?
                .return_value());
            let registrar = client
                .call(&ink_e2e::alice(), &r.registrar())
                .dry_run()
                .await?;
            assert_eq!(registrar.return_value(), alice);
            Ok(())
        }
    }
}
