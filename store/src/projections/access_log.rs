//! `access_log`: accesses an organization recorded as allowed, and denied attempts.

use sqlx::AnyConnection;

use super::{At, run};
use crate::error::StoreError;
use crate::types::{AccountId, ChainEvent, RecordRef};

pub(super) async fn apply(
    conn: &mut AnyConnection,
    at: &At<'_>,
    event: &ChainEvent,
) -> Result<(), StoreError> {
    let (outcome, patient, accessor, record, categories, purpose, emergency): (
        &str,
        &AccountId,
        &AccountId,
        &Option<RecordRef>,
        u16,
        &str,
        bool,
    ) = match event {
        ChainEvent::AccessRecorded {
            patient,
            accessor,
            record,
            categories,
            purpose,
            emergency,
        } => (
            "recorded",
            patient,
            accessor,
            record,
            *categories,
            purpose,
            *emergency,
        ),
        ChainEvent::AccessDenied {
            patient,
            accessor,
            record,
            categories,
            purpose,
        } => (
            "denied",
            patient,
            accessor,
            record,
            *categories,
            purpose,
            false,
        ),
        _ => return Ok(()),
    };
    let q = sqlx::query(
        "INSERT INTO access_log (block_number, event_index, patient, accessor, outcome,
           record_custodian, record_id, categories, purpose, emergency, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(at.block)
    .bind(at.index)
    .bind(patient.to_string())
    .bind(accessor.to_string())
    .bind(outcome)
    .bind(record.as_ref().map(|r| r.custodian.to_string()))
    .bind(record.as_ref().map(|r| r.record_id.to_string()))
    .bind(i64::from(categories))
    .bind(purpose)
    .bind(i64::from(emergency))
    .bind(at.time);
    run(conn, q, "record an access").await
}
