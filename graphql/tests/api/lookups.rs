//! Look-ups: commitments, organizations, the indexer's status, and malformed input.

use medledger_store::{AccountId, ChainEvent, Hash32, Mirror};
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn a_malformed_account_is_a_clear_error() {
    let s = seeded().await;
    let v = run(
        &s.store,
        r#"{ consents(patient: "5Bogus") { totalCount } }"#,
    )
    .await;
    let message = v["errors"][0]["message"].as_str().expect("an error");
    assert!(message.contains("not an SS58 address"), "{message}");
}

#[tokio::test]
async fn verify_commitment_finds_anchors_and_says_null_otherwise() {
    let s = seeded().await;
    let anchored = format!("0x{}", "cc".repeat(32));
    let v = run(
        &s.store,
        &format!(
            r#"{{ hit: verifyCommitment(commitment: "{anchored}") {{ recordId version custodian
                blockNumber categoryCommitment }}
               byOther: verifyCommitment(commitment: "{anchored}", custodian: "{PATIENT}") {{ version }}
               miss: verifyCommitment(commitment: "0x{}") {{ version }} }}"#,
            "00".repeat(32)
        ),
    )
    .await;
    assert_eq!(v["errors"], Value::Null, "{v}");
    assert_eq!(
        v["data"]["hit"],
        json!([{
            "recordId": format!("0x{}", "aa".repeat(32)),
            "version": 1,
            "custodian": PROVIDER.to_string(),
            "blockNumber": 12,
            "categoryCommitment": format!("0x{}", "dd".repeat(32)),
        }])
    );
    assert_eq!(
        v["data"]["byOther"],
        json!([]),
        "not anchored by the patient"
    );
    assert_eq!(v["data"]["miss"], json!([]));
    let bad = run(
        &s.store,
        r#"{ verifyCommitment(commitment: "0x12") { version } }"#,
    )
    .await;
    assert!(
        bad["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("32-byte hex")
    );
}

#[tokio::test]
async fn indexer_status_reports_what_is_mirrored_and_the_lag() {
    let s = seeded().await;
    s.store
        .check_mirror(&Mirror {
            genesis_hash: Hash32([0x47; 32]),
            consent_registry: AccountId([0x0c; 32]),
            record_registry: AccountId([0x0d; 32]),
            consent_code_hash: Hash32([0x1c; 32]),
            record_code_hash: Hash32([0x1d; 32]),
            start_block: 3,
        })
        .await
        .expect("bind the mirror");
    let v = run(
        &s.store,
        "{ indexerStatus { indexedBlock indexedTime finalizedHead lag genesisHash
             undecodedEvents healthy contracts { name address codeHash } } }",
    )
    .await;
    assert_eq!(
        v["data"]["indexerStatus"],
        json!({
            "indexedBlock": 12,
            "indexedTime": "2026-01-01T00:00:00+00:00",
            "finalizedHead": 15,
            "lag": 3,
            "genesisHash": format!("0x{}", "47".repeat(32)),
            "undecodedEvents": 0,
            "healthy": true,
            "contracts": [
                {"name": "ConsentRegistry", "address": AccountId([0x0c; 32]).to_string(),
                 "codeHash": format!("0x{}", "1c".repeat(32))},
                {"name": "RecordRegistry", "address": AccountId([0x0d; 32]).to_string(),
                 "codeHash": format!("0x{}", "1d".repeat(32))},
            ],
        })
    );
}

#[tokio::test]
async fn organizations_are_looked_up_by_account() {
    let s = seeded().await;
    let v = run(
        &s.store,
        &format!(r#"{{ organization(account: "{PROVIDER}") {{ role flags active }} }}"#),
    )
    .await;
    assert_eq!(
        v["data"]["organization"],
        json!({"role": "Provider", "flags": 1, "active": true})
    );
}

#[tokio::test]
async fn the_mirror_is_unhealthy_before_its_first_block_and_when_far_behind() {
    let empty = store_with(&[]).await;
    let v = run(&empty.store, "{ indexerStatus { healthy indexedBlock } }").await;
    assert_eq!(
        v["data"]["indexerStatus"],
        json!({"healthy": false, "indexedBlock": null})
    );
    let s = seeded().await;
    s.store.set_finalized_head(23).await.expect("head");
    let v = run(&s.store, "{ indexerStatus { healthy lag } }").await;
    assert_eq!(
        v["data"]["indexerStatus"],
        json!({"healthy": false, "lag": 11}),
        "11 finalized blocks behind"
    );
}

/// A provider named Riverside Clinic, with a Write consent for lab results only, that
/// anchored two records in block 12: one of lab results (category salt 0x11…) and one of
/// mental health (category salt 0x22…), which it was not allowed to write.
async fn named_provider_with_two_records() -> Seeded {
    use medledger_store::{OrgIdentifier, OrgProfile};
    let category =
        |salt: u8, index: u8| Hash32(medledger_proofs::category_commitment(&[salt; 32], index));
    let anchored = |record: u8, commitment: u8, category| ChainEvent::RecordAnchored {
        patient: PATIENT,
        custodian: PROVIDER,
        commitment: Hash32([commitment; 32]),
        record_id: Hash32([record; 32]),
        category_commitment: category,
        version: 1,
    };
    store_with(&[block(
        12,
        vec![
            ChainEvent::OrgRegistered {
                org: PROVIDER,
                role: "Provider",
                flags: 1,
                profile: Some(OrgProfile {
                    name: "Riverside Clinic".into(),
                    kind: "Clinic".into(),
                    identifiers: vec![OrgIdentifier {
                        system: "http://hl7.org/fhir/sid/us-npi".into(),
                        value: "1234567893".into(),
                    }],
                }),
            },
            registered(INSURER, "Insurer"),
            ChainEvent::ConsentGranted {
                patient: PATIENT,
                grantee: PROVIDER,
                categories: 1 << 4,
                purposes: 1,
                access: 0b10,
                valid_from: 0,
                expires_at: None,
                terms_hash: Hash32([7; 32]),
                version: 1,
                by: PATIENT,
            },
            anchored(0xa1, 0xc1, category(0x11, 4)),
            anchored(0xa2, 0xc2, category(0x22, 10)),
        ],
    )])
    .await
}

#[tokio::test]
async fn organizations_carry_their_names_and_are_found_by_a_part_of_one() {
    let s = named_provider_with_two_records().await;
    let v = run(
        &s.store,
        r#"{ found: organizations(name: "RIVERSIDE") { totalCount nodes { account name kind
               identifiers { system value } role } }
             none: organizations(name: "lakeside") { totalCount }
             all: organizations { nodes { name } } }"#,
    )
    .await;
    assert_eq!(v["errors"], Value::Null, "{v}");
    assert_eq!(
        v["data"]["found"],
        json!({"totalCount": 1, "nodes": [{
            "account": PROVIDER.to_string(),
            "name": "Riverside Clinic",
            "kind": "Clinic",
            "identifiers": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}],
            "role": "Provider",
        }]})
    );
    assert_eq!(v["data"]["none"]["totalCount"], 0);
    // an organization registered without a profile (the second release) has no name
    assert_eq!(
        v["data"]["all"]["nodes"],
        json!([{"name": "Riverside Clinic"}, {"name": null}])
    );
    let bad = run(&s.store, r#"{ organizations(name: "  ") { totalCount } }"#).await;
    assert!(error(&bad).contains("name must be 1 to 64"), "{bad}");
}

#[tokio::test]
async fn a_record_anchored_outside_the_custodians_write_consent_is_flagged() {
    let s = named_provider_with_two_records().await;
    let check = |commitment: u8, category: &str, salt: u8| {
        format!(
            r#"verifyCommitment(commitment: "0x{}") {{ writeConsentCategories
                 categoryCheck(category: {category}, salt: "0x{}") {{ opens ownUpload
                 withinWriteConsent explanation }} }}"#,
            format!("{commitment:02x}").repeat(32),
            format!("{salt:02x}").repeat(32)
        )
    };
    let v = run(
        &s.store,
        &format!(
            "{{ labs: {} mental: {} wrongSalt: {} }}",
            check(0xc1, "LAB_RESULTS", 0x11),
            check(0xc2, "MENTAL_HEALTH", 0x22),
            check(0xc2, "LAB_RESULTS", 0x22)
        ),
    )
    .await;
    assert_eq!(v["errors"], Value::Null, "{v}");
    let labs = &v["data"]["labs"][0];
    assert_eq!(labs["writeConsentCategories"], json!(["LAB_RESULTS"]));
    assert_eq!(labs["categoryCheck"]["opens"], true);
    assert_eq!(labs["categoryCheck"]["withinWriteConsent"], true);
    let mental = &v["data"]["mental"][0]["categoryCheck"];
    assert_eq!(
        (&mental["opens"], &mental["withinWriteConsent"]),
        (&json!(true), &json!(false)),
        "the flag: {mental}"
    );
    assert!(
        mental["explanation"]
            .as_str()
            .is_some_and(|e| e.contains("NOT covered")),
        "{mental}"
    );
    let wrong = &v["data"]["wrongSalt"][0]["categoryCheck"];
    assert_eq!(
        (&wrong["opens"], &wrong["withinWriteConsent"]),
        (&json!(false), &Value::Null)
    );
}
