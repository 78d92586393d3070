use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use futures::{FutureExt, StreamExt, stream};
use medledger_store::{
    AccountId, BlockChanges, Cursor, Hash32, IndexedEvent, Mirror, PreparedBlock, Store,
    StoreError, UndecodedEvent,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::decode::decode_event;
use crate::source::{BlockSource, Heads, RawBlock, SourceError, in_a_task};

/// How long one block may take to arrive before the node counts as stuck (and the read is
/// retried).
const BLOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Prepared events waiting for the writer, at most. A prepared event holds its rows as text
/// (1 to 2 KB), so this bounds what a backfill of full blocks keeps in memory.
const QUEUED_EVENTS: usize = 100_000;

/// The deployment an indexer mirrors: the two contracts, the code they were deployed with,
/// and the block to start from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    pub consent_registry: [u8; 32],
    pub record_registry: [u8; 32],
    pub consent_code_hash: [u8; 32],
    pub record_code_hash: [u8; 32],
    /// The first block to read when the store is empty (the deployment block).
    pub start_block: u64,
}

/// Blocks fetched at once while catching up, by default. A node answers each read after some
/// tens of milliseconds however small it is (measured on substrate-contracts-node: throughput
/// grows with the reads in flight up to 128), so many reads are kept in flight.
pub const DEFAULT_CONCURRENCY: usize = 64;

/// How the indexer runs.
#[derive(Debug, Clone)]
pub struct IndexerConfig {
    pub watched: Watched,
    /// How many blocks are fetched at once while catching up.
    pub concurrency: usize,
    /// At most this many blocks are committed in one transaction while catching up.
    pub batch_blocks: usize,
    /// The first wait after a transient failure (doubling, with jitter, up to
    /// `max_retry_delay`).
    pub min_retry_delay: Duration,
    pub max_retry_delay: Duration,
}

impl IndexerConfig {
    /// Defaults for mirroring `watched`.
    pub fn new(watched: Watched) -> Self {
        IndexerConfig {
            watched,
            concurrency: DEFAULT_CONCURRENCY,
            batch_blocks: 256,
            min_retry_delay: Duration::from_millis(200),
            max_retry_delay: Duration::from_secs(10),
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
    /// The store's last block is not the chain's block at that number: the database was
    /// filled from another chain (e.g. an earlier dev chain).
    #[error(
        "the database's last block #{number} is {stored}, but the chain's is {}: this database \
         was filled from another chain; use a fresh database",
        chain.map_or("missing".to_string(), |h| h.to_string())
    )]
    CursorNotOnChain {
        number: u64,
        stored: Hash32,
        chain: Option<Hash32>,
    },
    #[error("the node stopped announcing finalized blocks")]
    HeadsEnded,
    /// A block's events cannot be stored (a number or a time past what SQL holds).
    #[error("block #{block} cannot be stored: {source}")]
    Unstorable {
        block: u64,
        #[source]
        source: StoreError,
    },
}

impl IndexerError {
    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            IndexerError::Store(e) => e.is_transient(),
            IndexerError::Source(e) => e.is_transient(),
            IndexerError::HeadsEnded => true,
            IndexerError::Unstorable { .. } => false,
            // The node has not reached that block yet (syncing, restored from a snapshot):
            // wait. A different block there is another chain: refuse.
            IndexerError::CursorNotOnChain { chain, .. } => chain.is_none(),
        }
    }
}

/// Counters of what the indexer did, for logs, metrics and the health check.
#[derive(Debug, Default)]
pub struct Stats {
    /// Blocks applied (empty ones included).
    pub blocks: AtomicU64,
    /// Decoded events applied.
    pub events: AtomicU64,
    /// Events of the watched contracts stored raw because they did not decode.
    pub skipped: AtomicU64,
    /// Transient failures retried.
    pub errors: AtomicU64,
    /// The last block applied (the store's cursor once checked).
    pub indexed: AtomicU64,
    /// The latest finalized head seen.
    pub head: AtomicU64,
    /// The first block this run had to fetch, once known (for a progress bar).
    pub backfill_from: OnceLock<u64>,
    /// When the indexer last made progress (committed blocks, or found itself caught up), in
    /// milliseconds since the Unix epoch; 0 before it started.
    pub progress_at_ms: AtomicU64,
    /// Since when the indexer has been retrying a transient failure, in milliseconds since
    /// the Unix epoch; 0 while it is not.
    pub failing_since_ms: AtomicU64,
    /// The transient failure being retried, while it is.
    last_error: Mutex<Option<String>>,
    /// Set when [`Indexer::run`] returned, for whatever reason.
    pub stopped: AtomicBool,
}

/// Whether an indexer does its job, as judged by [`Stats::health`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Caught up, or making progress.
    Healthy,
    /// Running, but behind and not getting anywhere, or retrying a failure for too long;
    /// says why.
    Stuck(String),
    /// [`Indexer::run`] returned.
    Stopped,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Stats {
    /// How far the indexer is behind the finalized head, in blocks.
    pub fn lag(&self) -> u64 {
        self.head
            .load(Ordering::Relaxed)
            .saturating_sub(self.indexed.load(Ordering::Relaxed))
    }

    /// Healthy unless the indexer stopped, has been retrying a failure for longer than
    /// `stall_after`, or is behind the finalized head and has not committed anything for
    /// that long. An idle chain (no new blocks) is healthy: there is nothing to index.
    pub fn health(&self, stall_after: Duration) -> Health {
        if self.stopped.load(Ordering::Relaxed) {
            return Health::Stopped;
        }
        let now = now_ms();
        let stall_ms = u64::try_from(stall_after.as_millis()).unwrap_or(u64::MAX);
        let failing_since = self.failing_since_ms.load(Ordering::Relaxed);
        if failing_since != 0 && now.saturating_sub(failing_since) > stall_ms {
            let error = self
                .last_error
                .lock()
                .ok()
                .and_then(|e| e.clone())
                .unwrap_or_default();
            return Health::Stuck(format!(
                "retrying for {} s: {error}",
                now.saturating_sub(failing_since) / 1000
            ));
        }
        let progress_at = self.progress_at_ms.load(Ordering::Relaxed);
        let lag = self.lag();
        if lag > 0 && progress_at != 0 && now.saturating_sub(progress_at) > stall_ms {
            return Health::Stuck(format!(
                "{lag} blocks behind and nothing indexed for {} s",
                now.saturating_sub(progress_at) / 1000
            ));
        }
        Health::Healthy
    }

    fn progressed(&self) {
        self.progress_at_ms.store(now_ms(), Ordering::Relaxed);
        self.failing_since_ms.store(0, Ordering::Relaxed);
    }

    fn failing(&self, error: &IndexerError) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let _ = self.failing_since_ms.compare_exchange(
            0,
            now_ms(),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(error.to_string());
        }
    }
}

/// Follows finalized blocks from a [`BlockSource`] into a [`Store`].
pub struct Indexer<S> {
    source: Arc<S>,
    store: Arc<dyn Store>,
    config: IndexerConfig,
    contracts: Arc<HashSet<[u8; 32]>>,
    stats: Arc<Stats>,
}

impl<S: BlockSource> Indexer<S> {
    pub fn new(source: S, store: Arc<dyn Store>, config: IndexerConfig) -> Self {
        let contracts = Arc::new(
            [
                config.watched.consent_registry,
                config.watched.record_registry,
            ]
            .into_iter()
            .collect(),
        );
        Indexer {
            source: Arc::new(source),
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

    /// Binds the store to this chain and deployment (or checks it is bound to them), and
    /// checks that the store's last block is still the chain's block at that number.
    ///
    /// # Errors
    /// [`StoreError::OtherMirror`] (inside [`IndexerError::Store`]) for a database of another
    /// chain or deployment, [`IndexerError::CursorNotOnChain`] when the last block differs.
    pub async fn check(&self) -> Result<(), IndexerError> {
        let w = &self.config.watched;
        let mirror = Mirror {
            genesis_hash: Hash32(self.source.genesis_hash().await?),
            consent_registry: AccountId(w.consent_registry),
            record_registry: AccountId(w.record_registry),
            consent_code_hash: Hash32(w.consent_code_hash),
            record_code_hash: Hash32(w.record_code_hash),
            start_block: w.start_block,
        };
        self.store.check_mirror(&mirror).await?;
        if let Some(cursor) = self.store.cursor().await? {
            self.stats.indexed.store(cursor.number, Ordering::Relaxed);
            self.check_on_chain(&cursor).await?;
        }
        Ok(())
    }

    /// Checks that the store's last block is still the chain's block at that number, so
    /// that blocks of another chain (a dev chain started afresh behind the same address)
    /// are never appended to this one's.
    async fn check_on_chain(&self, cursor: &Cursor) -> Result<(), IndexerError> {
        let chain = self.source.block_hash(cursor.number).await?.map(Hash32);
        if chain != Some(cursor.hash) {
            return Err(IndexerError::CursorNotOnChain {
                number: cursor.number,
                stored: cursor.hash,
                chain,
            });
        }
        Ok(())
    }

    /// Applies every finalized block after the cursor, up to the current finalized head.
    /// Fetching runs ahead of writing (`concurrency` blocks at once), and the blocks that
    /// are ready are committed together, up to `batch_blocks` per transaction. Returns the
    /// number of the last block applied (the cursor), if any.
    ///
    /// # Errors
    /// [`IndexerError`] when the chain cannot be read or the store cannot be written. Blocks
    /// committed before the failure stay committed.
    pub async fn catch_up(&self) -> Result<Option<u64>, IndexerError> {
        let head = self.source.finalized_head().await?;
        self.stats.head.fetch_max(head, Ordering::Relaxed);
        let cursor = self.store.cursor().await?;
        let next = match &cursor {
            Some(cursor) => cursor.number + 1,
            None => self.config.watched.start_block,
        };
        if next <= head {
            // The node may have become another chain since the last block was applied
            // (without the head subscription ending first): its blocks must not follow ours.
            if let Some(cursor) = &cursor {
                self.check_on_chain(cursor).await?;
            }
            let _ = self.stats.backfill_from.set(next);
            let many = head - next >= self.config.batch_blocks as u64;
            if many {
                tracing::info!(from = next, to = head, "catching up");
            }
            let batch = self.config.batch_blocks.max(1);
            let (tx, rx) = mpsc::channel::<Result<Queued, IndexerError>>(batch * 2);
            let budget = Arc::new(Semaphore::new(QUEUED_EVENTS));
            let source = self.source.clone();
            let contracts = self.contracts.clone();
            let concurrency = self.config.concurrency.max(1);
            // The fetcher polls the reads itself, so that their requests go out promptly;
            // what costs CPU (decoding a block's events, preparing its rows) runs as tasks of
            // their own, on the other cores while the writer works. Dropping the fetcher
            // cancels them: stopping mid-backfill leaves nothing running.
            let fetch = async move {
                let mut blocks = stream::iter(next..=head)
                    .map(|n| {
                        let (source, contracts) = (source.clone(), contracts.clone());
                        async move {
                            let block = tokio::time::timeout(BLOCK_TIMEOUT, source.block(n))
                                .await
                                .unwrap_or_else(|_| {
                                    Err(SourceError::Node {
                                        action: "send a block in time",
                                        reason: format!(
                                            "block #{n} took more than {} s",
                                            BLOCK_TIMEOUT.as_secs()
                                        ),
                                    })
                                })?;
                            in_a_task(move || {
                                PreparedBlock::new(&changes(&contracts, block))
                                    .map_err(|source| IndexerError::Unstorable { block: n, source })
                            })
                            .await
                        }
                    })
                    .buffered(concurrency);
                while let Some(block) = blocks.next().await {
                    let queued = match block {
                        Ok(block) => {
                            let events = block.events().min(QUEUED_EVENTS);
                            let events = u32::try_from(events).unwrap_or(u32::MAX);
                            match budget.clone().acquire_many_owned(events).await {
                                Ok(permit) => Ok(Queued { block, permit }),
                                Err(_) => break,
                            }
                        }
                        Err(e) => Err(e),
                    };
                    let failed = queued.is_err();
                    if tx.send(queued).await.is_err() || failed {
                        break;
                    }
                }
            };
            let (fetch, fetching) = fetch.remote_handle();
            tokio::spawn(fetch);
            self.write(rx, batch, !many).await?;
            // The fetcher has finished; this passes on its panic, if it had one.
            fetching.await;
            if many {
                tracing::info!(to = head, "caught up");
            }
        }
        self.store.set_finalized_head(head).await?;
        let cursor = self.store.cursor().await?.map(|c| c.number);
        if let Some(n) = cursor {
            self.stats.indexed.store(n, Ordering::Relaxed);
        }
        Ok(cursor)
    }

    /// Commits the blocks arriving on `rx`, as many as are ready (up to `batch`) at a time.
    async fn write(
        &self,
        mut rx: mpsc::Receiver<Result<Queued, IndexerError>>,
        batch: usize,
        log_each: bool,
    ) -> Result<(), IndexerError> {
        let mut pending = Vec::with_capacity(batch);
        while let Some(first) = rx.recv().await {
            let mut failure = None;
            match first {
                Ok(queued) => pending.push(queued),
                Err(e) => failure = Some(e),
            }
            while failure.is_none() && pending.len() < batch {
                match rx.try_recv() {
                    Ok(Ok(queued)) => pending.push(queued),
                    Ok(Err(e)) => failure = Some(e),
                    Err(_) => break,
                }
            }
            if !pending.is_empty() {
                // The permits go back once the blocks are written.
                let (blocks, _permits): (Vec<_>, Vec<_>) =
                    pending.drain(..).map(|q| (q.block, q.permit)).unzip();
                self.commit(blocks, log_each).await?;
            }
            if let Some(e) = failure {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Commits `blocks` in one transaction; logs them at info level when `log_each` (while
    /// following new blocks, not during a long backfill, which a progress bar shows).
    async fn commit(&self, blocks: Vec<PreparedBlock>, log_each: bool) -> Result<(), IndexerError> {
        let events: usize = blocks.iter().map(PreparedBlock::events).sum();
        let skipped: usize = blocks.iter().map(PreparedBlock::undecoded).sum();
        let to = blocks.last().map(PreparedBlock::number);
        let applied = self.store.apply_prepared(blocks).await?;
        if applied > 0 {
            self.stats.progressed();
            self.stats
                .blocks
                .fetch_add(applied as u64, Ordering::Relaxed);
            self.stats
                .events
                .fetch_add(events as u64, Ordering::Relaxed);
            self.stats
                .skipped
                .fetch_add(skipped as u64, Ordering::Relaxed);
            if let Some(last) = to {
                self.stats.indexed.store(last, Ordering::Relaxed);
            }
            if log_each && (events > 0 || skipped > 0) {
                tracing::info!(to, blocks = applied, events, skipped, "indexed");
            } else {
                tracing::debug!(to, blocks = applied, events, skipped, "indexed");
            }
        }
        Ok(())
    }

    /// Checks the store, catches up, then follows new finalized heads until `shutdown`
    /// completes. Transient failures (the node or the database restarting, a dropped
    /// connection) are logged and retried with exponential backoff and jitter; the gap is
    /// filled from the cursor once both answer again. Stopping drops the work in flight: an
    /// open transaction rolls back, so nothing is ever half-written.
    ///
    /// # Errors
    /// A permanent failure: another chain's database, a block that can never be read, a
    /// store that refuses the rows.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<(), IndexerError> {
        self.stats.progressed();
        let result = tokio::select! {
            _ = shutdown => Ok(()),
            result = self.run_forever() => result,
        };
        self.stats.stopped.store(true, Ordering::Relaxed);
        result
    }

    fn backoff(&self) -> impl Iterator<Item = Duration> {
        ExponentialBuilder::default()
            .with_min_delay(self.config.min_retry_delay)
            .with_max_delay(self.config.max_retry_delay)
            .with_jitter()
            .without_max_times()
            .build()
    }

    async fn retry_or_fail(
        &self,
        e: IndexerError,
        backoff: &mut impl Iterator<Item = Duration>,
    ) -> Result<(), IndexerError> {
        if !e.is_transient() {
            return Err(e);
        }
        self.stats.failing(&e);
        let wait = backoff.next().unwrap_or(self.config.max_retry_delay);
        tracing::warn!(error = %e, retry_in = ?wait, "indexing paused");
        tokio::time::sleep(wait).await;
        Ok(())
    }

    async fn run_forever(&self) -> Result<(), IndexerError> {
        let mut backoff = self.backoff();
        // Checked on start and again after every failure: the node that answers after an
        // outage may be another chain (a dev chain started afresh on the same port).
        let mut checked = false;
        let mut heads: Option<Heads> = None;
        loop {
            let step = async {
                if !checked {
                    self.check().await?;
                    checked = true;
                }
                // Subscribed before catching up, so that a head finalized (or the node
                // swapped) while catching up is not missed until the next one.
                let stream = match heads.as_mut() {
                    Some(stream) => stream,
                    None => heads.insert(self.source.finalized_heads().await?),
                };
                self.catch_up().await?;
                self.stats.progressed();
                // Wait for a head past what was just indexed.
                let indexed = self.stats.indexed.load(Ordering::Relaxed);
                loop {
                    match stream.next().await {
                        Some(Ok(head)) if head > indexed => return Ok(()),
                        Some(Ok(_)) => continue,
                        Some(Err(e)) => return Err(IndexerError::from(e)),
                        None => return Err(IndexerError::HeadsEnded),
                    }
                }
            };
            match step.await {
                Ok(()) => backoff = self.backoff(),
                Err(e) => {
                    heads = None;
                    checked = false;
                    self.retry_or_fail(e, &mut backoff).await?;
                }
            }
        }
    }
}

/// A block prepared for the writer, holding its share of [`QUEUED_EVENTS`] until written.
struct Queued {
    block: PreparedBlock,
    permit: OwnedSemaphorePermit,
}

/// The store's view of one block: decoded events of the watched contracts, and the
/// ones that did not decode, kept raw with the reason.
fn changes(contracts: &HashSet<[u8; 32]>, block: RawBlock) -> BlockChanges {
    let mut changes = BlockChanges::empty(block.number, Hash32(block.hash), block.timestamp_ms);
    for raw in block
        .contract_events
        .into_iter()
        .filter(|e| contracts.contains(&e.contract))
    {
        let reason = match decode_event(&raw) {
            Ok(Some(event)) => {
                changes.events.push(IndexedEvent {
                    index: raw.index,
                    contract: AccountId(raw.contract),
                    event,
                });
                continue;
            }
            Ok(None) => match raw.topics.first() {
                Some(topic) => format!("unknown event signature {}", Hash32(*topic)),
                None => "an event without a signature topic".to_string(),
            },
            Err(e) => e.to_string(),
        };
        tracing::warn!(block = block.number, index = raw.index, %reason,
            "keeping an undecodable contract event raw");
        changes.undecoded.push(UndecodedEvent {
            index: raw.index,
            contract: AccountId(raw.contract),
            topics: raw.topics.into_iter().map(Hash32).collect(),
            data: raw.data,
            reason,
        });
    }
    changes
}
