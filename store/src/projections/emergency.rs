//! `emergency_windows` and `emergency_blocks`: break-glass windows (opened, and ended by the
//! patient, a delegate or a block) and the providers a patient barred from breaking glass.

use super::{At, int};
use crate::types::{AccountId, ChainEvent};
use crate::writer::{Insert, Ops, Statement};

static OPENED: Insert = Insert {
    into: "emergency_windows (opened_block, opened_index, patient, provider, reason,
             justification_hash, opened_at, ends_at)",
    tail: "",
    action: "record an emergency window",
    replaces: false,
};

static BLOCK: Insert = Insert {
    into: "emergency_blocks (patient, provider, blocked, changed_by, changed_block, changed_at)",
    tail: "ON CONFLICT (patient, provider) DO UPDATE SET blocked = excluded.blocked,
             changed_by = excluded.changed_by, changed_block = excluded.changed_block,
             changed_at = excluded.changed_at",
    action: "record an emergency block",
    replaces: true,
};

static END_WINDOW: Statement = Statement {
    sql: "UPDATE emergency_windows SET ended_block = $1, ended_at = $2, ended_by = $3,
           cooldown_until = $4
         WHERE patient = $5 AND provider = $6 AND ended_block IS NULL
           AND opened_block = (SELECT MAX(opened_block) FROM emergency_windows
                               WHERE patient = $5 AND provider = $6)",
    action: "end an emergency window",
};

/// Marks the pair's latest window as ended now, unless it already was. (A window that ran
/// out by time keeps no end: its `ends_at` says when it closed; the contract refuses a new
/// window while one is open, so the latest window is the only one that can be ended.)
fn end_window(
    w: &mut Ops,
    at: &At<'_>,
    patient: &AccountId,
    provider: &AccountId,
    by: &AccountId,
    cooldown_until: u64,
) {
    w.run(
        &END_WINDOW,
        vec![
            at.block.into(),
            at.time.into(),
            by.to_string().into(),
            int(cooldown_until).into(),
            patient.to_string().into(),
            provider.to_string().into(),
        ],
    )
}

pub(super) fn apply(w: &mut Ops, at: &At<'_>, event: &ChainEvent) {
    match event {
        ChainEvent::EmergencyAccessOpened {
            patient,
            provider,
            reason,
            justification_hash,
            ends_at,
        } => w.row(
            &OPENED,
            None,
            vec![
                at.block.into(),
                at.index.into(),
                patient.to_string().into(),
                provider.to_string().into(),
                (*reason).into(),
                justification_hash.to_string().into(),
                at.time.into(),
                int(*ends_at).into(),
            ],
        ),
        ChainEvent::EmergencyAccessEnded {
            patient,
            provider,
            by,
            cooldown_until,
        } => end_window(w, at, patient, provider, by, *cooldown_until),
        ChainEvent::EmergencyBlockChanged {
            patient,
            provider,
            blocked,
            by,
            cooldown_until,
        } => {
            if let Some(until) = cooldown_until {
                end_window(w, at, patient, provider, by, *until);
            }
            let (patient, provider) = (patient.to_string(), provider.to_string());
            w.row(
                &BLOCK,
                Some(format!("{patient}/{provider}")),
                vec![
                    patient.into(),
                    provider.into(),
                    i64::from(*blocked).into(),
                    by.to_string().into(),
                    at.block.into(),
                    at.time.into(),
                ],
            )
        }
        _ => {}
    }
}
