use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use medledger_client::{AccountId32, CallOutcome, Chain, consent, signer_from_suri};
use medledger_deploy::Deployment;
use medledger_events::{ConsentGranted, ConsentRevoked, FLAG_EMERGENCY};
use medledger_graphql::{Cors, HttpOptions};
use medledger_indexer::{Indexer, IndexerConfig, SubxtSource, Watched};
use medledger_store::Store;
use tokio::net::TcpListener;

use crate::args::{ChainArgs, Cli, Command, ConsentCommand, IndexTuning, LogFormat, OrgCommand};
use crate::{names, ops};

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

pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
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
            let store = medledger_store::open(&args.db).await?;
            let listener = bind(args.listen, "--listen").await?;
            println!("GraphQL API: http://{}/graphql", listener.local_addr()?);
            serve(listener, store, options, stop).await
        }
        Command::Org(OrgCommand::Register {
            chain,
            signer,
            account,
            role,
            emergency,
        }) => {
            let role = names::role(&role)?;
            let account = account_id(&account, "--account")?;
            let signer = signer_from_suri(&signer.suri)?;
            let (chain, consent_addr) = consent_registry(&chain).await?;
            let flags = if emergency { FLAG_EMERGENCY } else { 0 };
            let outcome = chain
                .submit(
                    &signer,
                    &consent_addr,
                    &consent::register_org(&consent_addr, &account, role, flags),
                )
                .await
                .context("registering the organization")?;
            println!(
                "registered {account} as {role:?} in block #{}",
                outcome.block_number
            );
            Ok(())
        }
        Command::Consent(cmd) => consent_command(cmd).await,
    }
}

async fn consent_command(cmd: ConsentCommand) -> Result<()> {
    match cmd {
        ConsentCommand::Grant {
            chain,
            signer,
            grantee,
            scope,
            valid_from,
            expires_at,
            terms,
            terms_hash,
        } => {
            let grantee = account_id(&grantee, "--grantee")?;
            let categories = names::categories(&scope.categories)?;
            let purposes = names::purposes(&scope.purposes)?;
            let access = names::accesses(&scope.access)?;
            let valid_from = match valid_from {
                Some(t) => millis(&t, "--valid-from")?,
                None => now_millis(),
            };
            let expires_at = expires_at.map(|t| millis(&t, "--expires-at")).transpose()?;
            let terms_hash = terms_hash.map(|h| hash32(&h, "--terms-hash")).transpose()?;
            let signer = signer_from_suri(&signer.suri)?;
            let (chain, consent_addr) = consent_registry(&chain).await?;
            // The salt is written before the grant is sent, so that it can never be lost,
            // and removed again when the grant fails.
            let (terms_hash, terms_receipt) = match terms {
                Some(file) => {
                    let (hash, receipt) = salted_terms(&file)?;
                    (Some(hash), Some(receipt))
                }
                None => (terms_hash, None),
            };
            let args = consent::GrantArgs {
                grantee,
                categories,
                purposes,
                access,
                valid_from,
                expires_at,
                terms_hash: terms_hash.unwrap_or([0; 32]),
            };
            let outcome = chain
                .submit(
                    &signer,
                    &consent_addr,
                    &consent::grant(&consent_addr, &args),
                )
                .await;
            if outcome.is_err()
                && let Some(receipt) = &terms_receipt
            {
                let _ = std::fs::remove_file(receipt);
            }
            let outcome = outcome.context("granting the consent")?;
            if let Some(receipt) = &terms_receipt {
                println!("terms salt kept in {}", receipt.display());
            }
            let granted: ConsentGranted = event_of(&outcome)?;
            println!(
                "granted consent v{} to {} in block #{}",
                granted.version, args.grantee, outcome.block_number
            );
            Ok(())
        }
        ConsentCommand::Revoke {
            chain,
            signer,
            grantee,
        } => {
            let grantee = account_id(&grantee, "--grantee")?;
            let signer = signer_from_suri(&signer.suri)?;
            let (chain, consent_addr) = consent_registry(&chain).await?;
            let outcome = chain
                .submit(
                    &signer,
                    &consent_addr,
                    &consent::revoke(&consent_addr, &grantee),
                )
                .await
                .context("revoking the consent")?;
            let revoked: ConsentRevoked = event_of(&outcome)?;
            println!(
                "revoked consent v{} of {grantee} in block #{}",
                revoked.version, outcome.block_number
            );
            Ok(())
        }
        ConsentCommand::Check {
            chain,
            patient,
            grantee,
            category,
            purpose,
            access,
        } => {
            let patient = account_id(&patient, "--patient")?;
            let grantee = account_id(&grantee, "--grantee")?;
            let (category, purpose, access) = (
                names::category(&category)?,
                names::purpose(&purpose)?,
                names::access(&access)?,
            );
            let (chain, consent_addr) = consent_registry(&chain).await?;
            let message = consent::is_authorized(
                &consent_addr,
                &patient,
                &grantee,
                category,
                purpose,
                access,
            );
            let allowed = chain.query(&patient, &consent_addr, &message).await?;
            println!(
                "{}",
                if allowed {
                    "authorized"
                } else {
                    "not authorized"
                }
            );
            Ok(())
        }
    }
}

/// Connects to the chain of a deployment; returns it with the ConsentRegistry's address.
async fn consent_registry(chain: &ChainArgs) -> Result<(Chain, AccountId32)> {
    let (deployment, url) = load(chain)?;
    let (consent_addr, _) = deployment.accounts().map_err(|e| anyhow!(e))?;
    Ok((Chain::connect(&url).await?, consent_addr))
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

pub async fn serve(
    listener: TcpListener,
    store: Arc<dyn Store>,
    options: HttpOptions,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let schema = medledger_graphql::build_schema(store);
    medledger_graphql::serve(listener, schema, options, stop)
        .await
        .context("serving the API")
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

fn account_id(s: &str, flag: &str) -> Result<AccountId32> {
    s.parse()
        .map_err(|_| anyhow!("{flag} {s:?} is not an SS58 address"))
}

/// The salted commitment of the consent document at `file`, and `FILE.terms.json` (which
/// must not exist yet) where its salt is kept.
fn salted_terms(file: &Path) -> Result<([u8; 32], PathBuf)> {
    let document = std::fs::read(file)
        .map_err(|e| anyhow!("--terms {}: cannot read it: {e}", file.display()))?;
    let salt = medledger_proofs::random_salt();
    let commitment = medledger_proofs::terms_commitment(&salt, &document);
    let mut receipt = file.as_os_str().to_owned();
    receipt.push(".terms.json");
    let receipt = PathBuf::from(receipt);
    let json = serde_json::json!({
        "document": file.file_name().map(|n| n.to_string_lossy().to_string()),
        "salt": format!("0x{}", hex::encode(salt)),
        "terms_hash": format!("0x{}", hex::encode(commitment)),
    });
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&receipt)
        .map_err(|e| {
            anyhow!(
                "cannot write {}: {e} (it must not exist yet)",
                receipt.display()
            )
        })?;
    std::io::Write::write_all(&mut out, format!("{json:#}\n").as_bytes())
        .map_err(|e| anyhow!("cannot write {}: {e}", receipt.display()))?;
    Ok((commitment, receipt))
}

fn hash32(s: &str, flag: &str) -> Result<[u8; 32]> {
    s.strip_prefix("0x")
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| anyhow!("{flag} {s:?} is not a 0x-prefixed 32-byte hex hash"))
}

fn now_millis() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

fn millis(s: &str, flag: &str) -> Result<u64> {
    let t = chrono::DateTime::parse_from_rfc3339(s).map_err(|e| {
        anyhow!("{flag} {s:?} is not an RFC 3339 time like 2027-01-31T00:00:00Z: {e}")
    })?;
    u64::try_from(t.timestamp_millis()).map_err(|_| anyhow!("{flag} {s:?} is before 1970"))
}

/// The first event of type `E` a call emitted.
fn event_of<E: ink::env::Event + scale::Decode>(outcome: &CallOutcome) -> Result<E> {
    outcome
        .events
        .iter()
        .find_map(|e| e.decode_as::<E>())
        .ok_or_else(|| {
            anyhow!(
                "the call succeeded but emitted no {} event",
                std::any::type_name::<E>()
            )
        })
}
