//! Typed messages of the RecordRegistry, built with the contract crate's own call builder.

use ink::codegen::TraitCallBuilder;
use ink::env::call::FromAccountId;
use ink::primitives::Hash;
use medledger_events::{
    AmendReason, AnchorInfo, AnchorKey, BatchInfo, CategorySet, PendingUpgrade, Purpose, RecordKey,
};
use medledger_records::record_registry::{ClaimKey, Error, Record, RecordRegistryRef};
use subxt::utils::AccountId32;

use crate::chain::Message;
use crate::convert::to_ink;

fn registry(address: &AccountId32) -> RecordRegistryRef {
    FromAccountId::from_account_id(to_ink(address))
}

/// A message of the RecordRegistry at `address` returning `Result<(), Error>`.
type Unit = Message<Result<(), Error>>;

/// `anchor(patient, record_id, commitment, category_commitment)`: the caller becomes the
/// record's custodian.
pub fn anchor(
    address: &AccountId32,
    patient: &AccountId32,
    record_id: [u8; 32],
    commitment: [u8; 32],
    category_commitment: [u8; 32],
) -> Unit {
    Message::from_builder(registry(address).call_mut().anchor(
        to_ink(patient),
        Hash::from(record_id),
        Hash::from(commitment),
        Hash::from(category_commitment),
    ))
}

/// `amend(record_id, commitment, reason)`, by the record's custodian.
pub fn amend(
    address: &AccountId32,
    record_id: [u8; 32],
    commitment: [u8; 32],
    reason: AmendReason,
) -> Unit {
    Message::from_builder(registry(address).call_mut().amend(
        Hash::from(record_id),
        Hash::from(commitment),
        reason,
    ))
}

/// `anchor_batch(root, leaf_count)`.
pub fn anchor_batch(address: &AccountId32, root: [u8; 32], leaf_count: u32) -> Unit {
    Message::from_builder(
        registry(address)
            .call_mut()
            .anchor_batch(Hash::from(root), leaf_count),
    )
}

/// `attest_claim(claim_ref, patient, documents)`, each document as (custodian, commitment):
/// `Ok(true)` when none is superseded.
pub fn attest_claim(
    address: &AccountId32,
    claim_ref: [u8; 32],
    patient: &AccountId32,
    documents: &[(AccountId32, [u8; 32])],
) -> Message<Result<bool, Error>> {
    let documents = documents
        .iter()
        .map(|(custodian, commitment)| AnchorKey {
            custodian: to_ink(custodian),
            commitment: Hash::from(*commitment),
        })
        .collect();
    Message::from_builder(registry(address).call_mut().attest_claim(
        Hash::from(claim_ref),
        to_ink(patient),
        documents,
    ))
}

/// A record named in the access log: its custodian and the custodian's id of it. Nothing that
/// opens its category goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedRecord {
    pub custodian: AccountId32,
    pub record_id: [u8; 32],
}

/// `record_access(patient, categories, purpose, record)`: `Ok(true)` when allowed.
pub fn record_access(
    address: &AccountId32,
    patient: &AccountId32,
    categories: CategorySet,
    purpose: Purpose,
    record: Option<&NamedRecord>,
) -> Message<Result<bool, Error>> {
    let record = record.map(|r| RecordKey {
        custodian: to_ink(&r.custodian),
        record_id: Hash::from(r.record_id),
    });
    Message::from_builder(registry(address).call_mut().record_access(
        to_ink(patient),
        categories,
        purpose,
        record,
    ))
}

/// `announce_upgrade(code_hash)`, by the ConsentRegistry's registrar.
pub fn announce_upgrade(address: &AccountId32, code_hash: [u8; 32]) -> Unit {
    Message::from_builder(
        registry(address)
            .call_mut()
            .announce_upgrade(Hash::from(code_hash)),
    )
}

/// `cancel_upgrade()`, by the ConsentRegistry's registrar.
pub fn cancel_upgrade(address: &AccountId32) -> Unit {
    Message::from_builder(registry(address).call_mut().cancel_upgrade())
}

/// `upgrade(code_hash)`, by the ConsentRegistry's registrar, once announced and due: the new
/// code migrates the storage in the same call.
pub fn upgrade(address: &AccountId32, code_hash: [u8; 32]) -> Unit {
    Message::from_builder(registry(address).call_mut().upgrade(Hash::from(code_hash)))
}

/// `pending_upgrade()`.
pub fn pending_upgrade(address: &AccountId32) -> Message<Option<PendingUpgrade>> {
    Message::from_builder(registry(address).call().pending_upgrade())
}

/// `verify(custodian, commitment)`.
pub fn verify(
    address: &AccountId32,
    custodian: &AccountId32,
    commitment: [u8; 32],
) -> Message<Option<AnchorInfo>> {
    Message::from_builder(
        registry(address)
            .call()
            .verify(to_ink(custodian), Hash::from(commitment)),
    )
}

/// `verify_batch(org, root)`.
pub fn verify_batch(
    address: &AccountId32,
    org: &AccountId32,
    root: [u8; 32],
) -> Message<Option<BatchInfo>> {
    Message::from_builder(
        registry(address)
            .call()
            .verify_batch(to_ink(org), Hash::from(root)),
    )
}

/// `record(custodian, record_id)`.
pub fn record(
    address: &AccountId32,
    custodian: &AccountId32,
    record_id: [u8; 32],
) -> Message<Option<Record>> {
    Message::from_builder(
        registry(address)
            .call()
            .record(to_ink(custodian), Hash::from(record_id)),
    )
}

/// `first_claim_use(patient, commitment)`.
pub fn first_claim_use(
    address: &AccountId32,
    patient: &AccountId32,
    commitment: [u8; 32],
) -> Message<Option<ClaimKey>> {
    Message::from_builder(
        registry(address)
            .call()
            .first_claim_use(to_ink(patient), Hash::from(commitment)),
    )
}

/// `consent_registry()`: the ConsentRegistry this registry asks.
pub fn consent_registry(address: &AccountId32) -> Message<ink::primitives::AccountId> {
    Message::from_builder(registry(address).call().consent_registry())
}

/// `storage_version()`.
pub fn storage_version(address: &AccountId32) -> Message<u32> {
    Message::from_builder(registry(address).call().storage_version())
}
