//! `upgrades` and `contracts`: each code upgrade, and the code a watched contract runs now.

use super::At;
use crate::error::StoreError;
use crate::types::ChainEvent;
use crate::writer::{Insert, Writer};

static UPGRADE: Insert = Insert {
    into: "upgrades (block_number, event_index, contract, code_hash, from_version,
             storage_version, at)",
    tail: "",
    action: "record an upgrade",
    replaces: false,
};

pub(super) async fn apply(
    w: &mut Writer<'_>,
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
    w.append(
        &UPGRADE,
        vec![
            at.block.into(),
            at.index.into(),
            at.contract.into(),
            code_hash.to_string().into(),
            i64::from(*from_version).into(),
            i64::from(*storage_version).into(),
            at.time.into(),
        ],
    );
    // The row exists once the indexer recorded what it mirrors; a store fed without that
    // (tests) simply has no contract row to move on.
    let q = sqlx::query(
        "UPDATE contracts SET code_hash = $1, storage_version = $2, updated_block = $3
         WHERE address = $4",
    )
    .bind(code_hash.to_string())
    .bind(i64::from(*storage_version))
    .bind(at.block)
    .bind(at.contract.to_string());
    w.run(q, "move a contract to its new code").await
}
