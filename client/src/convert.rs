use subxt::utils::AccountId32;

/// An ink! account id from a subxt one (both are 32 raw bytes).
pub fn to_ink(account: &AccountId32) -> ink::primitives::AccountId {
    ink::primitives::AccountId::from(account.0)
}

/// A subxt account id from an ink! one.
pub fn to_subxt(account: &ink::primitives::AccountId) -> AccountId32 {
    let bytes: &[u8; 32] = account.as_ref();
    AccountId32(*bytes)
}
