//! `delegations` and `delegation_history`: each patient's delegates as last set (removed
//! ones stay, marked), and every setting and removal in chain order (a delegate's grant is
//! in force only while the delegation it was made under lasts, which the history tells).

use super::{At, int};
use crate::types::ChainEvent;
use crate::writer::{Insert, Ops, Statement, Value};

static SET: Insert = Insert {
    into: "delegations (patient, delegate, expires_at, set_block, set_at)",
    tail: "ON CONFLICT (patient, delegate) DO UPDATE SET
             expires_at = excluded.expires_at, set_block = excluded.set_block,
             set_at = excluded.set_at, removed_block = NULL, removed_at = NULL",
    action: "record a delegation",
    replaces: true,
};

static HISTORY: Insert = Insert {
    into: "delegation_history (block_number, event_index, patient, delegate, action,
             expires_at, at)",
    tail: "",
    action: "record a delegation's history",
    replaces: false,
};

static REMOVE_DELEGATION: Statement = Statement {
    sql: "UPDATE delegations SET removed_block = $1, removed_at = $2
         WHERE patient = $3 AND delegate = $4",
    action: "remove a delegation",
};

pub(super) fn apply(w: &mut Ops, at: &At<'_>, event: &ChainEvent) {
    match event {
        ChainEvent::DelegateSet {
            patient,
            delegate,
            expires_at,
        } => {
            let (patient, delegate) = (patient.to_string(), delegate.to_string());
            w.append(
                &HISTORY,
                vec![
                    at.block.into(),
                    at.index.into(),
                    patient.as_str().into(),
                    delegate.as_str().into(),
                    "set".into(),
                    int(*expires_at).into(),
                    at.time.into(),
                ],
            );
            w.row(
                &SET,
                Some(format!("{patient}/{delegate}")),
                vec![
                    patient.into(),
                    delegate.into(),
                    int(*expires_at).into(),
                    at.block.into(),
                    at.time.into(),
                ],
            )
        }
        ChainEvent::DelegateRemoved { patient, delegate } => {
            w.append(
                &HISTORY,
                vec![
                    at.block.into(),
                    at.index.into(),
                    patient.to_string().into(),
                    delegate.to_string().into(),
                    "removed".into(),
                    Value::NULL_INT,
                    at.time.into(),
                ],
            );
            w.run(
                &REMOVE_DELEGATION,
                vec![
                    at.block.into(),
                    at.time.into(),
                    patient.to_string().into(),
                    delegate.to_string().into(),
                ],
            )
        }
        _ => {}
    }
}
