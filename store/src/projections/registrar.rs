//! `registrar_history` and `policy_history`: the registrar's handovers and the policy it set.

use sqlx::AnyConnection;

use super::{At, int, run};
use crate::error::StoreError;
use crate::types::ChainEvent;

pub(super) async fn apply(
    conn: &mut AnyConnection,
    at: &At<'_>,
    event: &ChainEvent,
) -> Result<(), StoreError> {
    let (action, from, to) = match event {
        ChainEvent::RegistrarProposed { current, proposed } => ("proposed", current, proposed),
        ChainEvent::RegistrarChanged {
            previous,
            registrar,
        } => ("changed", previous, registrar),
        ChainEvent::PolicyChanged {
            emergency_window_ms,
            emergency_cooldown_ms,
            max_delegation_ms,
        } => {
            let q = sqlx::query(
                "INSERT INTO policy_history (block_number, event_index, emergency_window_ms,
                   emergency_cooldown_ms, max_delegation_ms, at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(at.block)
            .bind(at.index)
            .bind(int(*emergency_window_ms))
            .bind(int(*emergency_cooldown_ms))
            .bind(int(*max_delegation_ms))
            .bind(at.time);
            return run(conn, q, "record a policy change").await;
        }
        _ => return Ok(()),
    };
    let q = sqlx::query(
        "INSERT INTO registrar_history (block_number, event_index, action, from_account,
           to_account, at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(at.block)
    .bind(at.index)
    .bind(action)
    .bind(from.to_string())
    .bind(to.to_string())
    .bind(at.time);
    run(conn, q, "record a registrar change").await
}
