//! `medledger index` against a real dev node, under failure: killed with SIGKILL at random
//! moments of a backfill, the node restarted under it, its database pointed at a fresh
//! chain, and `medledger dev` losing its indexer. Each test starts its own node (and
//! PostgreSQL), and compares databases row by row with `SqlStore::dump`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use medledger_deploy::devnode::DevNode;
use medledger_e2e::seed::{DeployedChain, deployed_chain, seed_grants, settled_head};
use medledger_pg_runner::Postgres;
use medledger_store::{SqlStore, Store};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_medledger");

/// Table rows of a database, for comparing two of them.
type Dump = Vec<(String, Vec<String>)>;

/// A running `medledger index`, with the base URL of its metrics server.
struct Indexing {
    child: Child,
    base: String,
}

/// Starts `medledger index` on `db`, its log in `log`, with its metrics on a free port; returns
/// once it is up (it printed where its metrics are), so that signals find it listening.
async fn index(deployment: &Path, db: &str, log: &Path, extra: &[&str]) -> Indexing {
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    let mut child = Command::new(BIN)
        .args(["index", "--deployment"])
        .arg(deployment)
        .args(["--db", db, "--metrics-listen", "127.0.0.1:0"])
        .args(extra)
        .env("RUST_LOG", "info")
        .env_remove("MEDLEDGER_NODE_URL")
        .env_remove("MEDLEDGER_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file))
        .kill_on_drop(true)
        .spawn()
        .expect("start medledger index");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the indexer starts within 30 s")
        .expect("read stdout")
        .unwrap_or_else(|| panic!("the indexer ended at once; its log:\n{}", log_tail(log)));
    let base = line
        .strip_prefix("metrics: ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .trim_end_matches("/metrics")
        .to_string();
    Indexing { child, base }
}

async fn cursor(db: &str) -> Option<u64> {
    let store = SqlStore::open(db).await.expect("open the database");
    store.cursor().await.expect("cursor").map(|c| c.number)
}

async fn dump(db: &str) -> Dump {
    SqlStore::open(db)
        .await
        .expect("open the database")
        .dump()
        .await
        .expect("dump")
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<_> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Waits until the database's cursor reaches `block`; fails with the indexer's log when it
/// does not, or when `indexer` exits first.
async fn wait_for_cursor(
    db: &str,
    block: u64,
    timeout: Duration,
    log: &Path,
    mut indexer: Option<&mut Child>,
) {
    let started = Instant::now();
    while cursor(db).await.is_none_or(|c| c < block) {
        if let Some(status) = indexer.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
            panic!(
                "the indexer exited ({status}) before block #{block}; its log:\n{}",
                log_tail(log)
            );
        }
        assert!(
            started.elapsed() < timeout,
            "the indexer did not reach block #{block} within {timeout:?}; its log:\n{}",
            log_tail(log)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Stops an indexer as a service manager does (SIGTERM) and checks that it exits cleanly.
async fn stop(mut child: Child) {
    let pid = child.id().expect("running").to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill");
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("the indexer stops within 5 s")
        .expect("wait");
    assert!(exit.success(), "{exit}");
}

/// One database filled by an uninterrupted run; returns its rows and how long the backfill
/// took (from the moment the indexer was up).
async fn uninterrupted(deployment: &Path, db: &str, last: u64, log: &Path) -> (Dump, Duration) {
    let mut run = index(
        deployment,
        db,
        log,
        &["--batch-blocks", "2", "--concurrency", "2"],
    )
    .await;
    let started = Instant::now();
    wait_for_cursor(
        db,
        last,
        Duration::from_secs(120),
        log,
        Some(&mut run.child),
    )
    .await;
    let took = started.elapsed();
    stop(run.child).await;
    (dump(db).await, took)
}

/// Kills `medledger index` with SIGKILL at random moments of its backfill and restarts it on
/// the same database, until at least `kills` kills hit an unfinished backfill (on a fresh
/// database when one got finished first); each database must end equal to `reference`,
/// which an uninterrupted run filled in `took`.
async fn kill_9_until(
    deployment: &Path,
    fresh_db: &mut dyn FnMut() -> String,
    reference: &Dump,
    took: Duration,
    last: u64,
    kills: usize,
    log: &Path,
) {
    // Each run lives a random time of up to twice its share of the backfill: about `kills`
    // runs per database.
    let longest = (2 * took.as_millis() as u64 / kills as u64).max(10);
    let (mut hit, mut databases, mut attempts) = (0, 0, 0);
    while hit < kills {
        let db = fresh_db();
        databases += 1;
        while hit < kills {
            attempts += 1;
            assert!(
                attempts < kills * 5,
                "only {hit} of {attempts} kills hit a backfill"
            );
            let mut run = index(
                deployment,
                &db,
                log,
                &["--batch-blocks", "2", "--concurrency", "2"],
            )
            .await;
            let delay = Duration::from_millis(rand::random_range(0..longest));
            tokio::time::sleep(delay).await;
            run.child.start_kill().expect("kill -9");
            let _ = run.child.wait().await;
            if cursor(&db).await.is_some_and(|c| c >= last) {
                break;
            }
            hit += 1;
        }
        // A last, uninterrupted run finishes the database: it must equal the reference.
        let (rows, _) = uninterrupted(deployment, &db, last, log).await;
        assert!(
            rows == *reference,
            "after kills, database {databases} differs from the uninterrupted run's:\n{}",
            differences(&rows, reference)
        );
    }
    eprintln!(
        "{hit} kills mid-backfill over {databases} databases, {attempts} kills in all \
         (runs lived up to {longest} ms; the backfill takes {took:?})"
    );
}

/// Where two dumps differ: per table, the row counts and the first row that differs.
fn differences(a: &Dump, b: &Dump) -> String {
    a.iter()
        .zip(b)
        .filter(|(x, y)| x != y)
        .map(|((table, x), (_, y))| {
            let first = x.iter().zip(y).find(|(r, s)| r != s);
            format!(
                "{table}: {} vs {} rows, first difference {first:?}",
                x.len(),
                y.len()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The rows every seeded grant leaves in the consent history.
fn history_rows(rows: &Dump) -> usize {
    rows.iter()
        .find(|(table, _)| table == "consent_history")
        .map_or(0, |(_, r)| r.len())
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_at_random_moments_of_a_backfill_loses_and_duplicates_nothing() {
    // given: a chain with 10,000 contract events after the deployment
    let dir = tempfile::tempdir().expect("dir");
    let deployment = dir.path().join("deployment.json");
    let log = dir.path().join("index.log");
    let DeployedChain {
        node: _node,
        chain,
        deployment: deployed,
    } = deployed_chain(Some(&deployment)).await.expect("dev chain");
    let seeded = seed_grants(&chain, &deployed, 50, 200).await.expect("seed");
    assert_eq!(seeded.events, 10_000);
    let last = settled_head(&chain).await.expect("settled head");

    // SQLite: the reference is an uninterrupted run; then at least 20 kills mid-backfill
    let sqlite = |n: usize| format!("sqlite:{}", dir.path().join(format!("{n}.db")).display());
    let (reference, took) = uninterrupted(&deployment, &sqlite(0), last, &log).await;
    assert!(
        history_rows(&reference) >= 10_000,
        "every grant is in the consent history"
    );
    let mut n = 0;
    let mut fresh_sqlite = || {
        n += 1;
        sqlite(n)
    };
    kill_9_until(
        &deployment,
        &mut fresh_sqlite,
        &reference,
        took,
        last,
        20,
        &log,
    )
    .await;

    // PostgreSQL: the same, on a throwaway cluster
    let pg = Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    let pg_reference_db = pg.fresh_database().expect("database");
    let (pg_reference, took) = uninterrupted(&deployment, &pg_reference_db, last, &log).await;
    assert!(
        pg_reference == reference,
        "PostgreSQL and SQLite mirror different rows:\n{}",
        differences(&pg_reference, &reference)
    );
    let mut fresh_pg = || pg.fresh_database().expect("database");
    kill_9_until(
        &deployment,
        &mut fresh_pg,
        &pg_reference,
        took,
        last,
        20,
        &log,
    )
    .await;
}

/// GETs `url`: the status code and the body.
async fn get(url: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "5", "-w", "\n%{http_code}", url])
        .output()
        .await
        .expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

/// The value of one metric line `name value`.
fn metric(body: &str, name: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// Polls `check` every 100 ms until it holds, for up to `timeout`.
async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> F,
) {
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < timeout,
            "{what}: not within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_node_restarted_under_the_indexer_nothing_is_missed_and_health_says_so() {
    // given: an indexer with metrics, caught up with a seeded chain whose node keeps its
    // database on disk
    let dir = tempfile::tempdir().expect("dir");
    let deployment = dir.path().join("deployment.json");
    let log = dir.path().join("index.log");
    let DeployedChain {
        mut node,
        chain,
        deployment: deployed,
    } = deployed_chain(Some(&deployment)).await.expect("dev chain");
    let first = seed_grants(&chain, &deployed, 8, 50).await.expect("seed");
    let db = format!("sqlite:{}", dir.path().join("restarted.db").display());
    let Indexing { mut child, base } = index(&deployment, &db, &log, &["--stall-secs", "2"]).await;
    wait_for_cursor(
        &db,
        first.last_block,
        Duration::from_secs(60),
        &log,
        Some(&mut child),
    )
    .await;
    let (code, health) = get(&format!("{base}/healthz")).await;
    assert_eq!(code, 200, "{health}");
    let (_, metrics) = get(&format!("{base}/metrics")).await;
    let indexed = metric(&metrics, "medledger_indexer_indexed_block").unwrap_or(0.0);
    assert!(indexed >= first.last_block as f64, "{metrics}");
    assert_eq!(
        metric(&metrics, "medledger_indexer_finalized_head"),
        Some(indexed),
        "{metrics}"
    );
    assert_eq!(metric(&metrics, "medledger_indexer_lag_blocks"), Some(0.0));
    // the seeded grants, and the two registrations of the deployment
    assert_eq!(
        metric(&metrics, "medledger_indexer_events_total"),
        Some(first.events as f64 + 2.0),
        "{metrics}"
    );
    assert_eq!(metric(&metrics, "medledger_indexer_healthy"), Some(1.0));

    // when: the node goes down for longer than the stall time
    node.kill().await;
    eventually(
        "/healthz turns unhealthy",
        Duration::from_secs(30),
        || async {
            let (code, body) = get(&format!("{base}/healthz")).await;
            code == 503 && body.starts_with("stuck: retrying")
        },
    )
    .await;
    let (_, metrics) = get(&format!("{base}/metrics")).await;
    assert!(
        metric(&metrics, "medledger_indexer_errors_total") >= Some(1.0),
        "{metrics}"
    );
    assert_eq!(metric(&metrics, "medledger_indexer_healthy"), Some(0.0));

    // then: started again on its database, with new events after the restart, the
    // indexer catches up and turns healthy
    node.start_again().await.expect("restart the node");
    let chain = medledger_client::Chain::connect(node.url())
        .await
        .expect("reconnect");
    let second = seed_grants(&chain, &deployed, 8, 50).await.expect("seed");
    let last = settled_head(&chain).await.expect("settled head");
    assert!(last >= second.last_block);
    wait_for_cursor(&db, last, Duration::from_secs(60), &log, Some(&mut child)).await;
    eventually(
        "/healthz turns healthy",
        Duration::from_secs(10),
        || async { get(&format!("{base}/healthz")).await.0 == 200 },
    )
    .await;
    stop(child).await;

    // and nothing was missed: the database equals one filled in one go
    let fresh = format!("sqlite:{}", dir.path().join("fresh.db").display());
    let (reference, _) = uninterrupted(&deployment, &fresh, last, &log).await;
    let rows = dump(&db).await;
    assert!(
        rows == reference,
        "the restarted run missed or repeated rows:\n{}",
        differences(&rows, &reference)
    );
    assert!(history_rows(&rows) >= 800);
}

/// Runs `medledger dev` against `node_url`; returns it with its GraphQL URL.
async fn dev(dir: &Path, node_url: &str) -> (Child, String) {
    let contracts = concat!(env!("CARGO_MANIFEST_DIR"), "/../artifacts/contracts");
    let mut child = Command::new(BIN)
        .args(["dev", "--contracts", contracts, "--listen", "127.0.0.1:0"])
        .args(["--node-url", node_url])
        .arg("--db")
        .arg(dir.join("dev.db"))
        .arg("--deployment")
        .arg(dir.join("dev.json"))
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start medledger dev");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(120), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(url) = line.strip_prefix("GraphQL API: ") {
                return url.to_string();
            }
        }
        panic!("medledger dev ended without printing its API URL");
    })
    .await
    .expect("medledger dev starts within 120 s");
    // Keep draining stdout so that dev never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

fn deployment_path(dir: &Path) -> PathBuf {
    dir.join("dev.json")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dev_chain_started_afresh_under_the_indexer_is_refused_and_dev_says_so() {
    // given: `medledger dev` on a node the test runs
    let dir = tempfile::tempdir().expect("dir");
    let mut old = DevNode::start().await.expect("node");
    let (mut dev, _url) = dev(dir.path(), old.url()).await;
    let db = format!("sqlite:{}", dir.path().join("dev.db").display());
    let head = |url: String| async move {
        medledger_client::Chain::connect(&url)
            .await
            .expect("connect")
            .api()
            .at_current_block()
            .await
            .expect("head")
            .block_number()
    };
    let indexed = head(old.url().to_string()).await;
    let log = dir.path().join("dev.log");
    wait_for_cursor(&db, indexed, Duration::from_secs(60), &log, Some(&mut dev)).await;

    // when: the node is replaced by a fresh dev chain on the same port, which grows past
    // the block dev had indexed
    old.kill().await;
    let port: u16 = old
        .url()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    let fresh = DevNode::start_on(port).await.expect("fresh node");
    let chain = medledger_client::Chain::connect(fresh.url())
        .await
        .expect("connect");
    let registrar = medledger_client::signer_from_suri("//Alice").expect("alice");
    let deployed = medledger_deploy::deploy(
        &chain,
        &registrar,
        &medledger_e2e::contracts_dir(),
        "other",
        None,
    )
    .await
    .expect("deploy on the fresh chain");
    let (consent_registry, _) = deployed.accounts().expect("addresses");
    let mut n = 0;
    while head(fresh.url().to_string()).await <= indexed {
        n += 1;
        let org = medledger_client::signer_from_suri(&format!("//org{n}")).expect("org");
        chain
            .submit(
                &registrar,
                &consent_registry,
                &medledger_client::consent::register_org(
                    &consent_registry,
                    &medledger_client::account_of(&org),
                    medledger_events::Role::App,
                    0,
                    medledger_e2e::walk::profile("An App", medledger_events::OrgKind::App),
                ),
            )
            .await
            .expect("register");
    }

    // then: dev's indexer stops, and dev stops with one line saying why
    let out = tokio::time::timeout(Duration::from_secs(60), dev.wait())
        .await
        .expect("dev stops within 60 s")
        .expect("wait");
    assert!(!out.success());
    let mut stderr = String::new();
    if let Some(mut err) = dev.stderr.take() {
        use tokio::io::AsyncReadExt;
        let _ = err.read_to_string(&mut stderr).await;
    }
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: the indexer stopped; so did the API:")
            && last.contains("use a fresh database"),
        "{stderr}"
    );

    // and: `medledger index` with that database on the fresh chain refuses with one line
    let out = Command::new(BIN)
        .args(["index", "--db", &db, "--node-url", fresh.url()])
        .arg("--deployment")
        .arg(deployment_path(dir.path()))
        .env("RUST_LOG", "off")
        .output()
        .await
        .expect("run medledger index");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("use a fresh database"), "{stderr}");
}
