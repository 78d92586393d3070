use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use scale::Decode;
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

/// Reads finalized blocks from a node over its WebSocket RPC, reconnecting after failures.
pub struct SubxtSource {
    url: String,
    api: Mutex<Option<Api>>,
}

fn h32(bytes: impl AsRef<[u8]>) -> [u8; 32] {
    let mut out = [0; 32];
    let b = bytes.as_ref();
    let n = b.len().min(32);
    out[..n].copy_from_slice(&b[..n]);
    out
}

impl SubxtSource {
    /// A source for the node at `url`; connects on first use.
    pub fn new(url: impl Into<String>) -> Self {
        SubxtSource {
            url: url.into(),
            api: Mutex::new(None),
        }
    }

    async fn api(&self) -> Result<Api, SourceError> {
        let mut guard = self.api.lock().await;
        if let Some(api) = guard.as_ref() {
            return Ok(api.clone());
        }
        let unreachable = |reason: String| SourceError::Unreachable {
            url: self.url.clone(),
            reason,
        };
        let api = tokio::time::timeout(Duration::from_secs(15), Api::from_insecure_url(&self.url))
            .await
            .map_err(|_| unreachable("no answer within 15 s".into()))?
            .map_err(|e| unreachable(e.to_string()))?;
        *guard = Some(api.clone());
        Ok(api)
    }

    /// Forgets the connection after a failure, so the next call reconnects.
    async fn forget<T>(&self, result: Result<T, SourceError>) -> Result<T, SourceError> {
        if result.is_err() {
            *self.api.lock().await = None;
        }
        result
    }

    async fn read_block(&self, api: &Api, number: u64) -> Result<RawBlock, SourceError> {
        let node = |action: &'static str| {
            move |e: &dyn std::fmt::Display| {
                let reason = e.to_string();
                // What substrate answers for a block whose state it pruned; subxt passes it
                // on as text only.
                if reason.contains("State already discarded") {
                    SourceError::StatePruned { block: number }
                } else {
                    SourceError::Node { action, reason }
                }
            }
        };
        let at = api
            .at_block(number)
            .await
            .map_err(|e| node("find the block")(&e))?;
        let hash = h32(at.block_hash());
        let timestamp_ms = at
            .storage()
            .fetch(subxt::dynamic::storage::<(), u64>("Timestamp", "Now"), ())
            .await
            .map_err(|e| node("read the block's timestamp")(&e))?
            .decode()
            .map_err(|e| SourceError::Undecodable {
                block: number,
                reason: format!("its timestamp does not decode: {e}"),
            })?;
        let events = at
            .events()
            .fetch()
            .await
            .map_err(|e| node("read the block's events")(&e))?;
        let mut contract_events = Vec::new();
        for event in events.iter() {
            let event = event.map_err(|e| SourceError::Undecodable {
                block: number,
                reason: format!("its events do not decode: {e}"),
            })?;
            if event.pallet_name() != "Contracts" || event.event_name() != "ContractEmitted" {
                continue;
            }
            let (contract, data) = <([u8; 32], Vec<u8>)>::decode(&mut event.field_bytes())
                .map_err(|e| SourceError::Undecodable {
                    block: number,
                    reason: format!("a ContractEmitted event does not decode: {e}"),
                })?;
            contract_events.push(RawContractEvent {
                index: event.index(),
                contract,
                topics: event.topics().iter().map(h32).collect(),
                data,
            });
        }
        Ok(RawBlock {
            number,
            hash,
            timestamp_ms,
            contract_events,
        })
    }
}

#[async_trait::async_trait]
impl BlockSource for SubxtSource {
    async fn genesis_hash(&self) -> Result<[u8; 32], SourceError> {
        Ok(h32(self.api().await?.genesis_hash()))
    }

    async fn finalized_head(&self) -> Result<u64, SourceError> {
        let api = self.api().await?;
        let result = api
            .at_current_block()
            .await
            .map(|at| at.block_number())
            .map_err(|e| SourceError::Node {
                action: "report the finalized head",
                reason: e.to_string(),
            });
        self.forget(result).await
    }

    async fn block_hash(&self, number: u64) -> Result<Option<[u8; 32]>, SourceError> {
        let api = self.api().await?;
        let result = match api.at_block(number).await {
            Ok(at) => Ok(Some(h32(at.block_hash()))),
            Err(subxt::error::OnlineClientAtBlockError::BlockNotFound { .. }) => Ok(None),
            Err(e) => Err(SourceError::Node {
                action: "find a block's hash",
                reason: e.to_string(),
            }),
        };
        self.forget(result).await
    }

    async fn block(&self, number: u64) -> Result<RawBlock, SourceError> {
        let api = self.api().await?;
        let result = self.read_block(&api, number).await;
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
