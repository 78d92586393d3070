//! The indexer driven by a scripted block source into a real SQLite store: no network.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use ink::env::Event;
use medledger_events::{ConsentGranted, ConsentRevoked};
use medledger_indexer::{
    BlockSource, Indexer, IndexerConfig, RawBlock, RawContractEvent, SourceError,
};
use medledger_store::{AccountId, SqliteStore, Store};
use scale::Encode;

const CONSENT: [u8; 32] = [0xc0; 32];
const OTHER: [u8; 32] = [0x0f; 32];

/// A chain in memory: blocks by number, a finalized head, and failures on demand.
#[derive(Default, Clone)]
struct ScriptedChain {
    inner: Arc<Mutex<Chain>>,
}

#[derive(Default)]
struct Chain {
    blocks: BTreeMap<u64, RawBlock>,
    head: u64,
    fail_block: Option<u64>,
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
        number
    }

    fn fail_at(&self, block: Option<u64>) {
        self.inner.lock().expect("lock").fail_block = block;
    }
}

#[async_trait::async_trait]
impl BlockSource for ScriptedChain {
    async fn finalized_head(&self) -> Result<u64, SourceError> {
        Ok(self.inner.lock().expect("lock").head)
    }

    async fn block(&self, number: u64) -> Result<RawBlock, SourceError> {
        let c = self.inner.lock().expect("lock");
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
    Arc::new(SqliteStore::open(&url).await.expect("store"))
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
    let indexer = Indexer::new(
        chain.clone(),
        store.clone(),
        IndexerConfig::new(vec![CONSENT], 1),
    );
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
async fn undecodable_and_unknown_events_are_counted_not_fatal() {
    let chain = ScriptedChain::default();
    let mut broken = event(CONSENT, 1, &grant(1));
    broken.data.truncate(5);
    let mut unknown = event(CONSENT, 2, &grant(1));
    unknown.topics[0] = [0xab; 32];
    chain.push(vec![broken, unknown, event(CONSENT, 3, &grant(2))]);
    let dir = tempfile::tempdir().expect("dir");
    let store = store(&dir).await;
    let indexer = Indexer::new(chain, store.clone(), IndexerConfig::new(vec![CONSENT], 1));
    indexer.catch_up().await.expect("catch up");
    assert_eq!(indexer.stats().skipped.load(Ordering::Relaxed), 2);
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
        ..IndexerConfig::new(vec![CONSENT], 1)
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
    let config = IndexerConfig {
        poll_interval: std::time::Duration::from_millis(20),
        ..IndexerConfig::new(vec![CONSENT], 1)
    };
    let indexer = Arc::new(Indexer::new(chain.clone(), store.clone(), config));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = {
        let indexer = indexer.clone();
        tokio::spawn(async move {
            indexer
                .run(async {
                    let _ = stopped.await;
                })
                .await
        })
    };
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
