//! Typed messages of the RecordRegistry, built with the contract crate's own call builder.

use ink::codegen::TraitCallBuilder;
use ink::env::call::FromAccountId;
use ink::primitives::Hash;
use medledger_events::{AnchorInfo, DataCategory};
use medledger_records::record_registry::{Error, RecordRegistryRef};
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
