//! Typed messages of the ConsentRegistry, built with the contract crate's own call builder.

use ink::codegen::TraitCallBuilder;
use ink::env::call::FromAccountId;
use ink::primitives::Hash;
use medledger_consent::consent_registry::{
    Consent, ConsentRegistryRef, Emergency, Error, Org, Scope, Standing,
};
use medledger_events::{
    Access, AccessSet, CategorySet, DataCategory, EmergencyReason, Policy, Purpose, PurposeSet,
    Role, Timestamp,
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

/// A message of the ConsentRegistry at `address` returning `Result<(), Error>`.
type Unit = Message<Result<(), Error>>;

/// `suspend_org(account)`.
pub fn suspend_org(address: &AccountId32, account: &AccountId32) -> Unit {
    Message::from_builder(registry(address).call_mut().suspend_org(to_ink(account)))
}

/// `reinstate_org(account)`.
pub fn reinstate_org(address: &AccountId32, account: &AccountId32) -> Unit {
    Message::from_builder(registry(address).call_mut().reinstate_org(to_ink(account)))
}

/// `propose_registrar(proposed)`.
pub fn propose_registrar(address: &AccountId32, proposed: &AccountId32) -> Unit {
    Message::from_builder(
        registry(address)
            .call_mut()
            .propose_registrar(to_ink(proposed)),
    )
}

/// `accept_registrar()`.
pub fn accept_registrar(address: &AccountId32) -> Unit {
    Message::from_builder(registry(address).call_mut().accept_registrar())
}

/// `set_policy(policy)`.
pub fn set_policy(address: &AccountId32, policy: Policy) -> Unit {
    Message::from_builder(registry(address).call_mut().set_policy(policy))
}

/// `upgrade(code_hash)`: the new code migrates the storage in the same call.
pub fn upgrade(address: &AccountId32, code_hash: [u8; 32]) -> Unit {
    Message::from_builder(registry(address).call().upgrade(Hash::from(code_hash)))
}

/// `grant_for(patient, grantee, scope, terms_hash)`, by a delegate.
pub fn grant_for(address: &AccountId32, patient: &AccountId32, args: &GrantArgs) -> Unit {
    let scope = Scope {
        categories: args.categories,
        purposes: args.purposes,
        access: args.access,
        valid_from: args.valid_from,
        expires_at: args.expires_at,
    };
    Message::from_builder(registry(address).call_mut().grant_for(
        to_ink(patient),
        to_ink(&args.grantee),
        scope,
        Hash::from(args.terms_hash),
    ))
}

/// `revoke_for(patient, grantee)`, by a delegate.
pub fn revoke_for(address: &AccountId32, patient: &AccountId32, grantee: &AccountId32) -> Unit {
    Message::from_builder(
        registry(address)
            .call_mut()
            .revoke_for(to_ink(patient), to_ink(grantee)),
    )
}

/// `set_delegate(delegate, expires_at)`.
pub fn set_delegate(address: &AccountId32, delegate: &AccountId32, expires_at: Timestamp) -> Unit {
    Message::from_builder(
        registry(address)
            .call_mut()
            .set_delegate(to_ink(delegate), expires_at),
    )
}

/// `remove_delegate(delegate)`.
pub fn remove_delegate(address: &AccountId32, delegate: &AccountId32) -> Unit {
    Message::from_builder(
        registry(address)
            .call_mut()
            .remove_delegate(to_ink(delegate)),
    )
}

/// `break_glass(patient, reason, justification_hash)`.
pub fn break_glass(
    address: &AccountId32,
    patient: &AccountId32,
    reason: EmergencyReason,
    justification_hash: [u8; 32],
) -> Unit {
    Message::from_builder(registry(address).call_mut().break_glass(
        to_ink(patient),
        reason,
        Hash::from(justification_hash),
    ))
}

/// `end_emergency(provider)`, by the patient.
pub fn end_emergency(address: &AccountId32, provider: &AccountId32) -> Unit {
    Message::from_builder(registry(address).call_mut().end_emergency(to_ink(provider)))
}

/// `end_emergency_for(patient, provider)`, by a delegate.
pub fn end_emergency_for(
    address: &AccountId32,
    patient: &AccountId32,
    provider: &AccountId32,
) -> Unit {
    Message::from_builder(
        registry(address)
            .call_mut()
            .end_emergency_for(to_ink(patient), to_ink(provider)),
    )
}

/// `set_emergency_block(provider, blocked)`, by the patient.
pub fn set_emergency_block(address: &AccountId32, provider: &AccountId32, blocked: bool) -> Unit {
    Message::from_builder(
        registry(address)
            .call_mut()
            .set_emergency_block(to_ink(provider), blocked),
    )
}

/// `set_emergency_block_for(patient, provider, blocked)`, by a delegate.
pub fn set_emergency_block_for(
    address: &AccountId32,
    patient: &AccountId32,
    provider: &AccountId32,
    blocked: bool,
) -> Unit {
    Message::from_builder(registry(address).call_mut().set_emergency_block_for(
        to_ink(patient),
        to_ink(provider),
        blocked,
    ))
}

/// `consents_to(patient, grantee, role, purpose, access)`.
pub fn consents_to(
    address: &AccountId32,
    patient: &AccountId32,
    grantee: &AccountId32,
    role: Role,
    purpose: Purpose,
    access: Access,
) -> Message<Standing> {
    Message::from_builder(registry(address).call().consents_to(
        to_ink(patient),
        to_ink(grantee),
        role,
        purpose,
        access,
    ))
}

/// `emergency(patient, provider)`.
pub fn emergency(
    address: &AccountId32,
    patient: &AccountId32,
    provider: &AccountId32,
) -> Message<Option<Emergency>> {
    Message::from_builder(
        registry(address)
            .call()
            .emergency(to_ink(patient), to_ink(provider)),
    )
}

/// `policy()`.
pub fn policy(address: &AccountId32) -> Message<Policy> {
    Message::from_builder(registry(address).call().policy())
}

/// `registrar()`.
pub fn registrar(address: &AccountId32) -> Message<ink::primitives::AccountId> {
    Message::from_builder(registry(address).call().registrar())
}

/// `storage_version()`.
pub fn storage_version(address: &AccountId32) -> Message<u32> {
    Message::from_builder(registry(address).call().storage_version())
}
