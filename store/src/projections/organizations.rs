//! `organizations` and `organization_history`: who is registered, in which role, whether
//! suspended now, and since when (what a judgement at a past instant needs).

use super::At;
use crate::types::ChainEvent;
use crate::writer::{Insert, Ops, Statement};

static REGISTERED: Insert = Insert {
    into: "organizations (account, role, flags, active, registered_block, registered_at)",
    tail: "",
    action: "insert an organization",
    replaces: false,
};

static HISTORY: Insert = Insert {
    into: "organization_history (block_number, event_index, account, action, at)",
    tail: "",
    action: "record an organization's history",
    replaces: false,
};

static SET_ORG_ACTIVE: Statement = Statement {
    sql: "UPDATE organizations SET active = $1 WHERE account = $2",
    action: "update an organization",
};

pub(super) fn apply(w: &mut Ops, at: &At<'_>, event: &ChainEvent) {
    let (org, action) = match event {
        ChainEvent::OrgRegistered { org, .. } => (org, "registered"),
        ChainEvent::OrgSuspended { org } => (org, "suspended"),
        ChainEvent::OrgReinstated { org } => (org, "reinstated"),
        _ => return,
    };
    w.append(
        &HISTORY,
        vec![
            at.block.into(),
            at.index.into(),
            org.to_string().into(),
            action.into(),
            at.time.into(),
        ],
    );
    match event {
        ChainEvent::OrgRegistered { org, role, flags } => {
            let org = org.to_string();
            w.row(
                &REGISTERED,
                Some(org.clone()),
                vec![
                    org.into(),
                    (*role).into(),
                    i64::from(*flags).into(),
                    1i64.into(),
                    at.block.into(),
                    at.time.into(),
                ],
            )
        }
        ChainEvent::OrgSuspended { org } | ChainEvent::OrgReinstated { org } => {
            let active = matches!(event, ChainEvent::OrgReinstated { .. });
            w.run(
                &SET_ORG_ACTIVE,
                vec![i64::from(active).into(), org.to_string().into()],
            )
        }
        _ => {}
    }
}
