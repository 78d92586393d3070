//! A dev chain filled with many contract events, for the indexer's failure tests and its
//! benchmark: the contracts deployed, //Bob (provider) and //Charlie (insurer) registered,
//! then consents granted in batches (`Utility.batch_all`), each grant one `ConsentGranted`.

use std::path::Path;

use anyhow::{Context, Result};
use medledger_client::{Chain, account_of, consent, signer_from_suri};
use medledger_deploy::Deployment;
use medledger_deploy::devnode::DevNode;
use medledger_events::{Access, DataCategory, OrgKind, Purpose, Role};

use crate::contracts_dir;

/// The dev accounts that grant consents while seeding, each from its own task (one account
/// signs one transaction at a time; several accounts fill blocks in parallel).
const PATIENTS: [&str; 4] = ["//Dave", "//Eve", "//Ferdie", "//Alice"];

/// A dev node with the contracts deployed and the demo organizations registered.
pub struct DeployedChain {
    pub node: DevNode,
    pub chain: Chain,
    pub deployment: Deployment,
}

/// Starts a dev node, deploys the contracts (from `artifacts/contracts`) and registers
/// //Bob as a provider and //Charlie as an insurer. Writes the deployment to
/// `deployment_file` when given, for `medledger index --deployment`.
///
/// # Errors
/// When the node does not start (run `cargo xtask setup`), the bundles are missing (run
/// `cargo xtask contracts`) or a transaction fails.
pub async fn deployed_chain(deployment_file: Option<&Path>) -> Result<DeployedChain> {
    let node = DevNode::start().await?;
    let chain = Chain::connect(node.url()).await?;
    let registrar = signer_from_suri("//Alice")?;
    let deployment = medledger_deploy::deploy(&chain, &registrar, &contracts_dir(), "seed", None)
        .await
        .context("deploying (build the bundles with `cargo xtask contracts`)")?;
    let (consent_registry, _) = deployment.accounts().map_err(anyhow::Error::msg)?;
    for (suri, role, name, kind) in [
        ("//Bob", Role::Provider, "Riverside Clinic", OrgKind::Clinic),
        (
            "//Charlie",
            Role::Insurer,
            "Acme Health Insurance",
            OrgKind::Insurer,
        ),
    ] {
        let org = account_of(&signer_from_suri(suri)?);
        chain
            .submit(
                &registrar,
                &consent_registry,
                &consent::register_org(
                    &consent_registry,
                    &org,
                    role,
                    0,
                    crate::walk::profile(name, kind),
                ),
            )
            .await
            .with_context(|| format!("registering {suri}"))?;
    }
    if let Some(path) = deployment_file {
        deployment.save(path)?;
    }
    Ok(DeployedChain {
        node,
        chain,
        deployment,
    })
}

/// What seeding put on chain.
#[derive(Debug, Clone, Copy)]
pub struct Seeded {
    /// Contract events emitted.
    pub events: u64,
    /// The block of the last seeding transaction.
    pub last_block: u64,
}

/// Sends `transactions` transactions of `grants_per_tx` consent grants each, spread over a
/// few dev accounts; returns once all are finalized.
///
/// # Errors
/// When a transaction fails (e.g. more grants than fit a block).
pub async fn seed_grants(
    chain: &Chain,
    deployment: &Deployment,
    transactions: usize,
    grants_per_tx: usize,
) -> Result<Seeded> {
    let (consent_registry, _) = deployment.accounts().map_err(anyhow::Error::msg)?;
    let grantees = [
        account_of(&signer_from_suri("//Bob")?),
        account_of(&signer_from_suri("//Charlie")?),
    ];
    let categories = [
        DataCategory::Demographics,
        DataCategory::Allergies,
        DataCategory::Medications,
        DataCategory::LabResults,
        DataCategory::Imaging,
    ];
    let mut tasks = tokio::task::JoinSet::new();
    for (p, suri) in PATIENTS.iter().enumerate() {
        let signer = signer_from_suri(suri)?;
        let patient = account_of(&signer);
        let chain = chain.clone();
        // Patient p sends transactions p, p + 4, p + 8, ...
        let mine: Vec<usize> = (p..transactions).step_by(PATIENTS.len()).collect();
        tasks.spawn(async move {
            let mut last_block = 0;
            for tx in mine {
                let messages: Vec<_> = (0..grants_per_tx)
                    .map(|i| {
                        let n = tx * grants_per_tx + i;
                        consent::grant(
                            &consent_registry,
                            &patient,
                            &consent::GrantArgs {
                                grantee: grantees[n % 2],
                                categories: categories[n % categories.len()].bit(),
                                purposes: Purpose::Treatment.bit() | Purpose::Payment.bit(),
                                access: Access::Read.bit(),
                                valid_from: 0,
                                expires_at: None,
                                terms_hash: [0; 32],
                            },
                        )
                    })
                    .collect();
                let outcome = chain
                    .submit_alike(&signer, &consent_registry, &messages)
                    .await
                    .with_context(|| format!("seeding transaction {tx}"))?;
                last_block = last_block.max(outcome.block_number);
            }
            anyhow::Ok(last_block)
        });
    }
    let mut last_block = 0;
    while let Some(done) = tasks.join_next().await {
        last_block = last_block.max(done.context("seeding task")??);
    }
    Ok(Seeded {
        events: (transactions * grants_per_tx) as u64,
        last_block,
    })
}

/// Sends `count` `System.remark` transactions from //Ferdie as fast as the node takes them
/// (explicit nonces, no wait between them): blocks without contract events, for a sparse
/// chain. Returns once they are all finalized, with the settled head.
///
/// # Errors
/// When the node refuses a transaction.
pub async fn seed_empty_blocks(chain: &Chain, count: usize) -> Result<u64> {
    use subxt::config::DefaultExtrinsicParamsBuilder;
    let signer = signer_from_suri("//Ferdie")?;
    let account = account_of(&signer);
    let mut tx = chain.api().tx().await.context("transaction client")?;
    let mut nonce = tx
        .account_nonce(&account)
        .await
        .context("reading //Ferdie's nonce")?;
    for i in 0..count {
        let remark = subxt::dynamic::tx("System", "remark", (format!("sparse {i}").into_bytes(),));
        let params = DefaultExtrinsicParamsBuilder::<subxt::SubstrateConfig>::new()
            .nonce(nonce)
            .immortal()
            .build();
        tx.create_signed(&remark, &signer, params)
            .await
            .context("signing a remark")?
            .submit()
            .await
            .with_context(|| format!("submitting remark {i}"))?;
        nonce += 1;
        // Give instant seal a moment to make a block of it alone.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    settled_head(chain).await
}

/// The chain's finalized head once it stopped moving (no new finalized block for 2 s: a dev
/// node makes blocks only for transactions and finalizes each a second later), so that runs
/// compared with each other end at the same block.
///
/// # Errors
/// When the node does not answer.
pub async fn settled_head(chain: &Chain) -> Result<u64> {
    let head = || async {
        anyhow::Ok(
            chain
                .api()
                .at_current_block()
                .await
                .context("reading the finalized head")?
                .block_number(),
        )
    };
    let mut last = head().await?;
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let now = head().await?;
        if now == last {
            return Ok(now);
        }
        last = now;
    }
}
