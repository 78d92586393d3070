//! What operators see of a running indexer: Prometheus metrics and a health check over HTTP
//! (`medledger index --metrics-listen ADDR`), and a progress bar on a terminal while it
//! backfills. Everything here reads the indexer's [`Stats`]; nothing changes what it does.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use medledger_indexer::{Health, Stats};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

/// Rates are averaged over this long.
const RATE_WINDOW: Duration = Duration::from_secs(10);
/// How often rates and the progress bar are updated.
const SAMPLE_EVERY: Duration = Duration::from_millis(500);

/// Blocks and events per second over the last [`RATE_WINDOW`].
#[derive(Default)]
struct Rates {
    samples: VecDeque<(Instant, u64, u64)>,
}

impl Rates {
    /// Adds the current counters; returns (blocks/s, events/s).
    fn sample(&mut self, at: Instant, blocks: u64, events: u64) -> (f64, f64) {
        self.samples.push_back((at, blocks, events));
        while self
            .samples
            .front()
            .is_some_and(|(t, ..)| at.duration_since(*t) > RATE_WINDOW)
        {
            self.samples.pop_front();
        }
        match self.samples.front() {
            Some((t, b, e)) if at > *t => {
                let secs = at.duration_since(*t).as_secs_f64();
                (
                    blocks.saturating_sub(*b) as f64 / secs,
                    events.saturating_sub(*e) as f64 / secs,
                )
            }
            _ => (0.0, 0.0),
        }
    }
}

/// The indexer's figures as Prometheus metrics (prefix `medledger_indexer_`).
struct Metrics {
    registry: Registry,
    indexed: Gauge,
    head: Gauge,
    lag: Gauge,
    blocks: Counter,
    events: Counter,
    skipped: Counter,
    errors: Counter,
    blocks_per_second: Gauge<f64, AtomicU64>,
    events_per_second: Gauge<f64, AtomicU64>,
    healthy: Gauge,
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("medledger_indexer");
        let m = Metrics {
            indexed: Gauge::default(),
            head: Gauge::default(),
            lag: Gauge::default(),
            blocks: Counter::default(),
            events: Counter::default(),
            skipped: Counter::default(),
            errors: Counter::default(),
            blocks_per_second: Gauge::default(),
            events_per_second: Gauge::default(),
            healthy: Gauge::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register("indexed_block", "The last block indexed", m.indexed.clone());
        r.register(
            "finalized_head",
            "The latest finalized block the node announced",
            m.head.clone(),
        );
        r.register(
            "lag_blocks",
            "Finalized blocks not indexed yet",
            m.lag.clone(),
        );
        r.register("blocks", "Blocks indexed by this process", m.blocks.clone());
        r.register(
            "events",
            "Contract events indexed by this process",
            m.events.clone(),
        );
        r.register(
            "skipped_events",
            "Events of the watched contracts that did not decode (kept raw)",
            m.skipped.clone(),
        );
        r.register(
            "errors",
            "Transient failures of the node or the database, retried",
            m.errors.clone(),
        );
        r.register(
            "blocks_per_second",
            "Blocks indexed per second over the last 10 s",
            m.blocks_per_second.clone(),
        );
        r.register(
            "events_per_second",
            "Events indexed per second over the last 10 s",
            m.events_per_second.clone(),
        );
        r.register(
            "healthy",
            "1 when the indexer runs and keeps up (see /healthz), else 0",
            m.healthy.clone(),
        );
        Metrics { registry, ..m }
    }
}

/// Watches one indexer's [`Stats`] for the metrics, the health check and the progress bar.
pub struct Monitor {
    stats: Arc<Stats>,
    stall_after: Duration,
    metrics: Metrics,
    /// (blocks/s, events/s), updated by the sampler.
    rates: Mutex<(f64, f64)>,
}

fn gauge(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Monitor {
    /// Starts sampling `stats` in the background; with `progress`, draws a progress bar on
    /// stderr while the indexer backfills (only when stderr is a terminal).
    pub fn start(stats: Arc<Stats>, stall_after: Duration, progress: bool) -> Arc<Monitor> {
        let monitor = Arc::new(Monitor {
            stats,
            stall_after,
            metrics: Metrics::new(),
            rates: Mutex::new((0.0, 0.0)),
        });
        let bar = progress.then(|| backfill_bar(ProgressDrawTarget::stderr_with_hz(4)));
        tokio::spawn(sample(monitor.clone(), bar));
        monitor
    }

    fn rates(&self) -> (f64, f64) {
        self.rates.lock().map(|r| *r).unwrap_or((0.0, 0.0))
    }

    /// The health check's verdict, as the HTTP status and one line.
    fn health(&self) -> (StatusCode, String) {
        let s = &self.stats;
        match s.health(self.stall_after) {
            Health::Healthy => (
                StatusCode::OK,
                format!(
                    "healthy: indexed block #{}, {} behind the finalized head\n",
                    s.indexed.load(Ordering::Relaxed),
                    s.lag()
                ),
            ),
            Health::Stuck(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("stuck: {why}\n")),
            Health::Stopped => (
                StatusCode::SERVICE_UNAVAILABLE,
                "stopped: the indexer is not running\n".to_string(),
            ),
        }
    }

    /// The metrics in the OpenMetrics text format, as of now.
    fn render(&self) -> Result<String, std::fmt::Error> {
        let (s, m) = (&self.stats, &self.metrics);
        m.indexed.set(gauge(s.indexed.load(Ordering::Relaxed)));
        m.head.set(gauge(s.head.load(Ordering::Relaxed)));
        m.lag.set(gauge(s.lag()));
        for (counter, value) in [
            (&m.blocks, &s.blocks),
            (&m.events, &s.events),
            (&m.skipped, &s.skipped),
            (&m.errors, &s.errors),
        ] {
            counter.inc_by(value.load(Ordering::Relaxed).saturating_sub(counter.get()));
        }
        let (blocks, events) = self.rates();
        m.blocks_per_second.set(blocks);
        m.events_per_second.set(events);
        m.healthy
            .set(i64::from(s.health(self.stall_after) == Health::Healthy));
        let mut out = String::new();
        encode(&mut out, &m.registry)?;
        Ok(out)
    }
}

async fn sample(monitor: Arc<Monitor>, mut bar: Option<ProgressBar>) {
    let mut rates = Rates::default();
    let mut tick = tokio::time::interval(SAMPLE_EVERY);
    loop {
        tick.tick().await;
        let s = &monitor.stats;
        let now = rates.sample(
            Instant::now(),
            s.blocks.load(Ordering::Relaxed),
            s.events.load(Ordering::Relaxed),
        );
        if let Ok(mut r) = monitor.rates.lock() {
            *r = now;
        }
        if let Some(b) = &bar
            && show_backfill(b, s, now)
        {
            b.finish_and_clear();
            bar = None;
        }
    }
}

/// A progress bar for a backfill: blocks done of blocks to do, rates and time left.
fn backfill_bar(target: ProgressDrawTarget) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, target);
    if let Ok(style) = ProgressStyle::with_template(
        "indexing [{bar:30}] {human_pos}/{human_len} blocks, {msg}, ETA {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Moves `bar` to where the indexer stands; true once it caught up with the head it saw.
fn show_backfill(bar: &ProgressBar, s: &Stats, (blocks, events): (f64, f64)) -> bool {
    let Some(&from) = s.backfill_from.get() else {
        return false;
    };
    let head = s.head.load(Ordering::Relaxed);
    let indexed = s.indexed.load(Ordering::Relaxed);
    bar.set_length((head + 1).saturating_sub(from));
    bar.set_position((indexed + 1).saturating_sub(from));
    bar.set_message(format!("{blocks:.0} blocks/s, {events:.0} events/s"));
    indexed >= head
}

/// Serves `/metrics` and `/healthz` on `listener` until the process ends.
pub async fn serve(listener: TcpListener, monitor: Arc<Monitor>) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(monitor);
    axum::serve(listener, app).await
}

async fn metrics(State(monitor): State<Arc<Monitor>>) -> Response {
    match monitor.render() {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "encoding the metrics failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
        }
    }
}

async fn healthz(State(monitor): State<Arc<Monitor>>) -> Response {
    monitor.health().into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::InMemoryTerm;

    #[test]
    fn rates_are_per_second_over_the_window() {
        let mut r = Rates::default();
        let t0 = Instant::now();
        assert_eq!(r.sample(t0, 0, 0), (0.0, 0.0));
        let (b, e) = r.sample(t0 + Duration::from_secs(2), 100, 1_000);
        assert_eq!((b, e), (50.0, 500.0));
        // the first sample leaves the window: the rate is of the last 10 s only
        let (b, _) = r.sample(t0 + Duration::from_secs(12), 300, 3_000);
        assert_eq!(b, 20.0);
    }

    #[test]
    fn the_backfill_bar_shows_blocks_rates_and_time_left_and_ends_when_caught_up() {
        let term = InMemoryTerm::new(2, 120);
        let bar = backfill_bar(ProgressDrawTarget::term_like(Box::new(term.clone())));
        let stats = Stats::default();
        assert!(
            !show_backfill(&bar, &stats, (0.0, 0.0)),
            "nothing to show yet"
        );
        // backfilling blocks 101..=1100, 250 done
        let _ = stats.backfill_from.set(101);
        stats.head.store(1_100, Ordering::Relaxed);
        stats.indexed.store(350, Ordering::Relaxed);
        assert!(!show_backfill(&bar, &stats, (120.0, 4_800.0)));
        bar.tick();
        let shown = term.contents();
        assert!(shown.contains("250/1,000 blocks"), "{shown}");
        assert!(shown.contains("120 blocks/s, 4800 events/s"), "{shown}");
        assert!(shown.contains("ETA"), "{shown}");
        stats.indexed.store(1_100, Ordering::Relaxed);
        assert!(show_backfill(&bar, &stats, (0.0, 0.0)), "caught up");
    }

    #[test]
    fn metrics_carry_the_indexers_figures() {
        let stats = Arc::new(Stats::default());
        stats.head.store(120, Ordering::Relaxed);
        stats.indexed.store(100, Ordering::Relaxed);
        stats.events.store(4_321, Ordering::Relaxed);
        stats.skipped.store(2, Ordering::Relaxed);
        let monitor = Monitor {
            stats,
            stall_after: Duration::from_secs(60),
            metrics: Metrics::new(),
            rates: Mutex::new((12.5, 250.0)),
        };
        let text = monitor.render().expect("render");
        for line in [
            "medledger_indexer_indexed_block 100",
            "medledger_indexer_finalized_head 120",
            "medledger_indexer_lag_blocks 20",
            "medledger_indexer_events_total 4321",
            "medledger_indexer_skipped_events_total 2",
            "medledger_indexer_blocks_per_second 12.5",
            "medledger_indexer_events_per_second 250.0",
            "medledger_indexer_healthy 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        // counters follow the stats, never counting twice
        monitor.stats.events.store(5_000, Ordering::Relaxed);
        let text = monitor.render().expect("render");
        assert!(
            text.contains("medledger_indexer_events_total 5000\n"),
            "{text}"
        );
    }
}
