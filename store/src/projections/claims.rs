//! `claims`, `claim_documents` and `duplicate_claim_uses`: attested insurance claims, the
//! anchored documents each used, and documents used again for the same patient.

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
        ChainEvent::ClaimAttested {
            patient,
            insurer,
            claim_ref,
            documents,
            all_current,
        } => {
            let (insurer, claim_ref) = (insurer.to_string(), claim_ref.to_string());
            let q = sqlx::query(
                "INSERT INTO claims (insurer, claim_ref, patient, all_current, block_number,
                   event_index, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&insurer)
            .bind(&claim_ref)
            .bind(patient.to_string())
            .bind(i64::from(*all_current))
            .bind(at.block)
            .bind(at.index)
            .bind(at.time);
            run(conn, q, "record a claim").await?;
            for (position, document) in documents.iter().enumerate() {
                let q = sqlx::query(
                    "INSERT INTO claim_documents (insurer, claim_ref, position, custodian,
                       commitment)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&insurer)
                .bind(&claim_ref)
                .bind(position as i64)
                .bind(document.custodian.to_string())
                .bind(document.commitment.to_string());
                run(conn, q, "record a claim's document").await?;
            }
            Ok(())
        }
        ChainEvent::DuplicateClaimUse {
            patient,
            insurer,
            commitment,
            claim_ref,
            first_insurer,
            first_claim_ref,
        } => {
            let q = sqlx::query(
                "INSERT INTO duplicate_claim_uses (block_number, event_index, patient, insurer,
                   commitment, claim_ref, first_insurer, first_claim_ref, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(at.block)
            .bind(at.index)
            .bind(patient.to_string())
            .bind(insurer.to_string())
            .bind(commitment.to_string())
            .bind(claim_ref.to_string())
            .bind(first_insurer.to_string())
            .bind(first_claim_ref.to_string())
            .bind(at.time);
            run(conn, q, "record a duplicate claim use").await
        }
        _ => Ok(()),
    }
}
