//! What the past looked like for one patient: the changes of their consents, their delegates,
//! the organizations they consented to, and the emergency windows on them, up to a block or an
//! instant. The API judges an authorization from these exactly as the contract would have at
//! that moment; the store only reads them.

use sqlx::AnyPool;
use sqlx::any::AnyRow;

use crate::error::StoreError;
use crate::sql::{col, int, num, num_or_null, text};
use crate::types::{AccountId, Hash32};

/// How far back a question about the past reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upto {
    /// Everything up to and including this block.
    Block(u64),
    /// Everything in blocks whose time (ms since the Unix epoch) is at most this.
    Time(u64),
}

/// One grant or revocation of a consent, in chain order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentChange {
    pub block_number: u64,
    pub event_index: u32,
    pub grantee: AccountId,
    /// The scope granted; `None` for a revocation.
    pub grant: Option<Grant>,
    pub version: u32,
    /// Who signed: the patient or a delegate.
    pub by: AccountId,
    /// Block time of the change.
    pub at: u64,
}

/// What a grant covers, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub categories: u16,
    pub purposes: u8,
    pub access: u8,
    pub valid_from: u64,
    pub expires_at: Option<u64>,
    pub terms_hash: Hash32,
}

/// What happened to an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgAction {
    Registered,
    Suspended,
    Reinstated,
}

/// One change of an organization, in chain order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgChange {
    pub block_number: u64,
    pub event_index: u32,
    pub account: AccountId,
    pub action: OrgAction,
    pub at: u64,
}

/// One setting or removal of a delegate, in chain order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationChange {
    pub block_number: u64,
    pub event_index: u32,
    pub delegate: AccountId,
    /// When the delegation ends, as set; `None` for a removal.
    pub expires_at: Option<u64>,
    pub at: u64,
}

/// A break-glass window, as it stood at the end of the question's reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyWindow {
    pub opened_block: u64,
    pub opened_index: u32,
    pub patient: AccountId,
    pub provider: AccountId,
    pub reason: String,
    pub justification_hash: Hash32,
    pub opened_at: u64,
    /// When it closes by time.
    pub ends_at: u64,
    /// When the patient, a delegate or a block ended it early (within the question's reach).
    pub ended_at: Option<u64>,
    pub ended_by: Option<AccountId>,
}

/// A patient's history up to some point, each list in chain order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientHistory {
    pub consents: Vec<ConsentChange>,
    /// The organizations the consents and windows name.
    pub organizations: Vec<OrgChange>,
    pub delegations: Vec<DelegationChange>,
    pub windows: Vec<EmergencyWindow>,
}

/// `column <= $n` for the reach: the block column or the time column of a table.
fn reach(upto: Upto, block: &str, time: &str, n: usize) -> Result<(String, i64), StoreError> {
    Ok(match upto {
        Upto::Block(b) => (format!("{block} <= ${n}"), int(b, "block")?),
        Upto::Time(t) => (format!("{time} <= ${n}"), int(t, "time")?),
    })
}

/// `patient`'s history (only towards `grantee` when given) up to `upto`.
pub(crate) async fn patient_history(
    pool: &AnyPool,
    patient: &AccountId,
    grantee: Option<&AccountId>,
    upto: Upto,
) -> Result<PatientHistory, StoreError> {
    let patient = patient.to_string();
    // Towards one grantee, every read is an index lookup of the pair; towards everyone,
    // of the patient.
    let grantee = grantee.map(AccountId::to_string);
    let pair = |column: &str| match grantee {
        Some(_) => format!("patient = $1 AND {column} = $2"),
        None => "patient = $1 AND $2 = ''".to_string(),
    };
    let other = grantee.clone().unwrap_or_default();

    let (until, limit) = reach(upto, "block_number", "at", 3)?;
    let rows = sqlx::query(&format!(
        "SELECT * FROM consent_history WHERE {} AND {until}
         ORDER BY block_number, event_index",
        pair("grantee")
    ))
    .bind(&patient)
    .bind(&other)
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(StoreError::db("read the consent history"))?;
    let consents = rows.iter().map(consent_change).collect::<Result<_, _>>()?;

    // The organizations concerned: the grantee, or everyone the patient consented to or
    // who opened a window on them.
    let (until, limit) = reach(upto, "block_number", "at", 3)?;
    let accounts = match grantee {
        Some(_) => "account = $2 AND $1 <> ''".to_string(),
        None => "account IN (SELECT grantee FROM consent_history WHERE patient = $1
                             UNION SELECT provider FROM emergency_windows WHERE patient = $1)
                 AND $2 = ''"
            .to_string(),
    };
    let rows = sqlx::query(&format!(
        "SELECT * FROM organization_history WHERE {accounts} AND {until}
         ORDER BY block_number, event_index"
    ))
    .bind(&patient)
    .bind(&other)
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(StoreError::db("read the organizations' history"))?;
    let organizations = rows.iter().map(org_change).collect::<Result<_, _>>()?;

    let (until, limit) = reach(upto, "block_number", "at", 2)?;
    let rows = sqlx::query(&format!(
        "SELECT * FROM delegation_history WHERE patient = $1 AND {until}
         ORDER BY block_number, event_index"
    ))
    .bind(&patient)
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(StoreError::db("read the delegations' history"))?;
    let delegations = rows
        .iter()
        .map(delegation_change)
        .collect::<Result<_, _>>()?;

    let (until, limit) = reach(upto, "opened_block", "opened_at", 3)?;
    let (ended, _) = reach(upto, "ended_block", "ended_at", 3)?;
    let rows = sqlx::query(&format!(
        "SELECT opened_block, opened_index, patient, provider, reason, justification_hash,
                opened_at, ends_at,
                CASE WHEN {ended} THEN ended_at END AS ended_at,
                CASE WHEN {ended} THEN ended_by END AS ended_by
         FROM emergency_windows
         WHERE {} AND {until}
         ORDER BY opened_block, opened_index",
        pair("provider")
    ))
    .bind(&patient)
    .bind(&other)
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(StoreError::db("read the emergency windows"))?;
    let windows = rows.iter().map(window).collect::<Result<_, _>>()?;

    Ok(PatientHistory {
        consents,
        organizations,
        delegations,
        windows,
    })
}

pub(crate) fn consent_change(row: &AnyRow) -> Result<ConsentChange, StoreError> {
    let action: String = col(row, "action")?;
    let grant = match action.as_str() {
        "granted" => Some(Grant {
            categories: num(row, "categories")?,
            purposes: num(row, "purposes")?,
            access: num(row, "access")?,
            valid_from: num(row, "valid_from")?,
            expires_at: num_or_null(row, "expires_at")?,
            terms_hash: text(row, "terms_hash")?,
        }),
        "revoked" => None,
        other => return Err(StoreError::Corrupt(format!("consent action {other:?}"))),
    };
    Ok(ConsentChange {
        block_number: num(row, "block_number")?,
        event_index: num(row, "event_index")?,
        grantee: text(row, "grantee")?,
        grant,
        version: num(row, "version")?,
        by: text(row, "by_account")?,
        at: num(row, "at")?,
    })
}

fn org_change(row: &AnyRow) -> Result<OrgChange, StoreError> {
    let action: String = col(row, "action")?;
    Ok(OrgChange {
        block_number: num(row, "block_number")?,
        event_index: num(row, "event_index")?,
        account: text(row, "account")?,
        action: match action.as_str() {
            "registered" => OrgAction::Registered,
            "suspended" => OrgAction::Suspended,
            "reinstated" => OrgAction::Reinstated,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "organization action {other:?}"
                )));
            }
        },
        at: num(row, "at")?,
    })
}

fn delegation_change(row: &AnyRow) -> Result<DelegationChange, StoreError> {
    Ok(DelegationChange {
        block_number: num(row, "block_number")?,
        event_index: num(row, "event_index")?,
        delegate: text(row, "delegate")?,
        expires_at: num_or_null(row, "expires_at")?,
        at: num(row, "at")?,
    })
}

pub(crate) fn window(row: &AnyRow) -> Result<EmergencyWindow, StoreError> {
    let ended_by: Option<String> = col(row, "ended_by")?;
    Ok(EmergencyWindow {
        opened_block: num(row, "opened_block")?,
        opened_index: num(row, "opened_index")?,
        patient: text(row, "patient")?,
        provider: text(row, "provider")?,
        reason: col(row, "reason")?,
        justification_hash: text(row, "justification_hash")?,
        opened_at: num(row, "opened_at")?,
        ends_at: num(row, "ends_at")?,
        ended_at: num_or_null(row, "ended_at")?,
        ended_by: ended_by
            .map(|s| {
                s.parse()
                    .map_err(|_| StoreError::Corrupt(format!("ended_by {s:?} does not parse")))
            })
            .transpose()?,
    })
}
