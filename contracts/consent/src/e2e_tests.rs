//! The ConsentRegistry on a real node (`ink_e2e`, feature `e2e-tests`): real wasm, real
//! blocks, events decoded with the shared types. One test per behaviour.

use crate::consent_registry::{ConsentRegistry, ConsentRegistryRef, Error, Scope, Standing};
use ink::env::Event;
use ink::primitives::{AccountId, Hash};
use ink::scale::Decode;
use ink_e2e::events::{ContractEmitted, EventWithTopics};
use ink_e2e::{AccountKeyring, ContractsBackend};
use medledger_events::*;

type E2EResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;
type Emitted = EventWithTopics<ContractEmitted<ink::env::DefaultEnvironment>>;

fn account(who: AccountKeyring) -> AccountId {
    ink_e2e::account_id(who)
}

/// The decoded events of type `E` a call emitted, told apart by their signature topic.
fn events_of<E: Event + Decode>(emitted: &[Emitted]) -> Vec<E> {
    emitted
        .iter()
        .filter(|e| e.topics.first().map(|t| t.0) == E::SIGNATURE_TOPIC)
        .filter_map(|e| E::decode(&mut &e.event.data[..]).ok())
        .collect()
}

fn labs(access: Access, purpose: Purpose, expires_at: Option<Timestamp>) -> Scope {
    Scope {
        categories: DataCategory::LabResults.bit(),
        purposes: purpose.bit(),
        access: access.bit(),
        valid_from: 0,
        expires_at,
    }
}

/// The profile of an organization named `name`, a clinic with a FHIR Organization URL, as
/// the registry keeps it.
fn profile(name: &str) -> Vec<u8> {
    OrgProfile {
        name: name.into(),
        kind: OrgKind::Clinic,
        identifiers: vec![OrgIdentifier {
            system: URL_SYSTEM.into(),
            value: "https://fhir.riverside.example/Organization/1".into(),
        }],
    }
    .to_bytes()
}

/// Instantiates a ConsentRegistry with //Alice as registrar, upgrades that wait
/// `upgrade_delay_ms` after their announcement, and //Bob registered as "Riverside Clinic", a
/// provider flagged EMERGENCY; returns its address.
async fn registry_with_bob_waiting<Client>(client: &mut Client, upgrade_delay_ms: u64) -> AccountId
where
    Client: ink_e2e::E2EBackend,
    <Client as ContractsBackend<ink::env::DefaultEnvironment>>::Error: std::fmt::Debug,
{
    let mut constructor = ConsentRegistryRef::with_upgrade_delay(upgrade_delay_ms);
    let contract = client
        .instantiate("medledger-consent", &ink_e2e::alice(), &mut constructor)
        .submit()
        .await
        .expect("instantiate");
    let mut r = contract.call_builder::<ConsentRegistry>();
    let bob = account(AccountKeyring::Bob);
    client
        .call(
            &ink_e2e::alice(),
            &r.register_org(
                bob,
                Role::Provider,
                FLAG_EMERGENCY,
                profile("Riverside Clinic"),
            ),
        )
        .submit()
        .await
        .expect("register bob");
    contract.account_id
}

/// [`registry_with_bob_waiting`] with the default upgrade delay.
async fn registry_with_bob<Client>(client: &mut Client) -> AccountId
where
    Client: ink_e2e::E2EBackend,
    <Client as ContractsBackend<ink::env::DefaultEnvironment>>::Error: std::fmt::Debug,
{
    let mut constructor = ConsentRegistryRef::new();
    let contract = client
        .instantiate("medledger-consent", &ink_e2e::alice(), &mut constructor)
        .submit()
        .await
        .expect("instantiate");
    let mut r = contract.call_builder::<ConsentRegistry>();
    let bob = account(AccountKeyring::Bob);
    client
        .call(
            &ink_e2e::alice(),
            &r.register_org(
                bob,
                Role::Provider,
                FLAG_EMERGENCY,
                profile("Riverside Clinic"),
            ),
        )
        .submit()
        .await
        .expect("register bob");
    contract.account_id
}

/// Milliseconds since the Unix epoch: a dev node's block times follow the clock.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Waits until the wall clock has passed `instant` (ms), then has the registrar make a block
/// (setting the policy it already has). A dev node makes blocks only for transactions, and a
/// call is first tried at the last block's time, so time moves on chain only with a block.
async fn a_block_after<Client>(client: &mut Client, registry: AccountId, instant: u64)
where
    Client: ink_e2e::E2EBackend,
    <Client as ContractsBackend<ink::env::DefaultEnvironment>>::Error: std::fmt::Debug,
{
    while now_ms() < instant {
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let mut r = ink_e2e::create_call_builder::<ConsentRegistry>(registry);
    let policy = client
        .call(&ink_e2e::alice(), &r.policy())
        .dry_run()
        .await
        .expect("policy")
        .return_value();
    client
        .call(&ink_e2e::alice(), &r.set_policy(policy))
        .submit()
        .await
        .expect("a block");
}

#[ink_e2e::test]
async fn an_organization_carries_its_name_and_the_registrar_renames_it<Client: E2EBackend>(
    mut client: Client,
) -> E2EResult<()> {
    // given: bob registered as Riverside Clinic
    let address = registry_with_bob(&mut client).await;
    let mut r = ink_e2e::create_call_builder::<ConsentRegistry>(address);
    let bob = account(AccountKeyring::Bob);
    let named = client
        .call(&ink_e2e::eve(), &r.org_profile(bob))
        .dry_run()
        .await?
        .return_value();
    assert_eq!(named, Some(profile("Riverside Clinic")));

    // when: the registrar renames it; nobody else can
    let renamed = OrgProfile {
        name: "Riverside Hospital".into(),
        kind: OrgKind::Hospital,
        identifiers: Vec::new(),
    };
    let refused = client
        .call(&ink_e2e::bob(), &r.update_org(bob, renamed.to_bytes()))
        .dry_run()
        .await?;
    assert_eq!(refused.return_value(), Err(Error::NotRegistrar));
    let out = client
        .call(&ink_e2e::alice(), &r.update_org(bob, renamed.to_bytes()))
        .submit()
        .await?;

    // then: the event carries the new profile, and so does the registry
    let updated: Vec<OrgUpdated> = events_of(&out.contract_emitted_events()?);
    assert_eq!(updated[0].org, bob);
    assert_eq!(
        OrgProfile::from_bytes(&updated[0].profile),
        Ok(renamed.clone())
    );
    let now = client
        .call(&ink_e2e::eve(), &r.org_profile(bob))
        .dry_run()
        .await?
        .return_value();
    assert_eq!(now, Some(renamed.to_bytes()));
    // and a profile beyond what the registry stores is refused
    let refused = client
        .call(
            &ink_e2e::alice(),
            &r.update_org(bob, vec![b'x'; MAX_PROFILE_BYTES + 1]),
        )
        .dry_run()
        .await?;
    assert_eq!(refused.return_value(), Err(Error::InvalidProfile));
    Ok(())
}

#[ink_e2e::test]
async fn a_window_that_ran_out_is_followed_by_the_cool_down<Client: E2EBackend>(
    mut client: Client,
) -> E2EResult<()> {
    // given: windows of a second and a minute's cool-down
    let address = registry_with_bob(&mut client).await;
    let mut r = ink_e2e::create_call_builder::<ConsentRegistry>(address);
    let (bob, dave) = (account(AccountKeyring::Bob), account(AccountKeyring::Dave));
    let policy = Policy {
        emergency_window_ms: 1_000,
        emergency_cooldown_ms: 60_000,
        max_delegation_ms: 24 * 60 * 60 * 1000,
    };
    client
        .call(&ink_e2e::alice(), &r.set_policy(policy))
        .submit()
        .await?;
    let break_glass = r.break_glass(dave, EmergencyReason::Other, Hash::default());
    client.call(&ink_e2e::bob(), &break_glass).submit().await?;

    // when: the window runs out
    a_block_after(&mut client, address, now_ms() + 1_500).await;

    // then: bob cannot break glass again at once
    let refused = client.call(&ink_e2e::bob(), &break_glass).dry_run().await?;
    assert_eq!(refused.return_value(), Err(Error::EmergencyCoolingDown));
    // and dave can end the window that ran out, which starts the cool-down again
    let out = client
        .call(&ink_e2e::dave(), &r.end_emergency(dave, bob))
        .submit()
        .await?;
    let ended: Vec<EmergencyAccessEnded> = events_of(&out.contract_emitted_events()?);
    assert!(ended[0].cooldown_until >= now_ms() + 50_000);
    let again = client
        .call(&ink_e2e::dave(), &r.end_emergency(dave, bob))
        .dry_run()
        .await?;
    assert_eq!(again.return_value(), Err(Error::NoWindowToEnd));
    Ok(())
}

#[ink_e2e::test]
async fn a_grant_authorizes_and_a_revocation_ends_it<Client: E2EBackend>(
    mut client: Client,
) -> E2EResult<()> {
    // given
    let address = registry_with_bob(&mut client).await;
    let mut r = ink_e2e::create_call_builder::<ConsentRegistry>(address);
    let (bob, charlie) = (
        account(AccountKeyring::Bob),
        account(AccountKeyring::Charlie),
    );
    let check = r.is_authorized(
        charlie,
        bob,
        DataCategory::LabResults,
        Purpose::Treatment,
        Access::Read,
    );
    let scope = labs(Access::Read, Purpose::Treatment, None);

    // when: charlie grants bob lab results for treatment
    let out = client
        .call(
            &ink_e2e::charlie(),
            &r.grant(charlie, bob, scope, Hash::from([9; 32])),
        )
        .submit()
        .await?;

    // then: one event, decoded with the shared type, and bob is authorized
    let emitted = out.contract_emitted_events()?;
    assert_eq!(emitted.len(), 1);
    let granted: Vec<ConsentGranted> = events_of(&emitted);
    assert_eq!(
        (granted[0].patient, granted[0].grantee, granted[0].version),
        (charlie, bob, 1)
    );
    assert!(client
        .call(&ink_e2e::alice(), &check)
        .dry_run()
        .await?
        .return_value());

    // when: charlie revokes
    let out = client
        .call(&ink_e2e::charlie(), &r.revoke(charlie, bob))
        .submit()
        .await?;

    // then
    let revoked: Vec<ConsentRevoked> = events_of(&out.contract_emitted_events()?);
    assert_eq!(revoked[0].version, 1);
    assert!(!client
        .call(&ink_e2e::alice(), &check)
        .dry_run()
        .await?
        .return_value());
    Ok(())
}

#[ink_e2e::test]
async fn suspension_cuts_an_organization_off_until_reinstated<Client: E2EBackend>(
    mut client: Client,
) -> E2EResult<()> {
    // given: charlie consents to bob writing lab results
    let address = registry_with_bob(&mut client).await;
    let mut r = ink_e2e::create_call_builder::<ConsentRegistry>(address);
    let (bob, charlie) = (
        account(AccountKeyring::Bob),
        account(AccountKeyring::Charlie),
    );
    let s = labs(Access::Write, Purpose::Treatment, None);
    client
        .call(
            &ink_e2e::charlie(),
            &r.grant(charlie, bob, s, Hash::default()),
        )
        .submit()
        .await?;
    let standing = r.consents_to(
        charlie,
        bob,
        Role::Provider,
        Purpose::Treatment,
        Access::Write,
    );
    assert_eq!(
        client
            .call(&ink_e2e::alice(), &standing)
            .dry_run()
            .await?
            .return_value(),
        Standing::Consented
    );

    // when: the registrar suspends bob
    let out = client
        .call(&ink_e2e::alice(), &r.suspend_org(bob))
        .submit()
        .await?;

    // then
    assert_eq!(
        events_of::<OrgSuspended>(&out.contract_emitted_events()?).len(),
        1
    );
    assert_eq!(
        client
            .call(&ink_e2e::alice(), &standing)
            .dry_run()
            .await?
            .return_value(),
        Standing::Suspended
    );

    // when: reinstated
    let out = client
        .call(&ink_e2e::alice(), &r.reinstate_org(bob))
        .submit()
        .await?;
    assert_eq!(
        events_of::<OrgReinstated>(&out.contract_emitted_events()?).len(),
        1
    );
    assert_eq!(
        client
            .call(&ink_e2e::alice(), &standing)
            .dry_run()
            .await?
            .return_value(),
        Standing::Consented
    );
    Ok(())
}

#[ink_e2e::test]
async fn the_registrar_hands_over_in_two_signatures<Client: E2EBackend>(
    mut client: Client,
) -> E2EResult<()> {
    // given
    let address = registry_with_bob(&mut client).await;
    let mut r = ink_e2e::create_call_builder::<ConsentRegistry>(address);
    let (alice, ferdie) = (
        account(AccountKeyring::Alice),
        account(AccountKeyring::Ferdie),
    );

    // when: alice proposes ferdie; a stranger cannot accept
    client
        .call(&ink_e2e::alice(), &r.propose_registrar(ferdie))
        .submit()
        .await?;
    let refused = client
        .call(&ink_e2e::eve(), &r.accept_registrar())
        .dry_run()
        .await?;
    assert_eq!(refused.return_value(), Err(Error::NotProposedRegistrar));

    // then: ferdie accepts and is the registrar
    let out = client
        .call(&ink_e2e::ferdie(), &r.accept_registrar())
        .submit()
        .await?;
    let changed: Vec<RegistrarChanged> = events_of(&out.contract_emitted_events()?);
    assert_eq!((changed[0].previous, changed[0].registrar), (alice, ferdie));
    let refused = client
        .call(
            &ink_e2e::alice(),
            &r.register_org(alice, Role::App, 0, profile("Alice's App")),
        )
        .dry_run()
        .await?;
    assert_eq!(refused.return_value(), Err(Error::NotRegistrar));
    Ok(())
}

#[ink_e2e::test]
async fn a_delegate_grants_for_the_patient_within_its_delegation_only<Client: E2EBackend>(
    mut client: Client,
) -> E2EResult<()> {
    // given: dave appoints eve until `ends`; eve is a registered organization too
    let address = registry_with_bob(&mut client).await;
    let mut r = ink_e2e::create_call_builder::<ConsentRegistry>(address);
    let (bob, dave, eve) = (
        account(AccountKeyring::Bob),
        account(AccountKeyring::Dave),
        account(AccountKeyring::Eve),
    );
    client
        .call(
            &ink_e2e::alice(),
            &r.register_org(eve, Role::App, 0, profile("Eve's App")),
        )
        .submit()
        .await?;
    let policy = client
        .call(&ink_e2e::alice(), &r.policy())
        .dry_run()
        .await?
        .return_value();
    let refused = client
        .call(&ink_e2e::dave(), &r.set_delegate(eve, u64::MAX))
        .dry_run()
        .await?;
    assert_eq!(refused.return_value(), Err(Error::DelegationTooLong));
    // a little less than the longest delegation, from a block time just behind "now"
    let ends = now_ms() + policy.max_delegation_ms / 2;
    client
        .call(&ink_e2e::dave(), &r.set_delegate(eve, ends))
        .submit()
        .await?;

    // when: eve grants for dave a consent that ends with the delegation
    let out = client
        .call(
            &ink_e2e::eve(),
            &r.grant(
                dave,
                bob,
                labs(Access::Read, Purpose::Treatment, Some(ends)),
                Hash::default(),
            ),
        )
        .submit()
        .await?;

    // then: it is dave's consent, signed by eve
    let granted: Vec<ConsentGranted> = events_of(&out.contract_emitted_events()?);
    assert_eq!((granted[0].patient, granted[0].by), (dave, eve));
    // and eve cannot outlive the delegation, nor grant herself anything
    for (grantee, until, error) in [
        (bob, None, Error::OutlivesDelegation),
        (bob, Some(ends + 1), Error::OutlivesDelegation),
        (eve, Some(ends), Error::DelegateActsForItself),
    ] {
        let call = r.grant(
            dave,
            grantee,
            labs(Access::Write, Purpose::Treatment, until),
            Hash::default(),
        );
        let refused = client.call(&ink_e2e::eve(), &call).dry_run().await?;
        assert_eq!(refused.return_value(), Err(error));
    }
    Ok(())
}

#[ink_e2e::test]
async fn an_emergency_window_is_bounded_by_the_patient<Client: E2EBackend>(
    mut client: Client,
) -> E2EResult<()> {
    // given: bob, an EMERGENCY provider, breaks glass on dave
    let address = registry_with_bob(&mut client).await;
    let mut r = ink_e2e::create_call_builder::<ConsentRegistry>(address);
    let (bob, dave) = (account(AccountKeyring::Bob), account(AccountKeyring::Dave));
    let break_glass = r.break_glass(dave, EmergencyReason::LifeThreatening, Hash::from([2; 32]));
    let out = client.call(&ink_e2e::bob(), &break_glass).submit().await?;
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

    // then: no second window while it is open
    let refused = client.call(&ink_e2e::bob(), &break_glass).dry_run().await?;
    assert_eq!(refused.return_value(), Err(Error::EmergencyOpen));

    // when: dave ends it
    let out = client
        .call(&ink_e2e::dave(), &r.end_emergency(dave, bob))
        .submit()
        .await?;
    let ended: Vec<EmergencyAccessEnded> = events_of(&out.contract_emitted_events()?);
    assert_eq!(ended[0].by, dave);
    assert!(!client
        .call(&ink_e2e::alice(), &imaging)
        .dry_run()
        .await?
        .return_value());

    // then: bob cannot re-open it during the cool-down
    let refused = client.call(&ink_e2e::bob(), &break_glass).dry_run().await?;
    assert_eq!(refused.return_value(), Err(Error::EmergencyCoolingDown));

    // when: dave blocks bob
    let out = client
        .call(&ink_e2e::dave(), &r.set_emergency_block(dave, bob, true))
        .submit()
        .await?;
    let blocked: Vec<EmergencyBlockChanged> = events_of(&out.contract_emitted_events()?);
    assert!(blocked[0].blocked);
    let refused = client.call(&ink_e2e::bob(), &break_glass).dry_run().await?;
    assert_eq!(refused.return_value(), Err(Error::EmergencyBlocked));
    Ok(())
}

#[ink_e2e::test]
async fn the_registrar_sets_the_policy<Client: E2EBackend>(mut client: Client) -> E2EResult<()> {
    let address = registry_with_bob(&mut client).await;
    let mut r = ink_e2e::create_call_builder::<ConsentRegistry>(address);
    let policy = Policy {
        emergency_window_ms: 60 * 60 * 1000,
        emergency_cooldown_ms: 0,
        max_delegation_ms: 7 * 24 * 60 * 60 * 1000,
    };
    let refused = client
        .call(&ink_e2e::bob(), &r.set_policy(policy))
        .dry_run()
        .await?;
    assert_eq!(refused.return_value(), Err(Error::NotRegistrar));
    let out = client
        .call(&ink_e2e::alice(), &r.set_policy(policy))
        .submit()
        .await?;
    let changed: Vec<PolicyChanged> = events_of(&out.contract_emitted_events()?);
    assert_eq!(changed[0].policy, policy);
    assert_eq!(
        client
            .call(&ink_e2e::bob(), &r.policy())
            .dry_run()
            .await?
            .return_value(),
        policy
    );
    Ok(())
}

#[ink_e2e::test]
async fn an_upgrade_waits_its_announced_delay_then_runs_the_new_codes_migration<
    Client: E2EBackend,
>(
    mut client: Client,
) -> E2EResult<()> {
    // given: state worth keeping, and upgrades that wait three seconds
    let address = registry_with_bob_waiting(&mut client, 3_000).await;
    let mut r = ink_e2e::create_call_builder::<ConsentRegistry>(address);
    let (alice, bob) = (account(AccountKeyring::Alice), account(AccountKeyring::Bob));
    let code_hash = client
        .upload("medledger-consent", &ink_e2e::alice())
        .submit()
        .await
        .expect("upload")
        .code_hash;
    let refused = client
        .call(&ink_e2e::bob(), &r.announce_upgrade(code_hash))
        .dry_run()
        .await?;
    assert_eq!(refused.return_value(), Err(Error::NotRegistrar));
    let refused = client
        .call(&ink_e2e::alice(), &r.upgrade(code_hash))
        .dry_run()
        .await?;
    assert_eq!(refused.return_value(), Err(Error::UpgradeNotAnnounced));

    // when: the registrar announces it; it cannot apply before the delay has passed
    let out = client
        .call(&ink_e2e::alice(), &r.announce_upgrade(code_hash))
        .submit()
        .await?;
    let announced: Vec<UpgradeAnnounced> = events_of(&out.contract_emitted_events()?);
    assert_eq!(announced[0].code_hash, code_hash);
    assert!(announced[0].effective_at + 1_000 >= now_ms() + 3_000);
    let early = client
        .call(&ink_e2e::alice(), &r.upgrade(code_hash))
        .dry_run()
        .await?;
    assert_eq!(early.return_value(), Err(Error::UpgradeTooEarly));
    a_block_after(&mut client, address, announced[0].effective_at + 500).await;
    // (here to a build of the same layout version; the whole-system tests upgrade to a
    // genuinely changed build, and from the second release's storage)
    let out = client
        .call(&ink_e2e::alice(), &r.upgrade(code_hash))
        .submit()
        .await?;

    // then: the new code's migration ran in the same call, and state stayed
    let upgraded: Vec<ContractUpgraded> = events_of(&out.contract_emitted_events()?);
    assert_eq!(
        (
            upgraded[0].code_hash,
            upgraded[0].from_version,
            upgraded[0].storage_version
        ),
        (code_hash, 2, 2)
    );
    let pending = client
        .call(&ink_e2e::alice(), &r.upgrade_terms())
        .dry_run()
        .await?
        .return_value()
        .pending;
    assert_eq!(pending, None, "an applied upgrade is no longer pending");
    let org = client
        .call(&ink_e2e::alice(), &r.org(bob))
        .dry_run()
        .await?
        .return_value();
    assert_eq!(org.map(|o| o.role), Some(Role::Provider));
    let registrar = client
        .call(&ink_e2e::alice(), &r.registrar())
        .dry_run()
        .await?;
    assert_eq!(registrar.return_value(), alice);
    Ok(())
}

#[ink_e2e::test]
async fn an_upgrade_to_code_that_cannot_migrate_changes_nothing<Client: E2EBackend>(
    mut client: Client,
) -> E2EResult<()> {
    // given: the RecordRegistry's code, which cannot read this storage, announced
    let address = registry_with_bob_waiting(&mut client, 0).await;
    let mut r = ink_e2e::create_call_builder::<ConsentRegistry>(address);
    let foreign = client
        .upload("medledger-records", &ink_e2e::alice())
        .submit()
        .await
        .expect("upload")
        .code_hash;
    client
        .call(&ink_e2e::alice(), &r.announce_upgrade(foreign))
        .submit()
        .await?;

    // when
    let result = client
        .call(&ink_e2e::alice(), &r.upgrade(foreign))
        .dry_run()
        .await?;

    // then: refused, and the registry still answers as itself
    assert_eq!(result.return_value(), Err(Error::UpgradeFailed));
    let bob = account(AccountKeyring::Bob);
    let org = client
        .call(&ink_e2e::alice(), &r.org(bob))
        .dry_run()
        .await?
        .return_value();
    assert!(org.is_some());
    Ok(())
}
