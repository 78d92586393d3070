//! `medledger org register|update|suspend|reinstate|show` and `medledger registrar
//! propose|accept`: the registrar's calls, and what the chain says of an organization.

use anyhow::{Result, anyhow};
use clap::{Args, Subcommand};
use medledger_client::consent;
use medledger_events::{FLAG_EMERGENCY, OrgProfile};
use serde_json::{Value, json};

use crate::args::{ApiArgs, ChainArgs, SignerArgs};
use crate::chain::Ctx;
use crate::report::Report;
use crate::{names, orgs};

/// What people recognize an organization by.
#[derive(Args)]
pub struct ProfileArgs {
    /// The name people know it by, e.g. "Riverside Clinic" (1 to 64 bytes).
    #[arg(long)]
    name: String,
    /// hospital, clinic, laboratory, pharmacy, insurer, research, public-health or app.
    #[arg(long)]
    kind: String,
    /// Its US National Provider Identifier (ten digits).
    #[arg(long)]
    npi: Option<String>,
    /// The URL of its FHIR Organization resource.
    #[arg(long)]
    fhir_url: Option<String>,
    /// Another identifier it is known by, as SYSTEM=VALUE (repeatable).
    #[arg(long = "identifier", value_name = "SYSTEM=VALUE")]
    identifiers: Vec<String>,
}

impl ProfileArgs {
    fn profile(&self) -> Result<OrgProfile> {
        names::org_profile(
            &self.name,
            &self.kind,
            self.npi.as_deref(),
            self.fhir_url.as_deref(),
            &self.identifiers,
        )
    }
}

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Register an organization with a role and the name people know it by.
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
        #[command(flatten)]
        profile: ProfileArgs,
    },
    /// Change an organization's name, kind or identifiers (all of them are replaced).
    Update {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        #[command(flatten)]
        api: ApiArgs,
        /// The organization: its registered name, an SS58 address or a dev account.
        #[arg(long)]
        account: String,
        #[command(flatten)]
        profile: ProfileArgs,
    },
    /// Show what the chain holds of an organization: name, kind, identifiers, role, status.
    Show {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        api: ApiArgs,
        /// The organization: its registered name, an SS58 address or a dev account.
        #[arg(long)]
        account: String,
    },
    /// Suspend an organization: its access and writes end at once.
    Suspend {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        #[command(flatten)]
        api: ApiArgs,
        /// The organization: its registered name, an SS58 address or a dev account.
        #[arg(long)]
        account: String,
    },
    /// Reinstate a suspended organization.
    Reinstate {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        #[command(flatten)]
        api: ApiArgs,
        /// The organization: its registered name, an SS58 address or a dev account.
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

/// A profile as JSON: name, kind and identifiers.
fn profile_json(profile: &OrgProfile) -> Value {
    json!({
        "name": profile.name,
        "kind": format!("{:?}", profile.kind),
        "identifiers": profile
            .identifiers
            .iter()
            .map(|i| json!({"system": i.system, "value": i.value}))
            .collect::<Vec<_>>(),
    })
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
            profile,
        } => {
            let role = names::role(&role)?;
            let account = names::account(&account, "--account")?;
            let profile = profile.profile()?;
            let (signer, ctx) = Ctx::signed(&chain, signer).await?;
            let flags = if emergency { FLAG_EMERGENCY } else { 0 };
            let message =
                consent::register_org(&ctx.consent, &account, role, flags, profile.clone());
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
                    "registered {} as {role:?}{}",
                    names::org_label(Some(&profile), &account),
                    if emergency { " (emergency access)" } else { "" }
                ),
                json!({
                    "registered": account.to_string(),
                    "role": format!("{role:?}"),
                    "emergency": emergency,
                    "profile": profile_json(&profile),
                }),
                &outcome,
            ))
        }
        OrgCommand::Update {
            chain,
            signer,
            api,
            account,
            profile,
        } => {
            let profile = profile.profile()?;
            let account = orgs::lookup(&api, &account, "--account").await?;
            let (signer, ctx) = Ctx::signed(&chain, signer).await?;
            let account = orgs::confirm(&ctx, account).await?;
            let before = orgs::profile_of(&ctx, &account).await?;
            let message = consent::update_org(&ctx.consent, &account, profile.clone());
            let outcome = ctx
                .call(&signer, &ctx.consent, &message, "renaming the organization")
                .await?;
            Ok(Report::landed(
                format!(
                    "{} is now {}",
                    names::org_label(before.as_ref(), &account),
                    names::org_label(Some(&profile), &account)
                ),
                json!({"updated": account.to_string(), "profile": profile_json(&profile)}),
                &outcome,
            ))
        }
        OrgCommand::Show {
            chain,
            api,
            account,
        } => {
            let account = orgs::lookup(&api, &account, "--account").await?;
            let ctx = Ctx::connect(&chain).await?;
            let account = orgs::confirm(&ctx, account).await?;
            let org = ctx
                .chain
                .query(
                    &account,
                    &ctx.consent,
                    &consent::org(&ctx.consent, &account),
                )
                .await?
                .ok_or_else(|| anyhow!("{account} is not a registered organization"))?;
            let profile = orgs::profile_of(&ctx, &account).await?;
            let mut lines = vec![format!(
                "{}: {:?}{}, {}",
                names::org_label(profile.as_ref(), &account),
                org.role,
                if org.flags & FLAG_EMERGENCY != 0 {
                    " that may break glass"
                } else {
                    ""
                },
                if org.active { "active" } else { "SUSPENDED" }
            )];
            if let Some(p) = &profile {
                lines.push(format!("kind: {:?}", p.kind));
                lines.extend(
                    p.identifiers
                        .iter()
                        .map(|i| format!("identifier: {} {}", i.system, i.value)),
                );
            }
            lines.push(format!("account: {account}"));
            Ok(Report::new(
                lines.join("\n"),
                json!({
                    "account": account.to_string(),
                    "role": format!("{:?}", org.role),
                    "emergency": org.flags & FLAG_EMERGENCY != 0,
                    "active": org.active,
                    "profile": profile.as_ref().map(profile_json),
                }),
            ))
        }
        OrgCommand::Suspend {
            chain,
            signer,
            api,
            account,
        }
        | OrgCommand::Reinstate {
            chain,
            signer,
            api,
            account,
        } => {
            let account = orgs::lookup(&api, &account, "--account").await?;
            let (signer, ctx) = Ctx::signed(&chain, signer).await?;
            let account = orgs::confirm(&ctx, account).await?;
            let profile = orgs::profile_of(&ctx, &account).await?;
            let (message, doing, done) = if suspend {
                let message = consent::suspend_org(&ctx.consent, &account);
                (message, "suspending the organization", "suspended")
            } else {
                let message = consent::reinstate_org(&ctx.consent, &account);
                (message, "reinstating the organization", "reinstated")
            };
            let outcome = ctx.call(&signer, &ctx.consent, &message, doing).await?;
            Ok(Report::landed(
                format!("{done} {}", names::org_label(profile.as_ref(), &account)),
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
