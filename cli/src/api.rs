//! Reading the GraphQL API (`--api URL`): one POST per question, errors as one line.

use std::time::Duration;

use anyhow::{Result, anyhow};
use serde_json::{Value, json};

use crate::args::ApiArgs;

/// Where `medledger dev` and `medledger serve` listen by default.
pub const DEFAULT_API: &str = "http://127.0.0.1:8080/graphql";

impl ApiArgs {
    /// The endpoint given, or the default one.
    pub fn url(&self) -> String {
        self.url.clone().unwrap_or_else(|| DEFAULT_API.to_string())
    }
}

/// The API could not be reached or did not answer in time.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot reach the API at {url}: {reason} (is `medledger serve` or `medledger dev` running? pass --api)"
)]
pub struct Unreachable {
    pub url: String,
    pub reason: String,
}

/// Runs `query` with `variables` and returns its `data`.
///
/// # Errors
/// [`Unreachable`], or the API's own error message.
pub async fn query(url: &str, query: &str, variables: Value) -> Result<Value> {
    let unreachable = |reason: String| Unreachable {
        url: url.to_string(),
        reason,
    };
    let parsed = reqwest::Url::parse(url).ok();
    if !parsed.is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host()) {
        return Err(anyhow!(
            "--api {url:?} is not an http:// or https:// URL (e.g. {DEFAULT_API})"
        ));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| unreachable(e.to_string()))?;
    let response = client
        .post(url)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .map_err(|e| unreachable(without_url(e)))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|_| anyhow!("the API at {url} answered {status}, not GraphQL"))?;
    if let Some(message) = body["errors"][0]["message"].as_str() {
        return Err(anyhow!("the API at {url} refused the question: {message}"));
    }
    match body.get("data") {
        Some(data) if !data.is_null() => Ok(data.clone()),
        _ => Err(anyhow!("the API at {url} answered {status} without data")),
    }
}

/// reqwest's message, without repeating the URL.
fn without_url(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut reason = e.to_string();
    if let Some(source) = std::error::Error::source(&e) {
        reason = format!("{reason}: {source}");
    }
    reason
}

/// The names of the organizations among `accounts` (SS58), in one question: an account that
/// is no named organization is left out. For labels only: a failure leaves every name out.
pub async fn org_names(
    url: &str,
    accounts: &[String],
) -> std::collections::HashMap<String, String> {
    let mut unique: Vec<&String> = accounts.iter().collect();
    unique.sort();
    unique.dedup();
    if unique.is_empty() {
        return Default::default();
    }
    let fields: Vec<String> = unique
        .iter()
        .enumerate()
        .map(|(i, a)| {
            format!(
                "o{i}: organization(account: {}) {{ account name }}",
                json!(a)
            )
        })
        .collect();
    let Ok(data) = query(url, &format!("{{ {} }}", fields.join(" ")), json!({})).await else {
        return Default::default();
    };
    (0..unique.len())
        .filter_map(|i| {
            let o = &data[format!("o{i}")];
            Some((
                o["account"].as_str()?.to_string(),
                o["name"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// `account` (SS58) as people see it, given the names `org_names` found: the name with the
/// short address beside it, or the address alone.
pub fn labelled(names: &std::collections::HashMap<String, String>, account: &str) -> String {
    match names.get(account) {
        Some(name) => match account.parse() {
            Ok(id) => crate::names::named(name, &id),
            Err(_) => format!("{name} ({account})"),
        },
        None => account.to_string(),
    }
}
