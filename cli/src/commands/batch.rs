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
    /// Finish a batch left unfinished by an interruption, a crash or a finality timeout (its
    /// DIR/medledger-batch.json has no block): when the root landed, the proofs are written;
    /// when it did not, it is sent again (or, with --clear, the manifest is removed).
    Resume {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        /// Remove the manifest instead of sending the batch again, when it did not land.
        #[arg(long)]
        clear: bool,
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
    match command {
        BatchCommand::Anchor { chain, signer, dir } => anchor(&chain, signer, &dir).await,
        BatchCommand::Resume {
            chain,
            signer,
            clear,
            dir,
        } => resume(&chain, signer, clear, &dir).await,
    }
}

async fn anchor(chain: &ChainArgs, signer: SignerArgs, dir: &Path) -> Result<Report> {
    let documents = documents_in(dir)?;
    let (signer, ctx) = Ctx::signed(chain, signer).await?;
    let org = medledger_client::account_of(&signer);

    let bar = progress(documents.len() as u64);
    let mut salts = Vec::with_capacity(documents.len());
    let mut leaves = Vec::with_capacity(documents.len());
    // Salts under the org's salt key (no patient: a batch names none), so that the same
    // folder anchored again is the same root, which the chain refuses (`BatchExists`).
    let salt_key = crate::keys::salt_key(&signer);
    for path in &documents {
        let document = files::read_document(path)?;
        let salt = medledger_proofs::document_salt(&salt_key, &[], &document);
        leaves.push(medledger_proofs::commitment(&salt, &document));
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
    crate::interrupt::pending(
        &manifest_path,
        format!("medledger batch resume {}", dir.display()),
    );
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
    write_proofs(dir, &mut manifest, &manifest_path, anchored)?;
    crate::interrupt::settled();
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

/// Writes the proof of every document of `manifest` (those not there already), anchored at
/// `anchored`, then marks the manifest complete.
fn write_proofs(
    dir: &Path,
    manifest: &mut Manifest,
    manifest_path: &Path,
    anchored: medledger_proofs::Anchored,
) -> Result<()> {
    let bad = |what: &str| anyhow!("{} has {what}", manifest_path.display());
    let leaves: Vec<[u8; 32]> = manifest
        .documents
        .iter()
        .map(|e| hash_of(&e.commitment).ok_or_else(|| bad("a commitment that is not a hash")))
        .collect::<Result<_>>()?;
    let tree = MerkleTree::new(&leaves).map_err(|e| bad(&e.to_string()))?;
    let root = tree.root();
    if hex_of(root) != manifest.root {
        return Err(bad("a root that its commitments do not make"));
    }
    let chain = hash_of(&manifest.chain).ok_or_else(|| bad("a chain that is not a hash"))?;
    for (i, entry) in manifest.documents.iter().enumerate() {
        let path = dir.join(&entry.document);
        let proof_path = files::beside(&path, PROOF_SUFFIX);
        if proof_path.exists() {
            continue;
        }
        let proof = DocumentProof {
            format: PROOF_FORMAT.into(),
            document: entry.document.clone(),
            salt: hash_of(&entry.salt).ok_or_else(|| bad("a salt that is not 32 bytes"))?,
            org: manifest.org.clone(),
            contract: manifest.contract.clone(),
            chain,
            bundle: ProofBundle {
                proof: tree
                    .proof(i)
                    .ok_or_else(|| anyhow!("no proof for leaf {i}"))?,
                root,
                block_number: anchored.block_number,
                block_hash: anchored.block_hash,
            },
        };
        files::write_new(&proof_path, &proof)?;
    }
    manifest.anchored = Some(anchored);
    files::replace(manifest_path, manifest)
}

/// A 0x-hex 32-byte value.
fn hash_of(text: &str) -> Option<[u8; 32]> {
    hex::decode(text.strip_prefix("0x")?).ok()?.try_into().ok()
}

/// `batch resume`: finds out whether the manifest's root landed, and writes the proofs,
/// sends the batch again, or (`clear`) removes the manifest.
async fn resume(chain: &ChainArgs, signer: SignerArgs, clear: bool, dir: &Path) -> Result<Report> {
    let manifest_path = dir.join(MANIFEST);
    let mut manifest: Manifest = files::read_json(&manifest_path, "batch manifest")?;
    let count = manifest.documents.len();
    if manifest.anchored.is_some()
        && manifest
            .documents
            .iter()
            .all(|e| files::beside(&dir.join(&e.document), PROOF_SUFFIX).exists())
    {
        return Ok(Report::new(
            format!(
                "the batch of {} is complete already: {count} documents, a proof beside each",
                dir.display()
            ),
            json!({"manifest": manifest_path.display().to_string(), "done": "complete already"}),
        ));
    }
    let bad = |what: &str| anyhow!("{} has {what}", manifest_path.display());
    let root = hash_of(&manifest.root).ok_or_else(|| bad("a root that is not a hash"))?;
    let org = crate::names::account(&manifest.org, "the manifest's org")?;
    let (signer, ctx) = Ctx::signed(chain, signer).await?;
    if manifest.contract != ctx.records.to_string() || manifest.chain != hex_of(ctx.genesis()) {
        bail!(
            "{} is a batch of the RecordRegistry {} on chain {}; the deployment's is {} on {} \
             (pass its --deployment)",
            manifest_path.display(),
            manifest.contract,
            manifest.chain,
            ctx.records,
            hex_of(ctx.genesis())
        );
    }
    let leaf_count = u32::try_from(count).map_err(|_| bad("too many documents"))?;
    let finish = |manifest: &mut Manifest, number: u64, hash: [u8; 32]| -> Result<Report> {
        let anchored = medledger_proofs::Anchored {
            block_number: number,
            block_hash: hash,
        };
        write_proofs(dir, manifest, &manifest_path, anchored)?;
        Ok(Report::new(
            format!(
                "the batch of {} landed in block #{number}: a proof beside each of its {count} \
                 documents (*{PROOF_SUFFIX})",
                dir.display()
            ),
            json!({"manifest": manifest_path.display().to_string(), "done": "completed",
                   "block": number, "documents": count}),
        ))
    };
    if let Some(number) = batch_block(&ctx, &org, root).await? {
        let hash = ctx.chain.block_hash(number).await?;
        return finish(&mut manifest, number, hash.0);
    }
    if clear {
        std::fs::remove_file(&manifest_path)
            .map_err(|e| anyhow!("cannot remove {}: {e}", manifest_path.display()))?;
        return Ok(Report::new(
            format!(
                "the batch of {} is not on the chain: {} was removed (a transaction sent in the \
                 last few minutes could still land; anchoring the folder again is then refused \
                 as anchored already)",
                dir.display(),
                manifest_path.display()
            ),
            json!({"manifest": manifest_path.display().to_string(), "done": "cleared"}),
        ));
    }
    if medledger_client::account_of(&signer) != org {
        bail!(
            "the batch of {} did not land, and only {org}, which made it, can send it again (or \
             pass --clear to remove the manifest)",
            dir.display()
        );
    }
    let message = records::anchor_batch(&ctx.records, root, leaf_count);
    let sent = ctx
        .call(&signer, &ctx.records, &message, "anchoring the batch again")
        .await;
    match (sent, batch_block(&ctx, &org, root).await?) {
        (Ok(outcome), _) => finish(&mut manifest, outcome.block_number, outcome.block_hash.0),
        // The first transaction landed meanwhile, and this one was refused.
        (Err(_), Some(number)) => {
            let hash = ctx.chain.block_hash(number).await?;
            finish(&mut manifest, number, hash.0)
        }
        (Err(e), None) => Err(e),
    }
}

/// The block in which `org` anchored `root`, if it did.
async fn batch_block(
    ctx: &Ctx,
    org: &medledger_client::AccountId32,
    root: [u8; 32],
) -> Result<Option<u64>> {
    let found = ctx
        .chain
        .query(
            org,
            &ctx.records,
            &records::verify_batch(&ctx.records, org, root),
        )
        .await?;
    Ok(found.map(|b| u64::from(b.block_number)))
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
            "{} was anchored as a batch already ({MANIFEST} is there; if that batch was left \
             unfinished, `medledger batch resume {}` finishes it)",
            dir.display(),
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
