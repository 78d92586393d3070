//! Test helpers for whole-system tests: a real node on free loopback ports, the contracts
//! deployed from `artifacts/contracts`, the indexer on a fresh SQLite file and the GraphQL API
//! on port 0, all stopped when the [`TestSystem`] is dropped.
//!
//! Logs stay silent unless `TEST_LOG` is set.

pub mod seed;
pub mod walk;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use medledger_client::{AccountId32, Chain, Keypair, account_of, consent, signer_from_suri};
use medledger_deploy::Deployment;
use medledger_deploy::devnode::DevNode;
use medledger_events::Role;
use medledger_indexer::{Indexer, IndexerConfig, SubxtSource, Watched};
use serde_json::{Value, json};
use tokio::sync::watch;

/// Where `cargo xtask contracts` puts the bundles.
pub fn contracts_dir() -> PathBuf {
    std::env::var_os("MEDLEDGER_CONTRACTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../artifacts/contracts"
            ))
        })
}

/// Now, in milliseconds since the Unix epoch: a dev node's block times follow the clock.
pub fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_test_writer()
            .try_init();
    }
}

/// A number from the environment variable `name`, or `default` when it is unset: the
/// benchmarks' tunables (e.g. `BENCH_SECONDS`).
///
/// # Errors
/// When it is set but not a number.
pub fn env_or(name: &str, default: usize) -> Result<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .with_context(|| format!("{name}={v:?} is not a number")),
        Err(_) => Ok(default),
    }
}

/// Everything running, for one test.
pub struct TestSystem {
    pub chain: Chain,
    pub deployment: Deployment,
    pub consent_registry: AccountId32,
    pub record_registry: AccountId32,
    /// `http://127.0.0.1:<port>/graphql`
    pub graphql_url: String,
    stop: watch::Sender<bool>,
    _dir: tempfile::TempDir,
    node: Option<DevNode>,
}

/// Dev accounts by their role in the tests.
pub fn registrar() -> Result<Keypair> {
    Ok(signer_from_suri("//Alice")?)
}
pub fn provider() -> Result<Keypair> {
    Ok(signer_from_suri("//Bob")?)
}
pub fn patient() -> Result<Keypair> {
    Ok(signer_from_suri("//Dave")?)
}

/// How long an announced upgrade waits in [`spawn_system`]'s deployment: long enough to see
/// an early attempt refused, short enough for a test.
pub const TEST_UPGRADE_DELAY_MS: u64 = 3_000;

/// Starts the node, deploys, registers //Bob as a provider, and starts indexer and API.
pub async fn spawn_system() -> Result<TestSystem> {
    init_logs();
    let node = DevNode::start().await?;
    let chain = Chain::connect(node.url()).await?;
    let registrar = registrar()?;
    let deployment = medledger_deploy::deploy(
        &chain,
        &registrar,
        &contracts_dir(),
        "test",
        Some(TEST_UPGRADE_DELAY_MS),
    )
    .await
    .context("deploying (build the bundles with `cargo xtask contracts`)")?;
    let (consent_registry, record_registry) = deployment.accounts().map_err(anyhow::Error::msg)?;
    let bob = account_of(&provider()?);
    chain
        .submit(
            &registrar,
            &consent_registry,
            &consent::register_org(
                &consent_registry,
                &bob,
                Role::Provider,
                0,
                walk::profile("Riverside Clinic", medledger_events::OrgKind::Clinic),
            ),
        )
        .await
        .context("registering //Bob")?;

    let dir = tempfile::tempdir()?;
    let store =
        medledger_store::open(&format!("sqlite:{}", dir.path().join("e2e.db").display())).await?;
    let (consent_code_hash, record_code_hash) =
        deployment.code_hashes().map_err(anyhow::Error::msg)?;
    let config = IndexerConfig::new(Watched {
        consent_registry: consent_registry.0,
        record_registry: record_registry.0,
        consent_code_hash,
        record_code_hash,
        start_block: deployment.block_number,
    });
    let indexer = Arc::new(Indexer::new(
        SubxtSource::new(node.url()),
        store.clone(),
        config,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let graphql_url = format!("http://{}/graphql", listener.local_addr()?);
    let (stop, stopped) = watch::channel(false);
    let until_stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    tokio::spawn({
        let rx = stopped.clone();
        async move { indexer.run(until_stopped(rx)).await }
    });
    tokio::spawn(medledger_graphql::serve(
        listener,
        store,
        medledger_graphql::HttpOptions::default(),
        until_stopped(stopped),
    ));
    Ok(TestSystem {
        chain,
        deployment,
        consent_registry,
        record_registry,
        graphql_url,
        stop,
        _dir: dir,
        node: Some(node),
    })
}

impl TestSystem {
    /// Posts a GraphQL query and returns its `data`, failing on errors.
    pub async fn query(&self, query: &str) -> Result<Value> {
        let response: Value = reqwest::Client::new()
            .post(&self.graphql_url)
            .json(&json!({ "query": query }))
            .send()
            .await?
            .json()
            .await?;
        if response["errors"] != Value::Null {
            bail!("GraphQL errors: {}", response["errors"]);
        }
        Ok(response["data"].clone())
    }

    /// Polls `query` until `done` holds for its data, for up to `timeout`.
    pub async fn wait_for(
        &self,
        query: &str,
        timeout: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Result<Value> {
        let started = Instant::now();
        loop {
            let data = self.query(query).await?;
            if done(&data) {
                return Ok(data);
            }
            if started.elapsed() > timeout {
                bail!("gave up after {timeout:?}; last answer: {data}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Subscribes to `query` (a GraphQL subscription) over WebSocket, as a browser app
    /// would (`graphql-transport-ws` at `/graphql/ws`).
    pub async fn subscribe(&self, query: &str) -> Result<Subscription> {
        subscribe(&self.graphql_url, query).await
    }

    /// Stops indexer, API and node.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(node) = self.node.take() {
            node.stop().await;
        }
    }
}

type WsMessage = tokio_tungstenite::tungstenite::Message;

/// Subscribes to `query` (a GraphQL subscription) at the API whose HTTP endpoint is
/// `graphql_url`, over WebSocket (`graphql-transport-ws` at `/graphql/ws`).
pub async fn subscribe(graphql_url: &str, query: &str) -> Result<Subscription> {
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!("{}/ws", graphql_url.replacen("http://", "ws://", 1));
    let mut request = url.as_str().into_client_request()?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse()?);
    let (ws, _) = tokio_tungstenite::connect_async(request).await?;
    let mut sub = Subscription { ws };
    let send = |v: Value| WsMessage::Text(v.to_string().into());
    sub.ws
        .send(send(json!({"type": "connection_init"})))
        .await?;
    let ack = sub.next_message(Duration::from_secs(5)).await?;
    if ack["type"] != "connection_ack" {
        bail!("the server did not acknowledge the connection: {ack}");
    }
    sub.ws
        .send(send(
            json!({"id": "1", "type": "subscribe", "payload": {"query": query}}),
        ))
        .await?;
    Ok(sub)
}

/// A GraphQL subscription over WebSocket.
pub struct Subscription {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Subscription {
    async fn next_message(&mut self, within: Duration) -> Result<Value> {
        use futures::StreamExt;
        loop {
            let message = tokio::time::timeout(within, self.ws.next())
                .await
                .with_context(|| format!("nothing pushed within {within:?}"))?
                .context("the server closed the subscription")??;
            if let WsMessage::Text(text) = message {
                return Ok(serde_json::from_str(&text)?);
            }
        }
    }

    /// The `data` of the next item pushed, within `within`; an error item fails.
    pub async fn next(&mut self, within: Duration) -> Result<Value> {
        let message = self.next_message(within).await?;
        if message["type"] != "next" || message["payload"]["errors"] != Value::Null {
            bail!("the subscription sent {message}");
        }
        Ok(message["payload"]["data"].clone())
    }
}

impl Drop for TestSystem {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
