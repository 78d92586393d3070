//! `records` and `record_versions`: each record's latest state, and every anchored version
//! per custodian with what superseded it.

use sqlx::AnyConnection;

use super::{At, run};
use crate::error::StoreError;
use crate::types::ChainEvent;

pub(super) async fn apply(
    conn: &mut AnyConnection,
    at: &At<'_>,
    event: &ChainEvent,
) -> Result<(), StoreError> {
    match event {
        ChainEvent::RecordAnchored {
            patient,
            custodian,
            commitment,
            record_id,
            category_commitment,
            version,
        } => {
            let (patient, custodian) = (patient.to_string(), custodian.to_string());
            let (record_id, commitment) = (record_id.to_string(), commitment.to_string());
            let category = category_commitment.to_string();
            let q = sqlx::query(
                "INSERT INTO records (custodian, record_id, patient, category_commitment,
                   latest_version, latest_commitment)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&custodian)
            .bind(&record_id)
            .bind(&patient)
            .bind(&category)
            .bind(i64::from(*version))
            .bind(&commitment);
            run(conn, q, "insert a record").await?;
            let q = sqlx::query(
                "INSERT INTO record_versions (custodian, commitment, record_id, version,
                   patient, category_commitment, block_number, anchored_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&custodian)
            .bind(&commitment)
            .bind(&record_id)
            .bind(i64::from(*version))
            .bind(&patient)
            .bind(&category)
            .bind(at.block)
            .bind(at.time);
            run(conn, q, "insert a record version").await
        }
        ChainEvent::RecordAmended {
            custodian,
            commitment,
            record_id,
            previous,
            version,
            ..
        } => {
            let (custodian, record_id) = (custodian.to_string(), record_id.to_string());
            let commitment = commitment.to_string();
            let q = sqlx::query(
                "INSERT INTO record_versions (custodian, commitment, record_id, version,
                   patient, category_commitment, block_number, anchored_at)
                 SELECT custodian, $1, record_id, $2, patient, category_commitment, $3, $4
                 FROM records WHERE custodian = $5 AND record_id = $6",
            )
            .bind(&commitment)
            .bind(i64::from(*version))
            .bind(at.block)
            .bind(at.time)
            .bind(&custodian)
            .bind(&record_id);
            run(conn, q, "insert an amended version").await?;
            let q = sqlx::query(
                "UPDATE record_versions SET superseded_by = $1
                 WHERE custodian = $2 AND commitment = $3",
            )
            .bind(&commitment)
            .bind(&custodian)
            .bind(previous.to_string());
            run(conn, q, "supersede a record version").await?;
            let q = sqlx::query(
                "UPDATE records SET latest_version = $1, latest_commitment = $2
                 WHERE custodian = $3 AND record_id = $4",
            )
            .bind(i64::from(*version))
            .bind(&commitment)
            .bind(&custodian)
            .bind(&record_id);
            run(conn, q, "update a record").await
        }
        _ => Ok(()),
    }
}
