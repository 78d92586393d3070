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
use crate::report::Report;
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
        /// The record's id (0x-hex), as in its receipt.
        record_id: String,
        /// The new version of the document.
        file: PathBuf,
        /// The receipt of the version before (its category opening carries over).
        #[arg(long, value_name = "RECEIPT")]
        previous: PathBuf,
        /// correction, addendum or other.
        #[arg(long, default_value = "correction")]
        reason: String,
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
            let salt = medledger_proofs::random_salt();
            let receipt = Receipt {
                format: RECEIPT_FORMAT.into(),
                document: files::file_name(&file),
                salt,
                commitment: medledger_proofs::commitment(&salt, &document),
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
            let record_id = names::hash32(&record_id, "RECORD_ID")?;
            let reason = names::amend_reason(&reason)?;
            let before: Receipt = files::read_json(&previous, "receipt")?;
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
            let salt = medledger_proofs::random_salt();
            let patient = medledger_client::to_subxt(&record.patient);
            let receipt = Receipt {
                document: files::file_name(&file),
                salt,
                commitment: medledger_proofs::commitment(&salt, &document),
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
    files::write_new(&path, &receipt)?;
    let outcome = crate::chain::settle(
        ctx.call(signer, &ctx.records, message, doing).await,
        Some(&path),
    )?;
    receipt.anchored = Some(Anchored {
        block_number: outcome.block_number,
        block_hash: outcome.block_hash.0,
    });
    files::replace(&path, &receipt)?;
    Ok((receipt, path, outcome))
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
