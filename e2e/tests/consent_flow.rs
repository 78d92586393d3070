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
        .submit(
            &dave,
            &registry,
            &consent::grant(&registry, &dave_id, &grant),
        )
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
        .submit(
            &dave,
            &registry,
            &consent::revoke(&registry, &dave_id, &bob_id),
        )
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
    let dave_id = account_of(&dave);
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
        .submit(
            &dave,
            &registry,
            &consent::grant(&registry, &dave_id, &grant),
        )
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("GranteeNotRegistered"), "{err}");
    system.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_subscriber_sees_a_grant_a_denied_access_and_an_emergency_window_within_a_second()
-> anyhow::Result<()> {
    use medledger_client::{records, signer_from_suri};
    use medledger_e2e::registrar;
    use medledger_events::{EmergencyReason, FLAG_EMERGENCY, Role};

    // given: //Eve a provider who may break glass, //Charlie an insurer without consent, and
    // an app subscribed to //Dave's activity
    let system = spawn_system().await?;
    let registry = system.consent_registry;
    let (alice, dave, bob) = (registrar()?, patient()?, provider()?);
    let (charlie, eve) = (signer_from_suri("//Charlie")?, signer_from_suri("//Eve")?);
    let dave_id = account_of(&dave);
    for (org, role, flags) in [
        (account_of(&charlie), Role::Insurer, 0),
        (account_of(&eve), Role::Provider, FLAG_EMERGENCY),
    ] {
        let name = format!("{role:?} organization");
        let profile = medledger_e2e::walk::profile(&name, medledger_events::OrgKind::Clinic);
        let m = consent::register_org(&registry, &org, role, flags, profile);
        system.chain.submit(&alice, &registry, &m).await?;
    }
    let mut alerts = system
        .subscribe(&format!(
            r#"subscription {{ patientActivity(patient: "{}") {{ block kind details }} }}"#,
            medledger_store::AccountId(dave_id.0)
        ))
        .await?;
    // The subscription starts with the server's first message; give it a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = Duration::from_secs(1);

    // when: //Dave grants //Bob; then: pushed within a second of finality
    let grant = consent::GrantArgs {
        grantee: account_of(&bob),
        categories: DataCategory::LabResults.bit(),
        purposes: Purpose::Treatment.bit(),
        access: Access::Read.bit(),
        valid_from: 0,
        expires_at: None,
        terms_hash: [3; 32],
    };
    let granted = system
        .chain
        .submit(
            &dave,
            &registry,
            &consent::grant(&registry, &dave_id, &grant),
        )
        .await?;
    let pushed = alerts.next(second).await?;
    assert_eq!(pushed["patientActivity"]["kind"], "ConsentGranted");
    assert_eq!(pushed["patientActivity"]["block"], granted.block_number);

    // when: //Charlie reads without consent: recorded as denied, and pushed
    let access = records::record_access(
        &system.record_registry,
        &dave_id,
        DataCategory::LabResults.bit(),
        Purpose::Payment,
        None,
    );
    let denied = system
        .chain
        .submit(&charlie, &system.record_registry, &access)
        .await?;
    let pushed = alerts.next(second).await?;
    assert_eq!(pushed["patientActivity"]["kind"], "AccessDenied");
    assert_eq!(pushed["patientActivity"]["block"], denied.block_number);

    // when: //Eve breaks glass: the window is pushed
    let glass = consent::break_glass(
        &registry,
        &dave_id,
        EmergencyReason::PatientIncapacitated,
        [5; 32],
    );
    let opened = system.chain.submit(&eve, &registry, &glass).await?;
    let pushed = alerts.next(second).await?;
    assert_eq!(pushed["patientActivity"]["kind"], "EmergencyAccessOpened");
    assert_eq!(pushed["patientActivity"]["block"], opened.block_number);
    assert_eq!(
        pushed["patientActivity"]["details"]["provider"],
        medledger_store::AccountId(account_of(&eve).0).to_string()
    );

    system.shutdown().await;
    Ok(())
}
