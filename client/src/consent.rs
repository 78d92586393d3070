//! Typed messages of the ConsentRegistry, built with the contract crate's own call builder.

use ink::codegen::TraitCallBuilder;
use ink::env::call::FromAccountId;
use ink::primitives::Hash;
use medledger_consent::consent_registry::{Consent, ConsentRegistryRef, Error, Org};
use medledger_events::{
    Access, AccessSet, CategorySet, DataCategory, Purpose, PurposeSet, Role, Timestamp,
};
use subxt::utils::AccountId32;

use crate::chain::Message;
use crate::convert::to_ink;

/// The arguments of `ConsentRegistry::grant`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantArgs {
    pub grantee: AccountId32,
    pub categories: CategorySet,
    pub purposes: PurposeSet,
    pub access: AccessSet,
    pub valid_from: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub terms_hash: [u8; 32],
}

fn registry(address: &AccountId32) -> ConsentRegistryRef {
    FromAccountId::from_account_id(to_ink(address))
}

/// `register_org(account, role, flags)`.
pub fn register_org(
    address: &AccountId32,
    account: &AccountId32,
    role: Role,
    flags: u32,
) -> Message<Result<(), Error>> {
    let mut r = registry(address);
    Message::from_builder(r.call_mut().register_org(to_ink(account), role, flags))
}

/// `grant(grantee, categories, purposes, access, valid_from, expires_at, terms_hash)`.
pub fn grant(address: &AccountId32, args: &GrantArgs) -> Message<Result<(), Error>> {
    let mut r = registry(address);
    Message::from_builder(r.call_mut().grant(
        to_ink(&args.grantee),
        args.categories,
        args.purposes,
        args.access,
        args.valid_from,
        args.expires_at,
        Hash::from(args.terms_hash),
    ))
}

/// `revoke(grantee)`.
pub fn revoke(address: &AccountId32, grantee: &AccountId32) -> Message<Result<(), Error>> {
    let mut r = registry(address);
    Message::from_builder(r.call_mut().revoke(to_ink(grantee)))
}

/// `is_authorized(patient, grantee, category, purpose, access)`.
pub fn is_authorized(
    address: &AccountId32,
    patient: &AccountId32,
    grantee: &AccountId32,
    category: DataCategory,
    purpose: Purpose,
    access: Access,
) -> Message<bool> {
    let r = registry(address);
    Message::from_builder(r.call().is_authorized(
        to_ink(patient),
        to_ink(grantee),
        category,
        purpose,
        access,
    ))
}

/// `consent(patient, grantee)`.
pub fn consent(
    address: &AccountId32,
    patient: &AccountId32,
    grantee: &AccountId32,
) -> Message<Option<Consent>> {
    let r = registry(address);
    Message::from_builder(r.call().consent(to_ink(patient), to_ink(grantee)))
}

/// `org(account)`.
pub fn org(address: &AccountId32, account: &AccountId32) -> Message<Option<Org>> {
    let r = registry(address);
    Message::from_builder(r.call().org(to_ink(account)))
}
