//! `upgrades` and `contracts`: each code upgrade, the code a watched contract runs now, the
//! upgrade announced for it, until applied or withdrawn.

use super::{At, int};
use crate::types::ChainEvent;
use crate::writer::{Insert, Ops, Statement, Value};

static UPGRADE: Insert = Insert {
    into: "upgrades (block_number, event_index, contract, code_hash, from_version,
             storage_version, at)",
    tail: "",
    action: "record an upgrade",
    replaces: false,
};

static MOVE_CONTRACT_CODE: Statement = Statement {
    sql: "UPDATE contracts SET code_hash = $1, storage_version = $2, updated_block = $3,
           pending_code_hash = NULL, pending_effective_at = NULL, announced_block = NULL
         WHERE address = $4",
    action: "move a contract to its new code",
};

/// An announcement replaces the one before; withdrawing one sets all three to null.
static SET_PENDING: Statement = Statement {
    sql: "UPDATE contracts SET pending_code_hash = $1, pending_effective_at = $2,
           announced_block = $3
         WHERE address = $4",
    action: "record an announced upgrade",
};

pub(super) fn apply(w: &mut Ops, at: &At<'_>, event: &ChainEvent) {
    // The rows exist once the indexer recorded what it mirrors; a store fed without that
    // (tests) simply has no contract row to change.
    let (code_hash, from_version, storage_version) = match event {
        ChainEvent::ContractUpgraded {
            code_hash,
            from_version,
            storage_version,
        } => (code_hash, from_version, storage_version),
        ChainEvent::UpgradeAnnounced {
            code_hash,
            effective_at,
        } => {
            return w.run(
                &SET_PENDING,
                vec![
                    code_hash.to_string().into(),
                    int(*effective_at).into(),
                    at.block.into(),
                    at.contract.into(),
                ],
            );
        }
        ChainEvent::UpgradeCancelled { .. } => {
            return w.run(
                &SET_PENDING,
                vec![
                    Value::NULL_TEXT,
                    Value::NULL_INT,
                    Value::NULL_INT,
                    at.contract.into(),
                ],
            );
        }
        _ => return,
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
