/// Connecting to a node failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    #[error("node URL {url:?} is not a ws:// or wss:// URL")]
    InvalidUrl { url: String },
    #[error("cannot reach the node at {url}: {reason} (is it running? `medledger dev` starts one)")]
    Unreachable { url: String, reason: String },
    #[error("the node at {url} did not answer within {seconds} s")]
    Timeout { url: String, seconds: u64 },
}

/// A secret URI could not be turned into a signer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    #[error("invalid secret URI ({reason}); expected a dev name like //Alice or a mnemonic phrase")]
    Invalid { reason: String },
}

/// A contract call, query or instantiation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The contract returned its `Error` in the dry run; nothing was sent.
    #[error("the contract refused: {sentence} ({error})")]
    Rejected {
        /// The error variant's name, e.g. `NotAuthorized`.
        error: String,
        /// What it means, in words.
        sentence: &'static str,
    },
    #[error("the contract trapped or reverted without an error value (output 0x{0})")]
    Reverted(String),
    #[error("the chain refused the call: {0}")]
    Dispatch(String),
    #[error("cannot decode the contract's answer: {0}")]
    Decode(String),
    /// The signer's balance cannot pay the fee or the storage deposit.
    #[error(
        "the signer {account} cannot pay the fee and deposit: its balance is too low (fund the account)"
    )]
    CannotPay { account: String },
    /// The transaction was sent but not finalized in time; it may still land.
    #[error(
        "the transaction was sent but not finalized within {waited:?}; it may still land: check before sending it again"
    )]
    NotFinalized { waited: std::time::Duration },
    /// The transaction was sent, and then following it failed: it may have landed.
    #[error(
        "the transaction was sent, but the node failed to {action} ({reason}); it may have landed: check before sending it again"
    )]
    Unconfirmed {
        action: &'static str,
        reason: String,
    },
    #[error("the node failed to {action}: {reason}")]
    Node {
        action: &'static str,
        reason: String,
    },
}

impl CallError {
    /// Whether the call may have changed the chain although it failed: it was sent, and
    /// its outcome is not known.
    pub fn may_have_landed(&self) -> bool {
        matches!(
            self,
            CallError::NotFinalized { .. } | CallError::Unconfirmed { .. }
        )
    }

    pub(crate) fn node(action: &'static str, reason: impl std::fmt::Display) -> Self {
        CallError::Node {
            action,
            reason: reason.to_string(),
        }
    }
}
