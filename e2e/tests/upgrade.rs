//! The registrar upgrades both contracts to a genuinely changed build — the test-only
//! `test-next` bundles: storage layout version 3, an added storage field, and the migration
//! step from 2, which in the ConsentRegistry also changes data — each announced first and
//! applied only once its delay has passed, and the new code reads what the old code stored.

use anyhow::Result;
use medledger_client::{account_of, consent, records};
use medledger_deploy::{
    CONSENT_BUNDLE, Contract, DeployError, RECORDS_BUNDLE, TEST_NEXT_DIR, load_bundle,
};
use medledger_e2e::{contracts_dir, patient, provider, registrar, spawn_system};
use medledger_events::{Access, DataCategory, Policy, Purpose};

#[tokio::test]
async fn both_contracts_upgrade_to_a_changed_build_and_keep_their_state() -> Result<()> {
    // given: a consent and an anchored record, stored by the first build
    let system = spawn_system().await?;
    let (alice, bob, dave) = (registrar()?, provider()?, patient()?);
    let (bob_id, dave_id) = (account_of(&bob), account_of(&dave));
    let (c, r) = (system.consent_registry, system.record_registry);
    let write_labs = consent::GrantArgs {
        grantee: bob_id,
        categories: DataCategory::LabResults.bit(),
        purposes: Purpose::Treatment.bit(),
        access: Access::Write.bit(),
        valid_from: 0,
        expires_at: None,
        terms_hash: [1; 32],
    };
    system
        .chain
        .submit(&dave, &c, &consent::grant(&c, &dave_id, &write_labs))
        .await?;
    let policy = Policy {
        emergency_window_ms: 3_600_000,
        emergency_cooldown_ms: 0,
        max_delegation_ms: 86_400_000,
    };
    system
        .chain
        .submit(&alice, &c, &consent::set_policy(&c, policy))
        .await?;
    let category = medledger_proofs::category_commitment(&[7; 32], 4);
    system
        .chain
        .submit(
            &bob,
            &r,
            &records::anchor(&r, &dave_id, [1; 32], [2; 32], category),
        )
        .await?;
    let next = contracts_dir().join(TEST_NEXT_DIR);
    let mut deployment = system.deployment.clone();

    // when: someone else than the registrar tries, it is refused
    let refused = medledger_deploy::upgrade(
        &system.chain,
        &bob,
        &mut deployment,
        Contract::ConsentRegistry,
        load_bundle(&next.join(CONSENT_BUNDLE))?,
    )
    .await;
    assert!(
        matches!(&refused, Err(DeployError::Upgrade { source, .. }) if source.to_string().contains("NotRegistrar")),
        "{refused:?}"
    );

    // when: the registrar announces an upgrade and applies it at once, it is refused until
    // the delay has passed; the announcement is in the API for apps to show
    let early = medledger_deploy::upload(
        &system.chain,
        &alice,
        load_bundle(&next.join(CONSENT_BUNDLE))?,
    )
    .await?;
    let announced = medledger_deploy::announce_upgrade(
        &system.chain,
        &alice,
        &deployment,
        Contract::ConsentRegistry,
        early,
    )
    .await?;
    let too_early = medledger_deploy::apply_upgrade(
        &system.chain,
        &alice,
        &mut deployment,
        Contract::ConsentRegistry,
        early,
    )
    .await;
    assert!(
        matches!(&too_early, Err(DeployError::Upgrade { source, .. }) if source.to_string().contains("UpgradeTooEarly")),
        "{too_early:?}"
    );
    let watched = system
        .wait_for(
            "{ indexerStatus { contracts { name pendingUpgrade { codeHash effectiveAt } } } }",
            std::time::Duration::from_secs(10),
            |data| {
                data["indexerStatus"]["contracts"]
                    .as_array()
                    .is_some_and(|cs| cs.iter().any(|c| !c["pendingUpgrade"].is_null()))
            },
        )
        .await?;
    let pending = watched["indexerStatus"]["contracts"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == "ConsentRegistry"))
        .map(|c| c["pendingUpgrade"]["codeHash"].clone());
    assert_eq!(
        pending,
        Some(serde_json::json!(format!("0x{}", hex::encode(early))))
    );
    let on_chain = system
        .chain
        .query(&dave_id, &c, &consent::upgrade_terms(&c))
        .await?
        .pending
        .expect("announced");
    assert_eq!(
        (on_chain.code_hash.as_ref(), on_chain.effective_at),
        (&early[..], announced.effective_at)
    );

    // when: the registrar upgrades both
    let mut upgraded = Vec::new();
    for (contract, bundle) in [
        (Contract::ConsentRegistry, CONSENT_BUNDLE),
        (Contract::RecordRegistry, RECORDS_BUNDLE),
    ] {
        let bundle = load_bundle(&next.join(bundle))?;
        let code_hash = bundle.code_hash;
        let event =
            medledger_deploy::upgrade(&system.chain, &alice, &mut deployment, contract, bundle)
                .await?;
        upgraded.push((event, code_hash));
    }

    // then: each ran the new code's migration from layout 2 to 3 in the same call
    for (event, code_hash) in &upgraded {
        assert_eq!(event.code_hash.as_ref(), code_hash);
        assert_eq!((event.from_version, event.storage_version), (2, 3));
    }
    assert_eq!(
        deployment.record_registry.code_hash,
        format!("0x{}", hex::encode(upgraded[1].1))
    );
    assert_eq!(
        system
            .chain
            .query(&dave_id, &c, &consent::storage_version(&c))
            .await?,
        3
    );
    assert_eq!(
        system
            .chain
            .query(&dave_id, &r, &records::storage_version(&r))
            .await?,
        3
    );
    // and the new code reads the old state
    let writes_labs = consent::is_authorized(
        &c,
        &dave_id,
        &bob_id,
        DataCategory::LabResults,
        Purpose::Treatment,
        Access::Write,
    );
    assert!(
        system.chain.query(&dave_id, &c, &writes_labs).await?,
        "the consent survived"
    );
    let anchor = system
        .chain
        .query(&dave_id, &r, &records::verify(&r, &bob_id, [2; 32]))
        .await?
        .expect("the anchor survived");
    assert_eq!(anchor.patient, medledger_client::to_ink(&dave_id));
    assert_eq!(anchor.category_commitment.as_ref(), &category[..]);
    // and the second build's data migration ran: a cool-down at least one window long
    let migrated = system
        .chain
        .query(&dave_id, &c, &consent::policy(&c))
        .await?;
    assert_eq!(
        migrated,
        Policy {
            emergency_cooldown_ms: 3_600_000,
            ..policy
        }
    );
    // and both keep working together: a new anchor is checked against the upgraded registry
    system
        .chain
        .submit(
            &bob,
            &r,
            &records::anchor(&r, &dave_id, [3; 32], [4; 32], category),
        )
        .await?;

    // when: the registrar tries to go back to this build, which cannot read layout 3
    let back = medledger_deploy::upgrade(
        &system.chain,
        &alice,
        &mut deployment,
        Contract::ConsentRegistry,
        load_bundle(&contracts_dir().join(CONSENT_BUNDLE))?,
    )
    .await;

    // then: refused, and nothing changed
    assert!(
        matches!(&back, Err(DeployError::Upgrade { source, .. }) if source.to_string().contains("UpgradeFailed")),
        "{back:?}"
    );
    assert_eq!(
        system
            .chain
            .query(&dave_id, &c, &consent::storage_version(&c))
            .await?,
        3
    );
    system.shutdown().await;
    Ok(())
}
