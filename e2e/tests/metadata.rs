//! What the built bundles tell wallets and apps, read from their ink! metadata: every message
//! that writes (emits an event, changes code) is marked as mutating, so that a wallet or a
//! contracts UI trusting the metadata sends it as a transaction rather than only dry-running
//! it; the second release's bundles (`contracts/releases/v2`) show the hole this closes; the
//! events of the second release keep the signature topics the indexer reads them by; and each
//! contract's wasm stays at or under 32 KiB.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ink::env::Event;
use medledger_deploy::{CONSENT_BUNDLE, RECORDS_BUNDLE};
use medledger_e2e::contracts_dir;
use serde_json::Value;

/// The messages that only read: everything else writes. (`consent`, `delegate`,
/// `emergency`, `pending_registrar` and `claim` are the second release's.)
const QUERIES: [&str; 20] = [
    "is_authorized",
    "consents_to",
    "access_verdict",
    "org",
    "org_profile",
    "registrar",
    "policy",
    "upgrade_terms",
    "storage_version",
    "verify",
    "verify_batch",
    "record",
    "first_claim_use",
    "pending_upgrade",
    "consent_registry",
    "consent",
    "delegate",
    "emergency",
    "pending_registrar",
    "claim",
];

fn releases() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../contracts/releases"
    ))
}

fn bundle(dir: &Path, name: &str) -> Result<Value> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading {} (build it with `cargo xtask contracts`)",
            path.display()
        )
    })?;
    Ok(serde_json::from_str(&text)?)
}

/// (label, mutates) of every message a bundle's metadata lists.
fn messages(bundle: &Value) -> Vec<(String, bool)> {
    bundle["spec"]["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["label"].as_str().unwrap_or_default().to_string(),
                m["mutates"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

/// The messages whose `mutates` says the opposite of what they do.
fn mislabelled(bundle: &Value) -> Vec<String> {
    messages(bundle)
        .into_iter()
        .filter(|(label, mutates)| *mutates == QUERIES.contains(&label.as_str()))
        .map(|(label, _)| label)
        .collect()
}

#[test]
fn every_message_that_writes_is_marked_mutating() -> Result<()> {
    for name in [CONSENT_BUNDLE, RECORDS_BUNDLE] {
        let built = bundle(&contracts_dir(), name)?;
        assert!(messages(&built).len() > 10, "{name} lists its messages");
        assert_eq!(mislabelled(&built), Vec::<String>::new(), "{name}");
    }
    // The second release marked the access log and both upgrades read-only.
    let v2 = releases().join("v2");
    let mut before = mislabelled(&bundle(&v2, CONSENT_BUNDLE)?);
    before.extend(mislabelled(&bundle(&v2, RECORDS_BUNDLE)?));
    before.sort();
    assert_eq!(before, ["record_access", "upgrade", "upgrade"]);
    Ok(())
}

#[test]
fn the_second_releases_events_keep_the_topics_the_indexer_reads_them_by() -> Result<()> {
    let v2 = bundle(&releases().join("v2"), RECORDS_BUNDLE)?;
    let topic = |label: &str| -> Option<String> {
        v2["spec"]["events"]
            .as_array()?
            .iter()
            .find(|e| e["label"] == label)?["signature_topic"]
            .as_str()
            .map(str::to_owned)
    };
    let hex = |t: Option<[u8; 32]>| t.map(|t| format!("0x{}", hex::encode(t)));
    assert_eq!(
        topic("OrgRegistered"),
        hex(medledger_events::v2::OrgRegistered::SIGNATURE_TOPIC)
    );
    assert_eq!(
        topic("DuplicateClaimUse"),
        hex(medledger_events::v2::DuplicateClaimUse::SIGNATURE_TOPIC)
    );
    // and the third release's differ, so that the two are told apart
    assert_ne!(
        topic("OrgRegistered"),
        hex(medledger_events::OrgRegistered::SIGNATURE_TOPIC)
    );
    Ok(())
}

#[test]
fn each_contracts_wasm_fits_in_32_kib() -> Result<()> {
    for name in [CONSENT_BUNDLE, RECORDS_BUNDLE] {
        let wasm = medledger_deploy::load_bundle(&contracts_dir().join(name))?.wasm;
        assert!(
            wasm.len() <= 32 * 1024,
            "{name}: {} bytes of wasm",
            wasm.len()
        );
    }
    Ok(())
}
