//! The API over a seeded SQLite store: queries, errors, the checked-in SDL, and HTTP.

use std::sync::Arc;

use medledger_graphql::build_schema;
use medledger_store::{AccountId, BlockChanges, ChainEvent, Hash32, IndexedEvent, SqlStore, Store};
use serde_json::{Value, json};

const PATIENT: AccountId = AccountId([1; 32]);
const PROVIDER: AccountId = AccountId([2; 32]);

struct Seeded {
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

async fn seeded() -> Seeded {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite:{}", dir.path().join("api.db").display());
    let store: Arc<dyn Store> = Arc::new(SqlStore::open(&url).await.expect("store"));
    let events = vec![
        ChainEvent::OrgRegistered {
            org: PROVIDER,
            role: "Provider",
            flags: 1,
        },
        ChainEvent::ConsentGranted {
            patient: PATIENT,
            grantee: PROVIDER,
            categories: (1 << 4) | (1 << 5),
            purposes: 1,
            access: 3,
            valid_from: 0,
            expires_at: None,
            terms_hash: Hash32([7; 32]),
            version: 1,
            by: PATIENT,
        },
        ChainEvent::RecordAnchored {
            patient: PATIENT,
            custodian: PROVIDER,
            commitment: Hash32([0xcc; 32]),
            record_id: Hash32([0xaa; 32]),
            category_commitment: Hash32([0xdd; 32]),
            version: 1,
        },
    ];
    let block = BlockChanges {
        number: 12,
        hash: Hash32([0x12; 32]),
        timestamp_ms: 1_767_225_600_000, // 2026-01-01T00:00:00Z
        events: events
            .into_iter()
            .enumerate()
            .map(|(i, event)| IndexedEvent {
                index: i as u32,
                contract: AccountId([9; 32]),
                event,
            })
            .collect(),
        undecoded: Vec::new(),
    };
    store.apply_block(&block).await.expect("seed");
    store.set_finalized_head(15).await.expect("head");
    Seeded { store, _dir: dir }
}

async fn run(store: &Arc<dyn Store>, query: &str) -> Value {
    let schema = build_schema(store.clone());
    let response = schema.execute(query).await;
    serde_json::to_value(&response).expect("response serializes")
}

#[tokio::test]
async fn consents_of_a_patient_are_listed_with_names_and_times() {
    let s = seeded().await;
    let query = format!(
        r#"{{ consents(patient: "{PATIENT}") {{ grantee categories purposes access
            expiresAt version revoked status updatedBlock updatedAt termsHash }} }}"#
    );
    let v = run(&s.store, &query).await;
    assert_eq!(v["errors"], Value::Null, "{v}");
    assert_eq!(
        v["data"]["consents"],
        json!([{
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
        }])
    );
}

#[tokio::test]
async fn a_patient_without_consents_gets_an_empty_list() {
    let s = seeded().await;
    let v = run(
        &s.store,
        &format!(r#"{{ consents(patient: "{PROVIDER}") {{ version }} }}"#),
    )
    .await;
    assert_eq!(v["data"]["consents"], json!([]));
}

#[tokio::test]
async fn a_malformed_account_is_a_clear_error() {
    let s = seeded().await;
    let v = run(&s.store, r#"{ consents(patient: "5Bogus") { version } }"#).await;
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
async fn indexer_status_reports_the_lag() {
    let s = seeded().await;
    let v = run(
        &s.store,
        "{ indexerStatus { indexedBlock finalizedHead lag } }",
    )
    .await;
    assert_eq!(
        v["data"]["indexerStatus"],
        json!({"indexedBlock": 12, "finalizedHead": 15, "lag": 3})
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
async fn too_deep_queries_are_refused() {
    let s = seeded().await;
    // __schema > types > fields > type > 8 × ofType > name: 13 levels, over the limit of 10.
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(8),
        "} ".repeat(8)
    );
    let v = run(&s.store, &deep).await;
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("nested too deep"),
        "{v}"
    );
}

#[tokio::test]
async fn the_checked_in_sdl_matches_the_schema() {
    let s = seeded().await;
    let sdl = build_schema(s.store.clone()).sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &sdl).expect("write schema.graphql");
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == sdl,
        "graphql/schema.graphql is out of date; run `UPDATE_SCHEMA=1 cargo test -p medledger-graphql` and commit it"
    );
}

#[tokio::test]
async fn http_serves_queries_graphiql_and_health() {
    let s = seeded().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(medledger_graphql::serve(
        listener,
        build_schema(s.store.clone()),
        async {
            let _ = stopped.await;
        },
    ));
    let http = reqwest::Client::new();
    let base = format!("http://{addr}");

    let answer: Value = http
        .post(format!("{base}/graphql"))
        .json(&json!({"query": format!(r#"{{ consents(patient: "{PATIENT}") {{ version }} }}"#)}))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["data"]["consents"], json!([{"version": 1}]));

    let page = http
        .get(format!("{base}/graphql"))
        .send()
        .await
        .expect("get");
    assert!(page.status().is_success());
    assert!(page.text().await.expect("body").contains("graphiql"));
    let health = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.text().await.expect("body"), "ok");

    stop.send(()).expect("stop");
    server.await.expect("join").expect("clean shutdown");
}
