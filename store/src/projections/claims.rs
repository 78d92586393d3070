//! `claims`, `claim_documents` and `duplicate_claim_uses`: attested insurance claims, the
//! anchored documents each used, and documents (or other versions of their records) used
//! again for the same patient, by the same insurer or another.

use super::At;
use crate::types::ChainEvent;
use crate::writer::{Insert, Ops};

static CLAIM: Insert = Insert {
    into: "claims (insurer, claim_ref, patient, all_current, block_number, event_index, at)",
    tail: "",
    action: "record a claim",
    replaces: false,
};

static DOCUMENT: Insert = Insert {
    into: "claim_documents (insurer, claim_ref, position, custodian, commitment)",
    tail: "",
    action: "record a claim's document",
    replaces: false,
};

static DUPLICATE: Insert = Insert {
    into: "duplicate_claim_uses (block_number, event_index, patient, insurer, commitment,
             claim_ref, first_insurer, first_claim_ref, at, reuse, overlap)",
    tail: "",
    action: "record a duplicate claim use",
    replaces: false,
};

pub(super) fn apply(w: &mut Ops, at: &At<'_>, event: &ChainEvent) {
    match event {
        ChainEvent::ClaimAttested {
            patient,
            insurer,
            claim_ref,
            documents,
            all_current,
        } => {
            let (insurer, claim_ref) = (insurer.to_string(), claim_ref.to_string());
            w.append(
                &CLAIM,
                vec![
                    insurer.clone().into(),
                    claim_ref.clone().into(),
                    patient.to_string().into(),
                    i64::from(*all_current).into(),
                    at.block.into(),
                    at.index.into(),
                    at.time.into(),
                ],
            );
            for (position, document) in documents.iter().enumerate() {
                w.append(
                    &DOCUMENT,
                    vec![
                        insurer.clone().into(),
                        claim_ref.clone().into(),
                        (position as i64).into(),
                        document.custodian.to_string().into(),
                        document.commitment.to_string().into(),
                    ],
                );
            }
        }
        ChainEvent::DuplicateClaimUse {
            patient,
            insurer,
            commitment,
            claim_ref,
            first_insurer,
            first_claim_ref,
            reuse,
            overlap,
        } => {
            w.append(
                &DUPLICATE,
                vec![
                    at.block.into(),
                    at.index.into(),
                    patient.to_string().into(),
                    insurer.to_string().into(),
                    commitment.to_string().into(),
                    claim_ref.to_string().into(),
                    first_insurer.to_string().into(),
                    first_claim_ref.to_string().into(),
                    at.time.into(),
                    (*reuse).into(),
                    (*overlap).into(),
                ],
            );
        }
        _ => {}
    }
}
