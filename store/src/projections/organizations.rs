//! `organizations` and `organization_history`: who is registered, in which role, by what name,
//! kind and identifiers, whether suspended now, and since when (what a judgement at a past
//! instant needs). A change of name is not history the rule needs: the raw event keeps it.

use super::At;
use crate::types::{ChainEvent, OrgProfile};
use crate::writer::{Insert, Ops, Statement, Value};

static REGISTERED: Insert = Insert {
    into: "organizations (account, role, flags, active, registered_block, registered_at,
             name, kind, identifiers)",
    tail: "",
    action: "insert an organization",
    replaces: false,
};

static SET_PROFILE: Statement = Statement {
    sql: "UPDATE organizations SET name = $1, kind = $2, identifiers = $3 WHERE account = $4",
    action: "rename an organization",
};

/// The profile's columns: name, kind, identifiers as JSON (nulls and `[]` without one).
fn profile_values(profile: Option<&OrgProfile>) -> [Value; 3] {
    match profile {
        Some(p) => [
            p.name.clone().into(),
            p.kind.clone().into(),
            serde_json::to_string(&p.identifiers)
                .unwrap_or_else(|_| "[]".into())
                .into(),
        ],
        None => [Value::NULL_TEXT, Value::NULL_TEXT, "[]".into()],
    }
}

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
    if let ChainEvent::OrgUpdated { org, profile } = event {
        let mut values = profile_values(profile.as_ref()).to_vec();
        values.push(org.to_string().into());
        w.run(&SET_PROFILE, values);
        return;
    }
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
        ChainEvent::OrgRegistered {
            org,
            role,
            flags,
            profile,
        } => {
            let org = org.to_string();
            let mut values = vec![
                org.clone().into(),
                (*role).into(),
                i64::from(*flags).into(),
                1i64.into(),
                at.block.into(),
                at.time.into(),
            ];
            values.extend(profile_values(profile.as_ref()));
            w.row(&REGISTERED, Some(org), values)
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
