//! The chain as the signing commands see it: a node connection, the two contracts of the
//! deployment, and what identifies them in receipts.

use anyhow::{Context, Result, anyhow};
use medledger_client::{AccountId32, CallOutcome, Chain, ContractError, Keypair, Message};

use crate::args::{ChainArgs, SignerArgs};

pub struct Ctx {
    pub chain: Chain,
    pub consent: AccountId32,
    pub records: AccountId32,
}

impl Ctx {
    /// The signer, then the connection: a key that cannot be read fails before the network
    /// is touched.
    pub async fn signed(chain: &ChainArgs, signer: SignerArgs) -> Result<(Keypair, Ctx)> {
        let signer = crate::keys::signer(signer)?;
        Ok((signer, Ctx::connect(chain).await?))
    }

    /// Connects to the deployment's node (or `--node-url`).
    pub async fn connect(args: &ChainArgs) -> Result<Ctx> {
        let (deployment, url) = crate::run::load(args)?;
        let (consent, records) = deployment.accounts().map_err(|e| anyhow!(e))?;
        let chain = Chain::connect(&url)
            .await?
            .with_finality_timeout(args.finality_timeout);
        crate::interrupt::arm(chain.send_progress());
        Ok(Ctx {
            chain,
            consent,
            records,
        })
    }

    /// The chain's genesis hash.
    pub fn genesis(&self) -> [u8; 32] {
        self.chain.api().genesis_hash().0
    }

    /// Sends `message` to `contract` (`self.consent` or `self.records`); `doing` says what,
    /// for the error line.
    pub async fn call<T: scale::Decode, E: ContractError>(
        &self,
        signer: &Keypair,
        contract: &AccountId32,
        message: &Message<Result<T, E>>,
        doing: &str,
    ) -> Result<CallOutcome> {
        self.chain
            .submit(signer, contract, message)
            .await
            .with_context(|| doing.to_string())
    }
}

/// The events of type `E` a call emitted.
pub fn events_of<E: ink::env::Event + scale::Decode>(outcome: &CallOutcome) -> Vec<E> {
    outcome
        .events
        .iter()
        .filter_map(|e| e.decode_as::<E>())
        .collect()
}

/// The first event of type `E` a call emitted.
pub fn event_of<E: ink::env::Event + scale::Decode>(outcome: &CallOutcome) -> Result<E> {
    events_of(outcome).into_iter().next().ok_or_else(|| {
        anyhow!(
            "the call succeeded but emitted no {} event",
            std::any::type_name::<E>()
        )
    })
}

/// The outcome of a call for which `written` (a file holding its salts) was written before
/// sending: the file is removed when the call failed and cannot land, and kept otherwise —
/// when it landed, and when it was sent but its outcome is unknown (not finalized in time,
/// or the node failed while following it), since it may still land.
pub fn settle<T>(outcome: Result<T>, written: Option<&std::path::Path>) -> Result<T> {
    if let (Err(e), Some(path)) = (&outcome, written)
        && !may_have_landed(e)
    {
        let _ = std::fs::remove_file(path);
    }
    outcome
}

fn may_have_landed(error: &anyhow::Error) -> bool {
    error.chain().any(|c| {
        c.downcast_ref::<medledger_client::CallError>()
            .is_some_and(medledger_client::CallError::may_have_landed)
    })
}
