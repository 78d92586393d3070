//! `medledger token`: a short-lived bearer token for a medledger FHIR gateway, signed by the
//! organization's account (the format is `medledger_gateway::token`'s).

use std::time::Duration;

use anyhow::{Result, anyhow};
use clap::Args;
use medledger_gateway::token::{Claims, PURPOSES, make, nonce};
use serde_json::json;

use crate::args::SignerArgs;
use crate::names;
use crate::report::Report;

#[derive(Args)]
pub struct TokenArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The gateway the token is for: its public URL, as the gateway was told with
    /// --audience.
    #[arg(long)]
    audience: String,
    /// The purpose of use: TREAT, ETREAT, HPAYMT, HOPERAT, HRESCH, PUBHLTH or PATRQT (or
    /// treatment, payment, ...).
    #[arg(long, default_value = "TREAT")]
    purpose: String,
    /// How long it may be used (a gateway accepts at most 5 minutes by default).
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    lifetime: Duration,
}

/// A purpose of use as a v3 ActReason code, from the code or the purpose's name.
fn act_reason(purpose: &str) -> Result<&'static str> {
    if let Some(code) = PURPOSES.iter().find(|c| c.eq_ignore_ascii_case(purpose)) {
        return Ok(code);
    }
    Ok(match names::purpose(purpose)? {
        medledger_events::Purpose::Treatment => "TREAT",
        medledger_events::Purpose::Payment => "HPAYMT",
        medledger_events::Purpose::Operations => "HOPERAT",
        medledger_events::Purpose::Research => "HRESCH",
        medledger_events::Purpose::PublicHealth => "PUBHLTH",
        medledger_events::Purpose::PatientRequest => "PATRQT",
    })
}

pub fn run(args: TokenArgs) -> Result<Report> {
    let pou = act_reason(&args.purpose)?;
    if args.lifetime.is_zero() {
        return Err(anyhow!("--lifetime must be longer than 0 s"));
    }
    let signer = crate::keys::signer(args.signer)?;
    let now = names::now_millis() / 1000;
    let claims = Claims {
        iss: medledger_client::account_of(&signer).to_string(),
        aud: args.audience,
        pou: pou.to_string(),
        iat: now,
        exp: now + args.lifetime.as_secs().max(1),
        nonce: nonce(),
    };
    let token = make(&signer, &claims);
    Ok(Report::new(
        token.clone(),
        json!({"token": token, "issuer": claims.iss, "audience": claims.aud,
               "purpose": claims.pou, "expires": names::time(claims.exp * 1000)}),
    ))
}
