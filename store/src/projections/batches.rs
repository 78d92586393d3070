//! `batches`: Merkle roots anchored for a folder of records.

use super::At;
use crate::types::ChainEvent;
use crate::writer::{Insert, Ops};

static BATCH: Insert = Insert {
    into: "batches (org, root, leaf_count, block_number, anchored_at)",
    tail: "",
    action: "record a batch",
    replaces: false,
};

pub(super) fn apply(w: &mut Ops, at: &At<'_>, event: &ChainEvent) {
    let ChainEvent::BatchAnchored {
        org,
        root,
        leaf_count,
    } = event
    else {
        return;
    };
    w.append(
        &BATCH,
        vec![
            org.to_string().into(),
            root.to_string().into(),
            i64::from(*leaf_count).into(),
            at.block.into(),
            at.time.into(),
        ],
    );
}
