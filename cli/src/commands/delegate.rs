//! `medledger delegate set|remove`: who may manage the signer's consents (a guardian, a
//! proxy), always until a date.

use anyhow::Result;
use clap::Subcommand;
use medledger_client::consent;
use serde_json::json;

use crate::args::{ChainArgs, SignerArgs};
use crate::chain::Ctx;
use crate::names;
use crate::report::Report;

#[derive(Subcommand)]
pub enum DelegateCommand {
    /// Let an account manage your consents and emergency windows until a date.
    Set {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        /// The delegate's account.
        #[arg(long)]
        delegate: String,
        /// When the delegation ends: RFC 3339 time (at most the registrar's policy away).
        #[arg(long)]
        expires_at: String,
    },
    /// End a delegation now; what the delegate granted ends with it.
    Remove {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        #[arg(long)]
        delegate: String,
    },
}

pub async fn run(command: DelegateCommand) -> Result<Report> {
    match command {
        DelegateCommand::Set {
            chain,
            signer,
            delegate,
            expires_at,
        } => {
            let delegate = names::account(&delegate, "--delegate")?;
            let expires = names::millis(&expires_at, "--expires-at")?;
            let (signer, ctx) = Ctx::signed(&chain, signer).await?;
            let message = consent::set_delegate(&ctx.consent, &delegate, expires);
            let outcome = ctx
                .call(&signer, &ctx.consent, &message, "setting the delegate")
                .await?;
            Ok(Report::landed(
                format!(
                    "{delegate} manages your consents until {}",
                    names::time(expires)
                ),
                json!({"delegate": delegate.to_string(), "expires_at": names::time(expires)}),
                &outcome,
            ))
        }
        DelegateCommand::Remove {
            chain,
            signer,
            delegate,
        } => {
            let delegate = names::account(&delegate, "--delegate")?;
            let (signer, ctx) = Ctx::signed(&chain, signer).await?;
            let message = consent::remove_delegate(&ctx.consent, &delegate);
            let outcome = ctx
                .call(&signer, &ctx.consent, &message, "removing the delegate")
                .await?;
            Ok(Report::landed(
                format!("{delegate} no longer manages your consents"),
                json!({"removed": delegate.to_string()}),
                &outcome,
            ))
        }
    }
}
