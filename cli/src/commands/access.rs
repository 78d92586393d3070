//! `medledger access record`: an organization declares that it used a patient's data; the
//! chain logs it as recorded when the patient's consents allow it, else as denied (the
//! patient's alert).

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use medledger_client::records::{self, NamedRecord};
use medledger_proofs::Receipt;
use serde_json::json;

use crate::args::{ChainArgs, SignerArgs};
use crate::chain::Ctx;
use crate::report::{Report, exit};
use crate::{files, names};

#[derive(Subcommand)]
pub enum AccessCommand {
    /// Declare an access to a patient's data.
    Record {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        #[arg(long)]
        patient: String,
        /// The categories used, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        categories: Vec<String>,
        #[arg(long, default_value = "treatment")]
        purpose: String,
        /// The receipt of the record used: the access names the record. Its category opening
        /// stays with the receipt holder, but the --categories declared beside it are public:
        /// naming a record tells everyone its category as declared.
        #[arg(long, value_name = "RECEIPT")]
        receipt: Option<PathBuf>,
    },
}

pub async fn run(command: AccessCommand) -> Result<Report> {
    let AccessCommand::Record {
        chain,
        signer,
        patient,
        categories,
        purpose,
        receipt,
    } = command;
    let patient = names::account(&patient, "--patient")?;
    let set = names::categories(&categories)?;
    let purpose = names::purpose(&purpose)?;
    let named = match &receipt {
        Some(path) => {
            let r: Receipt = files::read_json(path, "receipt")?;
            Some(NamedRecord {
                custodian: names::account(&r.custodian, "the receipt's custodian")?,
                record_id: r.record_id,
            })
        }
        None => None,
    };
    let (signer, ctx) = Ctx::signed(&chain, signer).await?;
    let message = records::record_access(&ctx.records, &patient, set, purpose, named.as_ref());
    let outcome = ctx
        .call(&signer, &ctx.records, &message, "recording the access")
        .await?;
    let recorded = crate::chain::events_of::<medledger_events::AccessRecorded>(&outcome);
    let allowed = !recorded.is_empty();
    let emergency = recorded.first().is_some_and(|r| r.emergency);
    let human = match (allowed, emergency) {
        (true, false) => format!("access to {patient}'s data recorded: the consents allow it"),
        (true, true) => format!("access to {patient}'s data recorded under an emergency window"),
        (false, _) => format!(
            "access to {patient}'s data logged as DENIED: no consent in force covers it; the patient is alerted"
        ),
    };
    let report = Report::landed(
        human,
        json!({
            "patient": patient.to_string(),
            "categories": names::category_names(set),
            "allowed": allowed,
            "emergency": emergency,
        }),
        &outcome,
    );
    // A denied access is logged, but it is not what the caller wanted: say so to scripts.
    Ok(if allowed {
        report
    } else {
        report.with_code(exit::REFUSED)
    })
}
