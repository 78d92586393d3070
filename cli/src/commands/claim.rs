//! `medledger claim attest`: an insurer attests that a claim's documents are exactly the
//! anchored ones. Each document is checked against its receipt here first; the chain then
//! checks consent and anchoring, and signals documents an earlier claim already used.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Subcommand;
use medledger_client::records;
use medledger_events::{ClaimAttested, ClaimOverlap, ClaimReuse, DuplicateClaimUse};
use medledger_proofs::Receipt;
use serde_json::json;

use crate::args::{ChainArgs, SignerArgs};
use crate::chain::{Ctx, event_of, events_of};
use crate::files::{self, hex_of};
use crate::report::Report;
use crate::{names, orgs};

#[derive(Subcommand)]
pub enum ClaimCommand {
    /// Attest a claim on documents, each with its receipt beside it (FILE.medledger.json).
    Attest {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        /// Your claim number (only its hash goes on chain, see docs/proofs.md), or a 0x-hex
        /// 32-byte claim reference.
        #[arg(long)]
        claim_ref: String,
        /// Whose claim.
        #[arg(long)]
        patient: String,
        /// The claim's documents (at most 32).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

pub async fn run(command: ClaimCommand) -> Result<Report> {
    let ClaimCommand::Attest {
        chain,
        signer,
        claim_ref,
        patient,
        files: documents,
    } = command;
    let patient = names::account(&patient, "--patient")?;
    // A 0x value is a reference as such and must be one; anything else is a claim number.
    let reference = if claim_ref.trim().starts_with("0x") {
        names::hash32(&claim_ref, "--claim-ref")?
    } else {
        medledger_proofs::claim_reference(&claim_ref)
    };
    let mut named = Vec::with_capacity(documents.len());
    for file in &documents {
        let receipt_path = files::beside(file, super::record::RECEIPT_SUFFIX);
        let receipt: Receipt = files::read_json(&receipt_path, "receipt")?;
        if !receipt.matches(&files::read_document(file)?) {
            bail!(
                "{} does not match its receipt {}: it is not the anchored document",
                file.display(),
                receipt_path.display()
            );
        }
        if names::account(&receipt.patient, "the receipt's patient")? != patient {
            bail!(
                "{} is a record of {}, not of the claim's patient {patient}",
                file.display(),
                receipt.patient
            );
        }
        let custodian = names::account(&receipt.custodian, "the receipt's custodian")?;
        named.push((custodian, receipt.commitment));
    }
    let (signer, ctx) = Ctx::signed(&chain, signer).await?;
    let message = records::attest_claim(&ctx.records, reference, &patient, &named);
    let outcome = ctx
        .call(&signer, &ctx.records, &message, "attesting the claim")
        .await?;
    let attested: ClaimAttested = event_of(&outcome)?;
    let duplicates: Vec<DuplicateClaimUse> = events_of(&outcome);
    let mut human = format!(
        "attested claim {claim_ref} ({}) of {patient} on {} document(s), {}",
        hex_of(reference),
        named.len(),
        if attested.all_current {
            "all current"
        } else {
            "NOT all current: a document was superseded by an amendment"
        }
    );
    for d in &duplicates {
        let first_insurer = medledger_client::to_subxt(&d.first_insurer);
        let first_insurer = orgs::label(&ctx, &first_insurer).await;
        let what = match d.overlap {
            ClaimOverlap::SameDocument => "document",
            ClaimOverlap::SameRecord => "another version of the record of document",
        };
        human.push_str(&match d.reuse {
            ClaimReuse::SameInsurer => format!(
                "\nDUPLICATE USE: {what} {} was already claimed by this insurer, in claim {}",
                files::hex_of(d.commitment),
                files::hex_of(d.first_claim_ref),
            ),
            ClaimReuse::OtherInsurer => format!(
                "\nSHARED WITH ANOTHER PAYER: {what} {} was first claimed by insurer {} in \
                 claim {} (coordination of benefits, or that payer claimed it first)",
                files::hex_of(d.commitment),
                first_insurer,
                files::hex_of(d.first_claim_ref),
            ),
        });
    }
    Ok(Report::landed(
        human,
        json!({
            "claim_ref": hex_of(reference),
            "patient": patient.to_string(),
            "documents": named.len(),
            "all_current": attested.all_current,
            "duplicate_uses": duplicates.iter().map(|d| json!({
                "commitment": files::hex_of(d.commitment),
                "first_claim_ref": files::hex_of(d.first_claim_ref),
                "first_insurer": medledger_client::to_subxt(&d.first_insurer).to_string(),
                "reuse": format!("{:?}", d.reuse),
                "overlap": format!("{:?}", d.overlap),
            })).collect::<Vec<_>>(),
        }),
        &outcome,
    ))
}
