//! Organizations as people know them: by name. What was typed for an organization is an
//! address, a dev account's name, or the name of a registered organization — found through
//! the API (the chain keeps no index of names) and then confirmed on the chain, so that a
//! wrong or stale mirror can never make a command sign for another organization than the one
//! named. Outputs show an organization by its name with the short address beside it.

use anyhow::{Context, Result, anyhow};
use medledger_client::{AccountId32, consent};
use medledger_events::OrgProfile;
use serde_json::{Value, json};

use crate::args::ApiArgs;
use crate::chain::Ctx;
use crate::{api, names};

/// The organization's profile as the chain holds it; `None` when it has none, or bytes
/// that are no readable profile.
///
/// # Errors
/// When the chain cannot be asked.
pub async fn profile_of(ctx: &Ctx, account: &AccountId32) -> Result<Option<OrgProfile>> {
    let bytes = ctx
        .chain
        .query(
            account,
            &ctx.consent,
            &consent::org_profile(&ctx.consent, account),
        )
        .await?;
    Ok(bytes.and_then(|b| OrgProfile::from_bytes(&b).ok()))
}

/// `account` as people see it: the organization's name with the short address beside it;
/// the address alone for an account that is no named organization (a patient), or when the
/// chain cannot be asked (a label is never worth failing a command that already landed).
pub async fn label(ctx: &Ctx, account: &AccountId32) -> String {
    match profile_of(ctx, account).await {
        Ok(Some(profile)) => names::org_label(Some(&profile), account),
        _ => account.to_string(),
    }
}

const FIND: &str = "query($n: String!) { organizations(name: $n, first: 20) { \
    nodes { account name active } } }";

/// An organization as typed, looked up before the chain is asked: [`confirm`] then checks
/// it on the chain.
pub struct Typed {
    pub account: AccountId32,
    /// The name it was found by, with the API that found it; `None` for an address or a
    /// dev account's name.
    found_as: Option<(String, String)>,
}

/// The organization `typed` with `flag`: an SS58 address or a dev account's name as they
/// are, otherwise the one registered organization whose whole name is `typed` (ignoring
/// case), as the API finds it; [`confirm`] then checks that name on the chain.
///
/// # Errors
/// One line when `typed` looks like a mistyped address, when no organization or more than
/// one goes by that name (naming them), or when the API cannot be reached.
pub async fn lookup(api: &ApiArgs, typed: &str, flag: &str) -> Result<Typed> {
    let name = typed.trim();
    match names::account(typed, flag) {
        Ok(account) => {
            return Ok(Typed {
                account,
                found_as: None,
            });
        }
        // A long run of base58 characters is an address with a typo, not a name.
        Err(e)
            if name.is_empty()
                || name.chars().count() > 64
                || (name.len() >= 40
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() && !"0OIl".contains(c))) =>
        {
            return Err(e);
        }
        Err(_) => {}
    }
    let url = api.url();
    let data = api::query(&url, FIND, json!({"n": name}))
        .await
        .with_context(|| {
            format!(
                "{flag} {typed:?} is not an address or a dev account, and looking it up as an \
                 organization's name needs the API"
            )
        })?;
    let found: Vec<(String, String)> = data["organizations"]["nodes"]
        .as_array()
        .map(|nodes| nodes.iter().filter_map(candidate).collect())
        .unwrap_or_default();
    let exact: Vec<_> = found
        .iter()
        .filter(|(_, n)| n.to_lowercase() == name.to_lowercase())
        .collect();
    let pick: &(String, String) = match (exact.as_slice(), found.as_slice()) {
        ([one], _) => one,
        // Part of a name is a search, not a choice: say which names contain it, so that the
        // user types the one meant (a mirror could otherwise answer with any organization).
        ([], [one]) => {
            return Err(anyhow!(
                "{flag} {typed:?} is part of the name of {} ({}): give the whole name",
                one.1,
                one.0
            ));
        }
        ([], []) => {
            return Err(anyhow!(
                "{flag} {typed:?} is neither an address, a dev account ({}) nor the name of a \
                 registered organization",
                crate::keys::DEV_ACCOUNTS.join(", ")
            ));
        }
        (many, all) => {
            let many = if many.is_empty() {
                all.iter().collect()
            } else {
                many.to_vec()
            };
            let listed: Vec<String> = many
                .iter()
                .take(5)
                .map(|(account, n)| format!("{n} ({account})"))
                .collect();
            return Err(anyhow!(
                "{flag} {typed:?} names {} organizations: {}; give the whole name or the address",
                many.len(),
                listed.join(", ")
            ));
        }
    };
    let account: AccountId32 = pick
        .0
        .parse()
        .map_err(|_| anyhow!("the API at {url} answered {:?}, not an address", pick.0))?;
    Ok(Typed {
        account,
        found_as: Some((name.to_string(), url)),
    })
}

/// The account of an organization [`lookup`] found, once the chain confirms it: the mirror
/// found it by its name, the chain decides.
///
/// # Errors
/// When the chain's profile of the account does not carry the name it was found by.
pub async fn confirm(ctx: &Ctx, typed: Typed) -> Result<AccountId32> {
    let Some((name, url)) = typed.found_as else {
        return Ok(typed.account);
    };
    let account = typed.account;
    // The chain must give this account the name the user typed (ignoring case), not
    // merely the name the mirror answered with.
    let on_chain = profile_of(ctx, &account).await?;
    if on_chain.as_ref().map(|p| p.name.to_lowercase()) != Some(name.to_lowercase()) {
        return Err(anyhow!(
            "the API at {url} says {name:?} is {account}, but the chain does not name \
             {account} so: give the address"
        ));
    }
    Ok(account)
}

/// `(account, name)` of an organization the API found, if it has a name.
fn candidate(node: &Value) -> Option<(String, String)> {
    Some((
        node["account"].as_str()?.to_string(),
        node["name"].as_str()?.to_string(),
    ))
}
