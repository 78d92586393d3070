//! `upgrades` and `contracts`: each code upgrade, and the code a watched contract runs now.

use super::At;
use crate::types::ChainEvent;
use crate::writer::{Insert, Ops, Statement};

static UPGRADE: Insert = Insert {
    into: "upgrades (block_number, event_index, contract, code_hash, from_version,
             storage_version, at)",
    tail: "",
    action: "record an upgrade",
    replaces: false,
};

static MOVE_CONTRACT_CODE: Statement = Statement {
    sql: "UPDATE contracts SET code_hash = $1, storage_version = $2, updated_block = $3
         WHERE address = $4",
    action: "move a contract to its new code",
};

pub(super) fn apply(w: &mut Ops, at: &At<'_>, event: &ChainEvent) {
    let ChainEvent::ContractUpgraded {
        code_hash,
        from_version,
        storage_version,
    } = event
    else {
        return;
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
    w.run(
        &MOVE_CONTRACT_CODE,
        vec![
            code_hash.to_string().into(),
            i64::from(*storage_version).into(),
            at.block.into(),
            at.contract.to_string().into(),
        ],
    )
}
