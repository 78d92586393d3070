//! A deployment of the contracts' second release (`contracts/releases/v2`, the bundles as they
//! were deployed), holding data of every kind, upgraded in place to this build: nothing
//! stored is lost, the new code works on the old state, and the indexer, following the whole
//! chain, reads both releases' events (none left undecoded).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use medledger_client::{Chain, Keypair, Message, account_of, consent, records, signer_from_suri};
use medledger_consent::consent_registry::DEFAULT_UPGRADE_DELAY_MS;
use medledger_deploy::devnode::DevNode;
use medledger_deploy::{CONSENT_BUNDLE, Contract, RECORDS_BUNDLE, load_bundle};
use medledger_e2e::contracts_dir;
use medledger_events::{
    AmendReason, DataCategory, EmergencyReason, FLAG_EMERGENCY, OrgKind, Purpose, Role,
};
use medledger_indexer::{Indexer, IndexerConfig, SubxtSource, Watched};
use serde_json::Value;

fn v2_bundles() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../contracts/releases/v2"
    ))
}

/// The selector of `label` as the second release's metadata lists it.
fn v2_selector(bundle: &str, label: &str) -> Result<[u8; 4]> {
    let text = std::fs::read_to_string(v2_bundles().join(bundle))?;
    let metadata: Value = serde_json::from_str(&text)?;
    let selector = metadata["spec"]["messages"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["label"] == label))
        .and_then(|m| m["selector"].as_str())
        .ok_or_else(|| anyhow!("{bundle} lists no message {label}"))?;
    let bytes = hex::decode(selector.trim_start_matches("0x"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow!("{label}'s selector is not 4 bytes"))
}

/// A message of the second release's ConsentRegistry whose arguments changed since, encoded
/// as that release takes them.
fn v2_consent<R>(label: &str, args: impl scale::Encode) -> Result<Message<R>> {
    Ok(Message::of_release(
        v2_selector(CONSENT_BUNDLE, label)?,
        args,
    ))
}

type Unit = Message<Result<(), medledger_consent::consent_registry::Error>>;

fn key(suri: &str) -> Result<Keypair> {
    Ok(signer_from_suri(suri)?)
}

#[tokio::test]
async fn a_second_release_deployment_with_data_upgrades_in_place_and_loses_nothing() -> Result<()> {
    // given: the second release deployed, with organizations, consents, a delegate, an
    // emergency window ended and its provider blocked, a record and its amendment, a batch,
    // two claims on one document, and the access log
    let node = DevNode::start().await?;
    let chain = Chain::connect(node.url()).await?;
    let (alice, bob, charlie, dave, eve, ferdie) = (
        key("//Alice")?,
        key("//Bob")?,
        key("//Charlie")?,
        key("//Dave")?,
        key("//Eve")?,
        key("//Ferdie")?,
    );
    let (bob_id, charlie_id, dave_id, eve_id, ferdie_id) = (
        account_of(&bob),
        account_of(&charlie),
        account_of(&dave),
        account_of(&eve),
        account_of(&ferdie),
    );
    let mut deployment = medledger_deploy::deploy(&chain, &alice, &v2_bundles(), "v2", None)
        .await
        .context("deploying the second release")?;
    let (c, r) = deployment.accounts().map_err(anyhow::Error::msg)?;
    let to_ink = medledger_client::to_ink;
    for (org, role, flags) in [
        (&bob_id, Role::Provider, FLAG_EMERGENCY),
        (&charlie_id, Role::Insurer, 0),
        (&ferdie_id, Role::App, 0),
    ] {
        let message: Unit = v2_consent("register_org", (to_ink(org), role, flags))?;
        chain.submit(&alice, &c, &message).await?;
    }
    let labs = DataCategory::LabResults.bit();
    for (grantee, purpose, access) in [
        (&bob_id, Purpose::Treatment, 0b11u8),
        (&charlie_id, Purpose::Payment, 0b01),
    ] {
        // the second release's grant: (grantee, categories, purposes, access, valid_from,
        // expires_at, terms_hash), signed by the patient
        let args = (
            to_ink(grantee),
            labs,
            purpose.bit(),
            access,
            0u64,
            None::<u64>,
            ink::primitives::Hash::from([1; 32]),
        );
        let message: Unit = v2_consent("grant", args)?;
        chain.submit(&dave, &c, &message).await?;
    }
    let in_a_month = medledger_e2e::now_millis() + 30 * 24 * 3_600_000;
    chain
        .submit(&dave, &c, &consent::set_delegate(&c, &eve_id, in_a_month))
        .await?;
    chain
        .submit(
            &bob,
            &c,
            &consent::break_glass(&c, &dave_id, EmergencyReason::LifeThreatening, [2; 32]),
        )
        .await?;
    let message: Unit = v2_consent("end_emergency", to_ink(&bob_id))?;
    chain.submit(&dave, &c, &message).await?;
    let message: Unit = v2_consent("set_emergency_block", (to_ink(&bob_id), true))?;
    chain.submit(&dave, &c, &message).await?;
    chain
        .submit(&alice, &c, &consent::suspend_org(&c, &ferdie_id))
        .await?;
    let category =
        medledger_proofs::category_commitment(&[7; 32], DataCategory::LabResults.index());
    let (record, v1, v2) = ([10; 32], [11; 32], [12; 32]);
    chain
        .submit(
            &bob,
            &r,
            &records::anchor(&r, &dave_id, record, v1, category),
        )
        .await?;
    chain
        .submit(
            &bob,
            &r,
            &records::amend(&r, record, v2, AmendReason::Addendum),
        )
        .await?;
    chain
        .submit(&bob, &r, &records::anchor_batch(&r, [13; 32], 100))
        .await?;
    for claim in [[20; 32], [21; 32]] {
        chain
            .submit(
                &charlie,
                &r,
                &records::attest_claim(&r, claim, &dave_id, &[(bob_id, v2)]),
            )
            .await?;
    }
    chain
        .submit(
            &bob,
            &r,
            &records::record_access(&r, &dave_id, labs, Purpose::Treatment, None),
        )
        .await?;
    chain
        .submit(
            &charlie,
            &r,
            &records::record_access(&r, &dave_id, labs, Purpose::Research, None),
        )
        .await?;

    // when: the registrar upgrades both contracts to this build (the second release's
    // `upgrade` applies at once: it knew no announcements)
    for (contract, bundle) in [
        (Contract::ConsentRegistry, CONSENT_BUNDLE),
        (Contract::RecordRegistry, RECORDS_BUNDLE),
    ] {
        let code =
            medledger_deploy::upload(&chain, &alice, load_bundle(&contracts_dir().join(bundle))?)
                .await?;
        let upgraded =
            medledger_deploy::apply_upgrade(&chain, &alice, &mut deployment, contract, code)
                .await?;
        assert_eq!((upgraded.from_version, upgraded.storage_version), (1, 2));
    }

    // then: the new code reads everything the old one stored
    assert!(
        chain
            .query(
                &dave_id,
                &c,
                &consent::is_authorized(
                    &c,
                    &dave_id,
                    &bob_id,
                    DataCategory::LabResults,
                    Purpose::Treatment,
                    medledger_events::Access::Write,
                )
            )
            .await?
    );
    let org = chain
        .query(&dave_id, &c, &consent::org(&c, &ferdie_id))
        .await?
        .expect("ferdie");
    assert_eq!((org.role, org.active), (Role::App, false));
    assert_eq!(
        chain
            .query(&dave_id, &c, &consent::org_profile(&c, &bob_id))
            .await?,
        None
    );
    // dave's block of bob survived: bob cannot break glass, however long it has been
    let blocked = chain
        .query(
            &bob_id,
            &c,
            &consent::break_glass(&c, &dave_id, EmergencyReason::Other, [3; 32]),
        )
        .await?;
    assert_eq!(
        blocked,
        Err(medledger_consent::consent_registry::Error::EmergencyBlocked)
    );
    // eve is still dave's delegate: she may revoke for him (asked, not sent)
    let by_delegate = chain
        .query(&eve_id, &c, &consent::revoke(&c, &dave_id, &charlie_id))
        .await?;
    assert_eq!(by_delegate, Ok(()));
    let terms = chain
        .query(&dave_id, &c, &consent::upgrade_terms(&c))
        .await?;
    assert_eq!(
        (terms.delay_ms, terms.pending),
        (DEFAULT_UPGRADE_DELAY_MS, None)
    );
    let first = chain
        .query(&dave_id, &r, &records::verify(&r, &bob_id, v1))
        .await?
        .expect("version 1 survived");
    assert_eq!(first.superseded_by, Some(ink::primitives::Hash::from(v2)));
    let claimed = chain
        .query(&dave_id, &r, &records::first_claim_use(&r, &dave_id, v2))
        .await?
        .expect("the first claim's use survived");
    assert_eq!(claimed.claim_ref, ink::primitives::Hash::from([20; 32]));
    assert!(
        chain
            .query(&dave_id, &r, &records::verify_batch(&r, &bob_id, [13; 32]))
            .await?
            .is_some()
    );

    // and the third release's rules apply to the old state: the registrar names bob, a
    // third claim on the document is the same insurer's reuse, and a suspended organization
    // can no longer alert dave
    chain
        .submit(
            &alice,
            &c,
            &consent::update_org(
                &c,
                &bob_id,
                medledger_e2e::walk::profile("Riverside Clinic", OrgKind::Clinic),
            ),
        )
        .await?;
    chain
        .submit(
            &charlie,
            &r,
            &records::attest_claim(&r, [22; 32], &dave_id, &[(bob_id, v2)]),
        )
        .await?;
    let refused = chain
        .query(
            &ferdie_id,
            &r,
            &records::record_access(&r, &dave_id, labs, Purpose::Treatment, None),
        )
        .await?;
    assert_eq!(
        refused,
        Err(medledger_records::record_registry::Error::OrgSuspended)
    );

    // and the indexer, reading the chain from the deployment, mirrors both releases
    let dir = tempfile::tempdir()?;
    let store = medledger_store::open(&format!(
        "sqlite:{}",
        dir.path().join("mirror.db").display()
    ))
    .await?;
    let (consent_code_hash, record_code_hash) = (
        load_bundle(&v2_bundles().join(CONSENT_BUNDLE))?.code_hash,
        load_bundle(&v2_bundles().join(RECORDS_BUNDLE))?.code_hash,
    );
    let indexer = Arc::new(Indexer::new(
        SubxtSource::new(node.url()),
        store.clone(),
        IndexerConfig::new(Watched {
            consent_registry: c.0,
            record_registry: r.0,
            consent_code_hash,
            record_code_hash,
            start_block: deployment.block_number,
        }),
    ));
    indexer.check().await?;
    indexer.catch_up().await?;
    let status = store.status().await?;
    assert_eq!(
        status.undecoded_events, 0,
        "every event of both releases decodes"
    );
    let bob_row = store
        .organization(&medledger_store::AccountId(bob_id.0))
        .await?
        .expect("bob mirrored");
    assert_eq!(
        bob_row.profile.map(|p| (p.name, p.kind)),
        Some(("Riverside Clinic".to_string(), "Clinic".to_string()))
    );
    let reuses = store
        .duplicate_claim_uses(Some(&medledger_store::AccountId(dave_id.0)), None, None, 10)
        .await?;
    let seen: Vec<(String, String)> = reuses
        .rows
        .into_iter()
        .map(|(_, d)| (d.reuse, d.overlap))
        .collect();
    let same = ("SameInsurer".to_string(), "SameDocument".to_string());
    assert_eq!(
        seen,
        [same.clone(), same],
        "the second release's signal and the third's"
    );
    let contracts = store.contracts().await?;
    assert!(
        contracts.iter().all(|c| c.storage_version == Some(2)),
        "{contracts:?}"
    );
    Ok(())
}
