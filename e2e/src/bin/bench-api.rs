//! `cargo xtask bench api`: how fast the GraphQL API answers over a large read model.
//!
//! Seeds a fresh SQLite file and a fresh database of a throwaway PostgreSQL straight through
//! the store (no chain): 1,000,000 consents and 10,000,000 events in all (per patient: ten
//! grants, one anchored record, the rest accesses), then serves each with the API on
//! loopback and loads it from a second process, Debian's `wrk` (`e2e/bench/graphql.lua` picks
//! a random request of 10,000 prepared ones), printing p50/p99 latency and requests/s for
//! `authorization`, `verifyCommitment` and `consents(first: 50)`; and the time from a commit
//! to the push of its event to a subscriber over WebSocket.
//!
//! Smaller runs: `BENCH_PATIENTS` (default 100,000; ten consents and a hundred events each),
//! `BENCH_SECONDS` (load per query, default 10), `BENCH_CONNECTIONS` (default 8: enough
//! requests in flight to keep both cores busy; more only wait in the queue).

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use medledger_graphql::HttpOptions;
use medledger_pg_runner::Postgres;
use medledger_store::{
    AccountId, Backend, BlockChanges, ChainEvent, Hash32, IndexedEvent, SqlStore, Store,
};
use serde_json::{Value, json};

/// The allocator of the `medledger` binary, whose API this process serves.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const GRANTEES: usize = 10;
const EVENTS_PER_PATIENT: usize = 100;
const PATIENTS_PER_BLOCK: usize = 200;
const BODIES: usize = 10_000;

fn patient(i: usize) -> AccountId {
    let mut a = [0u8; 32];
    a[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    a[31] = 0xaa;
    AccountId(a)
}

fn org(i: usize) -> AccountId {
    AccountId([0x10 + i as u8; 32])
}

fn commitment_of(i: usize) -> Hash32 {
    let mut h = [0u8; 32];
    h[..8].copy_from_slice(&(i as u64).to_be_bytes());
    h[31] = 0xcc;
    Hash32(h)
}

/// A block's time: block `n` is `n` seconds after 2026-01-01.
fn time_of(n: u64) -> u64 {
    1_767_225_600_000 + n * 1_000
}

fn block(number: u64, events: Vec<ChainEvent>) -> BlockChanges {
    BlockChanges {
        number,
        hash: Hash32([(number % 251) as u8; 32]),
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

/// Patient `p`'s hundred events: ten grants, a record, accesses.
fn events_of(p: usize) -> Vec<ChainEvent> {
    let patient = patient(p);
    let mut events = Vec::with_capacity(EVENTS_PER_PATIENT);
    for g in 0..GRANTEES {
        events.push(ChainEvent::ConsentGranted {
            patient,
            grantee: org(g),
            categories: 0b11_1111,
            purposes: 0b11,
            access: 1,
            valid_from: 0,
            expires_at: (g % 2 == 1).then_some(time_of(1_000_000)),
            terms_hash: Hash32([7; 32]),
            version: 1,
            by: patient,
        });
    }
    events.push(ChainEvent::RecordAnchored {
        patient,
        custodian: org(0),
        commitment: commitment_of(p),
        record_id: commitment_of(p),
        category_commitment: Hash32([0xdd; 32]),
        version: 1,
    });
    while events.len() < EVENTS_PER_PATIENT {
        events.push(ChainEvent::AccessRecorded {
            patient,
            accessor: org(events.len() % GRANTEES),
            record: None,
            categories: 1 << 4,
            purpose: "Treatment",
            emergency: false,
        });
    }
    events
}

/// Fills `store`; returns the last block.
async fn seed(store: &SqlStore, patients: usize) -> Result<u64> {
    let orgs: Vec<ChainEvent> = (0..GRANTEES)
        .map(|g| ChainEvent::OrgRegistered {
            org: org(g),
            role: "Provider",
            flags: 1,
            profile: None,
        })
        .collect();
    store.apply_block(&block(1, orgs)).await?;
    let started = Instant::now();
    let mut number = 1;
    for first in (0..patients).step_by(PATIENTS_PER_BLOCK) {
        number += 1;
        let events = (first..(first + PATIENTS_PER_BLOCK).min(patients))
            .flat_map(events_of)
            .collect();
        store.apply_block(&block(number, events)).await?;
        if number % 50 == 0 {
            print!(
                "\r  {} of {patients} patients, {:.0} s",
                first + PATIENTS_PER_BLOCK,
                started.elapsed().as_secs_f64()
            );
            std::io::stdout().flush()?;
        }
    }
    store.set_finalized_head(number).await?;
    println!(
        "\r  {patients} patients, {} consents, {} events in {:.0} s",
        patients * GRANTEES,
        patients * EVENTS_PER_PATIENT + GRANTEES,
        started.elapsed().as_secs_f64()
    );
    Ok(number)
}

/// One query's request bodies: its document, as an app sends it, with the variables of random
/// patients and grantees.
fn bodies(
    name: &str,
    patients: usize,
    document: &str,
    variables: impl Fn(usize, usize) -> Value,
) -> Vec<String> {
    spread(
        name,
        patients,
        |p, g| json!({ "query": document, "variables": variables(p, g) }),
    )
}

/// `BODIES` request bodies made by `body` for a spread of patients and grantees, the same
/// every run.
fn spread(name: &str, patients: usize, body: impl Fn(usize, usize) -> Value) -> Vec<String> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64 ^ name.len() as u64;
    (0..BODIES)
        .map(|_| {
            // xorshift
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let p = (state % patients as u64) as usize;
            let g = ((state >> 32) % GRANTEES as u64) as usize;
            body(p, g).to_string()
        })
        .collect()
}

/// A CDS Hooks consent consult as an enforcement point built for LEAP sends it.
fn consult(p: usize, g: usize) -> Value {
    json!({
        "hook": "patient-consent-consult",
        "hookInstance": format!("bench-{p}-{g}"),
        "context": {
            "patientId": [{"system": "urn:medledger:account", "value": patient(p).to_string()}],
            "actor": [{"system": "urn:medledger:account", "value": org(g).to_string()}],
            "purposeOfUse": ["TREAT"],
            "class": [{"system": "http://hl7.org/fhir/resource-types", "code": "Observation"}],
        },
    })
}

/// What wrk measured.
struct Load {
    p50_ms: f64,
    p99_ms: f64,
    per_second: f64,
}

fn millis(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Some(v) = s.strip_suffix("us") {
        v.parse::<f64>().ok().map(|v| v / 1000.0)
    } else if let Some(v) = s.strip_suffix("ms") {
        v.parse().ok()
    } else if let Some(v) = s.strip_suffix('s') {
        v.parse::<f64>().ok().map(|v| v * 1000.0)
    } else {
        None
    }
}

fn wrk(url: &str, bodies_file: &Path, seconds: usize, connections: usize) -> Result<Load> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/graphql.lua");
    let out = Command::new("wrk")
        .args(["-t1", "--latency"])
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        .arg("-s")
        .arg(&script)
        .arg(url)
        .env("BENCH_BODIES", bodies_file)
        .output()
        .context("cannot run wrk (Debian's `wrk`; run `cargo xtask setup`)")?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    ensure!(
        out.status.success(),
        "wrk failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ensure!(
        !text.contains("Non-2xx"),
        "some requests were not answered 200: {text}"
    );
    let percentile = |p: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(p))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(millis)
    };
    let per_second = text
        .lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok());
    match (percentile("50%"), percentile("99%"), per_second) {
        (Some(p50_ms), Some(p99_ms), Some(per_second)) => Ok(Load {
            p50_ms,
            p99_ms,
            per_second,
        }),
        _ => bail!("cannot read wrk's report: {text}"),
    }
}

/// Commit-to-push: a subscriber's wait for each of `n` commits' events, in ms, sorted.
async fn push_latency(
    store: &SqlStore,
    graphql_url: &str,
    mut next_block: u64,
    n: usize,
) -> Result<Vec<f64>> {
    let watched = patient(0);
    let mut sub = medledger_e2e::subscribe(
        graphql_url,
        &format!(r#"subscription {{ patientActivity(patient: "{watched}") {{ block }} }}"#),
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut waits = Vec::with_capacity(n);
    for _ in 0..n {
        next_block += 1;
        let denied = ChainEvent::AccessDenied {
            patient: watched,
            accessor: org(1),
            record: None,
            categories: 1 << 9,
            purpose: "Research",
        };
        let committed = Instant::now();
        store.apply_block(&block(next_block, vec![denied])).await?;
        let data = sub.next(Duration::from_secs(5)).await?;
        waits.push(committed.elapsed().as_secs_f64() * 1000.0);
        ensure!(
            data["patientActivity"]["block"] == next_block,
            "pushed {data}, committed block {next_block}"
        );
    }
    waits.sort_by(f64::total_cmp);
    Ok(waits)
}

async fn measure(
    label: &str,
    url: &str,
    patients: usize,
    seconds: usize,
    connections: usize,
) -> Result<()> {
    println!("\n{label}: seeding ...");
    let store = SqlStore::open(url).await?;
    let last = seed(&store, patients).await?;
    if store.backend() == Backend::Postgres {
        // As autovacuum leaves a database some time after a bulk load.
        store.analyze().await?;
    }
    let shared: Arc<dyn Store> = Arc::new(store.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}/graphql", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(medledger_graphql::serve(
        listener,
        shared,
        HttpOptions::default(),
        async {
            let _ = stopped.await;
        },
    ));
    let dir = tempfile::tempdir()?;
    let consults = endpoint.replace("/graphql", "/cds-services/patient-consent-consult");
    let queries: [(&str, Vec<String>); 4] = [
        (
            "authorization",
            bodies(
                "authorization",
                patients,
                "query Authorization($patient: AccountId!, $grantee: AccountId!) {
                   authorization(patient: $patient, grantee: $grantee, category: LAB_RESULTS,
                                 purpose: TREATMENT, access: READ) { allowed reason } }",
                |p, g| json!({ "patient": patient(p).to_string(), "grantee": org(g).to_string() }),
            ),
        ),
        (
            "verifyCommitment",
            bodies(
                "verifyCommitment",
                patients,
                "query Verify($commitment: Hash!) {
                   verifyCommitment(commitment: $commitment) { recordId version current custodian } }",
                |p, _| json!({ "commitment": commitment_of(p).to_string() }),
            ),
        ),
        (
            "consents(first: 50)",
            bodies(
                "consents",
                patients,
                "query Consents($patient: AccountId!) {
                   consents(patient: $patient, first: 50) { totalCount nodes { grantee status version } } }",
                |p, _| json!({ "patient": patient(p).to_string() }),
            ),
        ),
        ("CDS consent consult", spread("cds", patients, consult)),
    ];
    println!(
        "  {:<22} {:>9} {:>9} {:>12}",
        "", "p50 ms", "p99 ms", "requests/s"
    );
    let http = reqwest::Client::new();
    for (name, bodies) in &queries {
        let url = if name.starts_with("CDS") {
            &consults
        } else {
            &endpoint
        };
        // Every request answers without errors (checked on a few) before it is timed.
        for body in bodies.iter().take(20) {
            let answer: Value = http
                .post(url)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await?
                .json()
                .await?;
            ensure!(answer["errors"] == Value::Null, "{name}: {answer}");
            ensure!(
                !url.ends_with("consult") || answer["cards"][0]["summary"].is_string(),
                "{name}: {answer}"
            );
        }
        let file = dir.path().join(format!(
            "{}.bodies",
            name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        ));
        std::fs::write(&file, bodies.join("\n"))?;
        let load = tokio::task::spawn_blocking({
            let url = url.clone();
            move || wrk(&url, &file, seconds, connections)
        })
        .await??;
        println!(
            "  {name:<22} {:>9.2} {:>9.2} {:>12.0}",
            load.p50_ms, load.p99_ms, load.per_second
        );
    }
    let waits = push_latency(&store, &endpoint, last, 100).await?;
    let at = |q: f64| waits[((waits.len() - 1) as f64 * q).round() as usize];
    println!(
        "  {:<22} {:>9.2} {:>9.2}   (commit to push over WebSocket, {} commits)",
        "subscription push",
        at(0.5),
        at(0.99),
        waits.len()
    );
    let _ = stop.send(());
    server.await??;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let patients = medledger_e2e::env_or("BENCH_PATIENTS", 100_000)?;
    let seconds = medledger_e2e::env_or("BENCH_SECONDS", 10)?;
    let connections = medledger_e2e::env_or("BENCH_CONNECTIONS", 8)?;
    ensure!(patients > 0, "BENCH_PATIENTS must be at least 1");
    let dir = tempfile::tempdir()?;
    let sqlite = format!("sqlite:{}", dir.path().join("bench-api.db").display());
    measure("SQLite", &sqlite, patients, seconds, connections).await?;
    let pg = Postgres::start()?;
    measure(
        "PostgreSQL",
        &pg.fresh_database()?,
        patients,
        seconds,
        connections,
    )
    .await?;
    Ok(())
}
