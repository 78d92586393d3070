//! Unit tests of the ConsentRegistry (`#[ink::test]`, ink!'s off-chain environment), kept
//! beside the contract as ink!'s own examples keep them:
//!
//! - `messages`: each message's effect, event and errors;
//! - `audit`: one test per promise the audit found broken (hardening issue), named after it;
//! - `authorization_matrix`: every state-changing message against every kind of caller;
//! - `rules`: time boundaries, suspension, emergency windows, policy;
//! - `model_check`: random histories against a model of the rule written from the design.

use crate::consent_registry::*;
use ink::env::test::{recorded_events, set_block_timestamp, set_callee, set_caller};
use ink::env::DefaultEnvironment;
use ink::primitives::{AccountId, Hash};
use ink::scale::Decode;
use medledger_events::*;

type Env = DefaultEnvironment;

/// Gives the next registry its own contract account, so that worlds built in one test keep
/// their storage apart.
fn fresh_contract() {
    std::thread_local!(static CONTRACTS: core::cell::Cell<u32> = const { core::cell::Cell::new(0) });
    let n = CONTRACTS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    let mut contract = [0xee; 32];
    contract[..4].copy_from_slice(&n.to_le_bytes());
    set_callee::<Env>(AccountId::from(contract));
}

/// The events of type `E` emitted so far, told apart by their signature topic.
fn emitted<E: ink::env::Event + Decode>() -> Vec<E> {
    let signature = E::SIGNATURE_TOPIC.map(|t| t.to_vec());
    recorded_events()
        .filter(|e| e.topics.first().cloned() == signature)
        .map(|e| E::decode(&mut &e.data[..]).expect("decodes as the shared event type"))
        .collect()
}

fn last<E: ink::env::Event + Decode>() -> E {
    emitted::<E>().pop().expect("the event was emitted")
}

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

fn id(name: &str) -> AccountId {
    let byte = ACTORS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| *b)
        .unwrap_or_else(|| panic!("no actor {name}"));
    AccountId::from([byte; 32])
}

const LABS: DataCategory = DataCategory::LabResults;
const DELEGATION_ENDS: Timestamp = 100_000;
const NOW: Timestamp = 5_000;

fn labs_for_treatment() -> Scope {
    Scope {
        categories: LABS.bit(),
        purposes: Purpose::Treatment.bit(),
        access: Access::Read.bit(),
        valid_from: 0,
        expires_at: None,
    }
}

/// The patient's grant to `grantee`, signed by whoever the caller is.
fn grant(r: &mut ConsentRegistry, grantee: &str, scope: Scope) -> Result<()> {
    r.grant(id("patient"), id(grantee), scope, Hash::from([7; 32]))
}

/// The profile of a clinic named `name`, with one identifier, as the registry keeps it.
fn profile(name: &str) -> Vec<u8> {
    OrgProfile {
        name: name.into(),
        kind: OrgKind::Clinic,
        identifiers: vec![OrgIdentifier {
            system: NPI_SYSTEM.into(),
            value: "1234567893".into(),
        }],
    }
    .to_bytes()
}

/// Registers `account` with a profile named after it, as the registrar (the caller).
fn register(r: &mut ConsentRegistry, account: AccountId, role: Role, flags: u32) -> Result<()> {
    r.register_org(account, role, flags, profile("An organization"))
}

fn can(r: &ConsentRegistry, grantee: &str, category: DataCategory) -> bool {
    r.is_authorized(
        id("patient"),
        id(grantee),
        category,
        Purpose::Treatment,
        Access::Read,
    )
}

/// A registry where every actor is what its name says, at time [`NOW`]: the patient has
/// granted the provider, the insurer and the suspended org lab results for treatment (the
/// last before its suspension), has a delegate (until [`DELEGATION_ENDS`]) and an expired
/// one, and the provider (flagged EMERGENCY) has an open emergency window on the patient.
fn world() -> ConsentRegistry {
    fresh_contract();
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
        r.register_org(id(name), role, flags, profile(name))
            .expect("register");
    }
    set_caller::<Env>(id("patient"));
    for grantee in ["provider", "insurer", "suspended org"] {
        grant(&mut r, grantee, labs_for_treatment()).expect("grant");
    }
    set_caller::<Env>(id("registrar"));
    r.suspend_org(id("suspended org")).expect("suspend");
    set_caller::<Env>(id("patient"));
    r.set_delegate(id("delegate"), DELEGATION_ENDS)
        .expect("delegate");
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

mod messages {
    use super::*;

    #[ink::test]
    fn register_org_stores_the_org_and_emits_its_event() {
        let r = world();
        let event = emitted::<OrgRegistered>()
            .into_iter()
            .find(|e| e.org == id("insurer"))
            .expect("registered");
        assert_eq!((event.role, event.flags), (Role::Insurer, 0));
        assert_eq!(event.profile, profile("insurer"));
        assert_eq!(r.org_profile(id("insurer")), Some(profile("insurer")));
        assert_eq!(r.org_profile(id("stranger")), None);
        assert_eq!(
            r.org(id("provider")),
            Some(Org {
                role: Role::Provider,
                flags: FLAG_EMERGENCY,
                active: true
            })
        );
        assert_eq!(r.registrar(), id("registrar"));
    }

    #[ink::test]
    fn register_org_refuses_duplicates_and_unknown_flags() {
        let mut r = world();
        set_caller::<Env>(id("registrar"));
        assert_eq!(
            register(&mut r, id("insurer"), Role::App, 0),
            Err(Error::AlreadyRegistered)
        );
        assert_eq!(
            register(&mut r, id("stranger"), Role::App, 0b10),
            Err(Error::UnknownFlags)
        );
        // the registry bounds what it stores; what the bytes say, clients check
        for bad in [Vec::new(), vec![1; MAX_PROFILE_BYTES + 1]] {
            assert_eq!(
                r.register_org(id("stranger"), Role::App, 0, bad),
                Err(Error::InvalidProfile)
            );
        }
        assert!(r
            .register_org(id("stranger"), Role::App, 0, vec![1; MAX_PROFILE_BYTES])
            .is_ok());
    }

    #[ink::test]
    fn the_registrar_renames_an_organization_with_an_event() {
        let mut r = world();
        set_caller::<Env>(id("registrar"));
        let renamed = OrgProfile {
            name: "St. Mary's Hospital".into(),
            kind: OrgKind::Hospital,
            identifiers: Vec::new(),
        }
        .to_bytes();
        r.update_org(id("suspended org"), renamed.clone())
            .expect("suspended organizations can be renamed too");
        let event = last::<OrgUpdated>();
        assert_eq!((event.org, &event.profile), (id("suspended org"), &renamed));
        assert_eq!(r.org_profile(id("suspended org")), Some(renamed));
        assert_eq!(
            r.update_org(id("stranger"), profile("Nobody")),
            Err(Error::NotRegistered)
        );
        assert_eq!(
            r.update_org(id("insurer"), Vec::new()),
            Err(Error::InvalidProfile)
        );
        assert_eq!(r.org_profile(id("insurer")), Some(profile("insurer")));
    }

    #[ink::test]
    fn a_consent_to_a_suspended_organization_is_refused() {
        let mut r = world();
        set_caller::<Env>(id("patient"));
        let before = r.consent(id("patient"), id("suspended org"));
        assert_eq!(
            grant(&mut r, "suspended org", labs_for_treatment()),
            Err(Error::GranteeSuspended)
        );
        assert_eq!(r.consent(id("patient"), id("suspended org")), before);
        set_caller::<Env>(id("delegate"));
        let until_delegation_ends = Scope {
            expires_at: Some(DELEGATION_ENDS),
            ..labs_for_treatment()
        };
        assert_eq!(
            r.grant(
                id("patient"),
                id("suspended org"),
                until_delegation_ends,
                Hash::default()
            ),
            Err(Error::GranteeSuspended)
        );
    }

    #[ink::test]
    fn an_upgrade_waits_its_announced_delay() {
        // given: a registry whose upgrades wait 10 seconds
        fresh_contract();
        set_block_timestamp::<Env>(1_000);
        set_caller::<Env>(id("registrar"));
        let mut r = ConsentRegistry::with_upgrade_delay(10_000).expect("a delay within bounds");
        assert_eq!(
            r.upgrade_terms(),
            UpgradeTerms {
                delay_ms: 10_000,
                pending: None
            }
        );
        let code = Hash::from([0xc0; 32]);
        assert_eq!(r.upgrade(code), Err(Error::UpgradeNotAnnounced));
        // when: the registrar announces it
        r.announce_upgrade(code).expect("announce");
        let announced = last::<UpgradeAnnounced>();
        assert_eq!(
            (announced.code_hash, announced.effective_at),
            (code, 11_000)
        );
        assert_eq!(
            r.upgrade_terms().pending,
            Some(PendingUpgrade {
                code_hash: code,
                effective_at: 11_000
            })
        );
        // then: not before its time, and only the code announced
        set_block_timestamp::<Env>(10_999);
        assert_eq!(r.upgrade(code), Err(Error::UpgradeTooEarly));
        set_block_timestamp::<Env>(11_000);
        assert_eq!(
            r.upgrade(Hash::from([0xc1; 32])),
            Err(Error::UpgradeNotAnnounced)
        );
        // and a cancelled announcement leaves nothing to apply
        r.cancel_upgrade().expect("cancel");
        assert_eq!(last::<UpgradeCancelled>().code_hash, code);
        assert_eq!(r.upgrade_terms().pending, None);
        assert_eq!(r.upgrade(code), Err(Error::UpgradeNotAnnounced));
        assert_eq!(r.cancel_upgrade(), Err(Error::UpgradeNotAnnounced));
    }

    #[ink::test]
    fn the_upgrade_delay_is_set_at_creation_within_its_ceiling() {
        let mut r = world();
        set_caller::<Env>(id("registrar"));
        assert_eq!(r.upgrade_terms().delay_ms, DEFAULT_UPGRADE_DELAY_MS);
        r.announce_upgrade(Hash::from([1; 32])).expect("announce");
        assert_eq!(
            r.upgrade_terms().pending.map(|p| p.effective_at),
            Some(NOW + DEFAULT_UPGRADE_DELAY_MS)
        );
        assert_eq!(
            ConsentRegistry::with_upgrade_delay(MAX_UPGRADE_DELAY_MS + 1).err(),
            Some(Error::InvalidPolicy)
        );
        assert!(ConsentRegistry::with_upgrade_delay(MAX_UPGRADE_DELAY_MS).is_ok());
        assert!(ConsentRegistry::with_upgrade_delay(0).is_ok());
    }

    #[ink::test]
    fn a_grant_authorizes_exactly_what_it_names() {
        // given: the researcher has nothing yet
        let mut r = world();
        set_caller::<Env>(id("patient"));
        // when
        grant(&mut r, "researcher", labs_for_treatment()).expect("grant");
        // then
        let event = last::<ConsentGranted>();
        assert_eq!(
            (event.patient, event.grantee, event.version, event.by),
            (id("patient"), id("researcher"), 1, id("patient"))
        );
        assert!(can(&r, "researcher", LABS));
        assert!(!can(&r, "researcher", DataCategory::Imaging));
        assert!(!can(&r, "researcher", DataCategory::Genomics));
        let p = id("patient");
        let g = id("researcher");
        assert!(!r.is_authorized(p, g, LABS, Purpose::Research, Access::Read));
        assert!(!r.is_authorized(p, g, LABS, Purpose::Treatment, Access::Write));
        assert!(
            !r.is_authorized(id("stranger"), g, LABS, Purpose::Treatment, Access::Read),
            "a consent covers its own patient only"
        );
    }

    #[ink::test]
    fn a_new_grant_replaces_the_old_one_and_bumps_its_version() {
        let mut r = world();
        set_caller::<Env>(id("patient"));
        let imaging = Scope {
            categories: DataCategory::Imaging.bit(),
            ..labs_for_treatment()
        };
        grant(&mut r, "insurer", imaging).expect("second grant");
        assert_eq!(last::<ConsentGranted>().version, 2);
        assert!(!can(&r, "insurer", LABS));
        assert!(can(&r, "insurer", DataCategory::Imaging));
    }

    #[ink::test]
    fn grant_refuses_bad_input_and_changes_nothing() {
        let mut r = world();
        set_caller::<Env>(id("patient"));
        let ok = labs_for_treatment();
        let cases = [
            ("stranger", ok, Error::GranteeNotRegistered),
            (
                "app",
                Scope {
                    categories: 0,
                    ..ok
                },
                Error::InvalidCategories,
            ),
            (
                "app",
                Scope {
                    categories: 1 << 14,
                    ..ok
                },
                Error::InvalidCategories,
            ),
            ("app", Scope { purposes: 0, ..ok }, Error::InvalidPurposes),
            (
                "app",
                Scope {
                    purposes: 1 << 6,
                    ..ok
                },
                Error::InvalidPurposes,
            ),
            ("app", Scope { access: 0, ..ok }, Error::InvalidAccess),
            ("app", Scope { access: 4, ..ok }, Error::InvalidAccess),
            (
                "app",
                Scope {
                    valid_from: 10,
                    expires_at: Some(10),
                    ..ok
                },
                Error::InvalidValidity,
            ),
        ];
        for (grantee, scope, error) in cases {
            assert_eq!(grant(&mut r, grantee, scope), Err(error), "{scope:?}");
        }
        assert_eq!(grant(&mut r, "patient", ok), Err(Error::SelfGrant));
        assert_eq!(r.consent(id("patient"), id("app")), None);
    }

    #[ink::test]
    fn revoke_ends_the_consent_at_once_and_only_once() {
        let mut r = world();
        set_caller::<Env>(id("patient"));
        r.revoke(id("patient"), id("insurer")).expect("revoke");
        let event = last::<ConsentRevoked>();
        assert_eq!((event.patient, event.version), (id("patient"), 1));
        assert!(!can(&r, "insurer", LABS));
        assert_eq!(
            r.revoke(id("patient"), id("insurer")),
            Err(Error::NoActiveConsent)
        );
    }

    #[ink::test]
    fn set_policy_changes_the_limits_and_emits_them() {
        let mut r = world();
        set_caller::<Env>(id("registrar"));
        let policy = Policy {
            emergency_window_ms: 60_000,
            emergency_cooldown_ms: 0,
            max_delegation_ms: 3_600_000,
        };
        r.set_policy(policy).expect("set");
        assert_eq!(r.policy(), policy);
        assert_eq!(last::<PolicyChanged>().policy, policy);
    }

    #[ink::test]
    fn migrate_is_a_no_op_at_the_current_version_and_only_for_the_contract_itself() {
        let mut r = world();
        set_caller::<Env>(id("registrar"));
        assert_eq!(r.migrate(), Err(Error::NotUpgrading));
        set_caller::<Env>(ink::env::account_id::<Env>());
        assert_eq!(r.migrate(), Ok(STORAGE_VERSION));
        assert_eq!(r.storage_version(), STORAGE_VERSION);
    }
}

/// Each promise the audit of the hardening issue found broken, as a test that failed on the
/// contract before the fix (commit "Contract tests that state each hole the audit found").
mod audit {
    use super::*;

    fn other_patient() -> AccountId {
        AccountId::from([77; 32])
    }

    fn open_window(r: &mut ConsentRegistry) -> Result<()> {
        set_caller::<Env>(id("provider"));
        r.break_glass(id("patient"), EmergencyReason::Other, Hash::default())
    }

    #[ink::test]
    fn break_glass_is_refused_while_a_window_is_open() {
        let mut r = world();
        assert_eq!(open_window(&mut r), Err(Error::EmergencyOpen));
        assert_eq!(emitted::<EmergencyAccessOpened>().len(), 1);
    }

    #[ink::test]
    fn break_glass_is_refused_for_the_cooldown_after_the_patient_ended_a_window() {
        // given: the patient ends the provider's window at NOW
        let mut r = world();
        set_caller::<Env>(id("patient"));
        r.end_emergency(id("patient"), id("provider")).expect("end");
        let cooldown_until = NOW + DEFAULT_POLICY.emergency_cooldown_ms;
        assert_eq!(
            last::<EmergencyAccessEnded>().cooldown_until,
            cooldown_until
        );
        // then: refused until the cool-down has passed, to the millisecond
        set_block_timestamp::<Env>(cooldown_until - 1);
        assert_eq!(open_window(&mut r), Err(Error::EmergencyCoolingDown));
        set_block_timestamp::<Env>(cooldown_until);
        assert_eq!(open_window(&mut r), Ok(()));
    }

    #[ink::test]
    fn a_patient_can_block_a_provider_from_breaking_glass() {
        // given: the patient ends the window and blocks the provider
        let mut r = world();
        set_caller::<Env>(id("patient"));
        r.end_emergency(id("patient"), id("provider")).expect("end");
        r.set_emergency_block(id("patient"), id("provider"), true)
            .expect("block");
        let event = last::<EmergencyBlockChanged>();
        assert_eq!((event.provider, event.blocked), (id("provider"), true));
        // then: even long after the cool-down, the provider cannot break glass
        set_block_timestamp::<Env>(NOW + 10 * DEFAULT_POLICY.emergency_cooldown_ms);
        assert_eq!(open_window(&mut r), Err(Error::EmergencyBlocked));
        // until the patient lifts the block
        set_caller::<Env>(id("patient"));
        r.set_emergency_block(id("patient"), id("provider"), false)
            .expect("unblock");
        assert_eq!(open_window(&mut r), Ok(()));
    }

    #[ink::test]
    fn blocking_a_provider_ends_its_open_window_for_good() {
        // given: the provider's window is open
        let mut r = world();
        assert!(can(&r, "provider", DataCategory::Imaging), "window open");
        // when: the patient blocks, then unblocks the provider
        set_caller::<Env>(id("patient"));
        r.set_emergency_block(id("patient"), id("provider"), true)
            .expect("block");
        let cooldown_until = NOW + DEFAULT_POLICY.emergency_cooldown_ms;
        assert_eq!(
            last::<EmergencyBlockChanged>().cooldown_until,
            Some(cooldown_until)
        );
        assert!(!can(&r, "provider", DataCategory::Imaging));
        assert!(can(&r, "provider", LABS), "the consent itself remains");
        r.set_emergency_block(id("patient"), id("provider"), false)
            .expect("unblock");
        // then: the window stays closed, and the cool-down runs as after an ending
        assert!(!can(&r, "provider", DataCategory::Imaging));
        assert_eq!(open_window(&mut r), Err(Error::EmergencyCoolingDown));
    }

    #[ink::test]
    fn what_a_delegate_granted_ends_with_the_delegation() {
        // given: the delegate granted the app lab results until its delegation ends
        let mut r = world();
        set_caller::<Env>(id("delegate"));
        let until_delegation_ends = Scope {
            expires_at: Some(DELEGATION_ENDS),
            ..labs_for_treatment()
        };
        r.grant(
            id("patient"),
            id("app"),
            until_delegation_ends,
            Hash::default(),
        )
        .expect("grant_for");
        assert!(can(&r, "app", LABS));
        // when: the patient removes the delegate
        set_caller::<Env>(id("patient"));
        r.remove_delegate(id("delegate")).expect("remove");
        // then: the grant ends at once, and appointing the delegate again does not revive it
        assert!(!can(&r, "app", LABS));
        set_block_timestamp::<Env>(NOW + 1);
        r.set_delegate(id("delegate"), DELEGATION_ENDS)
            .expect("appoint again");
        assert!(!can(&r, "app", LABS));
        // while the patient's own grants are untouched
        assert!(can(&r, "insurer", LABS));
    }

    #[ink::test]
    fn shortening_a_delegation_shortens_what_the_delegate_granted() {
        let mut r = world();
        set_caller::<Env>(id("delegate"));
        let until_delegation_ends = Scope {
            expires_at: Some(DELEGATION_ENDS),
            ..labs_for_treatment()
        };
        r.grant(
            id("patient"),
            id("app"),
            until_delegation_ends,
            Hash::default(),
        )
        .expect("grant_for");
        set_caller::<Env>(id("patient"));
        r.set_delegate(id("delegate"), NOW + 10).expect("shorten");
        set_block_timestamp::<Env>(NOW + 9);
        assert!(can(&r, "app", LABS));
        set_block_timestamp::<Env>(NOW + 10);
        assert!(!can(&r, "app", LABS));
    }

    #[ink::test]
    fn a_delegate_that_is_an_organization_cannot_grant_itself() {
        // given: the patient's delegate is also a registered organization
        let mut r = world();
        set_caller::<Env>(id("registrar"));
        register(&mut r, id("delegate"), Role::Researcher, 0).expect("register");
        // when: it grants itself everything, until its delegation ends
        set_caller::<Env>(id("delegate"));
        let everything = Scope {
            categories: ALL_CATEGORIES,
            purposes: ALL_PURPOSES,
            access: ALL_ACCESS,
            valid_from: 0,
            expires_at: Some(DELEGATION_ENDS),
        };
        let result = r.grant(id("patient"), id("delegate"), everything, Hash::default());
        // then
        assert_eq!(result, Err(Error::DelegateActsForItself));
        assert_eq!(r.consent(id("patient"), id("delegate")), None);
    }

    #[ink::test]
    fn a_delegates_grant_ends_no_later_than_the_delegation() {
        let mut r = world();
        set_caller::<Env>(id("delegate"));
        let until = |expires_at| Scope {
            expires_at,
            ..labs_for_treatment()
        };
        let p = id("patient");
        assert_eq!(
            r.grant(p, id("app"), until(None), Hash::default()),
            Err(Error::OutlivesDelegation)
        );
        assert_eq!(
            r.grant(
                p,
                id("app"),
                until(Some(DELEGATION_ENDS + 1)),
                Hash::default()
            ),
            Err(Error::OutlivesDelegation)
        );
        r.grant(p, id("app"), until(Some(DELEGATION_ENDS)), Hash::default())
            .expect("ending with the delegation");
        let granted = last::<ConsentGranted>();
        assert_eq!(
            (granted.by, granted.expires_at),
            (id("delegate"), Some(DELEGATION_ENDS))
        );
    }

    #[ink::test]
    fn delegations_have_the_registrars_maximum_length() {
        let mut r = world();
        set_caller::<Env>(id("patient"));
        let longest = NOW + DEFAULT_POLICY.max_delegation_ms;
        assert_eq!(
            r.set_delegate(id("app"), u64::MAX),
            Err(Error::DelegationTooLong)
        );
        assert_eq!(
            r.set_delegate(id("app"), longest + 1),
            Err(Error::DelegationTooLong)
        );
        r.set_delegate(id("app"), longest).expect("at the limit");
        // the registrar shortens the limit for delegations appointed from now on
        set_caller::<Env>(id("registrar"));
        r.set_policy(Policy {
            max_delegation_ms: 1_000,
            ..DEFAULT_POLICY
        })
        .expect("policy");
        set_caller::<Env>(id("patient"));
        assert_eq!(
            r.set_delegate(id("researcher"), NOW + 1_001),
            Err(Error::DelegationTooLong)
        );
        assert_eq!(r.set_delegate(id("researcher"), NOW + 1_000), Ok(()));
    }

    #[ink::test]
    fn only_providers_flagged_emergency_may_break_glass_and_never_for_themselves() {
        let mut r = world();
        set_caller::<Env>(id("registrar"));
        register(&mut r, id("stranger"), Role::Provider, 0).expect("a provider without the flag");
        set_caller::<Env>(id("stranger"));
        assert_eq!(
            r.break_glass(other_patient(), EmergencyReason::Other, Hash::default()),
            Err(Error::NotEmergencyProvider)
        );
        set_caller::<Env>(id("provider"));
        assert_eq!(
            r.break_glass(id("provider"), EmergencyReason::Other, Hash::default()),
            Err(Error::SelfGrant)
        );
    }
}

/// Exactly who may do what: every state-changing message against every kind of caller, each
/// on a fresh world, judged by its effect on the patient's data rather than by `Ok`.
mod authorization_matrix {
    use super::*;

    /// The actors for whom `call` has the effect it checks.
    fn who(call: impl Fn(&mut ConsentRegistry) -> bool) -> Vec<&'static str> {
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

    fn all_but(excluded: &[&str]) -> Vec<&'static str> {
        ACTORS
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| !excluded.contains(n))
            .collect()
    }

    fn newcomer() -> AccountId {
        AccountId::from([99; 32])
    }

    #[ink::test]
    fn registrar_messages_are_the_registrars_alone() {
        assert_eq!(
            who(|r| register(r, newcomer(), Role::App, 0).is_ok() && r.org(newcomer()).is_some()),
            ["registrar"]
        );
        assert_eq!(
            who(|r| {
                let _ = r.update_org(id("insurer"), profile("Renamed"));
                r.org_profile(id("insurer")) == Some(profile("Renamed"))
            }),
            ["registrar"]
        );
        let code = Hash::from([0xc0; 32]);
        assert_eq!(
            who(|r| {
                let _ = r.announce_upgrade(code);
                r.upgrade_terms().pending.is_some()
            }),
            ["registrar"]
        );
        assert_eq!(
            who(|r| {
                let caller = ink::env::caller::<Env>();
                set_caller::<Env>(id("registrar"));
                r.announce_upgrade(code).expect("announce");
                set_caller::<Env>(caller);
                let _ = r.cancel_upgrade();
                r.upgrade_terms().pending.is_none()
            }),
            ["registrar"]
        );
        assert_eq!(
            who(|r| {
                let _ = r.suspend_org(id("insurer"));
                r.org(id("insurer")).is_some_and(|o| !o.active)
            }),
            ["registrar"]
        );
        assert_eq!(
            who(|r| {
                let _ = r.reinstate_org(id("suspended org"));
                r.org(id("suspended org")).is_some_and(|o| o.active)
            }),
            ["registrar"]
        );
        assert_eq!(
            who(|r| {
                let _ = r.propose_registrar(newcomer());
                r.pending_registrar() == Some(newcomer())
            }),
            ["registrar"]
        );
        let policy = Policy {
            emergency_window_ms: 60_000,
            ..DEFAULT_POLICY
        };
        assert_eq!(
            who(|r| {
                let _ = r.set_policy(policy);
                r.policy() == policy
            }),
            ["registrar"]
        );
        // `upgrade` needs a real chain to succeed (see the e2e tests); here: who is refused
        // before anything happens.
        let refused = who(|r| {
            ink::env::caller::<Env>() != id("registrar")
                && r.upgrade(Hash::default()) == Err(Error::NotRegistrar)
        });
        assert_eq!(refused, all_but(&["registrar"]));
        assert!(
            who(|r| r.migrate().is_ok()).is_empty(),
            "migrate runs only inside an upgrade"
        );
    }

    #[ink::test]
    fn only_the_proposed_registrar_can_accept() {
        let accepted = who(|r| {
            let caller = ink::env::caller::<Env>();
            set_caller::<Env>(id("registrar"));
            r.propose_registrar(id("stranger")).expect("propose");
            set_caller::<Env>(caller);
            let _ = r.accept_registrar();
            r.registrar() == id("stranger")
        });
        assert_eq!(accepted, ["stranger"]);
    }

    #[ink::test]
    fn the_patients_consents_change_only_by_the_patient_or_an_unexpired_delegate() {
        let scope = labs_for_treatment();
        let granted_to_app = |r: &ConsentRegistry| r.consent(id("patient"), id("app")).is_some();
        assert_eq!(
            who(|r| {
                let _ = grant(r, "app", scope);
                granted_to_app(r)
            }),
            ["patient"],
            "a consent without an end: never a delegate's"
        );
        let until_delegation_ends = Scope {
            expires_at: Some(DELEGATION_ENDS),
            ..scope
        };
        assert_eq!(
            who(|r| {
                let _ = r.grant(
                    id("patient"),
                    id("app"),
                    until_delegation_ends,
                    Hash::default(),
                );
                granted_to_app(r)
            }),
            ["patient", "delegate"]
        );
        let revoked = |r: &ConsentRegistry| {
            r.consent(id("patient"), id("insurer"))
                .is_some_and(|c| c.revoked)
        };
        assert_eq!(
            who(|r| {
                let _ = r.revoke(id("patient"), id("insurer"));
                revoked(r)
            }),
            ["patient", "delegate"]
        );
    }

    #[ink::test]
    fn the_patients_delegates_change_only_by_the_patient() {
        assert_eq!(
            who(|r| {
                let _ = r.set_delegate(newcomer(), 90_000);
                r.delegate(id("patient"), newcomer()).is_some()
            }),
            ["patient"]
        );
        assert_eq!(
            who(|r| {
                let _ = r.remove_delegate(id("delegate"));
                r.delegate(id("patient"), id("delegate")).is_none()
            }),
            ["patient"]
        );
    }

    #[ink::test]
    fn emergency_windows_open_by_active_emergency_providers_and_close_by_the_patients_side() {
        assert_eq!(
            who(|r| r
                .break_glass(
                    newcomer(),
                    EmergencyReason::PatientIncapacitated,
                    Hash::default()
                )
                .is_ok()),
            ["provider"]
        );
        let closed = |r: &ConsentRegistry| !can(r, "provider", DataCategory::Imaging);
        assert_eq!(
            who(|r| {
                let _ = r.end_emergency(id("patient"), id("provider"));
                closed(r)
            }),
            ["patient", "delegate"]
        );
        let blocked = |r: &ConsentRegistry| {
            r.emergency(id("patient"), id("provider"))
                .is_some_and(|e| e.blocked)
        };
        assert_eq!(
            who(|r| {
                let _ = r.set_emergency_block(id("patient"), id("provider"), true);
                blocked(r)
            }),
            ["patient", "delegate"]
        );
    }
}

/// Time boundaries, suspension, emergency scope, the answers the RecordRegistry relies on.
mod rules {
    use super::*;

    #[ink::test]
    fn a_consent_is_valid_from_its_start_until_just_before_its_end() {
        let mut r = world();
        set_caller::<Env>(id("patient"));
        let window = Scope {
            valid_from: 10_000,
            expires_at: Some(20_000),
            ..labs_for_treatment()
        };
        grant(&mut r, "researcher", window).expect("grant");
        for (at, expected) in [
            (9_999, false),
            (10_000, true),
            (19_999, true),
            (20_000, false),
        ] {
            set_block_timestamp::<Env>(at);
            assert_eq!(can(&r, "researcher", LABS), expected, "at {at}");
        }
    }

    #[ink::test]
    fn suspension_cuts_access_at_once_and_reinstatement_restores_it() {
        let mut r = world();
        assert!(can(&r, "insurer", LABS));
        set_caller::<Env>(id("registrar"));
        r.suspend_org(id("insurer")).expect("suspend");
        assert!(!can(&r, "insurer", LABS));
        assert_eq!(r.suspend_org(id("insurer")), Err(Error::AlreadySuspended));
        r.reinstate_org(id("insurer")).expect("reinstate");
        assert!(can(&r, "insurer", LABS));
        assert_eq!(r.reinstate_org(id("insurer")), Err(Error::NotSuspended));
        assert_eq!(r.suspend_org(id("stranger")), Err(Error::NotRegistered));
    }

    #[ink::test]
    fn a_delegate_acts_until_the_instant_its_delegation_ends() {
        let mut r = world();
        set_caller::<Env>(id("delegate"));
        set_block_timestamp::<Env>(DELEGATION_ENDS - 1);
        r.revoke(id("patient"), id("insurer"))
            .expect("delegate revokes");
        let revoked = last::<ConsentRevoked>();
        assert_eq!(
            (revoked.patient, revoked.by),
            (id("patient"), id("delegate"))
        );
        set_block_timestamp::<Env>(DELEGATION_ENDS);
        assert_eq!(
            r.revoke(id("patient"), id("provider")),
            Err(Error::NotDelegate)
        );
    }

    #[ink::test]
    fn a_removed_delegate_is_refused_and_delegations_must_end_in_the_future() {
        let mut r = world();
        set_caller::<Env>(id("patient"));
        r.remove_delegate(id("delegate")).expect("remove");
        assert_eq!(r.remove_delegate(id("delegate")), Err(Error::NoDelegate));
        assert_eq!(
            r.set_delegate(id("delegate"), NOW),
            Err(Error::InvalidValidity)
        );
        assert_eq!(
            r.set_delegate(id("patient"), NOW + 1),
            Err(Error::SelfGrant)
        );
        set_caller::<Env>(id("delegate"));
        assert_eq!(
            r.revoke(id("patient"), id("insurer")),
            Err(Error::NotDelegate)
        );
    }

    #[ink::test]
    fn an_emergency_window_covers_non_sensitive_reads_for_treatment_until_it_ends() {
        let r = world();
        let opened = last::<EmergencyAccessOpened>();
        let ends = 1_000 + DEFAULT_POLICY.emergency_window_ms;
        assert_eq!((opened.patient, opened.ends_at), (id("patient"), ends));
        // beyond the consent (labs only): imaging yes, sensitive categories never
        assert!(can(&r, "provider", DataCategory::Imaging));
        for sensitive in DataCategory::ALL.into_iter().filter(|c| c.is_sensitive()) {
            assert!(!can(&r, "provider", sensitive), "{sensitive:?}");
        }
        let (p, g) = (id("patient"), id("provider"));
        let imaging = DataCategory::Imaging;
        assert!(!r.is_authorized(p, g, imaging, Purpose::Research, Access::Read));
        assert!(!r.is_authorized(p, g, imaging, Purpose::Treatment, Access::Write));
        set_block_timestamp::<Env>(ends - 1);
        assert!(can(&r, "provider", imaging));
        set_block_timestamp::<Env>(ends);
        assert!(!can(&r, "provider", imaging));
        assert!(can(&r, "provider", LABS), "the consent itself remains");
    }

    #[ink::test]
    fn the_patient_ends_a_window_at_once_and_only_once() {
        let mut r = world();
        set_caller::<Env>(id("patient"));
        r.end_emergency(id("patient"), id("provider")).expect("end");
        assert_eq!(last::<EmergencyAccessEnded>().by, id("patient"));
        assert!(!can(&r, "provider", DataCategory::Imaging));
        assert_eq!(
            r.end_emergency(id("patient"), id("provider")),
            Err(Error::NoWindowToEnd)
        );
        assert_eq!(
            r.end_emergency(id("patient"), id("insurer")),
            Err(Error::NoWindowToEnd)
        );
        set_block_timestamp::<Env>(NOW + DEFAULT_POLICY.emergency_window_ms);
        assert_eq!(
            r.end_emergency(id("patient"), id("provider")),
            Err(Error::NoWindowToEnd),
            "an ended window does not become endable when its time runs out"
        );
    }

    #[ink::test]
    fn blocking_and_unblocking_must_change_something() {
        let mut r = world();
        set_caller::<Env>(id("patient"));
        assert_eq!(
            r.set_emergency_block(id("patient"), id("provider"), false),
            Err(Error::BlockUnchanged)
        );
        r.set_emergency_block(id("patient"), id("provider"), true)
            .expect("block");
        assert_eq!(
            r.set_emergency_block(id("patient"), id("provider"), true),
            Err(Error::BlockUnchanged)
        );
        r.set_emergency_block(id("patient"), id("provider"), false)
            .expect("unblock");
        assert_eq!(emitted::<EmergencyBlockChanged>().len(), 2);
    }

    #[ink::test]
    fn the_registrar_bounds_the_policy() {
        let mut r = world();
        set_caller::<Env>(id("registrar"));
        let with = |f: fn(&mut Policy)| {
            let mut p = DEFAULT_POLICY;
            f(&mut p);
            p
        };
        for bad in [
            with(|p| p.emergency_window_ms = 0),
            with(|p| p.emergency_window_ms = MAX_EMERGENCY_WINDOW_MS + 1),
            with(|p| p.emergency_cooldown_ms = MAX_EMERGENCY_COOLDOWN_MS + 1),
            with(|p| p.max_delegation_ms = 0),
            with(|p| p.max_delegation_ms = MAX_DELEGATION_MS + 1),
        ] {
            assert_eq!(r.set_policy(bad), Err(Error::InvalidPolicy), "{bad:?}");
        }
        let widest = Policy {
            emergency_window_ms: MAX_EMERGENCY_WINDOW_MS,
            emergency_cooldown_ms: MAX_EMERGENCY_COOLDOWN_MS,
            max_delegation_ms: MAX_DELEGATION_MS,
        };
        r.set_policy(widest).expect("at the caps");
        // new windows take the new length
        set_caller::<Env>(id("provider"));
        r.break_glass(id("insurer"), EmergencyReason::Other, Hash::default())
            .expect("open");
        assert_eq!(
            r.emergency(id("insurer"), id("provider"))
                .map(|e| e.ends_at),
            Some(NOW + MAX_EMERGENCY_WINDOW_MS)
        );
    }

    #[ink::test]
    fn registrar_handover_takes_two_steps() {
        let mut r = world();
        set_caller::<Env>(id("registrar"));
        r.propose_registrar(id("stranger")).expect("propose");
        assert_eq!(
            r.registrar(),
            id("registrar"),
            "nothing changes before acceptance"
        );
        assert_eq!(r.pending_registrar(), Some(id("stranger")));
        set_caller::<Env>(id("stranger"));
        r.accept_registrar().expect("accept");
        assert_eq!(
            (r.registrar(), r.pending_registrar()),
            (id("stranger"), None)
        );
        set_caller::<Env>(id("registrar"));
        assert_eq!(
            register(&mut r, id("patient"), Role::App, 0),
            Err(Error::NotRegistrar)
        );
    }

    #[ink::test]
    fn consents_to_tells_role_suspension_and_consent_apart() {
        let r = world();
        let p = id("patient");
        let ask = |g: &str, role| r.consents_to(p, id(g), role, Purpose::Treatment, Access::Read);
        assert_eq!(ask("provider", Role::Provider), Standing::Consented);
        assert_eq!(ask("provider", Role::Insurer), Standing::NotInRole);
        assert_eq!(ask("stranger", Role::Provider), Standing::NotInRole);
        assert_eq!(ask("suspended org", Role::Provider), Standing::Suspended);
        assert_eq!(ask("researcher", Role::Researcher), Standing::NoConsent);
        assert_eq!(
            r.consents_to(
                p,
                id("provider"),
                Role::Provider,
                Purpose::Treatment,
                Access::Write
            ),
            Standing::NoConsent,
            "an open emergency window never gives write access"
        );
    }

    #[ink::test]
    fn access_verdict_needs_every_category_and_says_when_only_the_window_allowed_it() {
        let r = world();
        let p = id("patient");
        let imaging = DataCategory::Imaging.bit();
        let verdict =
            |g: &str, categories, purpose| r.access_verdict(p, id(g), categories, purpose);
        assert_eq!(
            verdict("provider", LABS.bit(), Purpose::Treatment),
            AccessVerdict::ByConsent
        );
        assert_eq!(
            verdict("provider", LABS.bit() | imaging, Purpose::Treatment),
            AccessVerdict::ByEmergency
        );
        assert_eq!(
            verdict(
                "provider",
                LABS.bit() | DataCategory::Genomics.bit(),
                Purpose::Treatment
            ),
            AccessVerdict::Denied
        );
        assert_eq!(
            verdict("insurer", imaging, Purpose::Treatment),
            AccessVerdict::Denied
        );
        assert_eq!(
            verdict("suspended org", LABS.bit(), Purpose::Treatment),
            AccessVerdict::Suspended
        );
        assert_eq!(
            verdict("stranger", LABS.bit(), Purpose::Treatment),
            AccessVerdict::Unregistered
        );
    }
}

/// Random histories of every kind of step, checked after each step against a model of the
/// rule written from the design (DESIGN §3), not from the contract: the model names
/// categories, purposes and access by their names in the design's order, keeps its own list
/// of sensitive categories, and decides every step's success by the promises alone.
mod model_check {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeSet, HashMap, HashSet};

    // The design's lists, in its order (bit i is entry i).
    const CATEGORY_NAMES: [&str; 14] = [
        "Demographics",
        "Allergies",
        "Medications",
        "Problems",
        "LabResults",
        "Imaging",
        "ClinicalNotes",
        "Immunizations",
        "Procedures",
        "Genomics",
        "MentalHealth",
        "SubstanceUse",
        "SexualHealth",
        "Billing",
    ];
    const SENSITIVE: [&str; 4] = ["Genomics", "MentalHealth", "SubstanceUse", "SexualHealth"];
    const PURPOSE_NAMES: [&str; 6] = [
        "Treatment",
        "Payment",
        "Operations",
        "Research",
        "PublicHealth",
        "PatientRequest",
    ];
    const ACCESS_NAMES: [&str; 2] = ["Read", "Write"];

    /// The names of the bits set, or `None` when the set is empty or has a bit beyond the
    /// list.
    fn names(bits: u32, list: &[&'static str]) -> Option<BTreeSet<&'static str>> {
        if bits == 0 || bits >> list.len() != 0 {
            return None;
        }
        Some(
            list.iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, n)| *n)
                .collect(),
        )
    }

    // Accounts: 0 registrar; 1, 2 patients; 3 provider flagged EMERGENCY; 4 insurer;
    // 5 provider without the flag; 6 never registered; 7 the patients' delegate, itself a
    // registered app.
    const PATIENTS: [u8; 2] = [1, 2];
    const GRANTEES: [u8; 5] = [3, 4, 5, 6, 7];
    const DELEGATE: u8 = 7;
    fn acc(i: u8) -> AccountId {
        AccountId::from([i + 1; 32])
    }
    fn role_of(i: u8) -> Option<&'static str> {
        match i {
            3 | 5 => Some("Provider"),
            4 => Some("Insurer"),
            7 => Some("App"),
            _ => None,
        }
    }
    fn contract_role(name: &str) -> Role {
        Role::ALL
            .into_iter()
            .find(|r| format!("{r:?}") == name)
            .expect("a role of the design")
    }

    #[derive(Debug, Clone)]
    enum Step {
        Grant {
            patient: u8,
            grantee: u8,
            categories: u16,
            purposes: u8,
            access: u8,
            from: i64,
            length: Option<i64>,
        },
        GrantByDelegate {
            patient: u8,
            grantee: u8,
            categories: u16,
            length: Option<i64>,
        },
        Revoke {
            patient: u8,
            grantee: u8,
        },
        RevokeByDelegate {
            patient: u8,
            grantee: u8,
        },
        Delegate {
            patient: u8,
            length: i64,
        },
        RemoveDelegate {
            patient: u8,
        },
        Suspend {
            org: u8,
        },
        Reinstate {
            org: u8,
        },
        BreakGlass {
            patient: u8,
            provider: u8,
        },
        EndEmergency {
            patient: u8,
        },
        EndEmergencyByDelegate {
            patient: u8,
            provider: u8,
        },
        Block {
            patient: u8,
            provider: u8,
            blocked: bool,
        },
        BlockByDelegate {
            patient: u8,
            provider: u8,
            blocked: bool,
        },
        Rename {
            org: u8,
            profile_bytes: usize,
        },
        AnnounceUpgrade {
            code: u8,
        },
        CancelUpgrade,
        /// Applies the announced (or another) code, when the design says it must be refused:
        /// the off-chain environment cannot switch code.
        RefusedUpgrade {
            code: u8,
        },
        SetPolicy {
            window: u64,
            cooldown: u64,
            max_delegation: u64,
        },
        Advance {
            ms: u64,
        },
    }

    fn bits16() -> impl Strategy<Value = u16> {
        // whole random sets (unknown bits included), sets of known categories only, and
        // single categories, so that every category, the sensitive ones among them, is
        // reached on its own
        prop_oneof![
            any::<u16>(),
            1u16..(1 << 14),
            (0u32..16).prop_map(|i| 1u16 << i)
        ]
    }

    fn bits8() -> impl Strategy<Value = u8> {
        prop_oneof![any::<u8>(), (0u32..8).prop_map(|i| 1u8 << i)]
    }

    fn step() -> impl Strategy<Value = Step> {
        let patient = || prop::sample::select(PATIENTS.to_vec());
        let grantee = || prop::sample::select(GRANTEES.to_vec());
        let org = prop::sample::select(vec![3u8, 4, 5, 7]);
        let length = || prop::option::of(-5_000i64..40_000);
        prop_oneof![
            3 => (patient(), grantee(), bits16(), bits8(), 0u8..4, -20_000i64..20_000, length())
                .prop_map(|(patient, grantee, categories, purposes, access, from, length)| Step::Grant {
                    patient, grantee, categories, purposes, access, from, length
                }),
            // a delegate's grants mostly end, before or after its delegation does
            4 => (patient(), grantee(), bits16(), prop::option::weighted(0.85, -2_000i64..30_000)).prop_map(
                |(patient, grantee, categories, length)| Step::GrantByDelegate { patient, grantee, categories, length }),
            1 => (patient(), grantee()).prop_map(|(patient, grantee)| Step::Revoke { patient, grantee }),
            1 => (patient(), grantee()).prop_map(|(patient, grantee)| Step::RevokeByDelegate { patient, grantee }),
            3 => (patient(), -5_000i64..80_000).prop_map(|(patient, length)| Step::Delegate { patient, length }),
            2 => patient().prop_map(|patient| Step::RemoveDelegate { patient }),
            1 => org.clone().prop_map(|org| Step::Suspend { org }),
            1 => org.prop_map(|org| Step::Reinstate { org }),
            2 => (patient(), prop::sample::select(vec![3u8, 5])).prop_map(|(patient, provider)| Step::BreakGlass { patient, provider }),
            2 => patient().prop_map(|patient| Step::EndEmergency { patient }),
            1 => (patient(), prop::sample::select(vec![3u8, DELEGATE])).prop_map(|(patient, provider)| Step::EndEmergencyByDelegate { patient, provider }),
            2 => (patient(), grantee(), any::<bool>()).prop_map(|(patient, provider, blocked)| Step::Block { patient, provider, blocked }),
            1 => (patient(), grantee(), any::<bool>()).prop_map(|(patient, provider, blocked)| Step::BlockByDelegate { patient, provider, blocked }),
            1 => (prop::sample::select(vec![3u8, 4, 6]), prop_oneof![0usize..4, 500usize..520]).prop_map(|(org, profile_bytes)| Step::Rename { org, profile_bytes }),
            1 => (0u8..2).prop_map(|code| Step::AnnounceUpgrade { code }),
            1 => Just(Step::CancelUpgrade),
            1 => (0u8..2).prop_map(|code| Step::RefusedUpgrade { code }),
            1 => (0u64..12_000, 0u64..20_000, 0u64..60_000).prop_map(|(window, cooldown, max_delegation)| Step::SetPolicy { window, cooldown, max_delegation }),
            3 => (0u64..10_000).prop_map(|ms| Step::Advance { ms }),
        ]
    }

    /// A consent as the design describes it.
    #[derive(Debug, Clone)]
    struct Grant {
        categories: BTreeSet<&'static str>,
        purposes: BTreeSet<&'static str>,
        access: BTreeSet<&'static str>,
        from: u64,
        until: Option<u64>,
        revoked: bool,
        /// Granted by the delegate, at this time: it lasts only as long as that delegation.
        by_delegate_at: Option<u64>,
    }

    /// A delegation: appointed at `since`, ending at `until`.
    #[derive(Debug, Clone, Copy)]
    struct Delegation {
        since: u64,
        until: u64,
    }

    /// The flagged provider's last window on a patient.
    #[derive(Debug, Clone, Copy, Default)]
    struct Window {
        opened: bool,
        until: u64,
        /// Ended by the patient's side (or a block) since it opened.
        ended: bool,
        /// The cool-down an ending started.
        cooldown_until: u64,
    }

    /// The world as the design's promises describe it.
    struct Model {
        now: u64,
        window_ms: u64,
        cooldown_ms: u64,
        max_delegation_ms: u64,
        suspended: HashSet<u8>,
        grants: HashMap<(u8, u8), Grant>,
        delegations: HashMap<u8, Delegation>,
        windows: HashMap<u8, Window>,
        /// (patient, provider) pairs blocked from breaking glass.
        blocked: HashSet<(u8, u8)>,
        /// Organization -> the length of the name it was last given.
        names: HashMap<u8, usize>,
        upgrade_delay: u64,
        /// The announced code and from when it may apply.
        pending_upgrade: Option<(u8, u64)>,
    }

    impl Model {
        fn active(&self, org: u8) -> bool {
            role_of(org).is_some() && !self.suspended.contains(&org)
        }

        /// "Nothing a delegate grants outlives the delegation": a delegate's grant counts
        /// only while the delegation it was made under lasts.
        fn in_force(&self, patient: u8, grantee: u8) -> Option<&Grant> {
            self.grants.get(&(patient, grantee)).filter(|g| {
                let delegation_lasts = g.by_delegate_at.is_none_or(|at| {
                    self.delegations
                        .get(&patient)
                        .is_some_and(|d| d.since <= at && self.now < d.until)
                });
                !g.revoked
                    && g.from <= self.now
                    && g.until.is_none_or(|u| self.now < u)
                    && delegation_lasts
            })
        }

        /// Only the flagged provider (3) ever has a window.
        fn window_open(&self, patient: u8, provider: u8) -> bool {
            provider == 3
                && !self.blocked.contains(&(patient, 3))
                && self
                    .windows
                    .get(&patient)
                    .is_some_and(|w| self.now < w.until)
        }

        fn delegate_active(&self, patient: u8) -> Option<u64> {
            self.delegations
                .get(&patient)
                .map(|d| d.until)
                .filter(|&u| self.now < u)
        }

        /// DESIGN §3: a registered, active grantee with an unexpired, unrevoked consent
        /// covering the category, purpose and access, or an open emergency window (read,
        /// treatment, non-sensitive categories).
        fn authorized(
            &self,
            patient: u8,
            grantee: u8,
            category: &str,
            purpose: &str,
            access: &str,
        ) -> bool {
            if !self.active(grantee) {
                return false;
            }
            let by_consent = self.in_force(patient, grantee).is_some_and(|g| {
                g.categories.contains(category)
                    && g.purposes.contains(purpose)
                    && g.access.contains(access)
            });
            let by_window = self.window_open(patient, grantee)
                && access == "Read"
                && purpose == "Treatment"
                && !SENSITIVE.contains(&category);
            by_consent || by_window
        }

        fn standing(
            &self,
            patient: u8,
            grantee: u8,
            role: &str,
            purpose: &str,
            access: &str,
        ) -> Standing {
            if role_of(grantee) != Some(role) {
                Standing::NotInRole
            } else if self.suspended.contains(&grantee) {
                Standing::Suspended
            } else if self
                .in_force(patient, grantee)
                .is_some_and(|g| g.purposes.contains(purpose) && g.access.contains(access))
            {
                Standing::Consented
            } else {
                Standing::NoConsent
            }
        }

        fn verdict(
            &self,
            patient: u8,
            accessor: u8,
            categories: &[&str],
            purpose: &str,
        ) -> AccessVerdict {
            if role_of(accessor).is_none() {
                return AccessVerdict::Unregistered;
            }
            if self.suspended.contains(&accessor) {
                return AccessVerdict::Suspended;
            }
            let mut window_needed = false;
            for c in categories {
                if !self.authorized(patient, accessor, c, purpose, "Read") {
                    return AccessVerdict::Denied;
                }
                let by_consent = self.in_force(patient, accessor).is_some_and(|g| {
                    g.categories.contains(c)
                        && g.purposes.contains(purpose)
                        && g.access.contains("Read")
                });
                window_needed |= !by_consent;
            }
            if window_needed {
                AccessVerdict::ByEmergency
            } else {
                AccessVerdict::ByConsent
            }
        }

        /// Ends the flagged provider's last window on `patient`, open or run out, if it was
        /// not ended yet; the cool-down starts now. Whether there was one to end.
        fn end_window(&mut self, patient: u8) -> bool {
            let now = self.now;
            let cooldown_until = now + self.cooldown_ms;
            match self.windows.get_mut(&patient) {
                Some(w) if w.opened && !w.ended => {
                    w.until = w.until.min(now);
                    w.ended = true;
                    w.cooldown_until = cooldown_until;
                    true
                }
                _ => false,
            }
        }

        /// The grant these raw (categories, purposes, access) bits and times make, if it is
        /// well-formed for this grantee.
        fn grant_of(
            &self,
            patient: u8,
            grantee: u8,
            (categories, purposes, access): (u16, u8, u8),
            from: u64,
            until: Option<u64>,
        ) -> Option<Grant> {
            // consents name registered, unsuspended organizations other than the patient
            if patient == grantee || role_of(grantee).is_none() || self.suspended.contains(&grantee)
            {
                return None;
            }
            let grant = Grant {
                categories: names(u32::from(categories), &CATEGORY_NAMES)?,
                purposes: names(u32::from(purposes), &PURPOSE_NAMES)?,
                access: names(u32::from(access), &ACCESS_NAMES)?,
                from,
                until,
                revoked: false,
                by_delegate_at: None,
            };
            until.is_none_or(|u| u > from).then_some(grant)
        }
    }

    fn offset(now: u64, delta: i64) -> u64 {
        now.saturating_add_signed(delta)
    }

    /// Runs one step on the contract and on the model; returns (contract ok, model ok).
    fn apply(r: &mut ConsentRegistry, m: &mut Model, step: &Step) -> (bool, bool) {
        let hash = Hash::default();
        match *step {
            Step::Grant {
                patient,
                grantee,
                categories,
                purposes,
                access,
                from,
                length,
            } => {
                let from = offset(m.now, from);
                let until = length.map(|l| offset(from, l));
                set_caller::<Env>(acc(patient));
                let scope = Scope {
                    categories,
                    purposes,
                    access,
                    valid_from: from,
                    expires_at: until,
                };
                let res = r.grant(acc(patient), acc(grantee), scope, hash);
                let expected = m.grant_of(
                    patient,
                    grantee,
                    (categories, purposes, access),
                    from,
                    until,
                );
                let ok = expected.is_some();
                if let Some(g) = expected {
                    m.grants.insert((patient, grantee), g);
                }
                (res.is_ok(), ok)
            }
            Step::GrantByDelegate {
                patient,
                grantee,
                categories,
                length,
            } => {
                let until = length.map(|l| offset(m.now, l));
                let scope = Scope {
                    categories,
                    purposes: Purpose::Treatment.bit(),
                    access: Access::Read.bit(),
                    valid_from: m.now,
                    expires_at: until,
                };
                set_caller::<Env>(acc(DELEGATE));
                let res = r.grant(acc(patient), acc(grantee), scope, hash);
                // the delegate acts for the patient, never for itself, and nothing it grants
                // outlives the delegation
                let expected = m.delegate_active(patient).and_then(|delegation_ends| {
                    let ends_in_time = until.is_some_and(|u| u <= delegation_ends);
                    (grantee != DELEGATE && ends_in_time)
                        .then(|| m.grant_of(patient, grantee, (categories, 1, 1), m.now, until))
                        .flatten()
                        .map(|g| Grant {
                            by_delegate_at: Some(m.now),
                            ..g
                        })
                });
                let ok = expected.is_some();
                if let Some(g) = expected {
                    m.grants.insert((patient, grantee), g);
                }
                (res.is_ok(), ok)
            }
            Step::Revoke { patient, grantee } | Step::RevokeByDelegate { patient, grantee } => {
                let by_delegate = matches!(step, Step::RevokeByDelegate { .. });
                let res = if by_delegate {
                    set_caller::<Env>(acc(DELEGATE));
                    r.revoke(acc(patient), acc(grantee))
                } else {
                    set_caller::<Env>(acc(patient));
                    r.revoke(acc(patient), acc(grantee))
                };
                // a delegate acts for the patient, and never about itself
                let may =
                    !by_delegate || (m.delegate_active(patient).is_some() && grantee != DELEGATE);
                let grant = m.grants.get_mut(&(patient, grantee)).filter(|g| !g.revoked);
                let ok = may && grant.is_some();
                if let (true, Some(g)) = (may, grant) {
                    g.revoked = true;
                }
                (res.is_ok(), ok)
            }
            Step::Delegate { patient, length } => {
                let until = offset(m.now, length);
                set_caller::<Env>(acc(patient));
                let res = r.set_delegate(acc(DELEGATE), until);
                let ok = until > m.now && until - m.now <= m.max_delegation_ms;
                if ok {
                    // extending a live delegation keeps it; otherwise a new one starts
                    let since = m
                        .delegations
                        .get(&patient)
                        .filter(|d| m.now < d.until)
                        .map_or(m.now, |d| d.since);
                    m.delegations.insert(patient, Delegation { since, until });
                }
                (res.is_ok(), ok)
            }
            Step::RemoveDelegate { patient } => {
                set_caller::<Env>(acc(patient));
                let res = r.remove_delegate(acc(DELEGATE));
                (res.is_ok(), m.delegations.remove(&patient).is_some())
            }
            Step::Suspend { org } | Step::Reinstate { org } => {
                let suspend = matches!(step, Step::Suspend { .. });
                set_caller::<Env>(acc(0));
                let res = if suspend {
                    r.suspend_org(acc(org))
                } else {
                    r.reinstate_org(acc(org))
                };
                let ok = m.suspended.contains(&org) != suspend;
                if suspend {
                    m.suspended.insert(org);
                } else {
                    m.suspended.remove(&org);
                }
                (res.is_ok(), ok)
            }
            Step::BreakGlass { patient, provider } => {
                set_caller::<Env>(acc(provider));
                let res = r.break_glass(acc(patient), EmergencyReason::Other, hash);
                let w = m.windows.get(&patient).copied().unwrap_or_default();
                // a cool-down follows every window from its end, however it ended
                let cooled_down =
                    m.now >= w.cooldown_until && (!w.opened || m.now >= w.until + m.cooldown_ms);
                let ok = provider == 3
                    && m.active(3)
                    && !m.blocked.contains(&(patient, 3))
                    && m.now >= w.until
                    && cooled_down;
                if ok {
                    m.windows.insert(
                        patient,
                        Window {
                            opened: true,
                            until: m.now + m.window_ms,
                            ended: false,
                            cooldown_until: w.cooldown_until,
                        },
                    );
                }
                (res.is_ok(), ok)
            }
            Step::EndEmergency { patient } => {
                set_caller::<Env>(acc(patient));
                let res = r.end_emergency(acc(patient), acc(3));
                (res.is_ok(), m.end_window(patient))
            }
            Step::EndEmergencyByDelegate { patient, provider } => {
                set_caller::<Env>(acc(DELEGATE));
                let res = r.end_emergency(acc(patient), acc(provider));
                // a delegate acts for the patient, never about itself
                let may = m.delegate_active(patient).is_some() && provider != DELEGATE;
                (res.is_ok(), may && m.end_window(patient))
            }
            Step::Block {
                patient,
                provider,
                blocked,
            }
            | Step::BlockByDelegate {
                patient,
                provider,
                blocked,
            } => {
                let by_delegate = matches!(step, Step::BlockByDelegate { .. });
                let res = if by_delegate {
                    set_caller::<Env>(acc(DELEGATE));
                    r.set_emergency_block(acc(patient), acc(provider), blocked)
                } else {
                    set_caller::<Env>(acc(patient));
                    r.set_emergency_block(acc(patient), acc(provider), blocked)
                };
                let may =
                    !by_delegate || (m.delegate_active(patient).is_some() && provider != DELEGATE);
                // blocks name registered emergency providers only, and must change something
                let changes = m.blocked.contains(&(patient, provider)) != blocked;
                let ok = may && changes && (!blocked || provider == 3);
                if ok && blocked {
                    m.blocked.insert((patient, provider));
                    // blocking ends an open window, as the patient ending it would
                    if m.windows.get(&patient).is_some_and(|w| m.now < w.until) {
                        m.end_window(patient);
                    }
                } else if ok {
                    m.blocked.remove(&(patient, provider));
                }
                (res.is_ok(), ok)
            }
            Step::Rename { org, profile_bytes } => {
                set_caller::<Env>(acc(0));
                let res = r.update_org(acc(org), vec![b'n'; profile_bytes]);
                // registered organizations, with a profile of 1 to 512 bytes
                let ok = role_of(org).is_some() && (1..=512).contains(&profile_bytes);
                if ok {
                    m.names.insert(org, profile_bytes);
                }
                (res.is_ok(), ok)
            }
            Step::AnnounceUpgrade { code } => {
                set_caller::<Env>(acc(0));
                let res = r.announce_upgrade(Hash::from([code; 32]));
                m.pending_upgrade = Some((code, m.now + m.upgrade_delay));
                (res.is_ok(), true)
            }
            Step::CancelUpgrade => {
                set_caller::<Env>(acc(0));
                let res = r.cancel_upgrade();
                (res.is_ok(), m.pending_upgrade.take().is_some())
            }
            Step::RefusedUpgrade { code } => {
                let due = m
                    .pending_upgrade
                    .is_some_and(|(announced, at)| announced == code && m.now >= at);
                if due {
                    // would switch code: nothing the off-chain environment can run
                    return (false, false);
                }
                set_caller::<Env>(acc(0));
                (r.upgrade(Hash::from([code; 32])).is_ok(), false)
            }
            Step::SetPolicy {
                window,
                cooldown,
                max_delegation,
            } => {
                set_caller::<Env>(acc(0));
                let policy = Policy {
                    emergency_window_ms: window,
                    emergency_cooldown_ms: cooldown,
                    max_delegation_ms: max_delegation,
                };
                let res = r.set_policy(policy);
                // windows of at least a millisecond, delegations that can last at all
                let ok = window > 0 && max_delegation > 0;
                if ok {
                    (m.window_ms, m.cooldown_ms, m.max_delegation_ms) =
                        (window, cooldown, max_delegation);
                }
                (res.is_ok(), ok)
            }
            Step::Advance { ms } => {
                m.now += ms;
                set_block_timestamp::<Env>(m.now);
                (true, true)
            }
        }
    }

    const CHECKED_PURPOSES: [Purpose; 3] =
        [Purpose::Treatment, Purpose::Payment, Purpose::Research];
    const VERDICT_SETS: [&[DataCategory]; 3] = [
        &[DataCategory::LabResults],
        &[DataCategory::LabResults, DataCategory::Imaging],
        &[DataCategory::Imaging, DataCategory::MentalHealth],
    ];

    fn check(
        r: &ConsentRegistry,
        m: &Model,
        step: &Step,
    ) -> core::result::Result<(), TestCaseError> {
        let name = |x: &dyn core::fmt::Debug| format!("{x:?}");
        for org in GRANTEES {
            prop_assert_eq!(
                r.org_profile(acc(org)).map(|p| p.len()),
                m.names.get(&org).copied(),
                "org_profile({}) after {:?}",
                org,
                step
            );
        }
        prop_assert_eq!(r.upgrade_terms().delay_ms, m.upgrade_delay);
        prop_assert_eq!(
            r.upgrade_terms()
                .pending
                .map(|p| (p.code_hash, p.effective_at)),
            m.pending_upgrade
                .map(|(code, at)| (Hash::from([code; 32]), at)),
            "pending upgrade after {:?}",
            step
        );
        for p in PATIENTS {
            for g in GRANTEES {
                for c in DataCategory::ALL {
                    for purpose in CHECKED_PURPOSES {
                        for a in [Access::Read, Access::Write] {
                            prop_assert_eq!(
                                r.is_authorized(acc(p), acc(g), c, purpose, a),
                                m.authorized(p, g, &name(&c), &name(&purpose), &name(&a)),
                                "is_authorized(patient {}, grantee {}, {:?}, {:?}, {:?}) after {:?} at {}",
                                p, g, c, purpose, a, step, m.now
                            );
                        }
                    }
                }
                for role in ["Provider", "Insurer"] {
                    for (purpose, a) in [
                        (Purpose::Treatment, Access::Write),
                        (Purpose::Payment, Access::Read),
                    ] {
                        prop_assert_eq!(
                            r.consents_to(acc(p), acc(g), contract_role(role), purpose, a),
                            m.standing(p, g, role, &name(&purpose), &name(&a)),
                            "consents_to(patient {}, grantee {}, {}, {:?}, {:?}) after {:?}",
                            p,
                            g,
                            role,
                            purpose,
                            a,
                            step
                        );
                    }
                }
                for set in VERDICT_SETS {
                    let bits = set.iter().fold(0, |b, c| b | c.bit());
                    let named: Vec<String> = set.iter().map(|c| name(c)).collect();
                    let named: Vec<&str> = named.iter().map(String::as_str).collect();
                    prop_assert_eq!(
                        r.access_verdict(acc(p), acc(g), bits, Purpose::Treatment),
                        m.verdict(p, g, &named, "Treatment"),
                        "access_verdict(patient {}, grantee {}, {:?}) after {:?}",
                        p,
                        g,
                        set,
                        step
                    );
                }
            }
        }
        Ok(())
    }

    fn run(steps: &[Step]) -> core::result::Result<(), TestCaseError> {
        fresh_contract();
        set_block_timestamp::<Env>(0);
        set_caller::<Env>(acc(0));
        let fail = |e: Error| TestCaseError::fail(format!("setup: {e:?}"));
        // upgrades that wait seconds, so that the steps see them come due
        let mut r = ConsentRegistry::with_upgrade_delay(5_000).map_err(fail)?;
        let mut names = HashMap::new();
        for (org, role, flags) in [
            (3, Role::Provider, FLAG_EMERGENCY),
            (4, Role::Insurer, 0),
            (5, Role::Provider, 0),
            (7, Role::App, 0),
        ] {
            let profile = profile(&format!("Organization {org}"));
            names.insert(org, profile.len());
            r.register_org(acc(org), role, flags, profile)
                .map_err(fail)?;
        }
        // time scales the steps reach: windows and cool-downs of seconds
        let policy = Policy {
            emergency_window_ms: 8_000,
            emergency_cooldown_ms: 12_000,
            max_delegation_ms: 50_000,
        };
        r.set_policy(policy).map_err(fail)?;
        let mut m = Model {
            now: 0,
            window_ms: policy.emergency_window_ms,
            cooldown_ms: policy.emergency_cooldown_ms,
            max_delegation_ms: policy.max_delegation_ms,
            suspended: HashSet::new(),
            grants: HashMap::new(),
            delegations: HashMap::new(),
            windows: HashMap::new(),
            blocked: HashSet::new(),
            names,
            upgrade_delay: 5_000,
            pending_upgrade: None,
        };
        for step in steps {
            let (contract_ok, model_ok) = apply(&mut r, &mut m, step);
            prop_assert_eq!(contract_ok, model_ok, "step {:?} at {}", step, m.now);
            check(&r, &m, step)?;
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn the_contract_follows_the_designs_rule(steps in prop::collection::vec(step(), 1..40)) {
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

/// One test per hole the outside run of the second version found (contracts v3 issue), each
/// first committed against that version, where it failed.
mod outsider {
    use super::*;

    fn open_window(r: &mut ConsentRegistry, provider: &str) -> Result<()> {
        set_caller::<Env>(id(provider));
        r.break_glass(id("patient"), EmergencyReason::Other, Hash::default())
    }

    fn window_end(r: &ConsentRegistry) -> Timestamp {
        r.emergency(id("patient"), id("provider"))
            .expect("the world's window")
            .ends_at
    }

    #[ink::test]
    fn a_window_that_ran_out_is_followed_by_the_cool_down() {
        // given: the provider's window runs out by time
        let mut r = world();
        let ends_at = window_end(&r);
        let cooldown = DEFAULT_POLICY.emergency_cooldown_ms;
        set_block_timestamp::<Env>(ends_at);
        assert!(!can(&r, "provider", DataCategory::Imaging), "ran out");
        // then: the provider cannot break glass again before the cool-down has passed
        assert_eq!(
            open_window(&mut r, "provider"),
            Err(Error::EmergencyCoolingDown)
        );
        set_block_timestamp::<Env>(ends_at + cooldown - 1);
        assert_eq!(
            open_window(&mut r, "provider"),
            Err(Error::EmergencyCoolingDown)
        );
        set_block_timestamp::<Env>(ends_at + cooldown);
        assert_eq!(open_window(&mut r, "provider"), Ok(()));
    }

    #[ink::test]
    fn the_patient_can_end_a_window_that_ran_out_and_its_cool_down_starts_then() {
        // given: the window ran out a second ago
        let mut r = world();
        let ends_at = window_end(&r);
        let cooldown = DEFAULT_POLICY.emergency_cooldown_ms;
        let later = ends_at + 1_000;
        set_block_timestamp::<Env>(later);
        // when: the patient ends it
        set_caller::<Env>(id("patient"));
        r.end_emergency(id("patient"), id("provider"))
            .expect("a window that ran out can be ended");
        // then: the cool-down runs from now
        let ended = last::<EmergencyAccessEnded>();
        assert_eq!(
            (ended.provider, ended.cooldown_until),
            (id("provider"), later + cooldown)
        );
        set_block_timestamp::<Env>(ends_at + cooldown);
        assert_eq!(
            open_window(&mut r, "provider"),
            Err(Error::EmergencyCoolingDown)
        );
        set_block_timestamp::<Env>(later + cooldown);
        assert_eq!(open_window(&mut r, "provider"), Ok(()));
    }

    #[ink::test]
    fn blocks_name_registered_emergency_providers_only() {
        let mut r = world();
        set_caller::<Env>(id("patient"));
        assert_eq!(
            r.set_emergency_block(id("patient"), id("patient"), true),
            Err(Error::SelfGrant),
            "oneself"
        );
        assert_eq!(
            r.set_emergency_block(id("patient"), id("stranger"), true),
            Err(Error::NotEmergencyProvider),
            "an unregistered account"
        );
        assert_eq!(
            r.set_emergency_block(id("patient"), id("insurer"), true),
            Err(Error::NotEmergencyProvider),
            "an organization that can never break glass"
        );
        assert!(emitted::<EmergencyBlockChanged>().is_empty());
        // an emergency provider the patient never met can be blocked before it ever breaks
        // glass: that is what blocks are for
        r.set_emergency_block(id("patient"), id("suspended org"), true)
            .expect("a registered emergency provider");
    }

    #[ink::test]
    fn a_delegate_cannot_lift_a_block_on_itself_nor_end_its_own_window() {
        // given: the patient's delegate is an emergency provider the patient blocked
        let mut r = world();
        set_caller::<Env>(id("registrar"));
        register(&mut r, id("delegate"), Role::Provider, FLAG_EMERGENCY).expect("register");
        set_caller::<Env>(id("patient"));
        r.set_emergency_block(id("patient"), id("delegate"), true)
            .expect("block");
        // when: the delegate lifts the block on itself
        set_caller::<Env>(id("delegate"));
        assert_eq!(
            r.set_emergency_block(id("patient"), id("delegate"), false),
            Err(Error::DelegateActsForItself)
        );
        // then: it still cannot break glass
        assert_eq!(
            open_window(&mut r, "delegate"),
            Err(Error::EmergencyBlocked)
        );
        // and once the patient unblocks it and it breaks glass, it cannot end its own window
        // either (nor block itself, which would end it)
        set_caller::<Env>(id("patient"));
        r.set_emergency_block(id("patient"), id("delegate"), false)
            .expect("unblock");
        open_window(&mut r, "delegate").expect("break glass");
        set_caller::<Env>(id("delegate"));
        assert_eq!(
            r.end_emergency(id("patient"), id("delegate")),
            Err(Error::DelegateActsForItself)
        );
        assert_eq!(
            r.set_emergency_block(id("patient"), id("delegate"), true),
            Err(Error::DelegateActsForItself)
        );
    }
}
