use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use scale::Decode;
use subxt::rpcs::{RpcClient, rpc_params};
use subxt::{OnlineClient, SubstrateConfig};
use tokio::sync::Mutex;

/// A `ContractEmitted` event as it stands in a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawContractEvent {
    /// The index of the event among all of the block's events.
    pub index: u32,
    pub contract: [u8; 32],
    pub topics: Vec<[u8; 32]>,
    pub data: Vec<u8>,
}

/// What the indexer needs of one finalized block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBlock {
    pub number: u64,
    pub hash: [u8; 32],
    pub timestamp_ms: u64,
    /// Every `ContractEmitted` event of the block, of any contract.
    pub contract_events: Vec<RawContractEvent>,
}

/// Reading the chain failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    #[error("cannot reach the node at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the node failed to {action}: {reason}")]
    Node {
        action: &'static str,
        reason: String,
    },
    /// The node answered, but what it sent can never be read (e.g. a block whose events do
    /// not decode with the chain's own metadata): retrying cannot help.
    #[error("block #{block} cannot be read: {reason}")]
    Undecodable { block: u64, reason: String },
    /// The node no longer keeps the block's state (events and timestamp live there): it
    /// prunes old state, and only an archive node can serve a backfill that far back.
    #[error(
        "the node no longer keeps the state of block #{block} (it prunes old state); index \
         from a node started with --state-pruning archive-canonical"
    )]
    StatePruned { block: u64 },
}

impl SourceError {
    /// Whether retrying later may succeed (the node is down, restarting or slow).
    pub fn is_transient(&self) -> bool {
        !matches!(
            self,
            SourceError::Undecodable { .. } | SourceError::StatePruned { .. }
        )
    }
}

/// New finalized head numbers, as the node announces them.
pub type Heads = BoxStream<'static, Result<u64, SourceError>>;

/// Where blocks come from: the chain, or a test's script.
#[async_trait::async_trait]
pub trait BlockSource: Send + Sync + 'static {
    /// The chain's genesis hash: which chain this is.
    async fn genesis_hash(&self) -> Result<[u8; 32], SourceError>;
    /// The number of the latest finalized block.
    async fn finalized_head(&self) -> Result<u64, SourceError>;
    /// The hash of block `number` on the chain, `None` when the chain has no such block.
    async fn block_hash(&self, number: u64) -> Result<Option<[u8; 32]>, SourceError>;
    /// The finalized block `number`.
    async fn block(&self, number: u64) -> Result<RawBlock, SourceError>;
    /// A stream of new finalized heads, so that an indexer that caught up waits for the next
    /// block instead of polling.
    async fn finalized_heads(&self) -> Result<Heads, SourceError>;
}

type Api = OnlineClient<SubstrateConfig>;
type AtBlock = subxt::client::OnlineClientAtBlock<SubstrateConfig>;

/// Block hashes asked for in one `chain_getBlockHash` call.
const HASHES_PER_CALL: u64 = 256;

/// `twox128(pallet) ++ twox128(item)` in hex: the storage key of a plain storage value.
fn value_key(pallet: &str, item: &str) -> String {
    let mut key = sp_crypto_hashing::twox_128(pallet.as_bytes()).to_vec();
    key.extend(sp_crypto_hashing::twox_128(item.as_bytes()));
    format!("0x{}", hex::encode(key))
}

/// What a block read asks for, in this order: its timestamp, its events, and the runtime
/// version that ran it.
static STATE_KEYS: LazyLock<[String; 3]> = LazyLock::new(|| {
    [
        value_key("Timestamp", "Now"),
        value_key("System", "Events"),
        value_key("System", "LastRuntimeUpgrade"),
    ]
});

/// A connection to the node: subxt's client, and the raw RPC client under it for the calls
/// subxt does not batch.
#[derive(Clone)]
struct Conn {
    api: Api,
    rpc: RpcClient,
}

/// The answer of `state_queryStorageAt`: the values of the keys asked for, at one block.
#[derive(serde::Deserialize)]
struct ChangeSet {
    changes: Vec<(String, Option<String>)>,
}

/// Reads finalized blocks from a node over its WebSocket RPC, reconnecting after failures.
///
/// One block costs one round trip: its timestamp, its events and the runtime version that
/// emitted them come in one `state_queryStorageAt`, and block hashes are asked for
/// [`HASHES_PER_CALL`] at a time (only up to the finalized head the source has seen). The
/// events decode with the metadata of the runtime the block ran; a block of another runtime
/// (after an upgrade) is read through subxt's client at that block, which fetches its
/// metadata.
pub struct SubxtSource {
    url: String,
    conn: Mutex<Option<Conn>>,
    /// A client per runtime spec version, whose metadata decodes that runtime's events.
    runtimes: Mutex<BTreeMap<u32, AtBlock>>,
    /// Hashes of finalized blocks fetched ahead, by number.
    hashes: Mutex<BTreeMap<u64, [u8; 32]>>,
    /// The highest finalized block number seen.
    finalized: AtomicU64,
}

fn h32(bytes: impl AsRef<[u8]>) -> [u8; 32] {
    let mut out = [0; 32];
    let b = bytes.as_ref();
    let n = b.len().min(32);
    out[..n].copy_from_slice(&b[..n]);
    out
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).ok()
}

/// Block `number`'s hash as the node wrote it: 0x and 64 hex digits.
fn hash_from_hex(number: u64, hash: &str) -> Result<[u8; 32], SourceError> {
    from_hex(hash)
        .filter(|h| h.len() == 32)
        .map(h32)
        .ok_or_else(|| SourceError::Node {
            action: "find block hashes",
            reason: format!("block #{number}'s hash {hash:?} is not 32 bytes of hex"),
        })
}

/// A node error for `action` at block `number`, told apart when the node pruned the state.
fn node_error(number: u64, action: &'static str, e: &dyn std::fmt::Display) -> SourceError {
    let reason = e.to_string();
    // What substrate answers for a block whose state it pruned; subxt passes it on as text.
    if reason.contains("State already discarded") {
        SourceError::StatePruned { block: number }
    } else {
        SourceError::Node { action, reason }
    }
}

impl SubxtSource {
    /// A source for the node at `url`; connects on first use.
    pub fn new(url: impl Into<String>) -> Self {
        SubxtSource {
            url: url.into(),
            conn: Mutex::new(None),
            runtimes: Mutex::new(BTreeMap::new()),
            hashes: Mutex::new(BTreeMap::new()),
            finalized: AtomicU64::new(0),
        }
    }

    async fn conn(&self) -> Result<Conn, SourceError> {
        let mut guard = self.conn.lock().await;
        if let Some(conn) = guard.as_ref() {
            return Ok(conn.clone());
        }
        let unreachable = |reason: String| SourceError::Unreachable {
            url: self.url.clone(),
            reason,
        };
        let connect = async {
            let rpc = RpcClient::from_insecure_url(&self.url)
                .await
                .map_err(|e| unreachable(e.to_string()))?;
            let api = Api::from_rpc_client(rpc.clone())
                .await
                .map_err(|e| unreachable(e.to_string()))?;
            Ok(Conn { api, rpc })
        };
        let conn = tokio::time::timeout(Duration::from_secs(15), connect)
            .await
            .map_err(|_| unreachable("no answer within 15 s".into()))??;
        *guard = Some(conn.clone());
        Ok(conn)
    }

    async fn api(&self) -> Result<Api, SourceError> {
        Ok(self.conn().await?.api)
    }

    /// Forgets the connection (and what was read through it) after a failure, so the next
    /// call reconnects.
    async fn forget<T>(&self, result: Result<T, SourceError>) -> Result<T, SourceError> {
        if result.is_err() {
            *self.conn.lock().await = None;
            self.runtimes.lock().await.clear();
            self.hashes.lock().await.clear();
            // The next node may be behind this one.
            self.finalized.store(0, Ordering::Relaxed);
        }
        result
    }

    /// The finalized head, remembered as the highest block whose hash may be used.
    async fn head(&self, conn: &Conn) -> Result<u64, SourceError> {
        let head = conn
            .api
            .at_current_block()
            .await
            .map_err(|e| SourceError::Node {
                action: "report the finalized head",
                reason: e.to_string(),
            })?
            .block_number();
        self.finalized.fetch_max(head, Ordering::Relaxed);
        Ok(head)
    }

    /// The hash of finalized block `number`: from the hashes fetched ahead, else asked for
    /// with the next ones up to the finalized head, in one call. A block past the finalized
    /// head is refused (transient: it will be finalized), so that no hash of a block that
    /// may still be replaced is ever used or kept.
    async fn finalized_hash(&self, conn: &Conn, number: u64) -> Result<[u8; 32], SourceError> {
        let mut hashes = self.hashes.lock().await;
        if let Some(hash) = hashes.remove(&number) {
            return Ok(hash);
        }
        if number > self.finalized.load(Ordering::Relaxed) {
            let head = self.head(conn).await?;
            if number > head {
                return Err(SourceError::Node {
                    action: "find the block",
                    reason: format!("block #{number} is not finalized yet (head #{head})"),
                });
            }
        }
        let last = self
            .finalized
            .load(Ordering::Relaxed)
            .min(number + HASHES_PER_CALL - 1);
        let numbers: Vec<u64> = (number..=last).collect();
        let answer: Vec<Option<String>> = conn
            .rpc
            .request("chain_getBlockHash", rpc_params![numbers])
            .await
            .map_err(|e| node_error(number, "find block hashes", &e))?;
        // Reads run a few blocks apart; hashes far behind were read already or will be
        // asked for again.
        hashes.retain(|n, _| n + 4 * HASHES_PER_CALL > number);
        for (n, hash) in (number..=last).zip(answer) {
            let Some(hash) = hash else {
                break;
            };
            hashes.insert(n, hash_from_hex(n, &hash)?);
        }
        hashes.remove(&number).ok_or(SourceError::Node {
            action: "find the block",
            reason: format!("the node has no block #{number}"),
        })
    }

    /// The client whose metadata decodes the events of block `number`, run by the runtime
    /// of `spec_version` (from the block's `System.LastRuntimeUpgrade`, when it has one).
    /// The runtime that ran a block is the code its parent left: a block that upgrades the
    /// runtime still runs the old one. Clients are kept per spec version.
    async fn runtime_for(
        &self,
        conn: &Conn,
        number: u64,
        spec_version: Option<u32>,
    ) -> Result<AtBlock, SourceError> {
        // Held while a client is made, so that the reads that all start on one runtime
        // fetch its metadata once, not once each.
        let mut runtimes = self.runtimes.lock().await;
        if let Some(at) = spec_version.and_then(|v| runtimes.get(&v)) {
            return Ok(at.clone());
        }
        let at = conn
            .api
            .at_block(number.saturating_sub(1))
            .await
            .map_err(|e| node_error(number, "find the block's runtime", &e))?;
        if spec_version == Some(at.spec_version()) {
            runtimes.insert(at.spec_version(), at.clone());
        }
        Ok(at)
    }

    async fn read_block(&self, conn: &Conn, number: u64) -> Result<RawBlock, SourceError> {
        let hash = self.finalized_hash(conn, number).await?;
        let hex_keys = &*STATE_KEYS;
        let sets: Vec<ChangeSet> = conn
            .rpc
            .request(
                "state_queryStorageAt",
                rpc_params![hex_keys, format!("0x{}", hex::encode(hash))],
            )
            .await
            .map_err(|e| node_error(number, "read the block's state", &e))?;
        let undecodable = |reason: String| SourceError::Undecodable {
            block: number,
            reason,
        };
        // Each key's value: `None` when the node did not answer for it, `Some(None)` when
        // the block has no such value.
        let mut values: [Option<Option<Vec<u8>>>; 3] = [None, None, None];
        for (key, value) in sets.into_iter().flat_map(|s| s.changes) {
            if let Some(i) = hex_keys.iter().position(|k| k.eq_ignore_ascii_case(&key)) {
                let bytes = value
                    .map(|v| {
                        from_hex(&v).ok_or_else(|| {
                            undecodable(format!("the node sent {v:?} for a value: not hex"))
                        })
                    })
                    .transpose()?;
                values[i] = Some(bytes);
            }
        }
        let [timestamp, events, upgrade] = values.map(|v| {
            v.ok_or(SourceError::Node {
                action: "read the block's state",
                reason: "the answer left out a key asked for".into(),
            })
        });
        let timestamp_ms = timestamp?
            .ok_or_else(|| undecodable("it has no timestamp".into()))
            .and_then(|b| {
                u64::decode(&mut &b[..])
                    .map_err(|e| undecodable(format!("its timestamp does not decode: {e}")))
            })?;
        // Every block from #1 on has events (at least its inherents'); none means the node
        // answered for the wrong state, so the block is read again rather than taken as empty.
        let events = events?.ok_or(SourceError::Node {
            action: "read the block's events",
            reason: format!("the node has no events for block #{number}"),
        })?;
        // `LastRuntimeUpgradeInfo { spec_version: Compact<u32>, spec_name }`.
        let spec_version =
            upgrade?.and_then(|b| scale::Compact::<u32>::decode(&mut &b[..]).ok().map(|c| c.0));
        let at = self.runtime_for(conn, number, spec_version).await?;
        // Decoding is CPU work (a full block holds tens of thousands of events): it runs as a
        // task of its own, on any core, while this read's future, polled beside the other
        // reads, leaves the connection to them. (Spawning whole reads instead delays their
        // requests on a chain of small blocks by about a third; `spawn_blocking` threads
        // made a chain of full blocks slower.) Dropping the read cancels it.
        let contract_events = in_a_task(move || contract_events(&at, number, events)).await?;
        Ok(RawBlock {
            number,
            hash,
            timestamp_ms,
            contract_events,
        })
    }
}

/// Runs CPU work as a task of its own, so that it uses any core while the caller's task goes
/// on polling its other futures. Dropping the returned future cancels the work unless it is
/// already running; a panic in it is passed on to the caller.
pub(crate) async fn in_a_task<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (task, done) = async move { work() }.remote_handle();
    tokio::spawn(task);
    done.await
}

/// The `ContractEmitted` events of block `number`, from its `System.Events` as `at`'s
/// runtime wrote them.
fn contract_events(
    at: &AtBlock,
    number: u64,
    events: Vec<u8>,
) -> Result<Vec<RawContractEvent>, SourceError> {
    let undecodable = |reason: String| SourceError::Undecodable {
        block: number,
        reason,
    };
    let mut found = Vec::new();
    for event in at.events().from_bytes(events).iter() {
        let event = event.map_err(|e| undecodable(format!("its events do not decode: {e}")))?;
        if event.pallet_name() != "Contracts" || event.event_name() != "ContractEmitted" {
            continue;
        }
        let (contract, data) = <([u8; 32], Vec<u8>)>::decode(&mut event.field_bytes())
            .map_err(|e| undecodable(format!("a ContractEmitted event does not decode: {e}")))?;
        found.push(RawContractEvent {
            index: event.index(),
            contract,
            topics: event.topics().iter().map(h32).collect(),
            data,
        });
    }
    Ok(found)
}

#[async_trait::async_trait]
impl BlockSource for SubxtSource {
    async fn genesis_hash(&self) -> Result<[u8; 32], SourceError> {
        Ok(h32(self.api().await?.genesis_hash()))
    }

    async fn finalized_head(&self) -> Result<u64, SourceError> {
        let conn = self.conn().await?;
        let result = self.head(&conn).await;
        self.forget(result).await
    }

    async fn block_hash(&self, number: u64) -> Result<Option<[u8; 32]>, SourceError> {
        let conn = self.conn().await?;
        let result = async {
            let hash: Option<String> = conn
                .rpc
                .request("chain_getBlockHash", rpc_params![number])
                .await
                .map_err(|e| node_error(number, "find a block's hash", &e))?;
            hash.map(|h| hash_from_hex(number, &h)).transpose()
        }
        .await;
        self.forget(result).await
    }

    async fn block(&self, number: u64) -> Result<RawBlock, SourceError> {
        let conn = self.conn().await?;
        let result = self.read_block(&conn, number).await;
        self.forget(result).await
    }

    async fn finalized_heads(&self) -> Result<Heads, SourceError> {
        let api = self.api().await?;
        let result = api.stream_blocks().await.map_err(|e| SourceError::Node {
            action: "subscribe to finalized blocks",
            reason: e.to_string(),
        });
        let blocks = self.forget(result).await?;
        Ok(blocks
            .map(|b| {
                b.map(|b| b.number()).map_err(|e| SourceError::Node {
                    action: "announce a finalized block",
                    reason: e.to_string(),
                })
            })
            .boxed())
    }
}
