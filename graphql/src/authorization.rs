//! `authorization`: the contract's rule, for now or any past instant or block, with what the
//! answer stands on.

use async_graphql::{Enum, SimpleObject};
use chrono::{DateTime, Utc};
use medledger_store::{AccountId, PatientHistory};

use crate::objects::{AsOf, EmergencyWindow, Grant, time};
use crate::rule::{Judgement, Missing, Question, judge};

/// Why access is allowed or refused.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum AuthorizationReason {
    /// A consent in force covers it.
    Consent,
    /// No consent covers it, but the grantee has an emergency window open (reading
    /// non-sensitive data for treatment).
    EmergencyWindow,
    /// The patient never granted the grantee anything.
    NoConsent,
    /// The consent was revoked.
    Revoked,
    /// The consent's validity had not begun.
    NotYetValid,
    /// The consent's validity had ended.
    Expired,
    /// A delegate granted the consent, and that delegation has ended or was removed.
    DelegationEnded,
    /// The consent does not cover this data category.
    CategoryNotCovered,
    /// The consent does not cover this purpose.
    PurposeNotCovered,
    /// The consent does not cover this access.
    AccessNotCovered,
    /// The grantee is not a registered organization.
    GranteeNotRegistered,
    /// The grantee is suspended by the registrar.
    GranteeSuspended,
}

impl AuthorizationReason {
    fn sentence(self) -> &'static str {
        use AuthorizationReason as R;
        match self {
            R::Consent => "allowed by the patient's consent",
            R::EmergencyWindow => "allowed by an open emergency window",
            R::NoConsent => "refused: the patient has given this grantee no consent",
            R::Revoked => "refused: the patient's consent was revoked",
            R::NotYetValid => "refused: the consent was not valid yet",
            R::Expired => "refused: the consent had expired",
            R::DelegationEnded => {
                "refused: a delegate granted the consent and that delegation has ended"
            }
            R::CategoryNotCovered => "refused: the consent does not cover this data category",
            R::PurposeNotCovered => "refused: the consent does not cover this purpose",
            R::AccessNotCovered => "refused: the consent does not cover this access",
            R::GranteeNotRegistered => "refused: the grantee is not a registered organization",
            R::GranteeSuspended => "refused: the grantee is suspended",
        }
    }
}

impl From<Missing> for AuthorizationReason {
    fn from(m: Missing) -> Self {
        use AuthorizationReason as R;
        match m {
            Missing::GranteeNotRegistered => R::GranteeNotRegistered,
            Missing::GranteeSuspended => R::GranteeSuspended,
            Missing::NoConsent => R::NoConsent,
            Missing::Revoked => R::Revoked,
            Missing::NotYetValid => R::NotYetValid,
            Missing::Expired => R::Expired,
            Missing::DelegationEnded => R::DelegationEnded,
            Missing::Category => R::CategoryNotCovered,
            Missing::Purpose => R::PurposeNotCovered,
            Missing::Access => R::AccessNotCovered,
        }
    }
}

/// Whether a grantee may use a patient's data in one way at one moment, and why.
#[derive(SimpleObject)]
pub struct Authorization {
    pub allowed: bool,
    pub reason: AuthorizationReason,
    /// The reason as a sentence.
    pub explanation: String,
    /// The consent the answer stands on: the one that allowed it, or the pair's last grant
    /// when refused (null when there never was one).
    pub consent: Option<Grant>,
    /// The emergency window that allowed it.
    pub emergency_window: Option<EmergencyWindow>,
    /// The instant judged.
    pub at: DateTime<Utc>,
    /// The block judged at: the one asked for, or the last block indexed when no moment was
    /// asked for; null when an instant was asked for.
    pub at_block: Option<u64>,
    /// How far the mirror had got when it answered.
    pub as_of: AsOf,
}

/// The answer to `q` for `grantee` on `patient`'s data at `now`, from `history` up to then.
pub fn authorization(
    history: &PatientHistory,
    patient: &AccountId,
    grantee: &AccountId,
    q: &Question,
    now: u64,
    at_block: Option<u64>,
    as_of: AsOf,
) -> Authorization {
    let (reason, consent, window) = match judge(history, patient, grantee, q, now) {
        Judgement::ByConsent(c) => (AuthorizationReason::Consent, Grant::of(c), None),
        Judgement::ByEmergency(w) => (
            AuthorizationReason::EmergencyWindow,
            None,
            Some(EmergencyWindow::from(w)),
        ),
        Judgement::Denied(missing, last) => (missing.into(), last.and_then(Grant::of), None),
    };
    Authorization {
        allowed: matches!(
            reason,
            AuthorizationReason::Consent | AuthorizationReason::EmergencyWindow
        ),
        reason,
        explanation: reason.sentence().to_string(),
        consent,
        emergency_window: window,
        at: time(now),
        at_block,
        as_of,
    }
}
