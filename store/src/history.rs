//! What the past looked like for one patient: the changes of their consents, their delegates,
//! the organizations they consented to, and the emergency windows on them, up to a block or an
//! instant. The API judges an authorization from these exactly as the contract would have at
//! that moment; the store only reads them.

use std::sync::LazyLock;

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::error::StoreError;
use crate::sql::{col, int, num, num_or_null, parsed, text};
use crate::types::{AccountId, Hash32};

/// How far back a question about the past reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upto {
    /// Everything up to and including this block.
    Block(u64),
    /// Everything in blocks whose time (ms since the Unix epoch) is at most this.
    Time(u64),
    /// Everything the mirror holds (up to its last block, `PatientHistory::position`).
    Latest,
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

/// Where the mirror stood when a history was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The last block indexed, and its time (ms since the Unix epoch).
    pub block: u64,
    pub time: u64,
    /// The chain's finalized head when the indexer last looked.
    pub finalized_head: u64,
}

/// A patient's history up to some point, each list in chain order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientHistory {
    pub consents: Vec<ConsentChange>,
    /// The organizations the consents and windows name.
    pub organizations: Vec<OrgChange>,
    pub delegations: Vec<DelegationChange>,
    pub windows: Vec<EmergencyWindow>,
    /// Where the mirror stood when this was read; `None` before its first block. Everything
    /// read is at or before it (the read is one statement).
    pub position: Option<Position>,
}

/// The history statement for reaching by block (else by time), towards one grantee (else
/// everyone): four texts, built once.
static STATEMENTS: LazyLock<[String; 4]> = LazyLock::new(|| {
    [(false, false), (false, true), (true, false), (true, true)]
        .map(|(by_block, pair)| statement(by_block, pair))
});

/// `$1` the patient, `$2` the grantee (or ''), `$3` the last block or instant.
fn statement(by_block: bool, to_one: bool) -> String {
    // `column <= $3` for the table's block or time column.
    let until = |block: &str, time: &str| format!("{} <= $3", if by_block { block } else { time });
    // Towards one grantee, the pair's rows by its index; towards everyone, the patient's.
    let pair = |column: &str| {
        if to_one {
            format!("patient = $1 AND {column} = $2")
        } else {
            "patient = $1 AND $2 = ''".to_string()
        }
    };
    let accounts = if to_one {
        "account = $2"
    } else {
        "account IN (SELECT grantee FROM consent_history WHERE patient = $1
                     UNION SELECT provider FROM emergency_windows WHERE patient = $1)"
    };
    let ended = until("ended_block", "ended_at");
    let by_change = until("block_number", "at");
    format!(
        "SELECT 'consent' AS src, block_number AS b, event_index AS i, grantee AS a1,
                by_account AS a2, action AS t1, terms_hash AS t2, categories AS n1,
                purposes AS n2, access AS n3, valid_from AS n4, expires_at AS n5,
                version AS n6, at AS n7
         FROM consent_history WHERE {consents} AND {by_change}
         UNION ALL
         SELECT 'org', block_number, event_index, account, NULL, action, NULL, NULL, NULL,
                NULL, NULL, NULL, NULL, at
         FROM organization_history WHERE {accounts} AND {by_change}
         UNION ALL
         SELECT 'delegation', block_number, event_index, delegate, NULL, action, NULL, NULL,
                NULL, NULL, NULL, expires_at, NULL, at
         FROM delegation_history WHERE patient = $1 AND {by_change}
         UNION ALL
         SELECT 'window', opened_block, opened_index, provider,
                CASE WHEN {ended} THEN ended_by END, reason, justification_hash, NULL, NULL,
                NULL, ends_at, CASE WHEN {ended} THEN ended_at END, NULL, opened_at
         FROM emergency_windows WHERE {windows} AND {window_until}
         UNION ALL
         SELECT 'cursor', block_number, 0, block_hash, NULL, NULL, NULL, NULL, NULL, NULL,
                block_time, finalized_head, NULL, NULL
         FROM cursor WHERE id = 1
         ORDER BY b, i",
        consents = pair("grantee"),
        windows = pair("provider"),
        window_until = until("opened_block", "opened_at"),
    )
}

/// `patient`'s history (only towards `grantee` when given) up to `upto`, and where the mirror
/// stands, in one statement: one round trip, one snapshot. Each table's rows come as one
/// branch of a `UNION ALL` onto shared columns, told apart by `src`.
pub(crate) async fn patient_history(
    conn: &mut AnyConnection,
    patient: &AccountId,
    grantee: Option<&AccountId>,
    upto: Upto,
) -> Result<PatientHistory, StoreError> {
    let (by_block, limit) = match upto {
        Upto::Block(b) => (true, int(b, "block")?),
        Upto::Time(t) => (false, int(t, "time")?),
        Upto::Latest => (true, i64::MAX),
    };
    let sql = &STATEMENTS[usize::from(by_block) * 2 + usize::from(grantee.is_some())];
    let rows = sqlx::query(sql)
        .bind(patient.to_string())
        .bind(grantee.map(AccountId::to_string).unwrap_or_default())
        .bind(limit)
        .fetch_all(&mut *conn)
        .await
        .map_err(StoreError::read("read a patient's history"))?;
    let mut history = PatientHistory::default();
    for row in &rows {
        let src: String = col(row, "src")?;
        match src.as_str() {
            "consent" => history
                .consents
                .push(consent_change(row, &HISTORY_CONSENT)?),
            "org" => history.organizations.push(org_change(row)?),
            "delegation" => history.delegations.push(delegation_change(row)?),
            "window" => history
                .windows
                .push(window_of(row, &HISTORY_WINDOW, *patient)?),
            "cursor" => {
                history.position = Some(Position {
                    block: num(row, "b")?,
                    time: num(row, "n4")?,
                    finalized_head: num(row, "n5")?,
                });
            }
            other => return Err(StoreError::Corrupt(format!("history branch {other:?}"))),
        }
    }
    Ok(history)
}

/// Where a [`ConsentChange`]'s fields are in a row: the history statement's generic columns,
/// or `consent_history`'s own names.
struct ConsentColumns {
    block: &'static str,
    index: &'static str,
    grantee: &'static str,
    action: &'static str,
    categories: &'static str,
    purposes: &'static str,
    access: &'static str,
    valid_from: &'static str,
    expires_at: &'static str,
    terms_hash: &'static str,
    version: &'static str,
    by: &'static str,
    at: &'static str,
}

const HISTORY_CONSENT: ConsentColumns = ConsentColumns {
    block: "b",
    index: "i",
    grantee: "a1",
    action: "t1",
    categories: "n1",
    purposes: "n2",
    access: "n3",
    valid_from: "n4",
    expires_at: "n5",
    terms_hash: "t2",
    version: "n6",
    by: "a2",
    at: "n7",
};

const CONSENT_HISTORY_TABLE: ConsentColumns = ConsentColumns {
    block: "block_number",
    index: "event_index",
    grantee: "grantee",
    action: "action",
    categories: "categories",
    purposes: "purposes",
    access: "access",
    valid_from: "valid_from",
    expires_at: "expires_at",
    terms_hash: "terms_hash",
    version: "version",
    by: "by_account",
    at: "at",
};

fn consent_change(row: &AnyRow, c: &ConsentColumns) -> Result<ConsentChange, StoreError> {
    let action: String = col(row, c.action)?;
    let grant = match action.as_str() {
        "granted" => Some(Grant {
            categories: num(row, c.categories)?,
            purposes: num(row, c.purposes)?,
            access: num(row, c.access)?,
            valid_from: num(row, c.valid_from)?,
            expires_at: num_or_null(row, c.expires_at)?,
            terms_hash: text(row, c.terms_hash)?,
        }),
        "revoked" => None,
        other => return Err(StoreError::Corrupt(format!("consent action {other:?}"))),
    };
    Ok(ConsentChange {
        block_number: num(row, c.block)?,
        event_index: num(row, c.index)?,
        grantee: text(row, c.grantee)?,
        grant,
        version: num(row, c.version)?,
        by: text(row, c.by)?,
        at: num(row, c.at)?,
    })
}

fn org_change(row: &AnyRow) -> Result<OrgChange, StoreError> {
    let action: String = col(row, "t1")?;
    Ok(OrgChange {
        block_number: num(row, "b")?,
        event_index: num(row, "i")?,
        account: text(row, "a1")?,
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
        at: num(row, "n7")?,
    })
}

fn delegation_change(row: &AnyRow) -> Result<DelegationChange, StoreError> {
    Ok(DelegationChange {
        block_number: num(row, "b")?,
        event_index: num(row, "i")?,
        delegate: text(row, "a1")?,
        expires_at: num_or_null(row, "n5")?,
        at: num(row, "n7")?,
    })
}

/// Where an [`EmergencyWindow`]'s fields are in a row (its patient is given).
struct WindowColumns {
    block: &'static str,
    index: &'static str,
    provider: &'static str,
    reason: &'static str,
    justification_hash: &'static str,
    opened_at: &'static str,
    ends_at: &'static str,
    ended_at: &'static str,
    ended_by: &'static str,
}

const HISTORY_WINDOW: WindowColumns = WindowColumns {
    block: "b",
    index: "i",
    provider: "a1",
    reason: "t1",
    justification_hash: "t2",
    opened_at: "n7",
    ends_at: "n4",
    ended_at: "n5",
    ended_by: "a2",
};

const WINDOWS_TABLE: WindowColumns = WindowColumns {
    block: "opened_block",
    index: "opened_index",
    provider: "provider",
    reason: "reason",
    justification_hash: "justification_hash",
    opened_at: "opened_at",
    ends_at: "ends_at",
    ended_at: "ended_at",
    ended_by: "ended_by",
};

fn window_of(
    row: &AnyRow,
    c: &WindowColumns,
    patient: AccountId,
) -> Result<EmergencyWindow, StoreError> {
    let ended_by: Option<String> = col(row, c.ended_by)?;
    Ok(EmergencyWindow {
        opened_block: num(row, c.block)?,
        opened_index: num(row, c.index)?,
        patient,
        provider: text(row, c.provider)?,
        reason: col(row, c.reason)?,
        justification_hash: text(row, c.justification_hash)?,
        opened_at: num(row, c.opened_at)?,
        ends_at: num(row, c.ends_at)?,
        ended_at: num_or_null(row, c.ended_at)?,
        ended_by: ended_by.map(|s| parsed(s, c.ended_by)).transpose()?,
    })
}

/// One row of `consent_history`, as the consent history list reads it.
pub(crate) fn consent_history_row(row: &AnyRow) -> Result<ConsentChange, StoreError> {
    consent_change(row, &CONSENT_HISTORY_TABLE)
}

/// One row of `emergency_windows`, as the windows list reads it.
pub(crate) fn window(row: &AnyRow) -> Result<EmergencyWindow, StoreError> {
    window_of(row, &WINDOWS_TABLE, text(row, "patient")?)
}
