//! Typed subxt client for the medledger contracts.
//!
//! It connects to a node, turns a SURI into a signer, and runs contract messages: every call is
//! first dry-run (to learn its gas and to surface the contract's own `Error` before paying for
//! it), then signed, submitted and followed to finality. Call data always comes from the contract
//! crates' own typed call builders (see [`consent`] and [`records`]), never from hand-written
//! selectors.
//!
//! This crate talks to the chain only: it must not touch the read model (store) or serve
//! anything.

mod chain;
pub mod consent;
mod convert;
mod error;
mod explain;
pub mod records;

pub use chain::{
    CallOutcome, Chain, DEFAULT_FINALITY_TIMEOUT, EmittedEvent, Estimate, Instantiated, Message,
    SendProgress, Sending, Weight,
};
pub use convert::{to_ink, to_subxt};
pub use error::{CallError, ConnectError, SignerError};
pub use explain::ContractError;
pub use subxt::utils::AccountId32;
pub use subxt_signer::sr25519::Keypair;

/// Turns a secret URI (`//Alice`, or a mnemonic with optional `//hard/soft` derivations and
/// `///password`) into an sr25519 signer.
///
/// # Errors
/// [`SignerError::Invalid`] when the text is not a valid secret URI. The message never repeats
/// the secret.
pub fn signer_from_suri(suri: &str) -> Result<Keypair, SignerError> {
    use std::str::FromStr;
    let uri = subxt_signer::SecretUri::from_str(suri.trim()).map_err(|e| SignerError::Invalid {
        reason: e.to_string(),
    })?;
    Keypair::from_uri(&uri).map_err(|e| SignerError::Invalid {
        reason: e.to_string(),
    })
}

/// The account id of a signer, in subxt's type.
pub fn account_of(signer: &Keypair) -> AccountId32 {
    signer.public_key().to_account_id()
}
