//! The indexer driven by a scripted block source into a real SQLite store: no network.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use ink::env::Event;
use medledger_events::{ConsentGranted, ConsentRevoked};
use medledger_indexer::{
    BlockSource, Heads, Health, Indexer, IndexerConfig, IndexerError, RawBlock, RawContractEvent,
    SourceError, Stats, Watched,
};
use medledger_pg_runner::Postgres;
use medledger_store::{AccountId, Hash32, SqlStore, Store, StoreError};
use scale::Encode;

const CONSENT: [u8; 32] = [0xc0; 32];
const RECORDS: [u8; 32] = [0xd0; 32];
const OTHER: [u8; 32] = [0x0f; 32];

fn config() -> IndexerConfig {
    IndexerConfig {
        min_retry_delay: std::time::Duration::from_millis(10),
        max_retry_delay: std::time::Duration::from_millis(100),
        ..IndexerConfig::new(Watched {
            consent_registry: CONSENT,
            record_registry: RECORDS,
            consent_code_hash: [0x1c; 32],
            record_code_hash: [0x1d; 32],
            start_block: 1,
        })
    }
}

/// A chain in memory: blocks by number, a finalized head, and failures on demand.
#[derive(Clone)]
struct ScriptedChain {
    inner: Arc<Mutex<Chain>>,
    heads: tokio::sync::watch::Sender<u64>,
    genesis: [u8; 32],
}

impl Default for ScriptedChain {
    fn default() -> Self {
        ScriptedChain {
            inner: Arc::default(),
            heads: tokio::sync::watch::channel(0).0,
            genesis: [0x47; 32],
        }
    }
}

#[derive(Default)]
struct Chain {
    blocks: BTreeMap<u64, RawBlock>,
    head: u64,
    fail_block: Option<u64>,
    /// Reading this block fails for good (its events never decode).
    broken_block: Option<u64>,
    /// Reading this block panics (a bug in a source).
    panic_block: Option<u64>,
}

impl ScriptedChain {
    fn push(&self, events: Vec<RawContractEvent>) -> u64 {
        let mut c = self.inner.lock().expect("lock");
        let number = c.head + 1;
        c.blocks.insert(
            number,
            RawBlock {
                number,
                hash: [number as u8; 32],
                timestamp_ms: 1_000 * number,
                contract_events: events,
            },
        );
        c.head = number;
        self.heads.send_replace(number);
        number
    }

    /// Another chain with the same shape: other genesis, other block hashes.
    fn other(&self) -> ScriptedChain {
        let other = ScriptedChain {
            genesis: [0x48; 32],
            ..ScriptedChain::default()
        };
        let c = self.inner.lock().expect("lock");
        let mut o = other.inner.lock().expect("lock");
        for (n, b) in &c.blocks {
            let mut b = b.clone();
            b.hash = [0xee; 32];
            o.blocks.insert(*n, b);
        }
        o.head = c.head;
        drop(o);
        other
    }

    fn fail_at(&self, block: Option<u64>) {
        self.inner.lock().expect("lock").fail_block = block;
    }
}

#[async_trait::async_trait]
impl BlockSource for ScriptedChain {
    async fn genesis_hash(&self) -> Result<[u8; 32], SourceError> {
        Ok(self.genesis)
    }

    async fn finalized_head(&self) -> Result<u64, SourceError> {
        Ok(self.inner.lock().expect("lock").head)
    }

    async fn block_hash(&self, number: u64) -> Result<Option<[u8; 32]>, SourceError> {
        Ok(self
            .inner
            .lock()
            .expect("lock")
            .blocks
            .get(&number)
            .map(|b| b.hash))
    }

    async fn finalized_heads(&self) -> Result<Heads, SourceError> {
        let rx = self.heads.subscribe();
        Ok(futures::stream::unfold(rx, |mut rx| async move {
            rx.changed().await.ok()?;
            let head = *rx.borrow_and_update();
            Some((Ok(head), rx))
        })
        .boxed())
    }

    async fn block(&self, number: u64) -> Result<RawBlock, SourceError> {
        let c = self.inner.lock().expect("lock");
        if c.panic_block == Some(number) {
            drop(c);
            panic!("scripted: a bug while reading block #{number}");
        }
        if c.broken_block == Some(number) {
            return Err(SourceError::Undecodable {
                block: number,
                reason: "scripted: its events never decode".into(),
            });
        }
        if c.fail_block == Some(number) {
            return Err(SourceError::Node {
                action: "read a block",
                reason: "scripted failure".into(),
            });
        }
        c.blocks.get(&number).cloned().ok_or(SourceError::Node {
            action: "find the block",
            reason: format!("no block {number}"),
        })
    }
}

fn ink_account(b: u8) -> ink::primitives::AccountId {
    ink::primitives::AccountId::from([b; 32])
}

fn event<E: Event + Encode>(contract: [u8; 32], index: u32, e: &E) -> RawContractEvent {
    RawContractEvent {
        index,
        contract,
        topics: vec![E::SIGNATURE_TOPIC.expect("signature")],
        data: e.encode(),
    }
}

fn grant(version: u32) -> ConsentGranted {
    ConsentGranted {
        patient: ink_account(1),
        grantee: ink_account(2),
        categories: 1,
        purposes: 1,
        access: 1,
        valid_from: 0,
        expires_at: None,
        terms_hash: [0; 32].into(),
        version,
        by: ink_account(1),
    }
}

async fn store(dir: &tempfile::TempDir) -> Arc<dyn Store> {
    let url = format!("sqlite:{}", dir.path().join("idx.db").display());
    Arc::new(SqlStore::open(&url).await.expect("store"))
}

const PATIENT: AccountId = AccountId([1; 32]);

#[tokio::test]
async fn mirrors_only_the_watched_contracts_events() {
    // given
    let chain = ScriptedChain::default();
    chain.push(vec![]);
    chain.push(vec![
        event(OTHER, 1, &grant(7)),
        event(CONSENT, 2, &grant(1)),
    ]);
    let dir = tempfile::tempdir().expect("dir");
    let store = store(&dir).await;
    let indexer = Indexer::new(chain.clone(), store.clone(), config());
    // when
    let cursor = indexer.catch_up().await.expect("catch up");
    // then
    assert_eq!(cursor, Some(2));
    let consents = store.consents_of_patient(&PATIENT).await.expect("consents");
    assert_eq!(consents.len(), 1);
    assert_eq!(
        consents[0].version, 1,
        "the other contract's event was ignored"
    );
    assert_eq!(indexer.stats().events.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn undecodable_and_unknown_events_are_kept_raw_and_counted_not_fatal() {
    let chain = ScriptedChain::default();
    let mut broken = event(CONSENT, 1, &grant(1));
    broken.data.truncate(5);
    let mut unknown = event(CONSENT, 2, &grant(1));
    unknown.topics[0] = [0xab; 32];
    chain.push(vec![broken, unknown, event(CONSENT, 3, &grant(2))]);
    let dir = tempfile::tempdir().expect("dir");
    let store = store(&dir).await;
    let indexer = Indexer::new(chain, store.clone(), config());
    indexer.catch_up().await.expect("catch up");
    assert_eq!(indexer.stats().skipped.load(Ordering::Relaxed), 2);
    assert_eq!(store.status().await.expect("status").undecoded_events, 2);
    let consents = store.consents_of_patient(&PATIENT).await.expect("consents");
    assert_eq!(consents[0].version, 2);
}

#[tokio::test]
async fn a_failure_midway_resumes_from_the_cursor_without_duplicates() {
    // given: five blocks, and reading block 4 fails
    let chain = ScriptedChain::default();
    for v in 1..=5 {
        chain.push(vec![event(CONSENT, 1, &grant(v))]);
    }
    chain.fail_at(Some(4));
    let dir = tempfile::tempdir().expect("dir");
    let store = store(&dir).await;
    let config = IndexerConfig {
        concurrency: 1,
        ..config()
    };
    let indexer = Indexer::new(chain.clone(), store.clone(), config.clone());
    // when
    assert!(indexer.catch_up().await.is_err());
    // then: blocks 1..=3 are in, and nothing after
    assert_eq!(
        store.cursor().await.expect("cursor").map(|c| c.number),
        Some(3)
    );
    // when: the node answers again and a fresh indexer (a restart) resumes
    chain.fail_at(None);
    let revoke = ConsentRevoked {
        patient: ink_account(1),
        grantee: ink_account(2),
        version: 5,
        by: ink_account(1),
    };
    chain.push(vec![event(CONSENT, 1, &revoke)]);
    let restarted = Indexer::new(chain, store.clone(), config);
    assert_eq!(restarted.catch_up().await.expect("resume"), Some(6));
    // then
    let c = &store.consents_of_patient(&PATIENT).await.expect("consents")[0];
    assert_eq!((c.version, c.revoked, c.updated_block), (5, true, 6));
    assert_eq!(restarted.stats().blocks.load(Ordering::Relaxed), 3);
}

#[tokio::test]
async fn run_follows_new_blocks_until_shutdown() {
    let chain = ScriptedChain::default();
    chain.push(vec![]);
    let dir = tempfile::tempdir().expect("dir");
    let store = store(&dir).await;
    let indexer = Arc::new(Indexer::new(chain.clone(), store.clone(), config()));
    let (stop, task) = spawn_run(&indexer);
    chain.push(vec![event(CONSENT, 1, &grant(1))]);
    let mut seen = false;
    for _ in 0..200 {
        if !store
            .consents_of_patient(&PATIENT)
            .await
            .expect("read")
            .is_empty()
        {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(seen, "the new block was indexed while running");
    stop.send(()).expect("send stop");
    task.await.expect("join").expect("clean stop");
}

/// Runs the indexer in a task until the returned sender fires.
fn spawn_run(
    indexer: &Arc<Indexer<ScriptedChain>>,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), IndexerError>>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let indexer = indexer.clone();
    let task = tokio::spawn(async move {
        indexer
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    (stop, task)
}

/// Waits until the store's cursor reaches `number`, or panics after 10 s.
async fn wait_for_cursor(store: &Arc<dyn Store>, number: u64) {
    for _ in 0..1_000 {
        if let Ok(Some(c)) = store.cursor().await
            && c.number >= number
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the cursor never reached block {number}");
}

#[tokio::test]
async fn a_database_of_another_chain_is_refused() {
    // given: a database filled from one chain
    let chain = ScriptedChain::default();
    chain.push(vec![event(CONSENT, 1, &grant(1))]);
    let dir = tempfile::tempdir().expect("dir");
    let store = store(&dir).await;
    let first = Indexer::new(chain.clone(), store.clone(), config());
    first.check().await.expect("binds a fresh database");
    first.catch_up().await.expect("catch up");
    // when: pointed at another chain
    let other = Indexer::new(chain.other(), store.clone(), config());
    let err = other
        .run(std::future::pending())
        .await
        .expect_err("refused");
    // then: one clear line, and it stops instead of retrying
    assert!(
        matches!(err, IndexerError::Store(StoreError::OtherMirror { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("use a fresh database"), "{err}");
}

#[tokio::test]
async fn a_last_block_that_is_not_the_chains_is_refused() {
    // given: a database whose last block the chain does not have (same genesis: e.g. a
    // chain restarted from the same spec)
    let chain = ScriptedChain::default();
    chain.push(vec![event(CONSENT, 1, &grant(1))]);
    let dir = tempfile::tempdir().expect("dir");
    let store = store(&dir).await;
    let first = Indexer::new(chain.clone(), store.clone(), config());
    first.check().await.expect("bind");
    first.catch_up().await.expect("catch up");
    let mut same_genesis = chain.other();
    same_genesis.genesis = chain.genesis;
    // when
    let err = Indexer::new(same_genesis, store.clone(), config())
        .check()
        .await
        .expect_err("refused");
    // then
    match &err {
        IndexerError::CursorNotOnChain {
            number,
            stored,
            chain,
        } => {
            assert_eq!(*number, 1);
            assert_eq!(*stored, Hash32([1; 32]));
            assert_eq!(*chain, Some(Hash32([0xee; 32])));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        err.to_string().contains("filled from another chain"),
        "{err}"
    );
}

#[tokio::test]
async fn run_retries_a_node_that_fails_and_goes_on() {
    // given: reading block 2 fails until the node "comes back"
    let chain = ScriptedChain::default();
    chain.push(vec![event(CONSENT, 1, &grant(1))]);
    chain.push(vec![event(CONSENT, 1, &grant(2))]);
    chain.fail_at(Some(2));
    let dir = tempfile::tempdir().expect("dir");
    let store = store(&dir).await;
    let indexer = Arc::new(Indexer::new(chain.clone(), store.clone(), config()));
    let (stop, task) = spawn_run(&indexer);
    wait_for_cursor(&store, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(
        indexer.stats().errors.load(Ordering::Relaxed) >= 1,
        "the failure was retried"
    );
    // when: the node answers again
    chain.fail_at(None);
    // then
    wait_for_cursor(&store, 2).await;
    let c = &store.consents_of_patient(&PATIENT).await.expect("consents")[0];
    assert_eq!(c.version, 2);
    stop.send(()).expect("stop");
    task.await.expect("join").expect("clean stop");
}

/// Runs an indexer on `chain` into a fresh store until it stops by itself (within 10 s: a
/// permanent failure must not be retried forever); returns why, and the store's cursor.
async fn run_until_it_stops(chain: ScriptedChain) -> (IndexerError, Option<u64>) {
    let dir = tempfile::tempdir().expect("dir");
    let store = store(&dir).await;
    let indexer = Indexer::new(chain, store.clone(), config());
    let result = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        indexer.run(std::future::pending()),
    )
    .await
    .expect("a permanent failure stops the indexer instead of retrying forever");
    let cursor = store.cursor().await.expect("cursor").map(|c| c.number);
    (result.expect_err("an error"), cursor)
}

#[tokio::test]
async fn run_stops_on_a_block_that_can_never_be_read() {
    let chain = ScriptedChain::default();
    chain.push(vec![]);
    chain.push(vec![]);
    chain.inner.lock().expect("lock").broken_block = Some(2);
    let (err, cursor) = run_until_it_stops(chain).await;
    assert!(err.to_string().contains("block #2 cannot be read"), "{err}");
    assert_eq!(cursor, Some(1), "everything before it is indexed");
}

#[tokio::test]
async fn run_stops_on_a_block_whose_time_sql_cannot_hold() {
    let chain = ScriptedChain::default();
    chain.push(vec![]);
    let two = chain.push(vec![event(CONSENT, 1, &grant(1))]);
    if let Some(b) = chain.inner.lock().expect("lock").blocks.get_mut(&two) {
        b.timestamp_ms = u64::MAX;
    }
    let (err, cursor) = run_until_it_stops(chain).await;
    assert!(
        matches!(err, IndexerError::Unstorable { block: 2, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("block #2 cannot be stored"),
        "{err}"
    );
    assert_eq!(cursor, Some(1), "everything before it is indexed");
}

#[tokio::test]
async fn a_read_that_panics_is_not_taken_for_the_end_of_the_chain() {
    let chain = ScriptedChain::default();
    for _ in 0..3 {
        chain.push(vec![]);
    }
    chain.inner.lock().expect("lock").panic_block = Some(2);
    let dir = tempfile::tempdir().expect("dir");
    let store = store(&dir).await;
    let indexer = Indexer::new(chain, store.clone(), config());
    let caught_up = tokio::spawn(async move { indexer.catch_up().await }).await;
    match caught_up {
        Err(e) => assert!(e.is_panic(), "{e}"),
        Ok(reached) => panic!("catch_up returned {reached:?} though block #2 was never read"),
    }
    let cursor = store.cursor().await.expect("cursor").map(|c| c.number);
    assert!(matches!(cursor, None | Some(1)), "cursor {cursor:?}");
}

#[tokio::test]
async fn postgres_stopped_for_a_while_the_indexer_waits_and_continues() {
    // given: an indexer on PostgreSQL, caught up with block 1
    let mut pg = Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    let url = pg.fresh_database().expect("database");
    let store: Arc<dyn Store> = Arc::new(SqlStore::open(&url).await.expect("open"));
    let chain = ScriptedChain::default();
    chain.push(vec![event(CONSENT, 1, &grant(1))]);
    let indexer = Arc::new(Indexer::new(chain.clone(), store.clone(), config()));
    let (stop, task) = spawn_run(&indexer);
    wait_for_cursor(&store, 1).await;
    // when: the database goes away while new blocks arrive, then comes back
    pg.stop().expect("stop postgres");
    for v in 2..=4 {
        chain.push(vec![event(CONSENT, 1, &grant(v))]);
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!task.is_finished(), "the indexer waits instead of stopping");
    pg.restart().expect("restart postgres");
    // then: it continues where it stopped
    // (Whether the wait shows as retried errors or as the pool waiting for a connection
    // depends on the moment: either way nothing is lost and nothing stops.)
    wait_for_cursor(&store, 4).await;
    let c = &store.consents_of_patient(&PATIENT).await.expect("consents")[0];
    assert_eq!(c.version, 4);
    stop.send(()).expect("stop");
    task.await.expect("join").expect("clean stop");
}

/// A node whose chain can be swapped under a running indexer, as when a dev node is started
/// afresh on the same port: the old chain's head subscription ends, the new chain answers.
#[derive(Clone)]
struct Swappable {
    current: Arc<Mutex<ScriptedChain>>,
    swapped: tokio::sync::watch::Sender<u64>,
}

impl Swappable {
    fn new(chain: ScriptedChain) -> Self {
        Swappable {
            current: Arc::new(Mutex::new(chain)),
            swapped: tokio::sync::watch::channel(0).0,
        }
    }

    fn swap(&self, chain: ScriptedChain) {
        *self.current.lock().expect("lock") = chain;
        self.swapped.send_modify(|n| *n += 1);
    }

    fn now(&self) -> ScriptedChain {
        self.current.lock().expect("lock").clone()
    }
}

#[async_trait::async_trait]
impl BlockSource for Swappable {
    async fn genesis_hash(&self) -> Result<[u8; 32], SourceError> {
        self.now().genesis_hash().await
    }
    async fn finalized_head(&self) -> Result<u64, SourceError> {
        self.now().finalized_head().await
    }
    async fn block_hash(&self, number: u64) -> Result<Option<[u8; 32]>, SourceError> {
        self.now().block_hash(number).await
    }
    async fn block(&self, number: u64) -> Result<RawBlock, SourceError> {
        self.now().block(number).await
    }
    async fn finalized_heads(&self) -> Result<Heads, SourceError> {
        let mut swapped = self.swapped.subscribe();
        let heads = self.now().finalized_heads().await?;
        Ok(heads
            .take_until(async move {
                let _ = swapped.changed().await;
            })
            .boxed())
    }
}

#[tokio::test]
async fn a_chain_swapped_under_a_running_indexer_is_refused_not_mixed_in() {
    // given: an indexer following a chain, caught up with block 2
    let chain = ScriptedChain::default();
    chain.push(vec![event(CONSENT, 1, &grant(1))]);
    chain.push(vec![event(CONSENT, 1, &grant(2))]);
    let node = Swappable::new(chain.clone());
    let dir = tempfile::tempdir().expect("dir");
    let store = store(&dir).await;
    let indexer = Indexer::new(node.clone(), store.clone(), config());
    let run = tokio::spawn(async move { indexer.run(std::future::pending()).await });
    wait_for_cursor(&store, 2).await;
    // when: the node comes back as another chain of the same genesis (a dev chain started
    // afresh), which goes on to block 3
    let mut fresh = chain.other();
    fresh.genesis = chain.genesis;
    node.swap(fresh.clone());
    fresh.push(vec![event(CONSENT, 1, &grant(7))]);
    // then: the indexer stops with the reason instead of mirroring the new chain's blocks
    let result = tokio::time::timeout(std::time::Duration::from_secs(10), run)
        .await
        .expect("the indexer stops")
        .expect("join");
    let err = result.expect_err("refused");
    assert!(
        matches!(err, IndexerError::CursorNotOnChain { number: 2, .. }),
        "{err:?}"
    );
    assert_eq!(
        store.cursor().await.expect("cursor").map(|c| c.number),
        Some(2)
    );
    let c = &store.consents_of_patient(&PATIENT).await.expect("consents")[0];
    assert_eq!(c.version, 2, "nothing of the other chain was mirrored");
}

#[tokio::test]
async fn catching_up_on_a_chain_swapped_since_the_last_block_is_refused() {
    // given: a store caught up with block 2 of a chain
    let chain = ScriptedChain::default();
    chain.push(vec![event(CONSENT, 1, &grant(1))]);
    chain.push(vec![event(CONSENT, 1, &grant(2))]);
    let node = Swappable::new(chain.clone());
    let dir = tempfile::tempdir().expect("dir");
    let store = store(&dir).await;
    let indexer = Indexer::new(node.clone(), store.clone(), config());
    indexer.check().await.expect("bound");
    assert_eq!(indexer.catch_up().await.expect("caught up"), Some(2));
    // when: the node has become another chain of the same genesis, with a block 3, and
    // nothing told the indexer (no subscription ended, no error)
    let mut fresh = chain.other();
    fresh.genesis = chain.genesis;
    fresh.push(vec![event(CONSENT, 1, &grant(7))]);
    node.swap(fresh);
    // then: the next catch-up refuses instead of appending the other chain's block 3
    let err = indexer.catch_up().await.expect_err("refused");
    assert!(
        matches!(err, IndexerError::CursorNotOnChain { number: 2, .. }),
        "{err:?}"
    );
    let c = &store.consents_of_patient(&PATIENT).await.expect("consents")[0];
    assert_eq!(c.version, 2, "nothing of the other chain was mirrored");
}

#[tokio::test]
async fn health_turns_stuck_while_a_failure_lasts_and_healthy_again_after() {
    let stall = std::time::Duration::from_millis(200);
    let chain = ScriptedChain::default();
    chain.push(vec![event(CONSENT, 1, &grant(1))]);
    chain.push(vec![event(CONSENT, 1, &grant(2))]);
    chain.fail_at(Some(2));
    let dir = tempfile::tempdir().expect("dir");
    let store = store(&dir).await;
    let indexer = Arc::new(Indexer::new(chain.clone(), store.clone(), config()));
    let stats = indexer.stats();
    let (stop, task) = spawn_run(&indexer);
    wait_for_cursor(&store, 1).await;
    // while block 2 cannot be read, for longer than the stall time
    tokio::time::sleep(stall * 3).await;
    match stats.health(stall) {
        Health::Stuck(why) => assert!(why.contains("scripted failure"), "{why}"),
        other => panic!("expected stuck, got {other:?}"),
    }
    // the node answers again
    chain.fail_at(None);
    wait_for_cursor(&store, 2).await;
    // The block is committed a moment before the indexer marks its progress.
    let started = std::time::Instant::now();
    while stats.health(stall) != Health::Healthy && started.elapsed() < stall {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(stats.health(stall), Health::Healthy);
    // an idle chain stays healthy: nothing to index is no failure
    tokio::time::sleep(stall * 2).await;
    assert_eq!(stats.health(stall), Health::Healthy);
    stop.send(()).expect("stop");
    task.await.expect("join").expect("clean stop");
    assert_eq!(stats.health(stall), Health::Stopped);
}

#[test]
fn health_is_stuck_when_behind_without_progress() {
    let stats = Stats::default();
    let stall = std::time::Duration::from_secs(60);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64;
    stats
        .progress_at_ms
        .store(now_ms - 61_000, Ordering::Relaxed);
    stats.head.store(10, Ordering::Relaxed);
    stats.indexed.store(10, Ordering::Relaxed);
    assert_eq!(stats.health(stall), Health::Healthy, "caught up");
    stats.head.store(15, Ordering::Relaxed);
    match stats.health(stall) {
        Health::Stuck(why) => assert!(why.starts_with("5 blocks behind"), "{why}"),
        other => panic!("expected stuck, got {other:?}"),
    }
    stats.progress_at_ms.store(now_ms, Ordering::Relaxed);
    assert_eq!(
        stats.health(stall),
        Health::Healthy,
        "behind but progressing"
    );
}
