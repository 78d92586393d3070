//! `medledger-deploy`: deploy the medledger contracts to a node and write the deployment file.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use medledger_client::{Chain, signer_from_suri};

#[derive(Parser)]
#[command(
    version,
    about = "Upload, instantiate and wire the medledger contracts"
)]
struct Args {
    /// WebSocket URL of the node.
    #[arg(
        long,
        env = "MEDLEDGER_NODE_URL",
        default_value = "ws://127.0.0.1:9944"
    )]
    node_url: String,
    /// Secret URI of the deployer, who becomes the registrar (a dev name like //Alice or a
    /// mnemonic).
    #[arg(long, env = "MEDLEDGER_SURI", hide_env_values = true)]
    suri: String,
    /// Network name: the deployment is written to deployments/<network>.json.
    #[arg(long, default_value = "local")]
    network: String,
    /// Folder holding the .contract bundles (`cargo xtask contracts` builds them).
    #[arg(
        long,
        env = "MEDLEDGER_CONTRACTS_DIR",
        default_value = "artifacts/contracts"
    )]
    contracts: PathBuf,
    /// Where to write the deployment file [default: deploy-scripts/deployments/<network>.json].
    #[arg(long)]
    out: Option<PathBuf>,
    /// How long an announced upgrade of either contract waits before it may apply, in
    /// milliseconds (at most 90 days); fixed at deployment [default: 7 days].
    #[arg(long)]
    upgrade_delay_ms: Option<u64>,
}

async fn run(args: Args) -> anyhow::Result<()> {
    let signer = signer_from_suri(&args.suri)?;
    let chain = Chain::connect(&args.node_url).await?;
    let deployment = medledger_deploy::deploy(
        &chain,
        &signer,
        &args.contracts,
        &args.network,
        args.upgrade_delay_ms,
    )
    .await
    .context("deploying the contracts")?;
    let out = args.out.unwrap_or_else(|| {
        PathBuf::from("deploy-scripts/deployments").join(format!("{}.json", args.network))
    });
    deployment.save(&out)?;
    println!("ConsentRegistry {}", deployment.consent_registry.address);
    println!("RecordRegistry  {}", deployment.record_registry.address);
    println!("written to {}", out.display());
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
