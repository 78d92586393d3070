//! What happened to each patient, in chain order: the raw events that name a patient, for
//! the audit trail and for pushing to subscribers after each commit.

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::error::StoreError;
use crate::sql::{col, int, num, parsed, text};
use crate::types::AccountId;

/// Where an event stands in the chain: (block number, index in the block).
pub type EventKey = (u64, u32);

/// A contract event as stored, with its block's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub block_number: u64,
    pub event_index: u32,
    /// Block time, ms since the Unix epoch.
    pub at: u64,
    pub contract: AccountId,
    /// The event's name, e.g. `ConsentGranted`.
    pub kind: String,
    /// The patient it touched, if any.
    pub patient: Option<AccountId>,
    /// The event's fields as JSON (`kind` included).
    pub payload: String,
}

const SELECT: &str = "SELECT e.block_number, e.event_index, b.timestamp_ms, e.contract, e.kind,
                             e.patient, e.payload
                      FROM events e JOIN blocks b ON b.number = e.block_number";

fn stored(row: &AnyRow) -> Result<StoredEvent, StoreError> {
    let patient: Option<String> = col(row, "patient")?;
    Ok(StoredEvent {
        block_number: num(row, "block_number")?,
        event_index: num(row, "event_index")?,
        at: num(row, "timestamp_ms")?,
        contract: text(row, "contract")?,
        kind: col(row, "kind")?,
        patient: patient.map(|p| parsed(p, "events.patient")).transpose()?,
        payload: col(row, "payload")?,
    })
}

/// `patient`'s events after `after`, in chain order, at most `limit`.
pub(crate) async fn of_patient(
    conn: &mut AnyConnection,
    patient: &AccountId,
    after: Option<EventKey>,
    limit: usize,
) -> Result<Vec<StoredEvent>, StoreError> {
    let (block, index) = match after {
        Some((b, i)) => (int(b, "block")?, i64::from(i)),
        None => (-1, -1),
    };
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE e.patient = $1
           AND (e.block_number > $2 OR (e.block_number = $2 AND e.event_index > $3))
         ORDER BY e.block_number, e.event_index LIMIT $4"
    ))
    .bind(patient.to_string())
    .bind(block)
    .bind(index)
    .bind(int(limit as u64, "limit")?)
    .fetch_all(&mut *conn)
    .await
    .map_err(StoreError::read("read a patient's events"))?;
    rows.iter().map(stored).collect()
}

/// How many events touched `patient`.
pub(crate) async fn count_of_patient(
    conn: &mut AnyConnection,
    patient: &AccountId,
) -> Result<u64, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM events WHERE patient = $1")
        .bind(patient.to_string())
        .fetch_one(&mut *conn)
        .await
        .map_err(StoreError::read("count a patient's events"))?;
    num(&row, "n")
}

/// The events that touched any patient in blocks `after + 1 ..= upto`, in chain order.
pub(crate) async fn between(
    conn: &mut AnyConnection,
    after: u64,
    upto: u64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE e.block_number > $1 AND e.block_number <= $2 AND e.patient IS NOT NULL
         ORDER BY e.block_number, e.event_index"
    ))
    .bind(int(after, "block")?)
    .bind(int(upto, "block")?)
    .fetch_all(&mut *conn)
    .await
    .map_err(StoreError::read("read the latest events"))?;
    rows.iter().map(stored).collect()
}
