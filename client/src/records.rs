//! Typed messages of the RecordRegistry, built with the contract crate's own call builder.

use ink::codegen::TraitCallBuilder;
use ink::env::call::FromAccountId;
use ink::primitives::Hash;
use medledger_events::{AmendReason, AnchorInfo, BatchInfo, DataCategory};
use medledger_records::record_registry::{ClaimInfo, Error, RecordRegistryRef};
use subxt::utils::AccountId32;

use crate::chain::Message;
use crate::convert::to_ink;

fn registry(address: &AccountId32) -> RecordRegistryRef {
    FromAccountId::from_account_id(to_ink(address))
}

/// `anchor(patient, record_id, commitment, category)`.
pub fn anchor(
    address: &AccountId32,
    patient: &AccountId32,
    record_id: [u8; 32],
    commitment: [u8; 32],
    category: DataCategory,
) -> Message<Result<(), Error>> {
    let mut r = registry(address);
    Message::from_builder(r.call_mut().anchor(
        to_ink(patient),
        Hash::from(record_id),
        Hash::from(commitment),
        category,
    ))
}

/// `verify(commitment)`.
pub fn verify(address: &AccountId32, commitment: [u8; 32]) -> Message<Option<AnchorInfo>> {
    let r = registry(address);
    Message::from_builder(r.call().verify(Hash::from(commitment)))
}

/// `consent_registry()`: the ConsentRegistry this registry asks.
pub fn consent_registry(address: &AccountId32) -> Message<ink::primitives::AccountId> {
    let r = registry(address);
    Message::from_builder(r.call().consent_registry())
}

/// `amend(record_id, commitment, reason)`.
pub fn amend(
    address: &AccountId32,
    record_id: [u8; 32],
    commitment: [u8; 32],
    reason: AmendReason,
) -> Message<Result<(), Error>> {
    let mut r = registry(address);
    Message::from_builder(
        r.call_mut()
            .amend(Hash::from(record_id), Hash::from(commitment), reason),
    )
}

/// `anchor_batch(root, leaf_count)`.
pub fn anchor_batch(
    address: &AccountId32,
    root: [u8; 32],
    leaf_count: u32,
) -> Message<Result<(), Error>> {
    let mut r = registry(address);
    Message::from_builder(r.call_mut().anchor_batch(Hash::from(root), leaf_count))
}

/// `attest_claim(claim_ref, patient, commitments)`: `Ok(true)` when all are current.
pub fn attest_claim(
    address: &AccountId32,
    claim_ref: [u8; 32],
    patient: &AccountId32,
    commitments: &[[u8; 32]],
) -> Message<Result<bool, Error>> {
    let mut r = registry(address);
    let commitments = commitments.iter().copied().map(Hash::from).collect();
    Message::from_builder(r.call_mut().attest_claim(
        Hash::from(claim_ref),
        to_ink(patient),
        commitments,
    ))
}

/// `verify_batch(root)`.
pub fn verify_batch(address: &AccountId32, root: [u8; 32]) -> Message<Option<BatchInfo>> {
    let r = registry(address);
    Message::from_builder(r.call().verify_batch(Hash::from(root)))
}

/// `claim(claim_ref)`.
pub fn claim(address: &AccountId32, claim_ref: [u8; 32]) -> Message<Option<ClaimInfo>> {
    let r = registry(address);
    Message::from_builder(r.call().claim(Hash::from(claim_ref)))
}
