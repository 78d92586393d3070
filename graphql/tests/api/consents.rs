//! `consents` and `consent`: listed with names and times, paged, and judged by the chain time
//! the mirror has reached, never the server's clock.

use medledger_store::ChainEvent;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn consents_of_a_patient_are_listed_with_names_times_and_the_block_they_are_judged_at() {
    let s = seeded().await;
    let query = format!(
        r#"{{ consents(patient: "{PATIENT}") {{ totalCount asOf {{ block time lag }}
            nodes {{ grantee categories purposes access expiresAt version revoked status
                     updatedBlock updatedAt termsHash }} }} }}"#
    );
    let v = run(&s.store, &query).await;
    assert_eq!(v["errors"], Value::Null, "{v}");
    assert_eq!(
        v["data"]["consents"],
        json!({
            "totalCount": 1,
            "asOf": {"block": 12, "time": "2026-01-01T00:00:00+00:00", "lag": 3},
            "nodes": [{
                "grantee": PROVIDER.to_string(),
                "categories": ["LabResults", "Imaging"],
                "purposes": ["Treatment"],
                "access": ["Read", "Write"],
                "expiresAt": null,
                "version": 1,
                "revoked": false,
                "status": "ACTIVE",
                "updatedBlock": 12,
                "updatedAt": "2026-01-01T00:00:00+00:00",
                "termsHash": format!("0x{}", "07".repeat(32)),
            }]
        })
    );
}

#[tokio::test]
async fn a_patient_without_consents_gets_an_empty_page() {
    let s = seeded().await;
    let v = run(
        &s.store,
        &format!(r#"{{ consents(patient: "{PROVIDER}") {{ totalCount nodes {{ version }} }} }}"#),
    )
    .await;
    assert_eq!(v["data"]["consents"], json!({"totalCount": 0, "nodes": []}));
}

#[tokio::test]
async fn consents_come_in_pages_of_at_most_a_hundred() {
    let s = store_with(&[block(
        12,
        vec![
            registered(PROVIDER, "Provider"),
            registered(INSURER, "Insurer"),
            registered(LAB, "Provider"),
            granted(PROVIDER, 1, None),
            granted(INSURER, 1, None),
            granted(LAB, 1, None),
        ],
    )])
    .await;
    let page = |after: &str| {
        format!(
            r#"{{ consents(patient: "{PATIENT}", first: 2{after}) {{ totalCount
                pageInfo {{ hasNextPage hasPreviousPage endCursor }} nodes {{ grantee }} }} }}"#
        )
    };
    let first = run(&s.store, &page("")).await;
    let c = &first["data"]["consents"];
    assert_eq!(c["totalCount"], 3, "{first}");
    assert_eq!(c["nodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(c["pageInfo"]["hasNextPage"], true);
    let end = c["pageInfo"]["endCursor"].as_str().expect("a cursor");
    let second = run(&s.store, &page(&format!(r#", after: "{end}""#))).await;
    let c2 = &second["data"]["consents"];
    assert_eq!(c2["nodes"].as_array().map(Vec::len), Some(1), "{second}");
    assert_eq!(c2["pageInfo"]["hasNextPage"], false);
    assert_eq!(c2["pageInfo"]["hasPreviousPage"], true);
    let mut all: Vec<Value> = c["nodes"].as_array().cloned().unwrap_or_default();
    all.extend(c2["nodes"].as_array().cloned().unwrap_or_default());
    all.sort_by_key(|n| n["grantee"].to_string());
    all.dedup();
    assert_eq!(all.len(), 3, "each consent once over the pages");

    let too_many = run(
        &s.store,
        &format!(r#"{{ consents(patient: "{PATIENT}", first: 101) {{ totalCount }} }}"#),
    )
    .await;
    assert!(error(&too_many).contains("at most 100"), "{too_many}");
}

/// Where a consent stands after `later`, with the mirror at block 20.
async fn status_after(later: Vec<ChainEvent>, expires_at: Option<u64>) -> Value {
    let s = store_with(&[
        block(
            12,
            vec![
                registered(PROVIDER, "Provider"),
                granted(PROVIDER, 1, expires_at),
            ],
        ),
        block(13, later),
        block(20, vec![]),
    ])
    .await;
    let v = run(
        &s.store,
        &format!(
            r#"{{ consent(patient: "{PATIENT}", grantee: "{PROVIDER}") {{ status asOf {{ block }} }}
               consents(patient: "{PATIENT}") {{ nodes {{ status }} }} }}"#
        ),
    )
    .await;
    assert_eq!(v["errors"], Value::Null, "{v}");
    assert_eq!(v["data"]["consent"]["asOf"]["block"], 20);
    assert_eq!(
        v["data"]["consent"]["status"], v["data"]["consents"]["nodes"][0]["status"],
        "one judgement, however asked"
    );
    v["data"]["consent"]["status"].clone()
}

#[tokio::test]
async fn status_is_judged_at_the_chain_time_the_mirror_reached_not_the_servers_clock() {
    // Ends a second after the mirror's time: the server's clock (long past 2026-01-01) would
    // call it expired, the chain has not got there.
    let soon = time_of(21);
    assert_eq!(status_after(vec![], Some(soon)).await, "ACTIVE");
    // Ended at block 18's time, before the mirror's block 20.
    assert_eq!(status_after(vec![], Some(time_of(18))).await, "EXPIRED");
    let revoked = ChainEvent::ConsentRevoked {
        patient: PATIENT,
        grantee: PROVIDER,
        version: 1,
        by: PATIENT,
    };
    assert_eq!(status_after(vec![revoked], None).await, "REVOKED");
}

#[tokio::test]
async fn a_suspended_grantee_makes_its_consent_suspended() {
    let suspended = ChainEvent::OrgSuspended { org: PROVIDER };
    assert_eq!(status_after(vec![suspended], None).await, "SUSPENDED");
}

#[tokio::test]
async fn a_consent_that_starts_later_is_pending() {
    let s = store_with(&[block(
        12,
        vec![
            registered(PROVIDER, "Provider"),
            ChainEvent::ConsentGranted {
                patient: PATIENT,
                grantee: PROVIDER,
                categories: 1,
                purposes: 1,
                access: 1,
                valid_from: time_of(30),
                expires_at: None,
                terms_hash: medledger_store::Hash32([7; 32]),
                version: 1,
                by: PATIENT,
            },
        ],
    )])
    .await;
    let v = run(
        &s.store,
        &format!(r#"{{ consent(patient: "{PATIENT}", grantee: "{PROVIDER}") {{ status }} }}"#),
    )
    .await;
    assert_eq!(v["data"]["consent"]["status"], "PENDING", "{v}");
}

#[tokio::test]
async fn a_delegates_grant_lapses_with_its_delegation() {
    const DELEGATE: medledger_store::AccountId = medledger_store::AccountId([3; 32]);
    let s = store_with(&[
        block(
            12,
            vec![
                registered(PROVIDER, "Provider"),
                ChainEvent::DelegateSet {
                    patient: PATIENT,
                    delegate: DELEGATE,
                    expires_at: time_of(16),
                },
                granted_by(DELEGATE, PROVIDER, 1, None),
            ],
        ),
        block(20, vec![]),
    ])
    .await;
    let v = run(
        &s.store,
        &format!(r#"{{ consent(patient: "{PATIENT}", grantee: "{PROVIDER}") {{ status }} }}"#),
    )
    .await;
    assert_eq!(v["data"]["consent"]["status"], "LAPSED", "{v}");
}

#[tokio::test]
async fn a_pair_without_a_consent_is_null() {
    let s = seeded().await;
    let v = run(
        &s.store,
        &format!(r#"{{ consent(patient: "{PATIENT}", grantee: "{INSURER}") {{ status }} }}"#),
    )
    .await;
    assert_eq!(v["errors"], Value::Null, "{v}");
    assert_eq!(v["data"]["consent"], Value::Null);
}
