//! `consents` and `consent_history`: the current consent of each (patient, grantee) pair, and
//! every grant and revocation in chain order.

use sqlx::AnyConnection;

use super::{At, int, run};
use crate::error::StoreError;
use crate::types::ChainEvent;

pub(super) async fn apply(
    conn: &mut AnyConnection,
    at: &At<'_>,
    event: &ChainEvent,
) -> Result<(), StoreError> {
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
            let q = sqlx::query(
                "INSERT INTO consents (patient, grantee, categories, purposes, access,
                   valid_from, expires_at, terms_hash, version, revoked, updated_by,
                   updated_block, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $12)
                 ON CONFLICT (patient, grantee) DO UPDATE SET
                   categories = excluded.categories, purposes = excluded.purposes,
                   access = excluded.access, valid_from = excluded.valid_from,
                   expires_at = excluded.expires_at, terms_hash = excluded.terms_hash,
                   version = excluded.version, revoked = 0,
                   updated_by = excluded.updated_by, updated_block = excluded.updated_block,
                   updated_at = excluded.updated_at",
            )
            .bind(&patient)
            .bind(&grantee)
            .bind(i64::from(*categories))
            .bind(i64::from(*purposes))
            .bind(i64::from(*access))
            .bind(valid_from)
            .bind(expires_at)
            .bind(&terms)
            .bind(i64::from(*version))
            .bind(&by)
            .bind(at.block)
            .bind(at.time);
            run(conn, q, "upsert a consent").await?;
            let q = sqlx::query(
                "INSERT INTO consent_history (block_number, event_index, patient, grantee,
                   action, version, categories, purposes, access, valid_from, expires_at,
                   terms_hash, by_account, at)
                 VALUES ($1, $2, $3, $4, 'granted', $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(at.block)
            .bind(at.index)
            .bind(&patient)
            .bind(&grantee)
            .bind(i64::from(*version))
            .bind(i64::from(*categories))
            .bind(i64::from(*purposes))
            .bind(i64::from(*access))
            .bind(valid_from)
            .bind(expires_at)
            .bind(&terms)
            .bind(&by)
            .bind(at.time);
            run(conn, q, "record consent history").await
        }
        ChainEvent::ConsentRevoked {
            patient,
            grantee,
            version,
            by,
        } => {
            let (patient, grantee, by) = (patient.to_string(), grantee.to_string(), by.to_string());
            let q = sqlx::query(
                "UPDATE consents SET revoked = 1, updated_by = $1, updated_block = $2,
                   updated_at = $3
                 WHERE patient = $4 AND grantee = $5",
            )
            .bind(&by)
            .bind(at.block)
            .bind(at.time)
            .bind(&patient)
            .bind(&grantee);
            run(conn, q, "revoke a consent").await?;
            let q = sqlx::query(
                "INSERT INTO consent_history (block_number, event_index, patient, grantee,
                   action, version, by_account, at)
                 VALUES ($1, $2, $3, $4, 'revoked', $5, $6, $7)",
            )
            .bind(at.block)
            .bind(at.index)
            .bind(&patient)
            .bind(&grantee)
            .bind(i64::from(*version))
            .bind(&by)
            .bind(at.time);
            run(conn, q, "record consent history").await
        }
        _ => Ok(()),
    }
}
