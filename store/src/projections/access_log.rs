//! `access_log`: accesses an organization recorded as allowed, and denied attempts.

use super::At;
use crate::types::{AccountId, ChainEvent, RecordRef};
use crate::writer::{Insert, Ops};

static ACCESS: Insert = Insert {
    into: "access_log (block_number, event_index, patient, accessor, outcome, record_custodian,
             record_id, categories, purpose, emergency, at)",
    tail: "",
    action: "record an access",
    replaces: false,
};

pub(super) fn apply(w: &mut Ops, at: &At<'_>, event: &ChainEvent) {
    let (outcome, patient, accessor, record, categories, purpose, emergency): (
        &str,
        &AccountId,
        &AccountId,
        &Option<RecordRef>,
        u16,
        &str,
        bool,
    ) = match event {
        ChainEvent::AccessRecorded {
            patient,
            accessor,
            record,
            categories,
            purpose,
            emergency,
        } => (
            "recorded",
            patient,
            accessor,
            record,
            *categories,
            purpose,
            *emergency,
        ),
        ChainEvent::AccessDenied {
            patient,
            accessor,
            record,
            categories,
            purpose,
        } => (
            "denied",
            patient,
            accessor,
            record,
            *categories,
            purpose,
            false,
        ),
        _ => return,
    };
    w.append(
        &ACCESS,
        vec![
            at.block.into(),
            at.index.into(),
            patient.to_string().into(),
            accessor.to_string().into(),
            outcome.into(),
            record.as_ref().map(|r| r.custodian.to_string()).into(),
            record.as_ref().map(|r| r.record_id.to_string()).into(),
            i64::from(categories).into(),
            purpose.into(),
            i64::from(emergency).into(),
            at.time.into(),
        ],
    );
}
