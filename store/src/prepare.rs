//! Blocks prepared for the store: each event's rows and statements recorded as [`Ops`],
//! without a database. Preparing costs about half as much as writing (serializing each event,
//! showing accounts as SS58), so the indexer prepares each block in a task of its own, on
//! another core, while the committer writes the blocks before it. Blocks at or before the
//! cursor are prepared too and then skipped by the committer.

use crate::error::StoreError;
use crate::projections::{self, At};
use crate::sql::int;
use crate::types::{AccountId, BlockChanges, Hash32};
use crate::writer::{Insert, Ops};

static BLOCK: Insert = Insert {
    into: "blocks (number, hash, timestamp_ms)",
    tail: "",
    action: "insert a block",
    replaces: false,
};

static EVENT: Insert = Insert {
    into: "events (block_number, event_index, contract, kind, payload, patient)",
    tail: "",
    action: "insert an event",
    replaces: false,
};

static UNDECODED: Insert = Insert {
    into: "undecoded_events (block_number, event_index, contract, topics, data, reason)",
    tail: "",
    action: "store an undecoded event",
    replaces: false,
};

/// One block's writes, ready for [`Store::apply_prepared`](crate::Store::apply_prepared).
pub struct PreparedBlock {
    pub(crate) number: u64,
    pub(crate) hash: Hash32,
    pub(crate) timestamp_ms: u64,
    events: usize,
    undecoded: usize,
    pub(crate) ops: Ops,
}

impl PreparedBlock {
    /// Records what `block` writes: the block and its raw events (when it has any), each
    /// event's projections, and the events that did not decode.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the block's number or time, or an event, cannot be
    /// stored.
    pub fn new(block: &BlockChanges) -> Result<Self, StoreError> {
        let number = int(block.number, "block number")?;
        let time = int(block.timestamp_ms, "timestamp")?;
        let mut ops = Ops::default();
        if !(block.events.is_empty() && block.undecoded.is_empty()) {
            ops.append(
                &BLOCK,
                vec![number.into(), block.hash.to_string().into(), time.into()],
            );
        }
        for event in &block.events {
            let payload = serde_json::to_string(&event.event)
                .map_err(|e| StoreError::Corrupt(format!("event does not serialize: {e}")))?;
            let contract = event.contract.to_string();
            ops.append(
                &EVENT,
                vec![
                    number.into(),
                    i64::from(event.index).into(),
                    contract.as_str().into(),
                    event.event.kind().into(),
                    payload.into(),
                    event.event.patient().map(AccountId::to_string).into(),
                ],
            );
            let at = At {
                block: number,
                index: i64::from(event.index),
                time,
                contract: &contract,
            };
            projections::project(&mut ops, &at, &event.event);
        }
        for raw in &block.undecoded {
            let topics: Vec<String> = raw.topics.iter().map(Hash32::to_string).collect();
            ops.append(
                &UNDECODED,
                vec![
                    number.into(),
                    i64::from(raw.index).into(),
                    raw.contract.to_string().into(),
                    topics.join(",").into(),
                    format!("0x{}", hex::encode(&raw.data)).into(),
                    raw.reason.as_str().into(),
                ],
            );
        }
        Ok(PreparedBlock {
            number: block.number,
            hash: block.hash,
            timestamp_ms: block.timestamp_ms,
            events: block.events.len(),
            undecoded: block.undecoded.len(),
            ops,
        })
    }

    /// The block's number.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// How many decoded events the block has.
    pub fn events(&self) -> usize {
        self.events
    }

    /// How many of the watched contracts' events in the block did not decode.
    pub fn undecoded(&self) -> usize {
        self.undecoded
    }
}
