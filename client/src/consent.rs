//! Typed messages of the ConsentRegistry, built with the contract crate's own call builder.

use ink::codegen::TraitCallBuilder;
use ink::env::call::FromAccountId;
use ink::primitives::Hash;
use medledger_consent::consent_registry::{ConsentRegistryRef, Error, Org, Scope, Standing};
use medledger_events::{
    Access, AccessSet, CategorySet, DataCategory, EmergencyReason, OrgProfile, Policy, Purpose,
    PurposeSet, Role, Timestamp, UpgradeTerms,
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

/// `register_org(account, role, flags, profile)`.
pub fn register_org(
    address: &AccountId32,
    account: &AccountId32,
    role: Role,
    flags: u32,
    profile: OrgProfile,
) -> Message<Result<(), Error>> {
    let mut r = registry(address);
    Message::from_builder(r.call_mut().register_org(
        to_ink(account),
        role,
        flags,
        profile.to_bytes(),
    ))
}

/// `update_org(account, profile)`: the registrar changes an organization's name, kind or
/// identifiers.
pub fn update_org(
    address: &AccountId32,
    account: &AccountId32,
    profile: OrgProfile,
) -> Message<Result<(), Error>> {
    let mut r = registry(address);
    Message::from_builder(r.call_mut().update_org(to_ink(account), profile.to_bytes()))
}

/// `org_profile(account)`: the profile's bytes (read them with `OrgProfile::from_bytes`).
pub fn org_profile(address: &AccountId32, account: &AccountId32) -> Message<Option<Vec<u8>>> {
    Message::from_builder(registry(address).call().org_profile(to_ink(account)))
}

/// `grant(patient, grantee, scope, terms_hash)`, signed by the patient or their delegate.
pub fn grant(
    address: &AccountId32,
    patient: &AccountId32,
    args: &GrantArgs,
) -> Message<Result<(), Error>> {
    let scope = Scope {
        categories: args.categories,
        purposes: args.purposes,
        access: args.access,
        valid_from: args.valid_from,
        expires_at: args.expires_at,
    };
    let mut r = registry(address);
    Message::from_builder(r.call_mut().grant(
        to_ink(patient),
        to_ink(&args.grantee),
        scope,
        Hash::from(args.terms_hash),
    ))
}

/// `revoke(patient, grantee)`, signed by the patient or their delegate.
pub fn revoke(
    address: &AccountId32,
    patient: &AccountId32,
    grantee: &AccountId32,
) -> Message<Result<(), Error>> {
    let mut r = registry(address);
    Message::from_builder(r.call_mut().revoke(to_ink(patient), to_ink(grantee)))
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

/// `announce_upgrade(code_hash)`: the upgrade may apply once the upgrade delay has passed.
pub fn announce_upgrade(address: &AccountId32, code_hash: [u8; 32]) -> Unit {
    Message::from_builder(
        registry(address)
            .call_mut()
            .announce_upgrade(Hash::from(code_hash)),
    )
}

/// `cancel_upgrade()`.
pub fn cancel_upgrade(address: &AccountId32) -> Unit {
    Message::from_builder(registry(address).call_mut().cancel_upgrade())
}

/// `upgrade(code_hash)`: applies the announced upgrade; the new code migrates the storage in
/// the same call.
pub fn upgrade(address: &AccountId32, code_hash: [u8; 32]) -> Unit {
    Message::from_builder(registry(address).call_mut().upgrade(Hash::from(code_hash)))
}

/// `upgrade_terms()`: the upgrade delay, and the upgrade announced, if any.
pub fn upgrade_terms(address: &AccountId32) -> Message<UpgradeTerms> {
    Message::from_builder(registry(address).call().upgrade_terms())
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

/// `end_emergency(patient, provider)`, by the patient or their delegate.
pub fn end_emergency(address: &AccountId32, patient: &AccountId32, provider: &AccountId32) -> Unit {
    Message::from_builder(
        registry(address)
            .call_mut()
            .end_emergency(to_ink(patient), to_ink(provider)),
    )
}

/// `set_emergency_block(patient, provider, blocked)`, by the patient or their delegate.
pub fn set_emergency_block(
    address: &AccountId32,
    patient: &AccountId32,
    provider: &AccountId32,
    blocked: bool,
) -> Unit {
    Message::from_builder(registry(address).call_mut().set_emergency_block(
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
