use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use medledger_deploy::Deployment;
use medledger_graphql::{Cors, HttpOptions};
use medledger_indexer::{Indexer, IndexerConfig, SubxtSource, Watched};
use medledger_store::Store;
use medledger_web::{ContractConfig, PageConfig};
use tokio::net::TcpListener;

use crate::args::{ChainArgs, Cli, Command, IndexTuning, LogFormat};
use crate::ops;

pub fn init_logs(format: &LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Runs the command; returns the exit status of a command that completed (0, or a verdict).
pub async fn run(cli: Cli) -> Result<u8> {
    let json = cli.json;
    let done = match cli.command {
        Command::Dev(args) => crate::dev::run(args).await,
        Command::Index(args) => {
            let stop = ctrl_c();
            let (deployment, url) = load(&args.chain)?;
            let metrics = match args.metrics_listen {
                Some(addr) => Some(bind(addr, "--metrics-listen").await?),
                None => None,
            };
            let store = medledger_store::open(&args.db).await?;
            let indexer = indexer_for(&deployment, &url, store, &args.tuning)?;
            // A progress bar is for people at a terminal, not for JSON logs.
            let progress = matches!(cli.log_format, LogFormat::Text);
            let monitor = ops::Monitor::start(
                indexer.stats(),
                Duration::from_secs(args.stall_secs),
                progress,
            );
            if let Some(listener) = metrics {
                let addr = listener.local_addr()?;
                println!("metrics: http://{addr}/metrics  health: http://{addr}/healthz");
                tokio::spawn(async move {
                    if let Err(e) = ops::serve(listener, monitor).await {
                        tracing::error!(error = %e, "the metrics server stopped");
                    }
                });
            }
            tracing::info!(node = %url, from = deployment.block_number, "indexing");
            indexer.run(stop).await?;
            Ok(())
        }
        Command::Serve(args) => {
            let stop = ctrl_c();
            let options = HttpOptions {
                max_body_bytes: args.max_body_bytes,
                timeout: Duration::from_secs(args.request_timeout_secs),
                cors: Cors::parse(&args.cors_origins).map_err(anyhow::Error::msg)?,
            };
            let page = match &args.deployment {
                Some(file) => {
                    let deployment = Deployment::load(file).map_err(|e| {
                        anyhow!("{e} (pass the deployment of the chain the page signs on)")
                    })?;
                    Some(page_config(
                        &deployment,
                        &args.contracts,
                        args.public_node_url.clone(),
                    )?)
                }
                None => None,
            };
            let store = medledger_store::open(&args.db).await?;
            let listener = bind(args.listen, "--listen").await?;
            let addr = listener.local_addr()?;
            println!("GraphQL API: http://{addr}/graphql");
            println!("patient's page: http://{addr}/");
            serve(listener, store, options, page, stop).await
        }
        other => {
            let report = crate::commands::run(other).await?;
            report.print(json);
            return Ok(report.code);
        }
    };
    done.map(|()| 0)
}

/// The deployment file and the node URL to use.
pub fn load(chain: &ChainArgs) -> Result<(Deployment, String)> {
    let deployment = Deployment::load(&chain.deployment)
        .map_err(|e| anyhow!("{e} (start `medledger dev`, or pass --deployment)"))?;
    let url = chain
        .node_url
        .clone()
        .unwrap_or_else(|| deployment.node_url.clone());
    Ok((deployment, url))
}

pub fn indexer_for(
    deployment: &Deployment,
    url: &str,
    store: Arc<dyn Store>,
    tuning: &IndexTuning,
) -> Result<Indexer<SubxtSource>> {
    let (consent_addr, records_addr) = deployment.accounts().map_err(|e| anyhow!(e))?;
    let (consent_code, records_code) = deployment.code_hashes().map_err(|e| anyhow!(e))?;
    let watched = Watched {
        consent_registry: consent_addr.0,
        record_registry: records_addr.0,
        consent_code_hash: consent_code,
        record_code_hash: records_code,
        start_block: deployment.block_number,
    };
    let config = IndexerConfig {
        concurrency: usize::from(tuning.concurrency),
        batch_blocks: usize::from(tuning.batch_blocks),
        ..IndexerConfig::new(watched)
    };
    Ok(Indexer::new(SubxtSource::new(url), store, config))
}

/// Listens on `addr`, given with `flag`.
pub async fn bind(addr: SocketAddr, flag: &str) -> Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow!("cannot listen on {addr}: the port is in use (pick another with {flag})")
        } else {
            anyhow!("cannot listen on {addr}: {e}")
        }
    })
}

/// Serves the API, and the patient's page at `/` (told where the chain is by `page`).
pub async fn serve(
    listener: TcpListener,
    store: Arc<dyn Store>,
    options: HttpOptions,
    page: Option<PageConfig>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let app = medledger_graphql::router(store, &options).merge(medledger_web::router(page));
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
        .context("serving the API")
}

/// What the page needs to sign: the node URL and both contracts with their metadata (the
/// bundles in `contracts` without their code).
pub fn page_config(
    deployment: &Deployment,
    contracts: &Path,
    public_node_url: Option<String>,
) -> Result<PageConfig> {
    let metadata = |bundle: &str| -> Result<serde_json::Value> {
        let path = contracts.join(bundle);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            anyhow!(
                "cannot read {}: {e} (build it with `cargo xtask contracts`, or pass --contracts)",
                path.display()
            )
        })?;
        let mut json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| anyhow!("{} is not a contract bundle: {e}", path.display()))?;
        if let Some(source) = json.get_mut("source").and_then(|s| s.as_object_mut()) {
            source.remove("wasm");
        }
        Ok(json)
    };
    Ok(PageConfig {
        node_url: public_node_url.unwrap_or_else(|| deployment.node_url.clone()),
        graphql: "/graphql".into(),
        consent_registry: ContractConfig {
            address: deployment.consent_registry.address.clone(),
            metadata: metadata(medledger_deploy::CONSENT_BUNDLE)?,
        },
        record_registry: ContractConfig {
            address: deployment.record_registry.address.clone(),
            metadata: metadata(medledger_deploy::RECORDS_BUNDLE)?,
        },
    })
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM, the signals a terminal and a service manager send
/// to stop a process. The handlers are installed when this is called, not when the future is
/// first awaited: a signal that arrives while the command is still starting up is kept, and
/// stops it as soon as it runs, instead of killing it half-way.
pub fn ctrl_c() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{Signal, SignalKind, signal};
    let interrupt = signal(SignalKind::interrupt()).ok();
    let terminate = signal(SignalKind::terminate()).ok();
    let received = |s: Option<Signal>| async move {
        match s {
            Some(mut s) => {
                s.recv().await;
            }
            // No handler could be installed: wait for the other signal.
            None => std::future::pending::<()>().await,
        }
    };
    async move {
        tokio::select! {
            _ = received(interrupt) => {}
            _ = received(terminate) => {}
        }
    }
}
