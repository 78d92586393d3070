//! ConsentRegistry: the patients' consents and the registered organizations they grant to.
//!
//! A registrar (a health authority's account) registers organizations with a [`Role`] and the
//! name, kind and identifiers people recognize them by, and upgrades both contracts only after
//! announcing it and waiting a public delay. A patient
//! grants one consent per grantee, naming data categories, purposes, access and a validity
//! window, and may revoke it at any time; delegates (guardians, proxies) may do so for a
//! bounded time; emergency providers may break glass for a bounded window the patient can end
//! and forbid. [`ConsentRegistry::is_authorized`] is the one rule everybody (the
//! RecordRegistry, insurers, the indexer's users) relies on.
//!
//! The contract stores no health data: only bit sets, timestamps and salted hashes of
//! off-chain documents. It never iterates over user-sized collections.
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

/// The ConsentRegistry contract.
#[ink::contract]
pub mod consent_registry {
    use ink::codegen::TraitCallBuilder;
    use ink::env::call::FromAccountId;
    use ink::env::CallFlags;
    use ink::prelude::vec::Vec;
    use ink::storage::{Lazy, Mapping};
    use medledger_events::{
        Access, AccessSet, CategorySet, ConsentGranted, ConsentRevoked, ContractUpgraded,
        DataCategory, DelegateRemoved, DelegateSet, EmergencyAccessEnded, EmergencyAccessOpened,
        EmergencyBlockChanged, EmergencyReason, OrgRegistered, OrgReinstated, OrgSuspended,
        OrgUpdated, PendingUpgrade, Policy, PolicyChanged, Purpose, PurposeSet, RegistrarChanged,
        RegistrarProposed, Role, UpgradeAnnounced, UpgradeCancelled, UpgradeTerms, ALL_ACCESS,
        ALL_CATEGORIES, ALL_PURPOSES, FLAG_EMERGENCY, KNOWN_FLAGS, MAX_PROFILE_BYTES,
    };

    /// The layout version of this build's storage. An upgrade migrates older storage to it.
    /// Version 1 was the second release; version 2 (the third release) adds organization
    /// profiles, the upgrade delay and announced upgrades, all in new cells that read as
    /// empty from version 1 storage.
    #[cfg(not(feature = "test-next"))]
    pub const STORAGE_VERSION: u32 = 2;
    /// The layout version of the test-only next build (feature `test-next`), which exists to
    /// prove upgrades: it migrates version 2 storage to 3.
    #[cfg(feature = "test-next")]
    pub const STORAGE_VERSION: u32 = 3;

    const HOUR_MS: Timestamp = 60 * 60 * 1000;
    const DAY_MS: Timestamp = 24 * HOUR_MS;

    /// The limits a new registry starts with: 4 h emergency windows, a 24 h cool-down after
    /// a patient ends one, delegations of at most a year.
    pub const DEFAULT_POLICY: Policy = Policy {
        emergency_window_ms: 4 * HOUR_MS,
        emergency_cooldown_ms: DAY_MS,
        max_delegation_ms: 365 * DAY_MS,
    };
    /// The longest the registrar may make a break-glass window: 24 hours.
    pub const MAX_EMERGENCY_WINDOW_MS: Timestamp = DAY_MS;
    /// The longest the registrar may make the cool-down: 30 days.
    pub const MAX_EMERGENCY_COOLDOWN_MS: Timestamp = 30 * DAY_MS;
    /// The longest the registrar may allow delegations: 20 years (a guardian's term until a
    /// newborn comes of age).
    pub const MAX_DELEGATION_MS: Timestamp = 20 * 365 * DAY_MS;
    /// How long an announced upgrade waits before it may be applied, unless the registry was
    /// created with another delay: 7 days.
    pub const DEFAULT_UPGRADE_DELAY_MS: Timestamp = 7 * DAY_MS;
    /// The longest upgrade delay: 90 days.
    pub const MAX_UPGRADE_DELAY_MS: Timestamp = 90 * DAY_MS;

    /// A registered organization.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct Org {
        /// What it is registered as.
        pub role: Role,
        /// Its flags (see [`FLAG_EMERGENCY`]).
        pub flags: u32,
        /// False while suspended by the registrar.
        pub active: bool,
    }

    /// The consent of one (patient, grantee) pair.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct Consent {
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
        /// Whether the patient (or a delegate) revoked it.
        pub revoked: bool,
        /// Who granted it: the patient, or a delegate. A delegate's grant is in force only
        /// while the delegation it was made under lasts.
        pub by: AccountId,
        /// Block time of the grant.
        pub granted_at: Timestamp,
    }

    /// A patient's appointment of a delegate.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct Delegation {
        /// Block time of the appointment. Extending a live delegation keeps it; appointing
        /// again after it ended or was removed starts a new one, under which the old grants
        /// do not revive.
        pub since: Timestamp,
        /// When the delegation ends (block time, exclusive).
        pub expires_at: Timestamp,
    }

    /// Break-glass state of one (patient, provider) pair.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct Emergency {
        /// When the current or last window ends (block time, exclusive); 0 if none was
        /// ever opened. A window the patient ended ends at the time they ended it.
        pub ends_at: Timestamp,
        /// The provider may not break glass for the patient before this time.
        pub cooldown_until: Timestamp,
        /// Whether the patient forbade this provider to break glass. While blocked, an open
        /// window gives no access either.
        pub blocked: bool,
    }

    /// What a consent allows, as `grant_for` takes it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub struct Scope {
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
    }

    /// Where an organization stands towards a patient, for a role, purpose and access in any
    /// data category: the answer of [`ConsentRegistry::consents_to`]. Emergency windows do
    /// not count.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub enum Standing {
        /// Not a registered organization, or registered with another role.
        NotInRole,
        /// Registered in the role, but suspended.
        Suspended,
        /// Active in the role, with no consent in force covering the purpose and access.
        NoConsent,
        /// Active in the role, with a consent in force covering the purpose and access.
        Consented,
    }

    /// The rule's answer for a declared read of several categories: the answer of
    /// [`ConsentRegistry::access_verdict`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub enum AccessVerdict {
        /// The accessor is not a registered organization.
        Unregistered,
        /// The rule refuses at least one of the categories.
        Denied,
        /// Consents allow every category.
        ByConsent,
        /// Every category is allowed, at least one only by an open emergency window.
        ByEmergency,
        /// The accessor is a registered organization, suspended by the registrar.
        Suspended,
    }

    /// The ConsentRegistry's storage. Every field is a `Lazy` cell or a `Mapping`, each
    /// under its own key, so the root holds no bytes: a later build that adds fields still
    /// loads this storage, and its `migrate` can transform it.
    #[ink(storage)]
    pub struct ConsentRegistry {
        /// Who registers organizations, sets the policy and upgrades both contracts.
        registrar: Lazy<AccountId>,
        /// The proposed next registrar, until they accept.
        pending_registrar: Lazy<Option<AccountId>>,
        /// The emergency and delegation limits.
        policy: Lazy<Policy>,
        /// The layout version of this storage.
        storage_version: Lazy<u32>,
        /// account -> its registration.
        orgs: Mapping<AccountId, Org>,
        /// (patient, grantee) -> the pair's consent, revoked or not.
        consents: Mapping<(AccountId, AccountId), Consent>,
        /// (patient, delegate) -> the delegation.
        delegates: Mapping<(AccountId, AccountId), Delegation>,
        /// (patient, provider) -> break-glass state.
        emergencies: Mapping<(AccountId, AccountId), Emergency>,
        /// account -> the organization's name, kind and identifiers (layout 2; organizations
        /// registered before have none until the registrar sets one).
        profiles: Mapping<AccountId, Vec<u8>>,
        /// How long an announced upgrade of either contract waits, and the upgrade announced
        /// for this contract, if any (layout 2; unset reads as [`DEFAULT_UPGRADE_DELAY_MS`]
        /// and none).
        upgrades: Lazy<UpgradeTerms>,
        /// Test-only next build: when the storage was migrated to layout 3.
        #[cfg(feature = "test-next")]
        migrated_at: Lazy<Timestamp>,
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
        /// A limit of the policy is zero where it may not be, or above its hard cap.
        InvalidPolicy,
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
        /// A delegate cannot act for itself: no consent to itself, no block or emergency window
        /// of its own.
        DelegateActsForItself,
        /// A delegate's grant must end, and no later than the delegation.
        OutlivesDelegation,
        /// The delegation would last longer than the policy allows.
        DelegationTooLong,
        /// Only active providers flagged EMERGENCY may break the glass.
        NotEmergencyProvider,
        /// The patient forbade this provider to break glass.
        EmergencyBlocked,
        /// The provider already has an open window on this patient.
        EmergencyOpen,
        /// The patient ended this provider's last window; the cool-down has not passed.
        EmergencyCoolingDown,
        /// The provider has no window on this patient to end: none was opened, or the last one
        /// was ended already.
        NoWindowToEnd,
        /// `set_code_hash` failed, or the new code could not migrate the storage; nothing
        /// changed.
        UpgradeFailed,
        /// `migrate` runs only inside an upgrade, called by the contract itself.
        NotUpgrading,
        /// The storage is of a layout version this code cannot migrate from.
        UnsupportedStorageVersion,
        /// A counter or a time would overflow.
        Overflow,
        /// The profile is empty or longer than `MAX_PROFILE_BYTES` (512 bytes).
        InvalidProfile,
        /// The organization is suspended: a consent to it would be of no use until the
        /// registrar reinstates it.
        GranteeSuspended,
        /// The provider is already blocked, or is not blocked, as asked.
        BlockUnchanged,
        /// No upgrade to this code was announced.
        UpgradeNotAnnounced,
        /// The announced upgrade's delay has not passed yet.
        UpgradeTooEarly,
    }

    /// The result of a ConsentRegistry message.
    pub type Result<T> = core::result::Result<T, Error>;

    impl ConsentRegistry {
        /// Creates the registry with the caller as its registrar, the default policy and
        /// the default upgrade delay ([`DEFAULT_UPGRADE_DELAY_MS`]).
        #[ink(constructor)]
        pub fn new() -> Self {
            Self::created(DEFAULT_UPGRADE_DELAY_MS)
        }

        /// Creates the registry as [`Self::new`] does, with upgrades waiting `delay_ms`
        /// after their announcement instead (a test or dev chain may want none). The delay
        /// is public from the first block and fixed: no message changes it, only the
        /// migration of an announced upgrade could.
        ///
        /// # Errors
        /// [`Error::InvalidPolicy`] above [`MAX_UPGRADE_DELAY_MS`].
        #[ink(constructor)]
        pub fn with_upgrade_delay(delay_ms: Timestamp) -> Result<Self> {
            if delay_ms > MAX_UPGRADE_DELAY_MS {
                return Err(Error::InvalidPolicy);
            }
            Ok(Self::created(delay_ms))
        }

        fn created(upgrade_delay_ms: Timestamp) -> Self {
            let mut registry = Self {
                registrar: Lazy::new(),
                pending_registrar: Lazy::new(),
                policy: Lazy::new(),
                storage_version: Lazy::new(),
                orgs: Mapping::default(),
                consents: Mapping::default(),
                delegates: Mapping::default(),
                emergencies: Mapping::default(),
                profiles: Mapping::default(),
                upgrades: Lazy::new(),
                #[cfg(feature = "test-next")]
                migrated_at: Lazy::new(),
            };
            registry.registrar.set(&Self::env().caller());
            registry.pending_registrar.set(&None);
            registry.policy.set(&DEFAULT_POLICY);
            registry.upgrades.set(&UpgradeTerms {
                delay_ms: upgrade_delay_ms,
                pending: None,
            });
            registry.storage_version.set(&STORAGE_VERSION);
            registry
        }

        // ---- registrar -------------------------------------------------------------------

        /// Registers `account` as an organization with `role`, `flags` and the `profile`
        /// people recognize it by: its name, kind and identifiers, as the SCALE encoding of a
        /// `medledger_events::OrgProfile` (see `OrgProfile::to_bytes`).
        ///
        /// # Errors
        /// - [`Error::NotRegistrar`] unless the caller is the registrar.
        /// - [`Error::UnknownFlags`] if `flags` has bits beyond the known flags.
        /// - [`Error::InvalidProfile`] if the profile is empty or over 512 bytes.
        /// - [`Error::AlreadyRegistered`] if `account` is registered already.
        #[ink(message)]
        pub fn register_org(
            &mut self,
            account: AccountId,
            role: Role,
            flags: u32,
            profile: Vec<u8>,
        ) -> Result<()> {
            self.ensure_registrar()?;
            if flags & !KNOWN_FLAGS != 0 {
                return Err(Error::UnknownFlags);
            }
            ensure_profile_bounded(&profile)?;
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
            self.profiles.insert(account, &profile);
            self.env().emit_event(OrgRegistered {
                org: account,
                role,
                flags,
                profile,
            });
            Ok(())
        }

        /// Replaces an organization's name, kind and identifiers (suspended or not).
        ///
        /// # Errors
        /// [`Error::NotRegistrar`], [`Error::InvalidProfile`], [`Error::NotRegistered`].
        #[ink(message)]
        pub fn update_org(&mut self, account: AccountId, profile: Vec<u8>) -> Result<()> {
            self.ensure_registrar()?;
            ensure_profile_bounded(&profile)?;
            if !self.orgs.contains(account) {
                return Err(Error::NotRegistered);
            }
            self.profiles.insert(account, &profile);
            self.env().emit_event(OrgUpdated {
                org: account,
                profile,
            });
            Ok(())
        }

        /// Suspends an organization: every access and every write it had ends at once.
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
            let current = self.ensure_registrar()?;
            self.pending_registrar.set(&Some(proposed));
            self.env()
                .emit_event(RegistrarProposed { current, proposed });
            Ok(())
        }

        /// The proposed registrar takes over.
        ///
        /// # Errors
        /// [`Error::NotProposedRegistrar`] unless the caller is the proposed registrar.
        #[ink(message)]
        pub fn accept_registrar(&mut self) -> Result<()> {
            let caller = self.env().caller();
            if self.proposed_registrar() != Some(caller) {
                return Err(Error::NotProposedRegistrar);
            }
            let previous = self.registrar();
            self.registrar.set(&caller);
            self.pending_registrar.set(&None);
            self.env().emit_event(RegistrarChanged {
                previous,
                registrar: caller,
            });
            Ok(())
        }

        /// Sets the emergency and delegation limits. The window length applies to windows
        /// opened from now on, the delegation limit to delegations appointed from now on, and
        /// the cool-down to every window that has not cooled down yet (however it ended; a
        /// cool-down a patient's ending started is never shortened). A cool-down of zero lets
        /// a provider break glass again as soon as its window ends: for test and dev chains.
        ///
        /// # Errors
        /// [`Error::NotRegistrar`]; [`Error::InvalidPolicy`] for an emergency window of zero
        /// or above [`MAX_EMERGENCY_WINDOW_MS`], a cool-down above
        /// [`MAX_EMERGENCY_COOLDOWN_MS`], or a delegation limit of zero or above
        /// [`MAX_DELEGATION_MS`].
        #[ink(message)]
        pub fn set_policy(&mut self, policy: Policy) -> Result<()> {
            self.ensure_registrar()?;
            let valid = (1..=MAX_EMERGENCY_WINDOW_MS).contains(&policy.emergency_window_ms)
                && policy.emergency_cooldown_ms <= MAX_EMERGENCY_COOLDOWN_MS
                && (1..=MAX_DELEGATION_MS).contains(&policy.max_delegation_ms);
            if !valid {
                return Err(Error::InvalidPolicy);
            }
            self.policy.set(&policy);
            self.env().emit_event(PolicyChanged { policy });
            Ok(())
        }

        /// Announces that this contract will switch to the uploaded `code_hash`, no sooner
        /// than the upgrade delay from now. Patients and apps watching `UpgradeAnnounced` can
        /// read the new code, and leave, before it applies. A new announcement replaces an
        /// earlier one (and its delay starts again).
        ///
        /// # Errors
        /// [`Error::NotRegistrar`]; [`Error::Overflow`].
        #[ink(message)]
        pub fn announce_upgrade(&mut self, code_hash: Hash) -> Result<()> {
            self.ensure_registrar()?;
            let mut terms = self.upgrade_terms();
            let effective_at = self
                .env()
                .block_timestamp()
                .checked_add(terms.delay_ms)
                .ok_or(Error::Overflow)?;
            terms.pending = Some(PendingUpgrade {
                code_hash,
                effective_at,
            });
            self.upgrades.set(&terms);
            self.env().emit_event(UpgradeAnnounced {
                code_hash,
                effective_at,
            });
            Ok(())
        }

        /// Withdraws the announced upgrade.
        ///
        /// # Errors
        /// [`Error::NotRegistrar`]; [`Error::UpgradeNotAnnounced`] when none is.
        #[ink(message)]
        pub fn cancel_upgrade(&mut self) -> Result<()> {
            self.ensure_registrar()?;
            let mut terms = self.upgrade_terms();
            let pending = terms.pending.take().ok_or(Error::UpgradeNotAnnounced)?;
            self.upgrades.set(&terms);
            self.env().emit_event(UpgradeCancelled {
                code_hash: pending.code_hash,
            });
            Ok(())
        }

        /// Applies the announced upgrade once its delay has passed: replaces the contract's
        /// code with `code_hash`, then lets the new code migrate the storage (see
        /// [`Self::migrate`]) in the same transaction; when the new code cannot, nothing
        /// changes. The event reports the storage version before and after.
        ///
        /// Every storage field is a `Lazy` cell or a `Mapping` that writes itself at once, so
        /// the root this message writes back when it returns holds no bytes: the old code
        /// cannot overwrite what the new code's migration wrote.
        ///
        /// # Errors
        /// [`Error::NotRegistrar`]; [`Error::UpgradeNotAnnounced`] unless this code was
        /// announced; [`Error::UpgradeTooEarly`] before its `effective_at`;
        /// [`Error::UpgradeFailed`] when the code is not uploaded or cannot migrate this
        /// storage.
        #[ink(message)]
        pub fn upgrade(&mut self, code_hash: Hash) -> Result<()> {
            self.ensure_registrar()?;
            let mut terms = self.upgrade_terms();
            let pending = terms
                .pending
                .take()
                .filter(|p| p.code_hash == code_hash)
                .ok_or(Error::UpgradeNotAnnounced)?;
            if self.env().block_timestamp() < pending.effective_at {
                return Err(Error::UpgradeTooEarly);
            }
            self.upgrades.set(&terms);
            let from_version = self.storage_version();
            self.env()
                .set_code_hash(&code_hash)
                .map_err(|_| Error::UpgradeFailed)?;
            let mut this: ConsentRegistryRef =
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

        // ---- patients and delegates -------------------------------------------------------

        /// Grants `grantee` a consent to `patient`'s data, or replaces the pair's consent. The
        /// caller is the patient, or acts for them as their unexpired delegate: then the
        /// consent must end, no later than the delegation does, cannot name the delegate
        /// itself, and stays in force only while this delegation lasts (removing or shortening
        /// the delegation ends it too).
        ///
        /// `scope` names categories, purposes and access as bit sets (see
        /// `medledger-events`), valid from `valid_from` until `expires_at` (exclusive; `None`
        /// for no end), in milliseconds of block time. `terms_hash` is a salted commitment to
        /// the off-chain consent document (see `medledger-proofs`).
        ///
        /// # Errors
        /// - [`Error::NotDelegate`] unless the caller is the patient or their unexpired
        ///   delegate.
        /// - [`Error::SelfGrant`] if the patient grants to themself;
        ///   [`Error::DelegateActsForItself`] if a delegate grants to itself.
        /// - [`Error::OutlivesDelegation`] if a delegate's consent has no end, or ends after
        ///   the delegation.
        /// - [`Error::GranteeNotRegistered`] if `grantee` is not a registered organization,
        ///   [`Error::GranteeSuspended`] if it is suspended.
        /// - [`Error::InvalidCategories`], [`Error::InvalidPurposes`], [`Error::InvalidAccess`]
        ///   for an empty set or unknown bits.
        /// - [`Error::InvalidValidity`] if `expires_at` is not after `valid_from`.
        #[ink(message)]
        pub fn grant(
            &mut self,
            patient: AccountId,
            grantee: AccountId,
            scope: Scope,
            terms_hash: Hash,
        ) -> Result<()> {
            let (by, delegation) = self.acting_for(patient, grantee)?;
            if let Some(delegation) = delegation {
                if scope
                    .expires_at
                    .is_none_or(|end| end > delegation.expires_at)
                {
                    return Err(Error::OutlivesDelegation);
                }
            }
            self.grant_as(patient, by, grantee, scope, terms_hash)
        }

        /// Revokes `patient`'s consent to `grantee`, effective at once; the caller is the
        /// patient or their unexpired delegate.
        ///
        /// # Errors
        /// [`Error::NotDelegate`]; [`Error::NoActiveConsent`] if there is no consent, or it is
        /// revoked already.
        #[ink(message)]
        pub fn revoke(&mut self, patient: AccountId, grantee: AccountId) -> Result<()> {
            let (by, _) = self.acting_for(patient, grantee)?;
            self.revoke_as(patient, by, grantee)
        }

        /// Appoints `delegate` (a guardian or proxy) to manage the caller's consents and
        /// emergency windows until `expires_at`, at most the policy's `max_delegation_ms`
        /// from now. Appointing again moves the end. A delegate cannot appoint delegates:
        /// this message always acts for the caller's own data.
        ///
        /// # Errors
        /// [`Error::SelfGrant`]; [`Error::InvalidValidity`] if `expires_at` is not in the
        /// future; [`Error::DelegationTooLong`] beyond the policy's limit.
        #[ink(message)]
        pub fn set_delegate(&mut self, delegate: AccountId, expires_at: Timestamp) -> Result<()> {
            let patient = self.env().caller();
            if delegate == patient {
                return Err(Error::SelfGrant);
            }
            let now = self.env().block_timestamp();
            if expires_at <= now {
                return Err(Error::InvalidValidity);
            }
            if expires_at > now.saturating_add(self.policy().max_delegation_ms) {
                return Err(Error::DelegationTooLong);
            }
            // Extending a live delegation keeps it; anything else starts a new one.
            let since = self
                .delegates
                .get((patient, delegate))
                .filter(|d| now < d.expires_at)
                .map_or(now, |d| d.since);
            self.delegates
                .insert((patient, delegate), &Delegation { since, expires_at });
            self.env().emit_event(DelegateSet {
                patient,
                delegate,
                expires_at,
            });
            Ok(())
        }

        /// Removes one of the caller's delegates, effective at once: the consents the delegate
        /// granted end with it.
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
        /// the policy's window length. Only active providers flagged EMERGENCY may, one window
        /// per (patient, provider) at a time, not when the patient blocked them, and not
        /// during the cool-down that follows every window: the policy's cool-down counts from
        /// the window's end, whether it ran out or the patient (or a delegate, or a block)
        /// ended it. The emitted event is the patient's alert.
        ///
        /// # Errors
        /// [`Error::NotEmergencyProvider`]; [`Error::SelfGrant`]; [`Error::EmergencyBlocked`];
        /// [`Error::EmergencyOpen`]; [`Error::EmergencyCoolingDown`]; [`Error::Overflow`].
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
            let now = self.env().block_timestamp();
            let mut state = self
                .emergencies
                .get((patient, provider))
                .unwrap_or_default();
            if state.blocked {
                return Err(Error::EmergencyBlocked);
            }
            if now < state.ends_at {
                return Err(Error::EmergencyOpen);
            }
            if now < self.cooldown_until(&state) {
                return Err(Error::EmergencyCoolingDown);
            }
            state.ends_at = now
                .checked_add(self.policy().emergency_window_ms)
                .ok_or(Error::Overflow)?;
            self.emergencies.insert((patient, provider), &state);
            self.env().emit_event(EmergencyAccessOpened {
                patient,
                provider,
                reason,
                justification_hash,
                ends_at: state.ends_at,
            });
            Ok(())
        }

        /// Ends `provider`'s last emergency window on `patient`'s data: an open one closes at
        /// once, and one that ran out is ended too. Either way the provider may not break
        /// glass for the patient again until the policy's cool-down has passed from now. A
        /// window can be ended once. The caller is the patient or their unexpired delegate
        /// (whose own windows are not its to end).
        ///
        /// # Errors
        /// [`Error::NotDelegate`]; [`Error::DelegateActsForItself`]; [`Error::NoWindowToEnd`].
        #[ink(message)]
        pub fn end_emergency(&mut self, patient: AccountId, provider: AccountId) -> Result<()> {
            let (by, _) = self.acting_for(patient, provider)?;
            self.end_emergency_as(patient, by, provider)
        }

        /// Forbids (`blocked = true`) or allows again `provider` to break glass on `patient`'s
        /// data. Only registered providers flagged EMERGENCY can be blocked, whether or not
        /// they ever broke glass. Blocking also ends an open window, with the policy's
        /// cool-down, as [`Self::end_emergency`] does. The caller is the patient or their
        /// unexpired delegate, which cannot block or unblock itself.
        ///
        /// # Errors
        /// [`Error::NotDelegate`]; [`Error::DelegateActsForItself`]; [`Error::SelfGrant`];
        /// [`Error::NotEmergencyProvider`] when blocking anyone else;
        /// [`Error::BlockUnchanged`] when the provider is already (un)blocked.
        #[ink(message)]
        pub fn set_emergency_block(
            &mut self,
            patient: AccountId,
            provider: AccountId,
            blocked: bool,
        ) -> Result<()> {
            let (by, _) = self.acting_for(patient, provider)?;
            self.set_emergency_block_as(patient, by, provider, blocked)
        }

        // ---- the rule ---------------------------------------------------------------------

        /// Whether `grantee` may use `patient`'s data of `category` for `purpose` with `access`
        /// right now: a registered, active organization holding either an unrevoked consent
        /// valid at the current block time that covers the category, purpose and access, or
        /// an open, unblocked emergency window (read, treatment, non-sensitive categories
        /// only).
        #[ink(message)]
        pub fn is_authorized(
            &self,
            patient: AccountId,
            grantee: AccountId,
            category: DataCategory,
            purpose: Purpose,
            access: Access,
        ) -> bool {
            if !self.is_active_org(grantee) {
                return false;
            }
            let now = self.env().block_timestamp();
            let consent = self.consent_in_force(patient, grantee, now);
            consent_covers(consent.as_ref(), category, purpose, access)
                || (self.window_open(patient, grantee, now)
                    && emergency_covers(category, purpose, access))
        }

        /// Where `grantee` stands towards `patient` as an organization of `role`, for
        /// `purpose` and `access` in any category: the RecordRegistry asks this before an
        /// anchor or amendment (Provider, Treatment, Write) and a claim (Insurer, Payment,
        /// Read), since record categories are not on chain.
        #[ink(message)]
        pub fn consents_to(
            &self,
            patient: AccountId,
            grantee: AccountId,
            role: Role,
            purpose: Purpose,
            access: Access,
        ) -> Standing {
            let Some(org) = self.orgs.get(grantee).filter(|o| o.role == role) else {
                return Standing::NotInRole;
            };
            if !org.active {
                return Standing::Suspended;
            }
            let now = self.env().block_timestamp();
            let covered = self
                .consent_in_force(patient, grantee, now)
                .is_some_and(|c| c.purposes & purpose.bit() != 0 && c.access & access.bit() != 0);
            if covered {
                Standing::Consented
            } else {
                Standing::NoConsent
            }
        }

        /// The rule for `accessor` reading every category of `categories` of `patient`'s data
        /// for `purpose` now: the RecordRegistry's access log asks this.
        #[ink(message)]
        pub fn access_verdict(
            &self,
            patient: AccountId,
            accessor: AccountId,
            categories: CategorySet,
            purpose: Purpose,
        ) -> AccessVerdict {
            let Some(org) = self.orgs.get(accessor) else {
                return AccessVerdict::Unregistered;
            };
            if !org.active {
                return AccessVerdict::Suspended;
            }
            if categories == 0 || categories & !ALL_CATEGORIES != 0 {
                return AccessVerdict::Denied;
            }
            let now = self.env().block_timestamp();
            let consent = self.consent_in_force(patient, accessor, now);
            let window = self.window_open(patient, accessor, now);
            let mut needs_window = false;
            for category in DataCategory::ALL {
                if categories & category.bit() == 0
                    || consent_covers(consent.as_ref(), category, purpose, Access::Read)
                {
                    continue;
                }
                if window && emergency_covers(category, purpose, Access::Read) {
                    needs_window = true;
                } else {
                    return AccessVerdict::Denied;
                }
            }
            if needs_window {
                AccessVerdict::ByEmergency
            } else {
                AccessVerdict::ByConsent
            }
        }

        // ---- queries ----------------------------------------------------------------------

        /// The consent of the pair, revoked or not, if one was ever granted. (Not a message:
        /// the mirror serves consents with their history, and the contract's code stays small;
        /// `is_authorized` is the rule anyone can ask the chain.)
        #[cfg(test)]
        pub fn consent(&self, patient: AccountId, grantee: AccountId) -> Option<Consent> {
            self.consents.get((patient, grantee))
        }

        /// The organization registered under `account`, if any.
        #[ink(message)]
        pub fn org(&self, account: AccountId) -> Option<Org> {
            self.orgs.get(account)
        }

        /// The name, kind and identifiers of the organization registered under `account`, if
        /// the registrar set them.
        #[ink(message)]
        pub fn org_profile(&self, account: AccountId) -> Option<Vec<u8>> {
            self.profiles.get(account)
        }

        /// How long an upgrade of either contract announced now would wait, and the upgrade
        /// announced for this contract, if any.
        #[ink(message)]
        pub fn upgrade_terms(&self) -> UpgradeTerms {
            self.upgrades.get().unwrap_or(UpgradeTerms {
                delay_ms: DEFAULT_UPGRADE_DELAY_MS,
                pending: None,
            })
        }

        /// The current registrar.
        #[ink(message)]
        pub fn registrar(&self) -> AccountId {
            // Set by the constructor; the zero account (no one's key) would refuse everyone.
            self.registrar.get().unwrap_or(AccountId::from([0; 32]))
        }

        /// The proposed next registrar, until they accept (the `RegistrarProposed` event
        /// publishes it).
        #[cfg(test)]
        pub fn pending_registrar(&self) -> Option<AccountId> {
            self.proposed_registrar()
        }

        /// `delegate`'s delegation by `patient`, if one was set (it may have ended).
        #[cfg(test)]
        pub fn delegate(&self, patient: AccountId, delegate: AccountId) -> Option<Delegation> {
            self.delegates.get((patient, delegate))
        }

        /// The break-glass state of `provider` on `patient`, if there is one.
        #[cfg(test)]
        pub fn emergency(&self, patient: AccountId, provider: AccountId) -> Option<Emergency> {
            self.emergencies.get((patient, provider))
        }

        /// The emergency and delegation limits.
        #[ink(message)]
        pub fn policy(&self) -> Policy {
            self.policy.get().unwrap_or(DEFAULT_POLICY)
        }

        /// The layout version of the storage (0 if it was never set, which no code migrates).
        #[ink(message)]
        pub fn storage_version(&self) -> u32 {
            self.storage_version.get().unwrap_or(0)
        }

        // ---- internals --------------------------------------------------------------------

        /// The proposed next registrar, if any.
        fn proposed_registrar(&self) -> Option<AccountId> {
            self.pending_registrar.get().flatten()
        }

        /// The caller, if they are the registrar.
        fn ensure_registrar(&self) -> Result<AccountId> {
            let caller = self.env().caller();
            if caller == self.registrar() {
                Ok(caller)
            } else {
                Err(Error::NotRegistrar)
            }
        }

        /// The caller and their delegation, if they are an unexpired delegate of `patient`.
        fn ensure_delegate_of(&self, patient: AccountId) -> Result<(AccountId, Delegation)> {
            let caller = self.env().caller();
            let now = self.env().block_timestamp();
            match self.delegates.get((patient, caller)) {
                Some(d) if now < d.expires_at => Ok((caller, d)),
                _ => Err(Error::NotDelegate),
            }
        }

        /// Who acts on `patient`'s data about `about` (a grantee or a provider): the patient
        /// themself, or their unexpired delegate with its delegation, which may never act
        /// about itself.
        fn acting_for(
            &self,
            patient: AccountId,
            about: AccountId,
        ) -> Result<(AccountId, Option<Delegation>)> {
            let caller = self.env().caller();
            if caller == patient {
                return Ok((caller, None));
            }
            let (delegate, delegation) = self.ensure_delegate_of(patient)?;
            if about == delegate {
                return Err(Error::DelegateActsForItself);
            }
            Ok((delegate, Some(delegation)))
        }

        /// Until when the provider may not break glass again: the policy's cool-down from the
        /// end of its last window, however it ended (or the cool-down an ending started, if
        /// later).
        fn cooldown_until(&self, state: &Emergency) -> Timestamp {
            if state.ends_at == 0 {
                return state.cooldown_until;
            }
            let after_window = state
                .ends_at
                .saturating_add(self.policy().emergency_cooldown_ms);
            state.cooldown_until.max(after_window)
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

        /// The pair's consent, if it is unrevoked and valid at `now`, and, when a delegate
        /// granted it, the delegation it was granted under still lasts.
        fn consent_in_force(
            &self,
            patient: AccountId,
            grantee: AccountId,
            now: Timestamp,
        ) -> Option<Consent> {
            self.consents
                .get((patient, grantee))
                .filter(|c| {
                    !c.revoked && c.valid_from <= now && c.expires_at.is_none_or(|end| now < end)
                })
                .filter(|c| {
                    c.by == patient
                        || self
                            .delegates
                            .get((patient, c.by))
                            .is_some_and(|d| d.since <= c.granted_at && now < d.expires_at)
                })
        }

        /// Whether `provider` has an open, unblocked window on `patient` at `now`.
        fn window_open(&self, patient: AccountId, provider: AccountId, now: Timestamp) -> bool {
            self.emergencies
                .get((patient, provider))
                .is_some_and(|e| !e.blocked && now < e.ends_at)
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
            match self.orgs.get(grantee) {
                None => return Err(Error::GranteeNotRegistered),
                Some(org) if !org.active => return Err(Error::GranteeSuspended),
                Some(_) => {}
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
                    by,
                    granted_at: self.env().block_timestamp(),
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
            // A window was opened (`ends_at` set) and not ended since it closed: an ending
            // always sets a cool-down that starts at or after the window's end.
            let mut state = self
                .emergencies
                .get((patient, provider))
                .filter(|e| e.ends_at != 0 && e.cooldown_until < e.ends_at)
                .ok_or(Error::NoWindowToEnd)?;
            state.ends_at = state.ends_at.min(now);
            state.cooldown_until = now.saturating_add(self.policy().emergency_cooldown_ms);
            self.emergencies.insert((patient, provider), &state);
            self.env().emit_event(EmergencyAccessEnded {
                patient,
                provider,
                by,
                cooldown_until: state.cooldown_until,
            });
            Ok(())
        }

        fn set_emergency_block_as(
            &mut self,
            patient: AccountId,
            by: AccountId,
            provider: AccountId,
            blocked: bool,
        ) -> Result<()> {
            if provider == patient {
                return Err(Error::SelfGrant);
            }
            let mut state = self
                .emergencies
                .get((patient, provider))
                .unwrap_or_default();
            if state.blocked == blocked {
                return Err(Error::BlockUnchanged);
            }
            let emergency_provider = self
                .orgs
                .get(provider)
                .is_some_and(|org| org.role == Role::Provider && org.flags & FLAG_EMERGENCY != 0);
            if blocked && !emergency_provider {
                return Err(Error::NotEmergencyProvider);
            }
            let now = self.env().block_timestamp();
            state.blocked = blocked;
            let mut cooldown_until = None;
            if blocked && now < state.ends_at {
                state.ends_at = now;
                state.cooldown_until = now.saturating_add(self.policy().emergency_cooldown_ms);
                cooldown_until = Some(state.cooldown_until);
            }
            self.emergencies.insert((patient, provider), &state);
            self.env().emit_event(EmergencyBlockChanged {
                patient,
                provider,
                blocked,
                by,
                cooldown_until,
            });
            Ok(())
        }

        /// One migration step: storage of layout `version` to `version + 1`.
        ///
        /// 1 to 2 (the second release to the third) changes no stored value: what layout 2
        /// adds lives in cells of its own that read as empty (no profiles, the default
        /// upgrade delay, no announced upgrade), and every stored type kept its encoding.
        fn migrate_from(&mut self, version: u32) -> Result<()> {
            match version {
                1 => Ok(()),
                #[cfg(feature = "test-next")]
                2 => {
                    // The test-only next build adds a field (when the migration ran) and, as
                    // its data change, makes every cool-down at least one window long.
                    self.migrated_at.set(&self.env().block_timestamp());
                    let mut policy = self.policy();
                    policy.emergency_cooldown_ms =
                        policy.emergency_cooldown_ms.max(policy.emergency_window_ms);
                    self.policy.set(&policy);
                    Ok(())
                }
                _ => Err(Error::UnsupportedStorageVersion),
            }
        }
    }

    impl Default for ConsentRegistry {
        fn default() -> Self {
            Self::new()
        }
    }

    /// A profile is the SCALE encoding of `medledger_events::OrgProfile`, which clients check;
    /// the registry only bounds what it stores.
    fn ensure_profile_bounded(profile: &[u8]) -> Result<()> {
        if profile.is_empty() || profile.len() > MAX_PROFILE_BYTES {
            return Err(Error::InvalidProfile);
        }
        Ok(())
    }

    /// Whether a consent in force covers the category, purpose and access. Categories never
    /// imply each other: each is covered by its own bit only.
    fn consent_covers(
        consent: Option<&Consent>,
        category: DataCategory,
        purpose: Purpose,
        access: Access,
    ) -> bool {
        consent.is_some_and(|c| {
            c.categories & category.bit() != 0
                && c.purposes & purpose.bit() != 0
                && c.access & access.bit() != 0
        })
    }

    /// What an open emergency window covers: reading non-sensitive data for treatment.
    fn emergency_covers(category: DataCategory, purpose: Purpose, access: Access) -> bool {
        access == Access::Read && purpose == Purpose::Treatment && !category.is_sensitive()
    }
}
