//! `medledger dev`: everything on one machine, stopped cleanly on Ctrl-C.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use medledger_client::{Chain, consent, signer_from_suri};
use medledger_deploy::devnode::DevNode;
use medledger_events::{
    FLAG_EMERGENCY, NPI_SYSTEM, OrgIdentifier, OrgKind, OrgProfile, Role, URL_SYSTEM,
};

use crate::args::DevArgs;
use crate::args::IndexTuning;
use crate::run::{bind, ctrl_c, indexer_for};

/// Dev accounts and the roles, names and kinds `medledger dev` registers them with.
const DEMO_ORGS: [(&str, Role, u32, &str, OrgKind); 2] = [
    (
        "//Bob",
        Role::Provider,
        FLAG_EMERGENCY,
        "Riverside Clinic",
        OrgKind::Clinic,
    ),
    (
        "//Charlie",
        Role::Insurer,
        0,
        "Acme Health Insurance",
        OrgKind::Insurer,
    ),
];

/// How long an announced upgrade waits on a dev chain: long enough to see the announcement,
/// short enough to try an upgrade.
pub const DEV_UPGRADE_DELAY_MS: u64 = 60_000;

/// A demo organization's profile: its name and kind, a made-up NPI and FHIR URL.
fn demo_profile(name: &str, kind: OrgKind, n: usize) -> OrgProfile {
    let slug: String = name
        .split_whitespace()
        .next()
        .unwrap_or("org")
        .to_ascii_lowercase();
    OrgProfile {
        name: name.into(),
        kind,
        identifiers: vec![
            OrgIdentifier {
                system: NPI_SYSTEM.into(),
                value: format!("123456789{n}"),
            },
            OrgIdentifier {
                system: URL_SYSTEM.into(),
                value: format!("https://fhir.{slug}.example/Organization/1"),
            },
        ],
    }
}

pub async fn run(args: DevArgs) -> Result<()> {
    // Fail on missing bundles or a busy port before doing anything slow.
    for bundle in [
        medledger_deploy::CONSENT_BUNDLE,
        medledger_deploy::RECORDS_BUNDLE,
    ] {
        medledger_deploy::load_bundle(&args.contracts.join(bundle))?;
    }
    let listener = bind(args.listen, "--listen").await?;
    let node = match &args.node_url {
        Some(_) => None,
        None => {
            println!("starting substrate-contracts-node ...");
            Some(DevNode::start().await?)
        }
    };
    let url = match (&node, &args.node_url) {
        (Some(node), _) => node.url().to_string(),
        (None, Some(url)) => url.clone(),
        (None, None) => return Err(anyhow!("no node")),
    };
    let chain = Chain::connect(&url).await?;
    println!("node: {url}");

    let registrar = signer_from_suri("//Alice")?;
    let deployment = medledger_deploy::deploy(
        &chain,
        &registrar,
        &args.contracts,
        "dev",
        Some(DEV_UPGRADE_DELAY_MS),
    )
    .await
    .context("deploying the contracts")?;
    deployment.save(&args.deployment)?;
    println!(
        "contracts: ConsentRegistry {} / RecordRegistry {} (written to {})",
        deployment.consent_registry.address,
        deployment.record_registry.address,
        args.deployment.display()
    );
    let (consent_addr, _) = deployment.accounts().map_err(|e| anyhow!(e))?;
    let mut registered_at = deployment.block_number;
    for (n, (suri, role, flags, name, kind)) in DEMO_ORGS.into_iter().enumerate() {
        let org = medledger_client::account_of(&signer_from_suri(suri)?);
        let profile = demo_profile(name, kind, n);
        let outcome = chain
            .submit(
                &registrar,
                &consent_addr,
                &consent::register_org(&consent_addr, &org, role, flags, profile),
            )
            .await
            .with_context(|| format!("registering {suri} as {role:?}"))?;
        registered_at = registered_at.max(outcome.block_number);
        println!("registered {name} ({suri}, {org}) as {role:?}");
    }

    if node.is_some() {
        // A fresh chain: an old mirror would hold another chain's rows.
        for suffix in ["", "-wal", "-shm"] {
            let mut path = args.db.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
    if let Some(dir) = args.db.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let store = medledger_store::open(&format!("sqlite:{}", args.db.display())).await?;
    let indexer = indexer_for(&deployment, &url, store.clone(), &IndexTuning::default())?;

    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let indexer = Arc::new(indexer);
    let mut indexing = tokio::spawn({
        let indexer = indexer.clone();
        let rx = stop_rx.clone();
        async move { indexer.run(stopped(rx)).await }
    });
    let page = crate::run::page_config(&deployment, &args.contracts, None)?;
    let serving = tokio::spawn(crate::run::serve(
        listener,
        store,
        medledger_graphql::HttpOptions::default(),
        Some(page),
        stopped(stop_rx),
    ));

    // The API is announced once the mirror has the organizations, so that they can be found
    // by name from the first command on.
    let stats = indexer.stats();
    let waiting = std::time::Instant::now();
    while stats.indexed.load(std::sync::atomic::Ordering::Relaxed) < registered_at
        && !indexing.is_finished()
        && waiting.elapsed() < std::time::Duration::from_secs(60)
    {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    println!();
    println!("GraphQL API: http://{addr}/graphql");
    println!("patient's page: http://{addr}/");
    println!("Try, as patient //Dave:");
    println!(
        "  medledger consent grant --suri dave --grantee \"Riverside Clinic\" --categories lab-results --purposes treatment"
    );
    println!("Press Ctrl-C to stop.");

    // Runs until Ctrl-C, or until the indexer stops on its own: then the mirror would go
    // stale behind an API that looks fine, so everything stops and the reason is told.
    let indexer_died = tokio::select! {
        _ = ctrl_c() => None,
        ended = &mut indexing => Some(ended),
    };
    let _ = stop_tx.send(true);
    let died = indexer_died.is_some();
    let index_result = match indexer_died {
        Some(ended) => ended,
        None => {
            println!("stopping ...");
            indexing.await
        }
    };
    let serve_result = serving.await;
    if let Some(node) = node {
        node.stop().await;
    }
    match index_result.context("indexer task")? {
        Ok(()) if died => return Err(anyhow!("the indexer stopped; so did the API")),
        Ok(()) => {}
        Err(e) => {
            return Err(anyhow::Error::new(e).context("the indexer stopped; so did the API"));
        }
    }
    serve_result.context("API task")??;
    println!("stopped.");
    Ok(())
}
