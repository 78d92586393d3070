//! `batches`: Merkle roots anchored for a folder of records.

use sqlx::AnyConnection;

use super::{At, run};
use crate::error::StoreError;
use crate::types::ChainEvent;

pub(super) async fn apply(
    conn: &mut AnyConnection,
    at: &At<'_>,
    event: &ChainEvent,
) -> Result<(), StoreError> {
    let ChainEvent::BatchAnchored {
        org,
        root,
        leaf_count,
    } = event
    else {
        return Ok(());
    };
    let q = sqlx::query(
        "INSERT INTO batches (org, root, leaf_count, block_number, anchored_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(org.to_string())
    .bind(root.to_string())
    .bind(i64::from(*leaf_count))
    .bind(at.block)
    .bind(at.time);
    run(conn, q, "record a batch").await
}
