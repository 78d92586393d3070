//! `auditTrail`, and the subscriptions: through `schema.execute_stream`, over WebSocket
//! (`graphql-transport-ws`) from a running server, and from two servers on one PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use medledger_graphql::{HttpOptions, build_schema};
use medledger_store::{AccountId, ChainEvent, SqlStore, Store};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::*;

fn revoked() -> ChainEvent {
    ChainEvent::ConsentRevoked {
        patient: PATIENT,
        grantee: PROVIDER,
        version: 1,
        by: PATIENT,
    }
}

#[tokio::test]
async fn the_audit_trail_lists_what_touched_a_patient_in_chain_order() {
    let s = store_with(&[
        block(
            12,
            vec![registered(PROVIDER, "Provider"), granted(PROVIDER, 1, None)],
        ),
        block(13, vec![granted(INSURER, 1, None)]),
        block(14, vec![revoked()]),
    ])
    .await;
    let page = |after: &str| {
        format!(
            r#"{{ auditTrail(patient: "{PATIENT}", first: 2{after}) {{ totalCount
                pageInfo {{ hasNextPage endCursor }}
                nodes {{ block index at kind contract details }} }} }}"#
        )
    };
    let v = run(&s.store, &page("")).await;
    assert_eq!(v["errors"], Value::Null, "{v}");
    let t = &v["data"]["auditTrail"];
    assert_eq!(
        t["totalCount"], 3,
        "the organization's registration is not the patient's"
    );
    let kinds: Vec<_> = t["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| (n["block"].clone(), n["kind"].clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (json!(12), json!("ConsentGranted")),
            (json!(13), json!("ConsentGranted"))
        ]
    );
    assert_eq!(t["nodes"][0]["at"], "2026-01-01T00:00:00+00:00");
    assert_eq!(t["nodes"][1]["details"]["grantee"], INSURER.to_string());
    assert_eq!(t["pageInfo"]["hasNextPage"], true);
    let end = t["pageInfo"]["endCursor"].as_str().expect("a cursor");
    let v = run(&s.store, &page(&format!(r#", after: "{end}""#))).await;
    let t = &v["data"]["auditTrail"];
    assert_eq!(t["nodes"][0]["kind"], "ConsentRevoked", "{v}");
    assert_eq!(t["pageInfo"]["hasNextPage"], false);

    for cursor in ["yesterday", "18446744073709551615:0", "-1:0"] {
        let bad = run(&s.store, &page(&format!(r#", after: "{cursor}""#))).await;
        assert!(error(&bad).contains("not an auditTrail cursor"), "{bad}");
    }
}

/// Runs the subscription `query` on `schema` from now on (a stream starts when polled),
/// its items sent to the receiver.
fn subscribe(
    schema: &medledger_graphql::MedledgerSchema,
    query: String,
) -> tokio::sync::mpsc::UnboundedReceiver<Value> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut stream = schema.execute_stream(query);
    tokio::spawn(async move {
        while let Some(item) = stream.next().await {
            let _ = tx.send(serde_json::to_value(&item).expect("json"));
        }
    });
    rx
}

/// The next item of a subscription, within a second.
async fn next(items: &mut tokio::sync::mpsc::UnboundedReceiver<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(1), items.recv())
        .await
        .expect("pushed within a second")
        .expect("the stream goes on")
}

#[tokio::test]
async fn subscribers_are_pushed_their_patients_activity_and_consent_changes() {
    let s = seeded().await;
    let schema = build_schema(s.store.clone());
    let mut activity = subscribe(
        &schema,
        format!(
            r#"subscription {{ patientActivity(patient: "{PATIENT}") {{ block kind details }} }}"#
        ),
    );
    let mut consents = subscribe(
        &schema,
        format!(
            r#"subscription {{ consentChanged(patient: "{PATIENT}") {{ grantee status version }} }}"#
        ),
    );
    let mut denials = subscribe(
        &schema,
        format!(
            r#"subscription {{ patientActivity(patient: "{PATIENT}", kinds: ["AccessDenied"]) {{ kind }} }}"#
        ),
    );
    // Let the subscriptions start (the first one starts the hub) before anything commits.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // when: another patient's grant, then this patient's revocation and a denied access
    let other = AccountId([6; 32]);
    s.store
        .apply_blocks(&[
            block(
                13,
                vec![ChainEvent::ConsentGranted {
                    patient: other,
                    grantee: PROVIDER,
                    categories: 1,
                    purposes: 1,
                    access: 1,
                    valid_from: 0,
                    expires_at: None,
                    terms_hash: medledger_store::Hash32([1; 32]),
                    version: 1,
                    by: other,
                }],
            ),
            block(
                14,
                vec![
                    revoked(),
                    ChainEvent::AccessDenied {
                        patient: PATIENT,
                        accessor: PROVIDER,
                        record: None,
                        categories: 1 << 4,
                        purpose: "Treatment",
                    },
                ],
            ),
        ])
        .await
        .expect("commit");

    // then: this patient's events only, in chain order
    let first = next(&mut activity).await;
    assert_eq!(first["errors"], Value::Null, "{first}");
    assert_eq!(first["data"]["patientActivity"]["kind"], "ConsentRevoked");
    assert_eq!(first["data"]["patientActivity"]["block"], 14);
    let second = next(&mut activity).await;
    assert_eq!(second["data"]["patientActivity"]["kind"], "AccessDenied");
    assert_eq!(
        second["data"]["patientActivity"]["details"]["accessor"],
        PROVIDER.to_string()
    );
    let denied = next(&mut denials).await;
    assert_eq!(
        denied["data"]["patientActivity"]["kind"], "AccessDenied",
        "{denied}"
    );
    let changed = next(&mut consents).await;
    assert_eq!(
        changed["data"]["consentChanged"],
        json!({"grantee": PROVIDER.to_string(), "status": "REVOKED", "version": 1})
    );
}

/// A `graphql-transport-ws` client subscribed to `query` at `ws_url`.
async fn ws_subscribe(
    ws_url: &str,
    query: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let mut request = ws_url.into_client_request().expect("a ws request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut ws, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket");
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .map(|v| v.as_bytes()),
        Some(&b"graphql-transport-ws"[..])
    );
    let send = |v: Value| Message::Text(v.to_string().into());
    ws.send(send(json!({"type": "connection_init"})))
        .await
        .expect("init");
    let ack = ws_next(&mut ws).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws.send(send(
        json!({"id": "1", "type": "subscribe", "payload": {"query": query}}),
    ))
    .await
    .expect("subscribe");
    ws
}

async fn ws_next(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(2), ws.next())
            .await
            .expect("a message within 2 s")
            .expect("the socket stays open")
            .expect("a message");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).expect("json");
        }
    }
}

fn activity_query() -> String {
    format!(r#"subscription {{ patientActivity(patient: "{PATIENT}") {{ block kind }} }}"#)
}

#[tokio::test]
async fn a_running_server_pushes_over_graphql_transport_ws() {
    let s = seeded().await;
    let app = spawn_app(s.store.clone(), HttpOptions::default()).await;
    let ws_url = format!("{}/graphql/ws", app.base.replace("http://", "ws://"));
    let mut ws = ws_subscribe(&ws_url, &activity_query()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.store
        .apply_block(&block(14, vec![revoked()]))
        .await
        .expect("commit");
    let pushed = ws_next(&mut ws).await;
    assert_eq!(pushed["type"], "next", "{pushed}");
    assert_eq!(pushed["id"], "1");
    assert_eq!(
        pushed["payload"]["data"]["patientActivity"],
        json!({"block": 14, "kind": "ConsentRevoked"})
    );
    drop(ws);
    app.stop().await;
}

#[tokio::test]
async fn two_servers_on_one_postgres_both_answer_and_both_push_what_an_indexer_commits() {
    let pg = medledger_pg_runner::Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    let url = pg.fresh_database().expect("database");
    // The indexer's store and each server's own: three processes' worth of connections.
    let indexer = SqlStore::open(&url).await.expect("open");
    indexer
        .apply_block(&block(
            12,
            vec![registered(PROVIDER, "Provider"), granted(PROVIDER, 1, None)],
        ))
        .await
        .expect("seed");
    let mut apps = Vec::new();
    let mut sockets = Vec::new();
    for _ in 0..2 {
        let store: Arc<dyn Store> = Arc::new(SqlStore::open(&url).await.expect("open"));
        let app = spawn_app(store, HttpOptions::default()).await;
        let answer = app
            .post(&json!({"query": format!(
                r#"{{ consents(patient: "{PATIENT}") {{ nodes {{ status }} }} }}"#)}))
            .await;
        assert_eq!(
            answer["data"]["consents"]["nodes"],
            json!([{"status": "ACTIVE"}]),
            "{answer}"
        );
        let ws_url = format!("{}/graphql/ws", app.base.replace("http://", "ws://"));
        sockets.push(ws_subscribe(&ws_url, &activity_query()).await);
        apps.push(app);
    }
    // The servers start listening in the background; give them a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;
    indexer
        .apply_block(&block(14, vec![revoked()]))
        .await
        .expect("commit");
    for ws in &mut sockets {
        let pushed = ws_next(ws).await;
        assert_eq!(
            pushed["payload"]["data"]["patientActivity"],
            json!({"block": 14, "kind": "ConsentRevoked"}),
            "{pushed}"
        );
    }
    drop(sockets);
    for app in apps {
        app.stop().await;
    }
}

#[tokio::test]
async fn consent_changes_in_one_commit_are_each_pushed_as_they_stood() {
    let s = seeded().await;
    let schema = build_schema(s.store.clone());
    let mut changes = subscribe(
        &schema,
        format!(
            r#"subscription {{ consentChanged(patient: "{PATIENT}") {{ grantee status revoked
                version asOf {{ block }} }} }}"#
        ),
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    // when: a grant and its revocation commit together (as in a backfill)
    s.store
        .apply_blocks(&[
            block(
                13,
                vec![registered(INSURER, "Insurer"), granted(INSURER, 1, None)],
            ),
            block(
                14,
                vec![ChainEvent::ConsentRevoked {
                    patient: PATIENT,
                    grantee: INSURER,
                    version: 1,
                    by: PATIENT,
                }],
            ),
        ])
        .await
        .expect("commit");
    // then: the grant as it stood after block 13, then the revocation
    let granted = next(&mut changes).await;
    assert_eq!(
        granted["data"]["consentChanged"],
        json!({"grantee": INSURER.to_string(), "status": "ACTIVE", "revoked": false,
               "version": 1, "asOf": {"block": 13}}),
        "{granted}"
    );
    let revoked = next(&mut changes).await;
    assert_eq!(
        revoked["data"]["consentChanged"],
        json!({"grantee": INSURER.to_string(), "status": "REVOKED", "revoked": true,
               "version": 1, "asOf": {"block": 14}}),
        "{revoked}"
    );
}
