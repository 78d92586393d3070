//! A patient grants and revokes a consent on a real node; an app sees both through GraphQL.

use std::time::Duration;

use medledger_client::{account_of, consent};
use medledger_e2e::{patient, provider, spawn_system};
use medledger_events::{Access, DataCategory, Purpose};

#[tokio::test]
async fn a_granted_then_revoked_consent_is_seen_through_graphql() -> anyhow::Result<()> {
    // given: the whole system, //Bob registered as a provider
    let system = spawn_system().await?;
    let (dave, bob) = (patient()?, provider()?);
    let (dave_id, bob_id) = (account_of(&dave), account_of(&bob));
    let registry = system.consent_registry;

    // when: //Dave grants //Bob lab results for treatment, signing with his own key
    let grant = consent::GrantArgs {
        grantee: bob_id,
        categories: DataCategory::LabResults.bit(),
        purposes: Purpose::Treatment.bit(),
        access: Access::Read.bit(),
        valid_from: 0,
        expires_at: None,
        terms_hash: [3; 32],
    };
    let granted = system
        .chain
        .submit(&dave, &registry, &consent::grant(&registry, &grant))
        .await?;

    // then: the consent shows up in GraphQL
    let query = format!(
        r#"{{ consents(patient: "{dave_id}") {{ nodes {{ grantee categories purposes access status version updatedBlock }} }}
             authorization(patient: "{dave_id}", grantee: "{bob_id}", category: LAB_RESULTS,
                           purpose: TREATMENT, access: READ) {{ allowed reason }} }}"#
    );
    let data = system
        .wait_for(&query, Duration::from_secs(30), |d| {
            d["consents"]["nodes"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        })
        .await?;
    let c = &data["consents"]["nodes"][0];
    assert_eq!(c["grantee"], bob_id.to_string());
    assert_eq!(c["categories"], serde_json::json!(["LabResults"]));
    assert_eq!(c["status"], "ACTIVE");
    assert_eq!(c["version"], 1);
    assert_eq!(c["updatedBlock"], granted.block_number);
    // and the chain agrees
    let check = consent::is_authorized(
        &registry,
        &dave_id,
        &bob_id,
        DataCategory::LabResults,
        Purpose::Treatment,
        Access::Read,
    );
    assert!(system.chain.query(&dave_id, &registry, &check).await?);
    assert_eq!(
        data["authorization"],
        serde_json::json!({"allowed": true, "reason": "CONSENT"})
    );

    // when: //Dave revokes
    system
        .chain
        .submit(&dave, &registry, &consent::revoke(&registry, &bob_id))
        .await?;

    // then: GraphQL shows it revoked, and the chain refuses access
    let data = system
        .wait_for(&query, Duration::from_secs(30), |d| {
            d["consents"]["nodes"][0]["status"] == "REVOKED"
        })
        .await?;
    assert_eq!(data["consents"]["nodes"].as_array().map(Vec::len), Some(1));
    assert!(!system.chain.query(&dave_id, &registry, &check).await?);
    assert_eq!(
        data["authorization"],
        serde_json::json!({"allowed": false, "reason": "REVOKED"})
    );
    let status = system
        .query("{ indexerStatus { indexedBlock finalizedHead } }")
        .await?;
    assert!(status["indexerStatus"]["indexedBlock"].as_u64() >= Some(granted.block_number));

    system.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_grant_to_an_unregistered_account_is_refused_with_the_contract_error()
-> anyhow::Result<()> {
    let system = spawn_system().await?;
    let dave = patient()?;
    let stranger = account_of(&medledger_client::signer_from_suri("//Ferdie")?);
    let registry = system.consent_registry;
    let grant = consent::GrantArgs {
        grantee: stranger,
        categories: DataCategory::LabResults.bit(),
        purposes: Purpose::Treatment.bit(),
        access: Access::Read.bit(),
        valid_from: 0,
        expires_at: None,
        terms_hash: [0; 32],
    };
    let err = system
        .chain
        .submit(&dave, &registry, &consent::grant(&registry, &grant))
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("GranteeNotRegistered"), "{err}");
    system.shutdown().await;
    Ok(())
}
