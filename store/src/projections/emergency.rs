//! `emergency_windows` and `emergency_blocks`: break-glass windows (opened, and ended by the
//! patient, a delegate or a block) and the providers a patient barred from breaking glass.

use sqlx::AnyConnection;

use super::{At, int, run};
use crate::error::StoreError;
use crate::types::{AccountId, ChainEvent};

/// Marks the pair's latest window as ended now, unless it already was. (A window that ran
/// out by time keeps no end: its `ends_at` says when it closed; the contract refuses a new
/// window while one is open, so the latest window is the only one that can be ended.)
async fn end_window(
    conn: &mut AnyConnection,
    at: &At<'_>,
    patient: &AccountId,
    provider: &AccountId,
    by: &AccountId,
    cooldown_until: u64,
) -> Result<(), StoreError> {
    let q = sqlx::query(
        "UPDATE emergency_windows SET ended_block = $1, ended_at = $2, ended_by = $3,
           cooldown_until = $4
         WHERE patient = $5 AND provider = $6 AND ended_block IS NULL
           AND opened_block = (SELECT MAX(opened_block) FROM emergency_windows
                               WHERE patient = $5 AND provider = $6)",
    )
    .bind(at.block)
    .bind(at.time)
    .bind(by.to_string())
    .bind(int(cooldown_until))
    .bind(patient.to_string())
    .bind(provider.to_string());
    run(conn, q, "end an emergency window").await
}

pub(super) async fn apply(
    conn: &mut AnyConnection,
    at: &At<'_>,
    event: &ChainEvent,
) -> Result<(), StoreError> {
    match event {
        ChainEvent::EmergencyAccessOpened {
            patient,
            provider,
            reason,
            justification_hash,
            ends_at,
        } => {
            let q = sqlx::query(
                "INSERT INTO emergency_windows (opened_block, opened_index, patient, provider,
                   reason, justification_hash, opened_at, ends_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(at.block)
            .bind(at.index)
            .bind(patient.to_string())
            .bind(provider.to_string())
            .bind(*reason)
            .bind(justification_hash.to_string())
            .bind(at.time)
            .bind(int(*ends_at));
            run(conn, q, "record an emergency window").await
        }
        ChainEvent::EmergencyAccessEnded {
            patient,
            provider,
            by,
            cooldown_until,
        } => end_window(conn, at, patient, provider, by, *cooldown_until).await,
        ChainEvent::EmergencyBlockChanged {
            patient,
            provider,
            blocked,
            by,
            cooldown_until,
        } => {
            if let Some(until) = cooldown_until {
                end_window(conn, at, patient, provider, by, *until).await?;
            }
            let q = sqlx::query(
                "INSERT INTO emergency_blocks (patient, provider, blocked, changed_by,
                   changed_block, changed_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (patient, provider) DO UPDATE SET blocked = excluded.blocked,
                   changed_by = excluded.changed_by, changed_block = excluded.changed_block,
                   changed_at = excluded.changed_at",
            )
            .bind(patient.to_string())
            .bind(provider.to_string())
            .bind(i64::from(*blocked))
            .bind(by.to_string())
            .bind(at.block)
            .bind(at.time);
            run(conn, q, "record an emergency block").await
        }
        _ => Ok(()),
    }
}
