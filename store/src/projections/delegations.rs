//! `delegations`: each patient's delegates, as last set; removed ones stay, marked.

use sqlx::AnyConnection;

use super::{At, int, run};
use crate::error::StoreError;
use crate::types::ChainEvent;

pub(super) async fn apply(
    conn: &mut AnyConnection,
    at: &At<'_>,
    event: &ChainEvent,
) -> Result<(), StoreError> {
    match event {
        ChainEvent::DelegateSet {
            patient,
            delegate,
            expires_at,
        } => {
            let q = sqlx::query(
                "INSERT INTO delegations (patient, delegate, expires_at, set_block, set_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (patient, delegate) DO UPDATE SET
                   expires_at = excluded.expires_at, set_block = excluded.set_block,
                   set_at = excluded.set_at, removed_block = NULL, removed_at = NULL",
            )
            .bind(patient.to_string())
            .bind(delegate.to_string())
            .bind(int(*expires_at))
            .bind(at.block)
            .bind(at.time);
            run(conn, q, "record a delegation").await
        }
        ChainEvent::DelegateRemoved { patient, delegate } => {
            let q = sqlx::query(
                "UPDATE delegations SET removed_block = $1, removed_at = $2
                 WHERE patient = $3 AND delegate = $4",
            )
            .bind(at.block)
            .bind(at.time)
            .bind(patient.to_string())
            .bind(delegate.to_string());
            run(conn, q, "remove a delegation").await
        }
        _ => Ok(()),
    }
}
