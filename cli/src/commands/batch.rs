//! `medledger batch anchor DIR`: every document of a folder under one Merkle root, in one
//! transaction; each gets a proof `FILE.medledger-proof.json`. The salts go to
//! `DIR/medledger-batch.json` before the transaction is sent, so that none can be lost.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use medledger_client::records;
use medledger_proofs::{DocumentProof, MerkleTree, PROOF_FORMAT, ProofBundle};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::args::{ChainArgs, SignerArgs};
use crate::chain::{Ctx, settle};
use crate::files::{self, hex_of};
use crate::report::Report;

/// The proof beside each document of a batch.
pub const PROOF_SUFFIX: &str = ".medledger-proof.json";
/// The batch's manifest in its folder.
const MANIFEST: &str = "medledger-batch.json";

#[derive(Subcommand)]
pub enum BatchCommand {
    /// Anchor every file of DIR (not its subfolders, hidden files or medledger's own files)
    /// in one transaction, signed by an active organization.
    Anchor {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        /// The folder.
        dir: PathBuf,
    },
}

/// `DIR/medledger-batch.json`: what was anchored, with every salt.
#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    org: String,
    contract: String,
    chain: String,
    root: String,
    documents: Vec<Entry>,
    anchored: Option<medledger_proofs::Anchored>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    document: String,
    salt: String,
    commitment: String,
}

pub async fn run(command: BatchCommand) -> Result<Report> {
    let BatchCommand::Anchor { chain, signer, dir } = command;
    let documents = documents_in(&dir)?;
    let (signer, ctx) = Ctx::signed(&chain, signer).await?;
    let org = medledger_client::account_of(&signer);

    let bar = progress(documents.len() as u64);
    let mut salts = Vec::with_capacity(documents.len());
    let mut leaves = Vec::with_capacity(documents.len());
    for path in &documents {
        let salt = medledger_proofs::random_salt();
        leaves.push(medledger_proofs::commitment(
            &salt,
            &files::read_document(path)?,
        ));
        salts.push(salt);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let tree = MerkleTree::new(&leaves).map_err(|e| anyhow!("{}: {e}", dir.display()))?;
    let (root, genesis) = (tree.root(), ctx.genesis());
    let count =
        u32::try_from(leaves.len()).map_err(|_| anyhow!("too many documents for one batch"))?;

    let manifest_path = dir.join(MANIFEST);
    let mut manifest = Manifest {
        format: "medledger-batch/v1".into(),
        org: org.to_string(),
        contract: ctx.records.to_string(),
        chain: hex_of(genesis),
        root: hex_of(root),
        documents: documents
            .iter()
            .zip(&salts)
            .zip(&leaves)
            .map(|((path, salt), leaf)| Entry {
                document: files::file_name(path),
                salt: hex_of(salt),
                commitment: hex_of(leaf),
            })
            .collect(),
        anchored: None,
    };
    files::write_new(&manifest_path, &manifest)?;
    let message = records::anchor_batch(&ctx.records, root, count);
    let outcome = settle(
        ctx.call(&signer, &ctx.records, &message, "anchoring the batch")
            .await,
        Some(&manifest_path),
    )?;
    let anchored = medledger_proofs::Anchored {
        block_number: outcome.block_number,
        block_hash: outcome.block_hash.0,
    };
    for (i, path) in documents.iter().enumerate() {
        let proof = DocumentProof {
            format: PROOF_FORMAT.into(),
            document: files::file_name(path),
            salt: salts[i],
            org: org.to_string(),
            contract: ctx.records.to_string(),
            chain: genesis,
            bundle: ProofBundle {
                proof: tree
                    .proof(i)
                    .ok_or_else(|| anyhow!("no proof for leaf {i}"))?,
                root,
                block_number: anchored.block_number,
                block_hash: anchored.block_hash,
            },
        };
        files::write_new(&files::beside(path, PROOF_SUFFIX), &proof)?;
    }
    manifest.anchored = Some(anchored);
    files::replace(&manifest_path, &manifest)?;
    Ok(Report::landed(
        format!(
            "anchored {count} documents of {} under root {} in one transaction; a proof beside each (*{PROOF_SUFFIX})",
            dir.display(),
            hex_of(root)
        ),
        json!({
            "documents": count,
            "root": hex_of(root),
            "manifest": manifest_path.display().to_string(),
        }),
        &outcome,
    ))
}

/// The documents of `dir`, by name.
fn documents_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow!("cannot read the folder {}: {e}", dir.display()))?;
    let mut documents = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| anyhow!("cannot read the folder {}: {e}", dir.display()))?;
        let file_name = entry.file_name().to_string_lossy().to_string();
        let ours = file_name == MANIFEST
            || [
                super::record::RECEIPT_SUFFIX,
                PROOF_SUFFIX,
                ".terms.json",
                ".justification.json",
                ".tmp",
            ]
            .iter()
            .any(|s| file_name.ends_with(s));
        if ours || file_name.starts_with('.') {
            continue;
        }
        if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            documents.push(entry.path());
        }
    }
    if dir.join(MANIFEST).exists() {
        bail!(
            "{} was anchored as a batch already ({MANIFEST} is there)",
            dir.display()
        );
    }
    if documents.is_empty() {
        bail!("{} holds no documents to anchor", dir.display());
    }
    // Proofs are written after the transaction lands: none may be in the way then.
    if let Some(taken) = documents
        .iter()
        .map(|d| files::beside(d, PROOF_SUFFIX))
        .find(|p| p.exists())
    {
        bail!("{} exists already; move it away first", taken.display());
    }
    documents.sort();
    Ok(documents)
}

/// A progress bar over the documents, on a terminal only.
fn progress(len: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("hashing [{bar:30}] {pos}/{len} documents, ETA {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
