//! `consents` and `consent_history`: the current consent of each (patient, grantee) pair, and
//! every grant and revocation in chain order.

use super::{At, int};
use crate::types::ChainEvent;
use crate::writer::{Insert, Ops, Statement, Value};

static UPSERT: Insert = Insert {
    into: "consents (patient, grantee, categories, purposes, access, valid_from, expires_at,
             terms_hash, version, revoked, updated_by, updated_block, updated_at)",
    tail: "ON CONFLICT (patient, grantee) DO UPDATE SET
             categories = excluded.categories, purposes = excluded.purposes,
             access = excluded.access, valid_from = excluded.valid_from,
             expires_at = excluded.expires_at, terms_hash = excluded.terms_hash,
             version = excluded.version, revoked = 0,
             updated_by = excluded.updated_by, updated_block = excluded.updated_block,
             updated_at = excluded.updated_at",
    action: "upsert a consent",
    replaces: true,
};

static HISTORY: Insert = Insert {
    into: "consent_history (block_number, event_index, patient, grantee, action, version,
             categories, purposes, access, valid_from, expires_at, terms_hash, by_account, at)",
    tail: "",
    action: "record consent history",
    replaces: false,
};

static REVOKE_CONSENT: Statement = Statement {
    sql: "UPDATE consents SET revoked = 1, updated_by = $1, updated_block = $2,
           updated_at = $3
         WHERE patient = $4 AND grantee = $5",
    action: "revoke a consent",
};

pub(super) fn apply(w: &mut Ops, at: &At<'_>, event: &ChainEvent) {
    match event {
        ChainEvent::ConsentGranted {
            patient,
            grantee,
            categories,
            purposes,
            access,
            valid_from,
            expires_at,
            terms_hash,
            version,
            by,
        } => {
            let (patient, grantee, by) = (patient.to_string(), grantee.to_string(), by.to_string());
            let valid_from = int(*valid_from);
            let expires_at = expires_at.map(int);
            let terms = terms_hash.to_string();
            let key = format!("{patient}/{grantee}");
            w.row(
                &UPSERT,
                Some(key),
                vec![
                    patient.clone().into(),
                    grantee.clone().into(),
                    i64::from(*categories).into(),
                    i64::from(*purposes).into(),
                    i64::from(*access).into(),
                    valid_from.into(),
                    expires_at.into(),
                    terms.clone().into(),
                    i64::from(*version).into(),
                    0i64.into(),
                    by.clone().into(),
                    at.block.into(),
                    at.time.into(),
                ],
            );
            w.append(
                &HISTORY,
                vec![
                    at.block.into(),
                    at.index.into(),
                    patient.into(),
                    grantee.into(),
                    "granted".into(),
                    i64::from(*version).into(),
                    i64::from(*categories).into(),
                    i64::from(*purposes).into(),
                    i64::from(*access).into(),
                    valid_from.into(),
                    expires_at.into(),
                    terms.into(),
                    by.into(),
                    at.time.into(),
                ],
            );
        }
        ChainEvent::ConsentRevoked {
            patient,
            grantee,
            version,
            by,
        } => {
            let (patient, grantee, by) = (patient.to_string(), grantee.to_string(), by.to_string());
            w.run(
                &REVOKE_CONSENT,
                vec![
                    by.clone().into(),
                    at.block.into(),
                    at.time.into(),
                    patient.clone().into(),
                    grantee.clone().into(),
                ],
            );
            w.append(
                &HISTORY,
                vec![
                    at.block.into(),
                    at.index.into(),
                    patient.into(),
                    grantee.into(),
                    "revoked".into(),
                    i64::from(*version).into(),
                    Value::NULL_INT,
                    Value::NULL_INT,
                    Value::NULL_INT,
                    Value::NULL_INT,
                    Value::NULL_INT,
                    Value::NULL_TEXT,
                    by.into(),
                    at.time.into(),
                ],
            );
        }
        _ => {}
    }
}
