//! `medledger consent grant|revoke|list|check`: a patient's (or a delegate's) consents.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use medledger_client::{AccountId32, consent};
use medledger_events::{ConsentGranted, ConsentRevoked};
use serde_json::{Value, json};

use crate::api;
use crate::args::{ApiArgs, ChainArgs, SignerArgs};
use crate::chain::{Ctx, event_of};
use crate::files;
use crate::names;
use crate::orgs;
use crate::report::Report;

#[derive(Args, Clone)]
pub struct ScopeArgs {
    /// Data categories, comma-separated (e.g. lab-results,imaging).
    #[arg(long, value_delimiter = ',', required = true)]
    pub categories: Vec<String>,
    /// Purposes of use, comma-separated (e.g. treatment,payment).
    #[arg(long, value_delimiter = ',', default_value = "treatment")]
    pub purposes: Vec<String>,
    /// read, write, or read,write.
    #[arg(long, value_delimiter = ',', default_value = "read")]
    pub access: Vec<String>,
}

#[derive(Subcommand)]
pub enum ConsentCommand {
    /// Grant (or replace) your consent to a registered organization.
    Grant {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        #[command(flatten)]
        api: ApiArgs,
        /// The organization: its registered name (e.g. "Riverside Clinic", looked up through
        /// the API and confirmed on chain), an SS58 address or a dev account.
        #[arg(long)]
        grantee: String,
        #[command(flatten)]
        scope: ScopeArgs,
        /// Start of validity: RFC 3339 time (default: now).
        #[arg(long)]
        valid_from: Option<String>,
        /// End of validity: RFC 3339 time (default: none; required for a delegate).
        #[arg(long)]
        expires_at: Option<String>,
        /// The signed consent document: its salted commitment (a fresh salt, see
        /// medledger-proofs) becomes the terms hash, and FILE.terms.json keeps the salt to
        /// prove it later.
        #[arg(long, value_name = "FILE", conflicts_with = "terms_hash")]
        terms: Option<PathBuf>,
        /// A salted terms commitment computed elsewhere (0x-hex); never a plain hash of a
        /// standard form, which would tell which form was signed.
        #[arg(long)]
        terms_hash: Option<String>,
        /// Grant for this patient, as their delegate.
        #[arg(long = "for", value_name = "PATIENT")]
        for_patient: Option<String>,
    },
    /// Revoke your consent to an organization, at once.
    Revoke {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        #[command(flatten)]
        api: ApiArgs,
        /// The organization: its registered name (e.g. "Riverside Clinic", looked up through
        /// the API and confirmed on chain), an SS58 address or a dev account.
        #[arg(long)]
        grantee: String,
        /// Revoke for this patient, as their delegate.
        #[arg(long = "for", value_name = "PATIENT")]
        for_patient: Option<String>,
    },
    /// List a patient's consents with their status at the mirror's chain time (from the API).
    List {
        #[command(flatten)]
        api: ApiArgs,
        /// Whose consents.
        #[arg(long)]
        patient: String,
    },
    /// Ask the chain whether a grantee may use a patient's data now.
    Check {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        api: ApiArgs,
        #[arg(long)]
        patient: String,
        /// The organization: its registered name, an SS58 address or a dev account.
        #[arg(long)]
        grantee: String,
        #[arg(long)]
        category: String,
        #[arg(long, default_value = "treatment")]
        purpose: String,
        #[arg(long, default_value = "read")]
        access: String,
    },
}

pub async fn run(command: ConsentCommand) -> Result<Report> {
    match command {
        ConsentCommand::Grant {
            chain,
            signer,
            api,
            grantee,
            scope,
            valid_from,
            expires_at,
            terms,
            terms_hash,
            for_patient,
        } => {
            let patient = names::optional_account(for_patient.as_deref(), "--for")?;
            let categories = names::categories(&scope.categories)?;
            let purposes = names::purposes(&scope.purposes)?;
            let access = names::accesses(&scope.access)?;
            let valid_from = match valid_from {
                Some(t) => names::millis(&t, "--valid-from")?,
                None => names::now_millis(),
            };
            let expires_at = expires_at
                .map(|t| names::millis(&t, "--expires-at"))
                .transpose()?;
            let terms_hash = terms_hash
                .map(|h| names::hash32(&h, "--terms-hash"))
                .transpose()?;
            let terms = terms
                .map(|file| {
                    Ok::<_, anyhow::Error>((files::read_document(&file).context("--terms")?, file))
                })
                .transpose()?;
            let grantee = orgs::lookup(&api, &grantee, "--grantee").await?;
            let (signer, ctx) = Ctx::signed(&chain, signer).await?;
            let grantee = orgs::confirm(&ctx, grantee).await?;
            // The salt is written before the grant is sent, so that it can never be lost,
            // and removed again when the grant fails.
            let (terms_hash, receipt) = match &terms {
                Some((document, file)) => {
                    let (hash, receipt) = files::salted_sidecar(
                        file,
                        document,
                        ".terms.json",
                        "terms_hash",
                        medledger_proofs::terms_commitment,
                    )?;
                    (Some(hash), Some(receipt))
                }
                None => (terms_hash, None),
            };
            let args = consent::GrantArgs {
                grantee,
                categories,
                purposes,
                access,
                valid_from,
                expires_at,
                terms_hash: terms_hash.unwrap_or([0; 32]),
            };
            // The signer grants for itself, or for the patient it is a delegate of.
            let (patient, doing) = match patient {
                None => (
                    medledger_client::account_of(&signer),
                    "granting the consent",
                ),
                Some(p) => (p, "granting the consent as a delegate"),
            };
            let message = consent::grant(&ctx.consent, &patient, &args);
            let outcome = ctx.call(&signer, &ctx.consent, &message, doing).await;
            let outcome = crate::chain::settle(outcome, receipt.as_deref())?;
            let granted: ConsentGranted = event_of(&outcome)?;
            let mut human = format!(
                "granted consent v{} to {}",
                granted.version,
                orgs::label(&ctx, &grantee).await
            );
            if let Some(r) = &receipt {
                human = format!("{human}; terms salt kept in {}", r.display());
            }
            Ok(Report::landed(
                human,
                json!({
                    "granted": grantee.to_string(),
                    "version": granted.version,
                    "categories": names::category_names(categories),
                    "terms_hash": files::hex_of(args.terms_hash),
                    "terms_receipt": receipt.map(|r| r.display().to_string()),
                }),
                &outcome,
            ))
        }
        ConsentCommand::Revoke {
            chain,
            signer,
            api,
            grantee,
            for_patient,
        } => {
            let patient = names::optional_account(for_patient.as_deref(), "--for")?;
            let grantee = orgs::lookup(&api, &grantee, "--grantee").await?;
            let (signer, ctx) = Ctx::signed(&chain, signer).await?;
            let grantee = orgs::confirm(&ctx, grantee).await?;
            let (patient, doing) = match patient {
                None => (
                    medledger_client::account_of(&signer),
                    "revoking the consent",
                ),
                Some(p) => (p, "revoking the consent as a delegate"),
            };
            let message = consent::revoke(&ctx.consent, &patient, &grantee);
            let outcome = ctx.call(&signer, &ctx.consent, &message, doing).await?;
            let revoked: ConsentRevoked = event_of(&outcome)?;
            Ok(Report::landed(
                format!(
                    "revoked consent v{} of {}",
                    revoked.version,
                    orgs::label(&ctx, &grantee).await
                ),
                json!({"revoked": grantee.to_string(), "version": revoked.version}),
                &outcome,
            ))
        }
        ConsentCommand::List { api, patient } => {
            let patient = names::account(&patient, "--patient")?;
            list(&api, &patient).await
        }
        ConsentCommand::Check {
            chain,
            api,
            patient,
            grantee,
            category,
            purpose,
            access,
        } => {
            let patient = names::account(&patient, "--patient")?;
            let (category, purpose, access) = (
                names::category(&category)?,
                names::purpose(&purpose)?,
                names::access(&access)?,
            );
            let grantee = orgs::lookup(&api, &grantee, "--grantee").await?;
            let ctx = Ctx::connect(&chain).await?;
            let grantee = orgs::confirm(&ctx, grantee).await?;
            let message =
                consent::is_authorized(&ctx.consent, &patient, &grantee, category, purpose, access);
            let allowed = ctx.chain.query(&patient, &ctx.consent, &message).await?;
            let who = orgs::label(&ctx, &grantee).await;
            let what = format!("{category:?} for {purpose:?} ({access:?})");
            Ok(Report::new(
                if allowed {
                    format!("authorized: {who} may use {what} of {patient} now")
                } else {
                    format!("not authorized: {who} may not use {what} of {patient} now")
                },
                json!({"authorized": allowed, "grantee": grantee.to_string()}),
            ))
        }
    }
}

const CONSENTS: &str = "query($p: AccountId!) { consents(patient: $p, first: 100) { totalCount \
    nodes { grantee categories purposes access validFrom expiresAt version status \
    updatedBlock } } }";

async fn list(api: &ApiArgs, patient: &AccountId32) -> Result<Report> {
    let data = api::query(&api.url(), CONSENTS, json!({"p": patient.to_string()})).await?;
    let consents = &data["consents"];
    let Some(nodes) = consents["nodes"].as_array() else {
        bail!("the API's answer has no consents: {data}");
    };
    let text = |v: &Value| match v {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    };
    let grantees: Vec<String> = nodes.iter().map(|c| text(&c["grantee"])).collect();
    let known = api::org_names(&api.url(), &grantees).await;
    let mut human = format!("{} consent(s) of {patient}", nodes.len());
    for c in nodes {
        human.push_str(&format!(
            "\n  {} {} v{}: {} for {} ({}), from {} until {}",
            text(&c["status"]),
            api::labelled(&known, &text(&c["grantee"])),
            text(&c["version"]),
            text(&c["categories"]),
            text(&c["purposes"]),
            text(&c["access"]),
            text(&c["validFrom"]),
            text(&c["expiresAt"]),
        ));
    }
    Ok(Report::new(human, consents.clone()))
}
