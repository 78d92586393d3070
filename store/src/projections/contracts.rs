//! `upgrades` and `contracts`: each code upgrade, and the code a watched contract runs now.

use sqlx::AnyConnection;

use super::{At, run};
use crate::error::StoreError;
use crate::types::ChainEvent;

pub(super) async fn apply(
    conn: &mut AnyConnection,
    at: &At<'_>,
    event: &ChainEvent,
) -> Result<(), StoreError> {
    let ChainEvent::ContractUpgraded {
        code_hash,
        from_version,
        storage_version,
    } = event
    else {
        return Ok(());
    };
    let q = sqlx::query(
        "INSERT INTO upgrades (block_number, event_index, contract, code_hash, from_version,
           storage_version, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(at.block)
    .bind(at.index)
    .bind(at.contract)
    .bind(code_hash.to_string())
    .bind(i64::from(*from_version))
    .bind(i64::from(*storage_version))
    .bind(at.time);
    run(conn, q, "record an upgrade").await?;
    // The row exists once the indexer recorded what it mirrors; a store fed without that
    // (tests) simply has no contract row to move on.
    let q = sqlx::query(
        "UPDATE contracts SET code_hash = $1, storage_version = $2, updated_block = $3
         WHERE address = $4",
    )
    .bind(code_hash.to_string())
    .bind(i64::from(*storage_version))
    .bind(at.block)
    .bind(at.contract);
    run(conn, q, "move a contract to its new code").await
}
