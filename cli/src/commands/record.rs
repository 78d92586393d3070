//! `medledger record anchor|amend`: a record's salted commitment on chain, and its receipt
//! (`FILE.medledger.json`) beside the file. The receipt is written before the transaction is
//! sent, so that a crash can never lose the salt; it is removed again when the call fails.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use clap::Subcommand;
use medledger_client::records;
use medledger_events::{RecordAmended, RecordAnchored};
use medledger_proofs::{Anchored, RECEIPT_FORMAT, Receipt};
use serde_json::json;

use crate::args::{ChainArgs, SignerArgs};
use crate::chain::{Ctx, event_of};
use crate::report::{Refused, Report};
use crate::{files, names};

/// The receipt beside a document.
pub const RECEIPT_SUFFIX: &str = ".medledger.json";

#[derive(Subcommand)]
pub enum RecordCommand {
    /// Anchor version 1 of a record: a fresh salt, the commitment on chain, and a receipt
    /// FILE.medledger.json (keep it with the file: it proves the document and its category).
    Anchor {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        /// Whose record it is.
        #[arg(long)]
        patient: String,
        /// The record's category (e.g. lab-results); never on chain in the clear.
        #[arg(long)]
        category: String,
        /// Your id for the record (0x-hex, 32 bytes); default: a random one.
        #[arg(long)]
        record_id: Option<String>,
        /// The document.
        file: PathBuf,
    },
    /// Anchor the next version of a record you anchored; the previous one is superseded.
    Amend {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        /// The record's id (0x-hex); default: the one in the previous version's receipt.
        #[arg(long)]
        record_id: Option<String>,
        /// The new version of the document.
        file: PathBuf,
        /// The receipt of the version before (its category opening carries over).
        #[arg(long, value_name = "RECEIPT")]
        previous: PathBuf,
        /// correction, addendum or other.
        #[arg(long, default_value = "correction")]
        reason: String,
    },
    /// Finish a receipt left unfinished by an interruption, a crash or a finality timeout:
    /// when its anchoring landed, the receipt is completed; when it did not, it is sent again
    /// (or, with --clear, the receipt is removed).
    Resume {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        /// Remove the receipt instead of sending its anchoring again, when it did not land.
        #[arg(long)]
        clear: bool,
        /// For an amendment sent again: correction, addendum or other.
        #[arg(long, default_value = "correction")]
        reason: String,
        /// The document (or its receipt, FILE.medledger.json).
        file: PathBuf,
    },
}

pub async fn run(command: RecordCommand) -> Result<Report> {
    match command {
        RecordCommand::Anchor {
            chain,
            signer,
            patient,
            category,
            record_id,
            file,
        } => {
            let patient = names::account(&patient, "--patient")?;
            let category = names::category(&category)?;
            let record_id = match record_id {
                Some(id) => names::hash32(&id, "--record-id")?,
                None => medledger_proofs::random_salt(),
            };
            let document = files::read_document(&file)?;
            let (signer, ctx) = Ctx::signed(&chain, signer).await?;
            let custodian = medledger_client::account_of(&signer);
            let salt = document_salt(&signer, &patient, &document);
            let commitment = medledger_proofs::commitment(&salt, &document);
            refuse_anchored_again(&ctx, &custodian, commitment, &file).await?;
            let receipt = Receipt {
                format: RECEIPT_FORMAT.into(),
                document: files::file_name(&file),
                salt,
                commitment,
                category: format!("{category:?}"),
                category_index: category.index(),
                category_salt: medledger_proofs::random_salt(),
                record_id,
                version: 1,
                patient: patient.to_string(),
                custodian: custodian.to_string(),
                contract: ctx.records.to_string(),
                chain: ctx.genesis(),
                anchored: None,
            };
            let message = records::anchor(
                &ctx.records,
                &patient,
                record_id,
                receipt.commitment,
                receipt.category_commitment(),
            );
            let (receipt, path, outcome) = send_with_receipt(
                &ctx,
                &signer,
                &file,
                receipt,
                &message,
                "anchoring the record",
            )
            .await?;
            let anchored: RecordAnchored = event_of(&outcome)?;
            Ok(Report::landed(
                format!(
                    "anchored {} as version {} of record {} of {patient}; receipt: {}",
                    file.display(),
                    anchored.version,
                    files::hex_of(record_id),
                    path.display()
                ),
                receipt_json(&receipt, &path),
                &outcome,
            ))
        }
        RecordCommand::Amend {
            chain,
            signer,
            record_id,
            file,
            previous,
            reason,
        } => {
            let reason = names::amend_reason(&reason)?;
            let given = record_id
                .map(|id| names::hash32(&id, "--record-id"))
                .transpose()?;
            let before: Receipt = files::read_json(&previous, "receipt")?;
            let record_id = given.unwrap_or(before.record_id);
            if before.record_id != record_id {
                bail!(
                    "{} is the receipt of record {}, not {}",
                    previous.display(),
                    files::hex_of(before.record_id),
                    files::hex_of(record_id)
                );
            }
            let document = files::read_document(&file)?;
            let (signer, ctx) = Ctx::signed(&chain, signer).await?;
            let custodian = medledger_client::account_of(&signer);
            let record = ctx
                .chain
                .query(&custodian, &ctx.records, &records::record(&ctx.records, &custodian, record_id))
                .await?
                .ok_or_else(|| {
                    anyhow!(
                        "the signer {custodian} anchored no record {}: only a record's custodian may amend it",
                        files::hex_of(record_id)
                    )
                })?;
            if record.category_commitment.as_ref() != &before.category_commitment()[..] {
                bail!(
                    "{} does not open the category of record {}",
                    previous.display(),
                    files::hex_of(record_id)
                );
            }
            let patient = medledger_client::to_subxt(&record.patient);
            let salt = document_salt(&signer, &patient, &document);
            let commitment = medledger_proofs::commitment(&salt, &document);
            refuse_anchored_again(&ctx, &custodian, commitment, &file).await?;
            let receipt = Receipt {
                document: files::file_name(&file),
                salt,
                commitment,
                version: record.latest_version.saturating_add(1),
                patient: patient.to_string(),
                custodian: custodian.to_string(),
                contract: ctx.records.to_string(),
                chain: ctx.genesis(),
                anchored: None,
                ..before
            };
            let message = records::amend(&ctx.records, record_id, receipt.commitment, reason);
            let (mut receipt, path, outcome) = send_with_receipt(
                &ctx,
                &signer,
                &file,
                receipt,
                &message,
                "amending the record",
            )
            .await?;
            let amended: RecordAmended = event_of(&outcome)?;
            // Another amendment may have landed in between: the chain's number is the one.
            if amended.version != receipt.version {
                receipt.version = amended.version;
                files::replace(&path, &receipt)?;
            }
            Ok(Report::landed(
                format!(
                    "anchored {} as version {} of record {} ({reason:?}); version {} is superseded; receipt: {}",
                    file.display(),
                    amended.version,
                    files::hex_of(record_id),
                    amended.version.saturating_sub(1),
                    path.display()
                ),
                receipt_json(&receipt, &path),
                &outcome,
            ))
        }
        RecordCommand::Resume {
            chain,
            signer,
            clear,
            reason,
            file,
        } => resume(&chain, signer, clear, &reason, &file).await,
    }
}

/// The salt of `document` of `patient` under the signer's salt key: the same document gets
/// the same salt, so it cannot be anchored twice as two documents.
fn document_salt(
    signer: &medledger_client::Keypair,
    patient: &medledger_client::AccountId32,
    document: &[u8],
) -> [u8; 32] {
    medledger_proofs::document_salt(&crate::keys::salt_key(signer), &patient.0, document)
}

/// Refuses, before anything is written or sent, a document the signer already anchored:
/// saying which record and version it is rather than leaving it to the contract's
/// `CommitmentExists`.
async fn refuse_anchored_again(
    ctx: &Ctx,
    custodian: &medledger_client::AccountId32,
    commitment: [u8; 32],
    file: &Path,
) -> Result<()> {
    let anchored = ctx
        .chain
        .query(
            custodian,
            &ctx.records,
            &records::verify(&ctx.records, custodian, commitment),
        )
        .await?;
    match anchored {
        Some(info) => Err(Refused(format!(
            "{} is already anchored by the signer, as version {} of record {} of {}: the same \
             document cannot be anchored twice (amend the record with a changed document instead)",
            file.display(),
            info.version,
            files::hex_of(info.record_id),
            medledger_client::to_subxt(&info.patient)
        ))
        .into()),
        None => Ok(()),
    }
}

/// Writes `receipt` (pending) beside `file`, sends `message`, and completes the receipt with
/// where it landed, or removes it when the call failed and cannot land (`chain::settle`).
async fn send_with_receipt<E: medledger_client::ContractError>(
    ctx: &Ctx,
    signer: &medledger_client::Keypair,
    file: &Path,
    mut receipt: Receipt,
    message: &medledger_client::Message<Result<(), E>>,
    doing: &str,
) -> Result<(Receipt, PathBuf, medledger_client::CallOutcome)> {
    let path = files::beside(file, RECEIPT_SUFFIX);
    if let Ok(left) = files::read_json::<Receipt>(&path, "receipt")
        && left.anchored.is_none()
    {
        bail!(
            "{} is the unfinished receipt of an anchoring that was interrupted: `medledger \
             record resume {}` finishes it (or --clear removes it)",
            path.display(),
            file.display()
        );
    }
    files::write_new(&path, &receipt)?;
    crate::interrupt::pending(&path, format!("medledger record resume {}", file.display()));
    let outcome = crate::chain::settle(
        ctx.call(signer, &ctx.records, message, doing).await,
        Some(&path),
    )?;
    receipt.anchored = Some(Anchored {
        block_number: outcome.block_number,
        block_hash: outcome.block_hash.0,
    });
    files::replace(&path, &receipt)?;
    crate::interrupt::settled();
    Ok((receipt, path, outcome))
}

/// `record resume`: finds out whether the receipt's anchoring landed, and completes the
/// receipt, sends the anchoring again, or (`clear`) removes the receipt.
async fn resume(
    chain: &ChainArgs,
    signer: SignerArgs,
    clear: bool,
    reason: &str,
    file: &Path,
) -> Result<Report> {
    let path = if file.to_string_lossy().ends_with(RECEIPT_SUFFIX) {
        file.to_path_buf()
    } else {
        files::beside(file, RECEIPT_SUFFIX)
    };
    let mut receipt: Receipt = files::read_json(&path, "receipt")?;
    if let Some(a) = &receipt.anchored {
        return Ok(Report::new(
            format!(
                "{} is complete already: version {} of record {}, anchored in block #{}",
                path.display(),
                receipt.version,
                files::hex_of(receipt.record_id),
                a.block_number
            ),
            json!({"receipt": path.display().to_string(), "done": "complete already",
                   "block": a.block_number}),
        ));
    }
    let reason = names::amend_reason(reason)?;
    let custodian = names::account(&receipt.custodian, "the receipt's custodian")?;
    let patient = names::account(&receipt.patient, "the receipt's patient")?;
    // Only the custodian can send it again; reading needs no key, but asking for one first
    // keeps the command's shape simple: `--suri`/`--key-file` as when it was sent.
    let (signer, ctx) = Ctx::signed(chain, signer).await?;
    if receipt.contract != ctx.records.to_string() || receipt.chain != ctx.genesis() {
        bail!(
            "{} is a receipt of the RecordRegistry {} on chain {}; the deployment's is {} on {} \
             (pass its --deployment)",
            path.display(),
            receipt.contract,
            files::hex_of(receipt.chain),
            ctx.records,
            files::hex_of(ctx.genesis())
        );
    }
    if let Some(done) = landed(&ctx, &custodian, &mut receipt, &path).await? {
        return Ok(done);
    }
    if clear {
        std::fs::remove_file(&path)
            .map_err(|e| anyhow!("cannot remove {}: {e}", path.display()))?;
        return Ok(Report::new(
            format!(
                "{}'s anchoring is not on the chain: the receipt {} was removed (nothing was \
                 anchored; a transaction sent in the last few minutes could still land, and \
                 `medledger verify` would then find the document without its receipt)",
                file.display(),
                path.display()
            ),
            json!({"receipt": path.display().to_string(), "done": "cleared"}),
        ));
    }
    if medledger_client::account_of(&signer) != custodian {
        bail!(
            "the anchoring of {} did not land, and only its custodian {custodian} can send it \
             again (sign as the custodian, or pass --clear to remove the receipt)",
            path.display()
        );
    }
    let sent = if receipt.version <= 1 {
        let message = records::anchor(
            &ctx.records,
            &patient,
            receipt.record_id,
            receipt.commitment,
            receipt.category_commitment(),
        );
        ctx.call(
            &signer,
            &ctx.records,
            &message,
            "anchoring the record again",
        )
        .await
    } else {
        let message = records::amend(&ctx.records, receipt.record_id, receipt.commitment, reason);
        ctx.call(&signer, &ctx.records, &message, "amending the record again")
            .await
    };
    match sent {
        Ok(_) => {}
        // The first transaction may have landed meanwhile, and this one been refused.
        Err(e) => {
            if let Some(done) = landed(&ctx, &custodian, &mut receipt, &path).await? {
                return Ok(done);
            }
            return Err(e);
        }
    }
    match landed(&ctx, &custodian, &mut receipt, &path).await? {
        Some(done) => Ok(done),
        None => bail!(
            "the anchoring of {} was sent again and finalized, but the chain does not have it",
            path.display()
        ),
    }
}

/// When the receipt's anchoring is on the chain, completes the receipt and says so.
async fn landed(
    ctx: &Ctx,
    custodian: &medledger_client::AccountId32,
    receipt: &mut Receipt,
    path: &Path,
) -> Result<Option<Report>> {
    let found = ctx
        .chain
        .query(
            custodian,
            &ctx.records,
            &records::verify(&ctx.records, custodian, receipt.commitment),
        )
        .await?;
    let Some(info) = found else {
        return Ok(None);
    };
    if info.record_id.as_ref() != &receipt.record_id[..] {
        bail!(
            "the document of {} is anchored, but as record {}, not the receipt's {}",
            path.display(),
            files::hex_of(info.record_id),
            files::hex_of(receipt.record_id)
        );
    }
    let number = u64::from(info.block_number);
    let hash = ctx.chain.block_hash(number).await?;
    receipt.version = info.version;
    receipt.anchored = Some(Anchored {
        block_number: number,
        block_hash: hash.0,
    });
    files::replace(path, receipt)?;
    Ok(Some(Report::new(
        format!(
            "the anchoring landed in block #{number}: {} is complete (version {} of record {})",
            path.display(),
            info.version,
            files::hex_of(info.record_id)
        ),
        json!({"receipt": path.display().to_string(), "done": "completed", "block": number,
               "version": info.version, "record_id": files::hex_of(info.record_id)}),
    )))
}

fn receipt_json(receipt: &Receipt, path: &Path) -> serde_json::Value {
    json!({
        "receipt": path.display().to_string(),
        "record_id": files::hex_of(receipt.record_id),
        "version": receipt.version,
        "commitment": files::hex_of(receipt.commitment),
        "patient": receipt.patient,
        "custodian": receipt.custodian,
    })
}
