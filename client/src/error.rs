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
    #[error("the contract refused the call: {0}")]
    Rejected(String),
    #[error("the contract trapped or reverted without an error value (output 0x{0})")]
    Reverted(String),
    #[error("the chain refused the call: {0}")]
    Dispatch(String),
    #[error("cannot decode the contract's answer: {0}")]
    Decode(String),
    #[error("the node failed to {action}: {reason}")]
    Node {
        action: &'static str,
        reason: String,
    },
}

impl CallError {
    pub(crate) fn node(action: &'static str, reason: impl std::fmt::Display) -> Self {
        CallError::Node {
            action,
            reason: reason.to_string(),
        }
    }
}
