//! One seeded store, one way to ask it, one running server.

use std::sync::Arc;

use medledger_graphql::{HttpOptions, build_schema};
use medledger_store::{AccountId, BlockChanges, ChainEvent, Hash32, IndexedEvent, SqlStore, Store};
use serde_json::Value;

pub const PATIENT: AccountId = AccountId([1; 32]);
pub const PROVIDER: AccountId = AccountId([2; 32]);
pub const INSURER: AccountId = AccountId([4; 32]);
pub const LAB: AccountId = AccountId([5; 32]);

/// 2026-01-01T00:00:00Z, the time of block 12; block `n` is at `T0 + (n - 12)` seconds.
pub const T0: u64 = 1_767_225_600_000;

pub fn time_of(block: u64) -> u64 {
    T0 + block * 1_000 - 12_000
}

pub struct Seeded {
    pub store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

pub fn registered(org: AccountId, role: &'static str) -> ChainEvent {
    ChainEvent::OrgRegistered {
        org,
        role,
        flags: 1,
        profile: None,
    }
}

/// `PATIENT` grants `grantee` lab results and imaging for treatment, read and write.
pub fn granted(grantee: AccountId, version: u32, expires_at: Option<u64>) -> ChainEvent {
    granted_by(PATIENT, grantee, version, expires_at)
}

/// [`granted`], signed by `by` (the patient or a delegate).
pub fn granted_by(
    by: AccountId,
    grantee: AccountId,
    version: u32,
    expires_at: Option<u64>,
) -> ChainEvent {
    ChainEvent::ConsentGranted {
        patient: PATIENT,
        grantee,
        categories: (1 << 4) | (1 << 5),
        purposes: 1,
        access: 3,
        valid_from: 0,
        expires_at,
        terms_hash: Hash32([7; 32]),
        version,
        by,
    }
}

pub fn block(number: u64, events: Vec<ChainEvent>) -> BlockChanges {
    BlockChanges {
        number,
        hash: Hash32([number as u8; 32]),
        timestamp_ms: time_of(number),
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
    }
}

/// A fresh SQLite store with `blocks` applied and the finalized head at 15.
pub async fn store_with(blocks: &[BlockChanges]) -> Seeded {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite:{}", dir.path().join("api.db").display());
    let store: Arc<dyn Store> = Arc::new(SqlStore::open(&url).await.expect("store"));
    store.apply_blocks(blocks).await.expect("seed");
    store.set_finalized_head(15).await.expect("head");
    Seeded { store, _dir: dir }
}

/// The provider registered, granted a consent and anchored a record in block 12.
pub async fn seeded() -> Seeded {
    store_with(&[block(
        12,
        vec![
            registered(PROVIDER, "Provider"),
            granted(PROVIDER, 1, None),
            ChainEvent::RecordAnchored {
                patient: PATIENT,
                custodian: PROVIDER,
                commitment: Hash32([0xcc; 32]),
                record_id: Hash32([0xaa; 32]),
                category_commitment: Hash32([0xdd; 32]),
                version: 1,
            },
        ],
    )])
    .await
}

/// The answer to `query`, as JSON.
pub async fn run(store: &Arc<dyn Store>, query: &str) -> Value {
    let schema = build_schema(store.clone());
    let response = schema.execute(query).await;
    serde_json::to_value(&response).expect("response serializes")
}

/// The first error's message, or "" when there is none.
pub fn error(v: &Value) -> &str {
    v["errors"][0]["message"].as_str().unwrap_or("")
}

/// A server over `store` on a free loopback port, stopped when dropped.
pub struct App {
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub async fn spawn_app(store: Arc<dyn Store>, options: HttpOptions) -> App {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(medledger_graphql::serve(listener, store, options, async {
        let _ = stopped.await;
    }));
    App {
        base,
        stop: Some(stop),
        server: Some(server),
    }
}

impl App {
    /// POSTs `body` to `/graphql`; its JSON answer.
    pub async fn post(&self, body: &Value) -> Value {
        reqwest::Client::new()
            .post(format!("{}/graphql", self.base))
            .json(body)
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("json")
    }

    /// Stops the server and checks that it shut down cleanly.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("join").expect("clean shutdown");
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
