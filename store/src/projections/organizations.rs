//! `organizations`: who is registered, in which role, and whether suspended.

use sqlx::AnyConnection;

use super::{At, run};
use crate::error::StoreError;
use crate::types::ChainEvent;

pub(super) async fn apply(
    conn: &mut AnyConnection,
    at: &At<'_>,
    event: &ChainEvent,
) -> Result<(), StoreError> {
    match event {
        ChainEvent::OrgRegistered { org, role, flags } => {
            let q = sqlx::query(
                "INSERT INTO organizations
                   (account, role, flags, active, registered_block, registered_at)
                 VALUES ($1, $2, $3, 1, $4, $5)",
            )
            .bind(org.to_string())
            .bind(*role)
            .bind(i64::from(*flags))
            .bind(at.block)
            .bind(at.time);
            run(conn, q, "insert an organization").await
        }
        ChainEvent::OrgSuspended { org } | ChainEvent::OrgReinstated { org } => {
            let active = matches!(event, ChainEvent::OrgReinstated { .. });
            let q = sqlx::query("UPDATE organizations SET active = $1 WHERE account = $2")
                .bind(i64::from(active))
                .bind(org.to_string());
            run(conn, q, "update an organization").await
        }
        _ => Ok(()),
    }
}
