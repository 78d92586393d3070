use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt, stream};
use medledger_store::{AccountId, BlockChanges, Hash32, IndexedEvent, Store, StoreError};

use crate::decode::decode_event;
use crate::source::{BlockSource, RawBlock, SourceError};

/// How the indexer runs.
#[derive(Debug, Clone)]
pub struct IndexerConfig {
    /// The contract addresses whose events are mirrored.
    pub contracts: Vec<[u8; 32]>,
    /// The first block to read when the store is empty (the deployment block).
    pub start_block: u64,
    /// How many blocks are fetched at once while catching up.
    pub concurrency: usize,
    /// How often the finalized head is checked once caught up.
    pub poll_interval: Duration,
}

impl IndexerConfig {
    /// Defaults for mirroring `contracts` from `start_block` on.
    pub fn new(contracts: Vec<[u8; 32]>, start_block: u64) -> Self {
        IndexerConfig {
            contracts,
            start_block,
            concurrency: 8,
            poll_interval: Duration::from_millis(500),
        }
    }
}

/// The indexer stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexerError {
    #[error("the store failed: {0}")]
    Store(#[from] StoreError),
    #[error("reading the chain failed: {0}")]
    Source(#[from] SourceError),
}

/// Counters of what the indexer did, for logs and metrics.
#[derive(Debug, Default)]
pub struct Stats {
    pub blocks: AtomicU64,
    pub events: AtomicU64,
    /// Events of the watched contracts with an unknown signature or undecodable data.
    pub skipped: AtomicU64,
}

/// Follows finalized blocks from a [`BlockSource`] into a [`Store`].
pub struct Indexer<S> {
    source: S,
    store: Arc<dyn Store>,
    config: IndexerConfig,
    contracts: HashSet<[u8; 32]>,
    stats: Arc<Stats>,
}

impl<S: BlockSource> Indexer<S> {
    pub fn new(source: S, store: Arc<dyn Store>, config: IndexerConfig) -> Self {
        let contracts = config.contracts.iter().copied().collect();
        Indexer {
            source,
            store,
            config,
            contracts,
            stats: Arc::new(Stats::default()),
        }
    }

    /// The indexer's counters.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// Applies every finalized block after the cursor, up to the current finalized head.
    /// Returns the number of the last block applied (the cursor), if any.
    ///
    /// # Errors
    /// [`IndexerError`] when the chain cannot be read or the store cannot be written. Blocks
    /// applied before the failure stay applied.
    pub async fn catch_up(&self) -> Result<Option<u64>, IndexerError> {
        let head = self.source.finalized_head().await?;
        let next = match self.store.cursor().await? {
            Some(cursor) => cursor.number + 1,
            None => self.config.start_block,
        };
        if next <= head {
            tracing::debug!(from = next, to = head, "catching up");
            let mut blocks = stream::iter(next..=head)
                .map(|n| self.source.block(n))
                .buffered(self.config.concurrency.max(1));
            while let Some(block) = blocks.try_next().await? {
                self.apply(block).await?;
            }
        }
        self.store.set_finalized_head(head).await?;
        Ok(self.store.cursor().await?.map(|c| c.number))
    }

    /// Catches up, then follows new finalized blocks until `shutdown` completes.
    ///
    /// Chain failures (a node restarting, a dropped connection) are logged and retried with
    /// backoff; the gap is filled from the cursor once the node answers again.
    ///
    /// # Errors
    /// [`IndexerError::Store`] when the store fails: without it nothing can be indexed.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<(), IndexerError> {
        tokio::pin!(shutdown);
        let mut backoff = self.config.poll_interval;
        loop {
            let wait = match self.catch_up().await {
                Ok(_) => {
                    backoff = self.config.poll_interval;
                    self.config.poll_interval
                }
                Err(IndexerError::Source(e)) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "chain unavailable");
                    let wait = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    wait
                }
                Err(e) => return Err(e),
            };
            tokio::select! {
                _ = &mut shutdown => return Ok(()),
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn apply(&self, block: RawBlock) -> Result<(), IndexerError> {
        let mut events = Vec::new();
        for raw in block
            .contract_events
            .iter()
            .filter(|e| self.contracts.contains(&e.contract))
        {
            match decode_event(raw) {
                Ok(Some(event)) => events.push(IndexedEvent {
                    index: raw.index,
                    contract: AccountId(raw.contract),
                    event,
                }),
                Ok(None) => {
                    self.stats.skipped.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        block = block.number,
                        index = raw.index,
                        "skipping a contract event with an unknown signature"
                    );
                }
                Err(e) => {
                    self.stats.skipped.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(block = block.number, index = raw.index, error = %e,
                        "skipping an undecodable contract event");
                }
            }
        }
        let changes = BlockChanges {
            number: block.number,
            hash: Hash32(block.hash),
            timestamp_ms: block.timestamp_ms,
            events,
        };
        if self.store.apply_block(&changes).await? {
            self.stats.blocks.fetch_add(1, Ordering::Relaxed);
            let n = changes.events.len() as u64;
            self.stats.events.fetch_add(n, Ordering::Relaxed);
            if n > 0 {
                tracing::info!(block = block.number, events = n, "indexed");
            }
        }
        Ok(())
    }
}
