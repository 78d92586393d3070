//! `registrar_history` and `policy_history`: the registrar's handovers and the policy it set.

use super::{At, int};
use crate::types::ChainEvent;
use crate::writer::{Insert, Ops};

static POLICY: Insert = Insert {
    into: "policy_history (block_number, event_index, emergency_window_ms,
             emergency_cooldown_ms, max_delegation_ms, at)",
    tail: "",
    action: "record a policy change",
    replaces: false,
};

static REGISTRAR: Insert = Insert {
    into: "registrar_history (block_number, event_index, action, from_account, to_account, at)",
    tail: "",
    action: "record a registrar change",
    replaces: false,
};

pub(super) fn apply(w: &mut Ops, at: &At<'_>, event: &ChainEvent) {
    let (action, from, to) = match event {
        ChainEvent::RegistrarProposed { current, proposed } => ("proposed", current, proposed),
        ChainEvent::RegistrarChanged {
            previous,
            registrar,
        } => ("changed", previous, registrar),
        ChainEvent::PolicyChanged {
            emergency_window_ms,
            emergency_cooldown_ms,
            max_delegation_ms,
        } => {
            w.append(
                &POLICY,
                vec![
                    at.block.into(),
                    at.index.into(),
                    int(*emergency_window_ms).into(),
                    int(*emergency_cooldown_ms).into(),
                    int(*max_delegation_ms).into(),
                    at.time.into(),
                ],
            );
            return;
        }
        _ => return,
    };
    w.append(
        &REGISTRAR,
        vec![
            at.block.into(),
            at.index.into(),
            action.into(),
            from.to_string().into(),
            to.to_string().into(),
            at.time.into(),
        ],
    );
}
