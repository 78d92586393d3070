//! `medledger org register|suspend|reinstate` and `medledger registrar propose|accept`: the
//! registrar's calls.

use anyhow::Result;
use clap::Subcommand;
use medledger_client::consent;
use medledger_events::FLAG_EMERGENCY;
use serde_json::json;

use crate::args::{ChainArgs, SignerArgs};
use crate::chain::Ctx;
use crate::names;
use crate::report::Report;

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Register an organization with a role.
    Register {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        /// The organization's account.
        #[arg(long)]
        account: String,
        /// provider, insurer, researcher, auditor or app.
        #[arg(long)]
        role: String,
        /// May open emergency access windows (providers).
        #[arg(long)]
        emergency: bool,
    },
    /// Suspend an organization: its access and writes end at once.
    Suspend {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        #[arg(long)]
        account: String,
    },
    /// Reinstate a suspended organization.
    Reinstate {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        #[arg(long)]
        account: String,
    },
}

#[derive(Subcommand)]
pub enum RegistrarCommand {
    /// Propose an account as the next registrar (signed by the registrar).
    Propose {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        #[arg(long)]
        account: String,
    },
    /// Accept the registrar role proposed to the signer.
    Accept {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
    },
}

pub async fn run(command: OrgCommand) -> Result<Report> {
    let suspend = matches!(command, OrgCommand::Suspend { .. });
    match command {
        OrgCommand::Register {
            chain,
            signer,
            account,
            role,
            emergency,
        } => {
            let role = names::role(&role)?;
            let account = names::account(&account, "--account")?;
            let (signer, ctx) = Ctx::signed(&chain, signer).await?;
            let flags = if emergency { FLAG_EMERGENCY } else { 0 };
            let message = consent::register_org(&ctx.consent, &account, role, flags);
            let outcome = ctx
                .call(
                    &signer,
                    &ctx.consent,
                    &message,
                    "registering the organization",
                )
                .await?;
            Ok(Report::landed(
                format!(
                    "registered {account} as {role:?}{}",
                    if emergency { " (emergency access)" } else { "" }
                ),
                json!({"registered": account.to_string(), "role": format!("{role:?}"), "emergency": emergency}),
                &outcome,
            ))
        }
        OrgCommand::Suspend {
            chain,
            signer,
            account,
        }
        | OrgCommand::Reinstate {
            chain,
            signer,
            account,
        } => {
            let account = names::account(&account, "--account")?;
            let (signer, ctx) = Ctx::signed(&chain, signer).await?;
            let (message, doing, done) = if suspend {
                let message = consent::suspend_org(&ctx.consent, &account);
                (message, "suspending the organization", "suspended")
            } else {
                let message = consent::reinstate_org(&ctx.consent, &account);
                (message, "reinstating the organization", "reinstated")
            };
            let outcome = ctx.call(&signer, &ctx.consent, &message, doing).await?;
            Ok(Report::landed(
                format!("{done} {account}"),
                json!({ done: account.to_string() }),
                &outcome,
            ))
        }
    }
}

pub async fn run_registrar(command: RegistrarCommand) -> Result<Report> {
    match command {
        RegistrarCommand::Propose {
            chain,
            signer,
            account,
        } => {
            let account = names::account(&account, "--account")?;
            let (signer, ctx) = Ctx::signed(&chain, signer).await?;
            let message = consent::propose_registrar(&ctx.consent, &account);
            let outcome = ctx
                .call(&signer, &ctx.consent, &message, "proposing the registrar")
                .await?;
            Ok(Report::landed(
                format!("proposed {account} as the next registrar; it must accept"),
                json!({"proposed": account.to_string()}),
                &outcome,
            ))
        }
        RegistrarCommand::Accept { chain, signer } => {
            let (signer, ctx) = Ctx::signed(&chain, signer).await?;
            let me = medledger_client::account_of(&signer);
            let message = consent::accept_registrar(&ctx.consent);
            let outcome = ctx
                .call(
                    &signer,
                    &ctx.consent,
                    &message,
                    "accepting the registrar role",
                )
                .await?;
            Ok(Report::landed(
                format!("{me} is the registrar now"),
                json!({"registrar": me.to_string()}),
                &outcome,
            ))
        }
    }
}
