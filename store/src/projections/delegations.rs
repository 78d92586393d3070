//! `delegations`: each patient's delegates, as last set; removed ones stay, marked.

use super::{At, int};
use crate::error::StoreError;
use crate::types::ChainEvent;
use crate::writer::{Insert, Writer};

static SET: Insert = Insert {
    into: "delegations (patient, delegate, expires_at, set_block, set_at)",
    tail: "ON CONFLICT (patient, delegate) DO UPDATE SET
             expires_at = excluded.expires_at, set_block = excluded.set_block,
             set_at = excluded.set_at, removed_block = NULL, removed_at = NULL",
    action: "record a delegation",
    replaces: true,
};

pub(super) async fn apply(
    w: &mut Writer<'_>,
    at: &At<'_>,
    event: &ChainEvent,
) -> Result<(), StoreError> {
    match event {
        ChainEvent::DelegateSet {
            patient,
            delegate,
            expires_at,
        } => {
            let (patient, delegate) = (patient.to_string(), delegate.to_string());
            w.row(
                &SET,
                Some(format!("{patient}/{delegate}")),
                vec![
                    patient.into(),
                    delegate.into(),
                    int(*expires_at).into(),
                    at.block.into(),
                    at.time.into(),
                ],
            )
            .await
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
            w.run(q, "remove a delegation").await
        }
        _ => Ok(()),
    }
}
