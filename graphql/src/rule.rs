//! The consent registry's rule (`is_authorized`), judged from the mirror's history instead of
//! the contract's storage, so that it can be asked about any past instant and say why.
//!
//! It must agree with `contracts/consent`'s `is_authorized` at every block: the grantee must
//! be a registered, unsuspended organization; then a consent that is unrevoked, valid at that
//! moment and, when a delegate granted it, granted under a delegation that still lasts, covers
//! the category, purpose and access; failing that, an open emergency window allows reading
//! non-sensitive data for treatment.

use medledger_events::{Access, DataCategory, Purpose};
use std::collections::HashMap;

use medledger_store::{
    AccountId, ConsentChange, ConsentRow, EmergencyWindow, Grant, OrgAction, PatientHistory,
};

/// What is asked: may the grantee use this category for this purpose with this access?
#[derive(Debug, Clone, Copy)]
pub struct Question {
    pub category: DataCategory,
    pub purpose: Purpose,
    pub access: Access,
}

/// Why an authorization was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    GranteeNotRegistered,
    GranteeSuspended,
    NoConsent,
    Revoked,
    NotYetValid,
    Expired,
    /// A delegate granted it, and the delegation it was granted under has ended.
    DelegationEnded,
    Category,
    Purpose,
    Access,
}

/// The judgement, with what it stands on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement<'h> {
    /// Allowed by this consent (the last grant of the pair).
    ByConsent(&'h ConsentChange),
    /// Allowed by this open emergency window, though no consent covers it.
    ByEmergency(&'h EmergencyWindow),
    /// Refused: what was missing, and the pair's last grant if there was one.
    Denied(Missing, Option<&'h ConsentChange>),
}

/// Where a consent stands at an instant, apart from what it covers: in force with the grant
/// that makes it so (the pair's last change), or not, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing<'h> {
    InForce(&'h ConsentChange, Grant),
    Not(Missing),
}

/// Whether `account` is a registered, unsuspended organization at the end of `history`.
fn organization(history: &PatientHistory, account: &AccountId) -> Result<(), Missing> {
    let last = history
        .organizations
        .iter()
        .rfind(|o| o.account == *account);
    match last.map(|o| o.action) {
        None => Err(Missing::GranteeNotRegistered),
        Some(OrgAction::Suspended) => Err(Missing::GranteeSuspended),
        Some(OrgAction::Registered | OrgAction::Reinstated) => Ok(()),
    }
}

/// The delegation of `delegate` at the end of `history`: (since, expires_at). Setting a
/// delegation while one lasts extends it and keeps its start; anything else starts anew.
fn delegation(history: &PatientHistory, delegate: &AccountId) -> Option<(u64, u64)> {
    let mut current: Option<(u64, u64)> = None;
    for change in history
        .delegations
        .iter()
        .filter(|d| d.delegate == *delegate)
    {
        current = change.expires_at.map(|expires_at| {
            let since = current
                .filter(|&(_, end)| change.at < end)
                .map_or(change.at, |(since, _)| since);
            (since, expires_at)
        });
    }
    current
}

/// The pair's last grant: the one a revocation revoked.
fn last_grant<'h>(history: &'h PatientHistory, grantee: &AccountId) -> Option<&'h ConsentChange> {
    history
        .consents
        .iter()
        .rfind(|c| c.grantee == *grantee && c.grant.is_some())
}

/// `patient`'s consents as they stood at the end of `history`, one per grantee (revoked ones
/// too), most recently changed first: the `consents` table as it was then.
pub fn consents_at(history: &PatientHistory, patient: &AccountId) -> Vec<ConsentRow> {
    let mut pairs: HashMap<AccountId, (&ConsentChange, Option<Grant>)> = HashMap::new();
    for change in &history.consents {
        let entry = pairs.entry(change.grantee).or_insert((change, None));
        entry.0 = change;
        if change.grant.is_some() {
            entry.1 = change.grant;
        }
    }
    let mut rows: Vec<ConsentRow> = pairs
        .into_values()
        .filter_map(|(last, grant)| {
            let g = grant?;
            Some(ConsentRow {
                patient: *patient,
                grantee: last.grantee,
                categories: g.categories,
                purposes: g.purposes,
                access: g.access,
                valid_from: g.valid_from,
                expires_at: g.expires_at,
                terms_hash: g.terms_hash,
                version: last.version,
                revoked: last.grant.is_none(),
                updated_by: last.by,
                updated_block: last.block_number,
                updated_at: last.at,
            })
        })
        .collect();
    rows.sort_by_cached_key(|r| (std::cmp::Reverse(r.updated_block), r.grantee.to_string()));
    rows
}

/// Where `patient`'s consent to `grantee` stands at `now`, apart from its scope.
pub fn standing<'h>(
    history: &'h PatientHistory,
    patient: &AccountId,
    grantee: &AccountId,
    now: u64,
) -> Standing<'h> {
    let last = history.consents.iter().rfind(|c| c.grantee == *grantee);
    let Some(last) = last else {
        return Standing::Not(Missing::NoConsent);
    };
    let Some(grant) = last.grant else {
        return Standing::Not(Missing::Revoked);
    };
    if now < grant.valid_from {
        return Standing::Not(Missing::NotYetValid);
    }
    if grant.expires_at.is_some_and(|end| end <= now) {
        return Standing::Not(Missing::Expired);
    }
    if last.by != *patient
        && !delegation(history, &last.by).is_some_and(|(since, end)| since <= last.at && now < end)
    {
        return Standing::Not(Missing::DelegationEnded);
    }
    if let Err(missing) = organization(history, grantee) {
        return Standing::Not(missing);
    }
    Standing::InForce(last, grant)
}

/// The window `provider` has open on the patient at `now`, if any.
fn open_window<'h>(
    history: &'h PatientHistory,
    provider: &AccountId,
    now: u64,
) -> Option<&'h EmergencyWindow> {
    history
        .windows
        .iter()
        .rfind(|w| w.provider == *provider && w.opened_at <= now)
        .filter(|w| now < w.ended_at.unwrap_or(w.ends_at).min(w.ends_at))
}

/// What an open emergency window covers: reading non-sensitive data for treatment.
fn emergency_covers(q: &Question) -> bool {
    q.access == Access::Read && q.purpose == Purpose::Treatment && !q.category.is_sensitive()
}

/// Judges `q` for `grantee` on `patient`'s data at `now`, from `history` up to that moment.
pub fn judge<'h>(
    history: &'h PatientHistory,
    patient: &AccountId,
    grantee: &AccountId,
    q: &Question,
    now: u64,
) -> Judgement<'h> {
    if let Err(missing) = organization(history, grantee) {
        return Judgement::Denied(missing, last_grant(history, grantee));
    }
    let missing = match standing(history, patient, grantee, now) {
        Standing::Not(missing) => missing,
        Standing::InForce(consent, g) => {
            if g.categories & q.category.bit() == 0 {
                Missing::Category
            } else if g.purposes & q.purpose.bit() == 0 {
                Missing::Purpose
            } else if g.access & q.access.bit() == 0 {
                Missing::Access
            } else {
                return Judgement::ByConsent(consent);
            }
        }
    };
    if let Some(window) = open_window(history, grantee, now).filter(|_| emergency_covers(q)) {
        return Judgement::ByEmergency(window);
    }
    Judgement::Denied(missing, last_grant(history, grantee))
}

#[cfg(test)]
#[path = "rule_tests.rs"]
mod tests;
