//! `cargo xtask bench indexer`: how fast the indexer backfills, against how fast the same
//! client can merely fetch the blocks.
//!
//! Seeds two dev chains: a dense one (at least 100,000 consent grants, batched with
//! `Utility.batch_all`) and a sparse one (mostly blocks without contract events, a batch of
//! grants now and then). On each it prints, for the deployment block up to the settled
//! finalized head:
//! - the ceiling: the indexer's own `SubxtSource` fetching every block with the indexer's
//!   concurrency (which decodes the chain's events to find the contracts'), writing nothing
//!   (after a first pass, so that every measurement finds the node's caches warm);
//! - a backfill (`Indexer::check` + `catch_up`, default tuning) into a fresh SQLite file and
//!   into a fresh database of a throwaway PostgreSQL;
//! - writing only: the same backfills from the blocks held in memory (fetched once, before),
//!   so the pass costs what the indexer spends decoding the contracts' events, preparing rows
//!   and writing them, and nothing of the node's;
//! - blocks/s, events/s and each backfill's share of the ceiling;
//! - the CPU time the whole machine was busy during the pass (the node, PostgreSQL and this
//!   process), in core-seconds: on a machine of N cores, a pass cannot take less than its CPU
//!   time over N.
//!
//! Last it prints what reaching 80 % of the ceiling needs at best on this machine: on N cores
//! the backfill must finish within ceiling / 0.8, so fetching and writing together may keep
//! the machine busy for at most N × ceiling / 0.8 core-seconds, and writing for that less what
//! fetching costs; a writing-only pass that takes longer, or costs more, shows the goal out
//! of reach.
//!
//! Each pass starts with its client connected and its database created, and runs
//! `BENCH_ROUNDS` times (default 5), the five kinds taking turns; the median is printed, as
//! one pass of about a second on two shared cores varies by a tenth either way.
//!
//! Sizes can be lowered for a quick look: `BENCH_DENSE_TXS`, `BENCH_GRANTS_PER_TX`,
//! `BENCH_SPARSE_BLOCKS` (defaults 500, 200, 2000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use futures::{StreamExt, TryStreamExt, stream};
use medledger_e2e::seed::{DeployedChain, deployed_chain, seed_empty_blocks, seed_grants};
use medledger_indexer::{
    BlockSource, Heads, Indexer, IndexerConfig, RawBlock, SourceError, SubxtSource, Watched,
};
use medledger_pg_runner::Postgres;
use medledger_store::{SqlStore, Store};

/// The allocator of the `medledger` binary, whose indexer this process runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What one pass over the blocks did.
struct Pass {
    blocks: u64,
    events: u64,
    took: Duration,
    /// Core-seconds the machine was busy meanwhile.
    cpu: Duration,
}

/// Core-seconds the machine has been busy since it started, every process counted.
fn busy() -> Result<Duration> {
    use procfs::CurrentSI;
    let t = procfs::KernelStats::current()?.total;
    let ms = t.user_ms()
        + t.nice_ms()
        + t.system_ms()
        + t.irq_ms().unwrap_or(0)
        + t.softirq_ms().unwrap_or(0)
        + t.steal_ms().unwrap_or(0);
    Ok(Duration::from_millis(ms))
}

/// When a pass started, in wall time and in machine CPU time.
struct Clock {
    started: Instant,
    busy: Duration,
}

impl Clock {
    fn start() -> Result<Clock> {
        Ok(Clock {
            started: Instant::now(),
            busy: busy()?,
        })
    }

    /// The pass that ends now, having seen `blocks` and `events`.
    fn pass(self, blocks: u64, events: u64) -> Result<Pass> {
        let took = self.started.elapsed();
        Ok(Pass {
            blocks,
            events,
            took,
            cpu: busy()? - self.busy,
        })
    }
}

impl Pass {
    fn per_second(&self, n: u64) -> f64 {
        n as f64 / self.took.as_secs_f64().max(1e-9)
    }
}

fn watched(d: &DeployedChain) -> Result<Watched> {
    let (consent, records) = d.deployment.accounts().map_err(anyhow::Error::msg)?;
    let (consent_code, records_code) = d.deployment.code_hashes().map_err(anyhow::Error::msg)?;
    Ok(Watched {
        consent_registry: consent.0,
        record_registry: records.0,
        consent_code_hash: consent_code,
        record_code_hash: records_code,
        start_block: d.deployment.block_number,
    })
}

/// A source connected to the node at `url`, outside the clock: connecting fetches the
/// chain's metadata, which neither pass is about. It also learns the finalized head, as the
/// indexer does before it reads (the source asks for block hashes only up to it).
async fn connected(url: &str) -> Result<SubxtSource> {
    let source = SubxtSource::new(url);
    source.genesis_hash().await?;
    source.finalized_head().await?;
    Ok(source)
}

/// Blocks `w.start_block..=head` as `source` reads them, with the indexer's concurrency, in
/// order.
fn blocks_of(
    source: Arc<SubxtSource>,
    w: &Watched,
    head: u64,
) -> impl futures::Stream<Item = Result<RawBlock, SourceError>> {
    let concurrency = IndexerConfig::new(w.clone()).concurrency;
    stream::iter(w.start_block..=head)
        .map(move |n| {
            let source = source.clone();
            async move { source.block(n).await }
        })
        .buffered(concurrency)
}

/// A chain's blocks from the deployment on, fetched once and served from memory.
#[derive(Clone)]
struct Recorded {
    genesis: [u8; 32],
    first: u64,
    blocks: Arc<Vec<RawBlock>>,
}

impl Recorded {
    /// Fetches blocks `w.start_block..=head`, as the indexer would.
    async fn fetch(url: &str, w: &Watched, head: u64) -> Result<Recorded> {
        anyhow::ensure!(
            head >= w.start_block,
            "no block after the deployment to record"
        );
        let source = Arc::new(connected(url).await?);
        let blocks = blocks_of(source.clone(), w, head).try_collect().await?;
        Ok(Recorded {
            genesis: source.genesis_hash().await?,
            first: w.start_block,
            blocks: Arc::new(blocks),
        })
    }

    /// Block `number`, if it was recorded.
    fn get(&self, number: u64) -> Option<&RawBlock> {
        let i = usize::try_from(number.checked_sub(self.first)?).ok()?;
        self.blocks.get(i)
    }
}

#[async_trait::async_trait]
impl BlockSource for Recorded {
    async fn genesis_hash(&self) -> Result<[u8; 32], SourceError> {
        Ok(self.genesis)
    }

    async fn finalized_head(&self) -> Result<u64, SourceError> {
        Ok(self.first + self.blocks.len() as u64 - 1)
    }

    async fn block_hash(&self, number: u64) -> Result<Option<[u8; 32]>, SourceError> {
        Ok(self.get(number).map(|b| b.hash))
    }

    async fn block(&self, number: u64) -> Result<RawBlock, SourceError> {
        self.get(number).cloned().ok_or(SourceError::Node {
            action: "serve a recorded block",
            reason: format!("#{number} was not recorded"),
        })
    }

    async fn finalized_heads(&self) -> Result<Heads, SourceError> {
        Ok(Box::pin(stream::pending()))
    }
}

/// Fetches every block like the indexer does, and nothing else.
async fn ceiling(url: &str, w: &Watched, head: u64) -> Result<Pass> {
    let source = Arc::new(connected(url).await?);
    let clock = Clock::start()?;
    let mut blocks = std::pin::pin!(blocks_of(source, w, head));
    let (mut count, mut events) = (0, 0);
    while let Some(block) = blocks.next().await {
        let block = block?;
        count += 1;
        events += block
            .contract_events
            .iter()
            .filter(|e| e.contract == w.consent_registry || e.contract == w.record_registry)
            .count() as u64;
    }
    clock.pass(count, events)
}

/// A backfill from `source`, deployment block to `head`, into the store at `db`.
async fn backfill(source: impl BlockSource, w: &Watched, db: &str, head: u64) -> Result<Pass> {
    let store: Arc<dyn Store> = Arc::new(SqlStore::open(db).await?);
    let indexer = Indexer::new(source, store.clone(), IndexerConfig::new(w.clone()));
    let stats = indexer.stats();
    let clock = Clock::start()?;
    indexer.check().await?;
    let reached = indexer.catch_up().await?;
    let pass = clock.pass(
        stats.blocks.load(std::sync::atomic::Ordering::Relaxed),
        stats.events.load(std::sync::atomic::Ordering::Relaxed),
    )?;
    anyhow::ensure!(
        reached >= Some(head),
        "the backfill stopped at {reached:?}, not #{head}"
    );
    Ok(pass)
}

/// The pass of median duration.
fn median(mut passes: Vec<Pass>) -> Result<Pass> {
    passes.sort_by_key(|p| p.took);
    let middle = passes.len() / 2;
    passes
        .into_iter()
        .nth(middle)
        .ok_or_else(|| anyhow::anyhow!("no pass ran"))
}

async fn measure(
    label: &str,
    d: &DeployedChain,
    head: u64,
    pg: &Postgres,
    rounds: usize,
    cores: usize,
) -> Result<()> {
    let w = watched(d)?;
    let url = d.node.url();
    // A first read warms the node's caches, and is kept for the writing-only passes.
    let recorded = Recorded::fetch(url, &w, head).await?;
    let (mut ceilings, mut sqlites, mut postgreses) = (Vec::new(), Vec::new(), Vec::new());
    let (mut sqlites_alone, mut postgreses_alone) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ceilings.push(ceiling(url, &w, head).await?);
        let dir = tempfile::tempdir()?;
        let sqlite = |n| format!("sqlite:{}", dir.path().join(format!("{n}.db")).display());
        sqlites.push(backfill(connected(url).await?, &w, &sqlite("chain"), head).await?);
        postgreses.push(backfill(connected(url).await?, &w, &pg.fresh_database()?, head).await?);
        sqlites_alone.push(backfill(recorded.clone(), &w, &sqlite("recorded"), head).await?);
        postgreses_alone.push(backfill(recorded.clone(), &w, &pg.fresh_database()?, head).await?);
    }
    let (ceiling, sqlite, postgres) = (median(ceilings)?, median(sqlites)?, median(postgreses)?);
    let (sqlite_alone, postgres_alone) = (median(sqlites_alone)?, median(postgreses_alone)?);
    println!(
        "\n{label}: blocks #{}..=#{head} ({} blocks, {} contract events)",
        w.start_block, ceiling.blocks, ceiling.events
    );
    println!(
        "  {:<28} {:>9} {:>10} {:>11} {:>11} {:>8}",
        "", "seconds", "blocks/s", "events/s", "of ceiling", "CPU s"
    );
    // Writing only fetches nothing: it has no share of a fetching ceiling.
    for (name, pass, fetches) in [
        ("fetch only (ceiling)", &ceiling, true),
        ("backfill into SQLite", &sqlite, true),
        ("backfill into PostgreSQL", &postgres, true),
        ("writing only, SQLite", &sqlite_alone, false),
        ("writing only, PostgreSQL", &postgres_alone, false),
    ] {
        anyhow::ensure!(
            pass.events == ceiling.events,
            "{name} saw {} events, the chain has {}",
            pass.events,
            ceiling.events
        );
        let share = if fetches {
            let share = 100.0 * ceiling.took.as_secs_f64() / pass.took.as_secs_f64().max(1e-9);
            format!("{share:.0}%")
        } else {
            "–".to_string()
        };
        println!(
            "  {name:<28} {:>9.2} {:>10.0} {:>11.0} {share:>11} {:>8.2}",
            pass.took.as_secs_f64(),
            pass.per_second(pass.blocks),
            pass.per_second(pass.events),
            pass.cpu.as_secs_f64()
        );
    }
    // What 80 % needs at best: the backfill done within ceiling / 0.8, the cores busy for at
    // most that long, fetching taking what it took in the ceiling pass.
    let within = ceiling.took.as_secs_f64() / 0.8;
    let in_all = cores as f64 * within;
    let fetching = ceiling.cpu.as_secs_f64();
    println!(
        "  80 % of the ceiling needs the backfill done within {within:.2} s: on {cores} cores at \
         most {in_all:.2} core-s, of which fetching takes {fetching:.2}, leaving {:.2} for \
         decoding, preparing and writing",
        (in_all - fetching).max(0.0)
    );
    println!(
        "  writing only took {:.2} s and {:.2} core-s into SQLite, {:.2} s and {:.2} core-s into \
         PostgreSQL",
        sqlite_alone.took.as_secs_f64(),
        sqlite_alone.cpu.as_secs_f64(),
        postgres_alone.took.as_secs_f64(),
        postgres_alone.cpu.as_secs_f64(),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let dense_txs = medledger_e2e::env_or("BENCH_DENSE_TXS", 500)?;
    let per_tx = medledger_e2e::env_or("BENCH_GRANTS_PER_TX", 200)?;
    let sparse_blocks = medledger_e2e::env_or("BENCH_SPARSE_BLOCKS", 2_000)?;
    let rounds = medledger_e2e::env_or("BENCH_ROUNDS", 5)?.max(1);
    let pg = Postgres::start()?;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!("{cores} cores; CPU s: core-seconds the machine was busy during the pass");

    println!("seeding the dense chain: {dense_txs} transactions of {per_tx} grants ...");
    let dense = deployed_chain(None).await?;
    let started = Instant::now();
    seed_grants(&dense.chain, &dense.deployment, dense_txs, per_tx).await?;
    let head = medledger_e2e::seed::settled_head(&dense.chain).await?;
    println!("  seeded in {:.0} s", started.elapsed().as_secs_f64());
    measure("dense chain", &dense, head, &pg, rounds, cores).await?;
    drop(dense);

    println!("\nseeding the sparse chain: {sparse_blocks} blocks of remarks, grants every 500 ...");
    let sparse = deployed_chain(None).await?;
    let started = Instant::now();
    let mut head = 0;
    for _ in 0..sparse_blocks.div_ceil(500) {
        seed_grants(&sparse.chain, &sparse.deployment, 4, 50).await?;
        head = seed_empty_blocks(&sparse.chain, 500).await?;
    }
    println!("  seeded in {:.0} s", started.elapsed().as_secs_f64());
    measure("sparse chain", &sparse, head, &pg, rounds, cores).await?;
    Ok(())
}
