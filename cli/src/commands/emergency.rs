//! `medledger emergency open|end|block`: a provider breaks glass; the patient (or a
//! delegate) ends the window or blocks the provider.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use medledger_client::consent;
use medledger_events::EmergencyAccessOpened;
use serde_json::json;

use crate::args::{ApiArgs, ChainArgs, SignerArgs};
use crate::chain::{Ctx, event_of};
use crate::report::Report;
use crate::{files, names, orgs};

#[derive(Subcommand)]
pub enum EmergencyCommand {
    /// Break the glass: read access to a patient's non-sensitive data for treatment, for the
    /// policy's window (providers allowed emergency access only). The patient is alerted.
    Open {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        #[arg(long)]
        patient: String,
        /// patient-incapacitated, life-threatening or other.
        #[arg(long)]
        reason: String,
        /// The written justification: its salted commitment goes on chain, its salt to
        /// FILE.justification.json.
        #[arg(long, value_name = "FILE")]
        justification: Option<PathBuf>,
    },
    /// End a provider's open emergency window now.
    End {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        #[command(flatten)]
        api: ApiArgs,
        /// The provider: its registered name (looked up through the API and confirmed on
        /// chain), an SS58 address or a dev account.
        #[arg(long)]
        provider: String,
        /// End it for this patient, as their delegate.
        #[arg(long = "for", value_name = "PATIENT")]
        for_patient: Option<String>,
    },
    /// Forbid (or, with --unblock, allow again) a provider to break glass on you.
    Block {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        #[command(flatten)]
        api: ApiArgs,
        /// The provider: its registered name (looked up through the API and confirmed on
        /// chain), an SS58 address or a dev account.
        #[arg(long)]
        provider: String,
        /// Allow the provider again.
        #[arg(long)]
        unblock: bool,
        /// For this patient, as their delegate.
        #[arg(long = "for", value_name = "PATIENT")]
        for_patient: Option<String>,
    },
}

pub async fn run(command: EmergencyCommand) -> Result<Report> {
    match command {
        EmergencyCommand::Open {
            chain,
            signer,
            patient,
            reason,
            justification,
        } => {
            let patient = names::account(&patient, "--patient")?;
            let reason = names::emergency_reason(&reason)?;
            let justification = justification
                .map(|file| Ok::<_, anyhow::Error>((files::read_document(&file)?, file)))
                .transpose()?;
            let (signer, ctx) = Ctx::signed(&chain, signer).await?;
            let (hash, sidecar) = match &justification {
                Some((document, file)) => {
                    let (hash, sidecar) = files::salted_sidecar(
                        file,
                        document,
                        ".justification.json",
                        "justification_hash",
                        medledger_proofs::terms_commitment,
                    )?;
                    (hash, Some(sidecar))
                }
                None => ([0; 32], None),
            };
            let message = consent::break_glass(&ctx.consent, &patient, reason, hash);
            let outcome = ctx
                .call(&signer, &ctx.consent, &message, "opening emergency access")
                .await;
            let outcome = crate::chain::settle(outcome, sidecar.as_deref())?;
            let opened: EmergencyAccessOpened = event_of(&outcome)?;
            Ok(Report::landed(
                format!(
                    "emergency access to {patient} open until {} ({reason:?}); the patient is alerted",
                    names::time(opened.ends_at)
                ),
                json!({
                    "patient": patient.to_string(),
                    "reason": format!("{reason:?}"),
                    "ends_at": names::time(opened.ends_at),
                    "justification_hash": files::hex_of(hash),
                }),
                &outcome,
            ))
        }
        EmergencyCommand::End {
            chain,
            signer,
            api,
            provider,
            for_patient,
        } => {
            let patient = names::optional_account(for_patient.as_deref(), "--for")?;
            let provider = orgs::lookup(&api, &provider, "--provider").await?;
            let (signer, ctx) = Ctx::signed(&chain, signer).await?;
            let provider = orgs::confirm(&ctx, provider).await?;
            let patient = patient.unwrap_or_else(|| medledger_client::account_of(&signer));
            let message = consent::end_emergency(&ctx.consent, &patient, &provider);
            let outcome = ctx
                .call(
                    &signer,
                    &ctx.consent,
                    &message,
                    "ending the emergency window",
                )
                .await?;
            Ok(Report::landed(
                format!(
                    "ended the emergency window of {}",
                    orgs::label(&ctx, &provider).await
                ),
                json!({"ended": provider.to_string()}),
                &outcome,
            ))
        }
        EmergencyCommand::Block {
            chain,
            signer,
            api,
            provider,
            unblock,
            for_patient,
        } => {
            let patient = names::optional_account(for_patient.as_deref(), "--for")?;
            let provider = orgs::lookup(&api, &provider, "--provider").await?;
            let (signer, ctx) = Ctx::signed(&chain, signer).await?;
            let provider = orgs::confirm(&ctx, provider).await?;
            let blocked = !unblock;
            let patient = patient.unwrap_or_else(|| medledger_client::account_of(&signer));
            let message = consent::set_emergency_block(&ctx.consent, &patient, &provider, blocked);
            let outcome = ctx
                .call(
                    &signer,
                    &ctx.consent,
                    &message,
                    "changing the emergency block",
                )
                .await?;
            let who = orgs::label(&ctx, &provider).await;
            Ok(Report::landed(
                if blocked {
                    format!("{who} may not break glass on you any more")
                } else {
                    format!("{who} may break glass again")
                },
                json!({"provider": provider.to_string(), "blocked": blocked}),
                &outcome,
            ))
        }
    }
}
