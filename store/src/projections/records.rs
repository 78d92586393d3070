//! `records` and `record_versions`: each record's latest state, and every anchored version
//! per custodian with what superseded it.

use super::At;
use crate::types::ChainEvent;
use crate::writer::{Insert, Ops, Statement};

static RECORD: Insert = Insert {
    into: "records (custodian, record_id, patient, category_commitment, latest_version,
             latest_commitment)",
    tail: "",
    action: "insert a record",
    replaces: false,
};

static VERSION: Insert = Insert {
    into: "record_versions (custodian, commitment, record_id, version, patient,
             category_commitment, block_number, anchored_at)",
    tail: "",
    action: "insert a record version",
    replaces: false,
};

static INSERT_AMENDED_VERSION: Statement = Statement {
    sql: "INSERT INTO record_versions (custodian, commitment, record_id, version,
           patient, category_commitment, block_number, anchored_at)
         SELECT custodian, $1, record_id, $2, patient, category_commitment, $3, $4
         FROM records WHERE custodian = $5 AND record_id = $6",
    action: "insert an amended version",
};

static SUPERSEDE_VERSION: Statement = Statement {
    sql: "UPDATE record_versions SET superseded_by = $1
         WHERE custodian = $2 AND commitment = $3",
    action: "supersede a record version",
};

static SET_RECORD_LATEST: Statement = Statement {
    sql: "UPDATE records SET latest_version = $1, latest_commitment = $2
         WHERE custodian = $3 AND record_id = $4",
    action: "update a record",
};

pub(super) fn apply(w: &mut Ops, at: &At<'_>, event: &ChainEvent) {
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
            w.row(
                &RECORD,
                Some(format!("{custodian}/{record_id}")),
                vec![
                    custodian.clone().into(),
                    record_id.clone().into(),
                    patient.clone().into(),
                    category.clone().into(),
                    i64::from(*version).into(),
                    commitment.clone().into(),
                ],
            );
            w.row(
                &VERSION,
                Some(format!("{custodian}/{commitment}")),
                vec![
                    custodian.into(),
                    commitment.into(),
                    record_id.into(),
                    i64::from(*version).into(),
                    patient.into(),
                    category.into(),
                    at.block.into(),
                    at.time.into(),
                ],
            )
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
            w.run(
                &INSERT_AMENDED_VERSION,
                vec![
                    commitment.clone().into(),
                    i64::from(*version).into(),
                    at.block.into(),
                    at.time.into(),
                    custodian.clone().into(),
                    record_id.clone().into(),
                ],
            );
            w.run(
                &SUPERSEDE_VERSION,
                vec![
                    commitment.clone().into(),
                    custodian.clone().into(),
                    previous.to_string().into(),
                ],
            );
            w.run(
                &SET_RECORD_LATEST,
                vec![
                    i64::from(*version).into(),
                    commitment.clone().into(),
                    custodian.clone().into(),
                    record_id.clone().into(),
                ],
            )
        }
        _ => {}
    }
}
