//! `cargo xtask bench contracts`: what every contract message costs on a real node.
//!
//! Walks every message once ([`medledger_e2e::walk`]) on a fresh dev node, pricing each with
//! a dry run (ref_time, proof_size and storage deposit) before submitting it. Also prints
//! each contract's wasm size and the cost per record of `anchor` against `anchor_batch` at 1,
//! 100 and 10,000 leaves.

use anyhow::Result;
use medledger_deploy::{CONSENT_BUNDLE, RECORDS_BUNDLE, load_bundle};
use medledger_e2e::contracts_dir;
use medledger_e2e::walk;

#[tokio::main]
async fn main() -> Result<()> {
    let walked = walk::every_message(true).await?;
    println!(
        "
Contract messages on substrate-contracts-node 0.42.0 (dry runs)
"
    );
    println!(
        "{:<38} {:>14} {:>12} {:>16}",
        "message", "ref_time", "proof_size", "storage deposit"
    );
    for step in &walked.steps {
        if let Some(e) = &step.estimate {
            println!(
                "{:<38} {:>14} {:>12} {:>16}",
                step.name, e.gas_required.ref_time, e.gas_required.proof_size, e.storage_deposit
            );
        }
    }

    println!("\nWasm size");
    for bundle in [CONSENT_BUNDLE, RECORDS_BUNDLE] {
        let size = load_bundle(&contracts_dir().join(bundle))?.wasm.len();
        println!("{bundle:<38} {size:>8} bytes");
    }

    println!("\nCost per record (ref_time)");
    let single = walked.ref_time("anchor (provider, consent checked)");
    for leaves in [1u64, 100, 10_000] {
        let batch = walked.ref_time(&format!("anchor_batch ({leaves} leaves)"));
        println!(
            "{leaves:>6} records: anchor each {:>14}   anchor_batch {:>14}",
            single,
            batch / leaves
        );
    }
    walked.node.stop().await;
    Ok(())
}
