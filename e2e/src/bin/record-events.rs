//! Records the contract events of a real node as the decoder's test fixtures:
//! `indexer/tests/fixtures/recorded-events.json`, read by `indexer/tests/recorded.rs`.
//!
//! Walks every contract message once ([`medledger_e2e::walk`]) on a fresh dev node, then
//! reads each block of the walk with the indexer's own [`SubxtSource`] and keeps every
//! `ContractEmitted` event of the two contracts, bytes as the node sent them, labelled with
//! the step that emitted it. Run it again after a contract's events change:
//!
//! ```text
//! cargo xtask contracts && cargo run -p medledger-e2e --bin record-events
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use medledger_e2e::walk;
use medledger_indexer::{BlockSource, SubxtSource};
use serde_json::json;

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

#[tokio::main]
async fn main() -> Result<()> {
    let out = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../indexer/tests/fixtures/recorded-events.json"
    ));
    let walked = walk::every_message(false).await?;
    let (consent, records) = walked.deployment.accounts().map_err(anyhow::Error::msg)?;
    let names: BTreeMap<[u8; 32], &str> = [
        (consent.0, "ConsentRegistry"),
        (records.0, "RecordRegistry"),
    ]
    .into();
    let step_of: BTreeMap<u64, &str> = walked
        .steps
        .iter()
        .filter_map(|s| Some((s.block?, s.name.as_str())))
        .collect();
    let last = step_of
        .keys()
        .last()
        .copied()
        .context("the walk sent nothing")?;
    let source = SubxtSource::new(walked.node.url());
    let mut events = Vec::new();
    for number in 1..=last {
        let block = source.block(number).await?;
        for event in block.contract_events {
            let Some(contract) = names.get(&event.contract) else {
                continue;
            };
            events.push(json!({
                "step": step_of.get(&number).copied().unwrap_or("deploy"),
                "block": number,
                "index": event.index,
                "contract": contract,
                "topics": event.topics.iter().map(|t| hex0x(t)).collect::<Vec<_>>(),
                "data": hex0x(&event.data),
            }));
        }
    }
    let count = events.len();
    let fixture = json!({
        "about": "ContractEmitted events of the medledger contracts, recorded from \
                  substrate-contracts-node by `cargo run -p medledger-e2e --bin record-events` \
                  (every contract message sent once; see e2e/src/walk.rs)",
        "events": events,
    });
    let text = serde_json::to_string_pretty(&fixture)? + "\n";
    std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
    println!("{count} events recorded into {}", out.display());
    walked.node.stop().await;
    Ok(())
}
