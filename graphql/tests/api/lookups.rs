//! Look-ups: commitments, organizations, the indexer's status, and malformed input.

use medledger_store::{AccountId, Hash32, Mirror};
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
