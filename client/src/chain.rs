use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use ink::env::DefaultEnvironment;
use ink::env::call::utils::{ReturnType, Set};
use ink::env::call::{Call, CallBuilder, ExecutionInput};
use scale::{Decode, Encode};
use scale_decode::DecodeAsType;
use scale_encode::EncodeAsType;
use scale_value::{At, Value};
use subxt::backend::LegacyBackend;
use subxt::config::{DefaultExtrinsicParamsBuilder, RpcConfigFor};
use subxt::rpcs::{LegacyRpcMethods, RpcClient};
use subxt::utils::{AccountId32, H256, MultiAddress};
use subxt::{OnlineClient, SubstrateConfig};
use subxt_signer::sr25519::Keypair;

use crate::error::{CallError, ConnectError};
use crate::explain::ContractError;

type Api = OnlineClient<SubstrateConfig>;

/// How long to wait for a node to answer the first connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long to wait for a sent transaction to be finalized, unless told otherwise.
pub const DEFAULT_FINALITY_TIMEOUT: Duration = Duration::from_secs(120);
/// Dry runs estimate the gas a call needs; a margin covers state that moves in between.
const GAS_MARGIN_PERCENT: u64 = 20;
/// `ReturnFlags::REVERT` of pallet-contracts.
const REVERT_FLAG: u128 = 1;

/// Execution weight: what a contract call may consume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EncodeAsType, DecodeAsType)]
pub struct Weight {
    pub ref_time: u64,
    pub proof_size: u64,
}

impl Weight {
    fn with_margin(self) -> Weight {
        let add = |v: u64| v.saturating_add(v / 100 * GAS_MARGIN_PERCENT);
        Weight {
            ref_time: add(self.ref_time),
            proof_size: add(self.proof_size),
        }
    }
}

/// One contract message's call data, typed by what the message returns.
///
/// Built from a contract crate's call builder, so selectors and argument encodings can never
/// drift from the contract.
pub struct Message<R> {
    data: Vec<u8>,
    _returns: PhantomData<fn() -> R>,
}

/// A complete ink! call builder for a message with arguments `Args` returning `R`.
pub type MessageBuilder<Args, R> = CallBuilder<
    DefaultEnvironment,
    Set<Call<DefaultEnvironment>>,
    Set<ExecutionInput<Args>>,
    Set<ReturnType<R>>,
>;

impl<R> Message<R> {
    /// Takes the call data out of an ink! call builder
    /// (`ContractRef.call_mut().message(..)`).
    pub fn from_builder<Args: Encode>(builder: MessageBuilder<Args, R>) -> Self {
        Message {
            data: builder.params().exec_input().encode(),
            _returns: PhantomData,
        }
    }

    /// A message of a contract release whose crate this build no longer has (a deployment
    /// of an earlier release, before its upgrade): its selector as that release's metadata
    /// lists it, and its SCALE-encoded arguments.
    pub fn of_release(selector: [u8; 4], args: impl Encode) -> Self {
        let mut data = selector.to_vec();
        args.encode_to(&mut data);
        Message {
            data,
            _returns: PhantomData,
        }
    }

    /// The SCALE-encoded selector and arguments.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

/// An event a contract emitted during a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmittedEvent {
    pub contract: AccountId32,
    pub topics: Vec<[u8; 32]>,
    pub data: Vec<u8>,
}

impl EmittedEvent {
    /// The event decoded as `E`, when its signature topic is `E`'s and its data decodes
    /// entirely.
    pub fn decode_as<E: ink::env::Event + Decode>(&self) -> Option<E> {
        if self.topics.first() != E::SIGNATURE_TOPIC.as_ref() {
            return None;
        }
        let mut data = &self.data[..];
        E::decode(&mut data).ok().filter(|_| data.is_empty())
    }
}

/// A call that made it into a finalized block.
#[derive(Debug, Clone)]
pub struct CallOutcome {
    pub block_hash: H256,
    pub block_number: u64,
    pub events: Vec<EmittedEvent>,
}

/// A contract instantiated on chain.
#[derive(Debug, Clone)]
pub struct Instantiated {
    pub address: AccountId32,
    pub code_hash: H256,
    pub block_number: u64,
}

/// What a dry run returned.
struct DryRun {
    estimate: Estimate,
    reverted: bool,
    output: Vec<u8>,
}

// The parts of pallet-contracts' runtime API answers we read. Fields we leave out are skipped
// by `DecodeAsType`, which matches fields by name.
#[derive(DecodeAsType)]
struct ExecReturnDto {
    flags: Value,
    data: Vec<u8>,
}

/// `ContractResult<Result<Ok, DispatchError>, ..>` of the `ContractsApi` runtime API.
#[derive(DecodeAsType)]
struct DryRunDto<Ok> {
    gas_required: Weight,
    storage_deposit: StorageDepositDto,
    result: Result<Ok, Value>,
}

#[derive(DecodeAsType)]
enum StorageDepositDto {
    Refund(u128),
    Charge(u128),
}

impl StorageDepositDto {
    fn signed(&self) -> i128 {
        match self {
            StorageDepositDto::Charge(v) => i128::try_from(*v).unwrap_or(i128::MAX),
            StorageDepositDto::Refund(v) => i128::try_from(*v).map(|v| -v).unwrap_or(i128::MIN),
        }
    }
}

/// What a call would cost, from a dry run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    /// The weight the call needs.
    pub gas_required: Weight,
    /// Storage deposit charged (positive) or refunded (negative), in plancks.
    pub storage_deposit: i128,
}

#[derive(DecodeAsType)]
struct InstantiateReturnDto {
    result: ExecReturnDto,
    account_id: AccountId32,
}

#[derive(EncodeAsType)]
enum CodeDto {
    Upload(Vec<u8>),
}

/// The runtime's call enum, as far as `Utility.batch_all` of contract calls needs it.
#[derive(EncodeAsType)]
enum RuntimeCallDto {
    Contracts(ContractsCallDto),
}

/// pallet-contracts' `call` extrinsic (variant and field names are the metadata's).
#[derive(EncodeAsType)]
#[allow(non_camel_case_types)]
enum ContractsCallDto {
    call {
        dest: MultiAddress<AccountId32, ()>,
        value: u128,
        gas_limit: Weight,
        storage_deposit_limit: Option<u128>,
        data: Vec<u8>,
    },
}

/// pallet-contracts' `Determinism`: uploaded code must be deterministic.
#[derive(EncodeAsType)]
enum DeterminismDto {
    Enforced,
}

/// How far the last transaction of a [`Chain`] got: what a caller interrupted while it
/// waits can tell its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sending {
    /// Nothing was handed to the node (dry runs only, or the node refused it at once): the
    /// chain is unchanged.
    Nothing,
    /// The transaction was being handed to the node: it may or may not have reached it.
    InFlight,
    /// The node accepted the transaction into its pool: it may land.
    Sent,
}

/// A handle on how far a [`Chain`]'s transactions got, readable from anywhere (a Ctrl-C
/// handler) while the chain is busy.
#[derive(Debug, Clone, Default)]
pub struct SendProgress(Arc<AtomicU8>);

impl SendProgress {
    /// Where the last transaction stands.
    pub fn get(&self) -> Sending {
        match self.0.load(Ordering::SeqCst) {
            0 => Sending::Nothing,
            1 => Sending::InFlight,
            _ => Sending::Sent,
        }
    }

    fn set(&self, to: Sending) {
        let v = match to {
            Sending::Nothing => 0,
            Sending::InFlight => 1,
            Sending::Sent => 2,
        };
        self.0.store(v, Ordering::SeqCst);
    }
}

/// How often a transaction is signed again with a fresh nonce when another one of the same
/// signer took its nonce first (two commands at once).
const NONCE_ATTEMPTS: usize = 5;

/// A connection to a node of a chain with pallet-contracts.
#[derive(Clone)]
pub struct Chain {
    api: Api,
    rpc: LegacyRpcMethods<RpcConfigFor<SubstrateConfig>>,
    url: String,
    finality_timeout: Duration,
    progress: SendProgress,
}

impl Chain {
    /// Connects to the node at `url` (`ws://` or `wss://`).
    ///
    /// # Errors
    /// [`ConnectError`] when the URL is malformed, or the node is down or silent.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        if !(url.starts_with("ws://") || url.starts_with("wss://")) {
            return Err(ConnectError::InvalidUrl {
                url: url.to_string(),
            });
        }
        let connect = async {
            let rpc = RpcClient::from_insecure_url(url)
                .await
                .map_err(|e| e.to_string())?;
            // The legacy RPC backend, not chainHead: a node allows few chainHead_follow
            // subscriptions, and two commands at once (or a command beside the indexer and
            // the page) ran out of them mid-transaction ("Maximum number of chainHead_follow
            // has been reached").
            let backend = LegacyBackend::<SubstrateConfig>::builder().build(rpc.clone());
            let api = Api::from_backend(Arc::new(backend))
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>((api, LegacyRpcMethods::new(rpc)))
        };
        let (api, rpc) = tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .map_err(|_| ConnectError::Timeout {
                url: url.to_string(),
                seconds: CONNECT_TIMEOUT.as_secs(),
            })?
            .map_err(|reason| ConnectError::Unreachable {
                url: url.to_string(),
                reason,
            })?;
        Ok(Chain {
            api,
            rpc,
            url: url.to_string(),
            finality_timeout: DEFAULT_FINALITY_TIMEOUT,
            progress: SendProgress::default(),
        })
    }

    /// A handle telling how far this chain's transactions got (shared by its clones).
    pub fn send_progress(&self) -> SendProgress {
        self.progress.clone()
    }

    /// The hash of block `number`.
    ///
    /// # Errors
    /// [`CallError::Node`] when the node does not have it or fails.
    pub async fn block_hash(&self, number: u64) -> Result<H256, CallError> {
        Ok(self
            .api
            .at_block(number)
            .await
            .map_err(|e| CallError::node("read the block asked for", e))?
            .block_hash())
    }

    /// Waits at most `timeout` for a sent transaction to be finalized
    /// ([`DEFAULT_FINALITY_TIMEOUT`] otherwise); then [`CallError::NotFinalized`].
    pub fn with_finality_timeout(mut self, timeout: Duration) -> Self {
        self.finality_timeout = timeout;
        self
    }

    /// The URL this chain was reached at.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The underlying subxt client, for reading blocks and events.
    pub fn api(&self) -> &OnlineClient<SubstrateConfig> {
        &self.api
    }

    /// Dry-runs a read-only message as `origin` against the state and time of block
    /// `block` (which a pruning node may no longer hold: a [`CallError::Node`] then).
    ///
    /// # Errors
    /// As [`Chain::query`].
    pub async fn query_at<R: Decode>(
        &self,
        origin: &AccountId32,
        contract: &AccountId32,
        message: &Message<R>,
        block: u64,
    ) -> Result<R, CallError> {
        let dry = self
            .dry_run_call(origin, contract, message.data(), Some(block))
            .await?;
        decode_output::<R>(&dry.output)
    }

    /// Runs `message` on `contract` as `origin` without a transaction, and decodes what it
    /// returns.
    ///
    /// # Errors
    /// [`CallError`] when the node fails, the call traps, or the answer does not decode.
    pub async fn query<R: Decode>(
        &self,
        origin: &AccountId32,
        contract: &AccountId32,
        message: &Message<R>,
    ) -> Result<R, CallError> {
        let dry = self
            .dry_run_call(origin, contract, message.data(), None)
            .await?;
        decode_output::<R>(&dry.output)
    }

    /// What running `message` on `contract` as `origin` would cost now, from a dry run.
    ///
    /// # Errors
    /// [`CallError`] when the node fails or the call traps.
    pub async fn estimate<R>(
        &self,
        origin: &AccountId32,
        contract: &AccountId32,
        message: &Message<R>,
    ) -> Result<Estimate, CallError> {
        Ok(self
            .dry_run_call(origin, contract, message.data(), None)
            .await?
            .estimate)
    }

    /// Runs `message`, which returns `Result<T, E>`, on `contract` signed by `signer`: a dry
    /// run first (so a refusal costs nothing and says why), then a transaction followed to
    /// finality.
    ///
    /// # Errors
    /// [`CallError::Rejected`] with the contract's error when it refuses; other [`CallError`]s
    /// when the chain refuses or the node fails.
    pub async fn submit<T: Decode, E: ContractError>(
        &self,
        signer: &Keypair,
        contract: &AccountId32,
        message: &Message<Result<T, E>>,
    ) -> Result<CallOutcome, CallError> {
        let origin = signer.public_key().to_account_id();
        let dry = self
            .dry_run_call(&origin, contract, message.data(), None)
            .await?;
        if let Err(e) = decode_output::<Result<T, E>>(&dry.output)? {
            return Err(rejected(&e));
        }
        if dry.reverted {
            return Err(CallError::Reverted(hex::encode(&dry.output)));
        }
        let tx = subxt::dynamic::tx(
            "Contracts",
            "call",
            (
                MultiAddress::<AccountId32, ()>::Id(*contract),
                0u128,
                dry.estimate.gas_required.with_margin(),
                Option::<u128>::None,
                message.data().to_vec(),
            ),
        );
        self.sign_and_finalize(&tx, signer).await
    }

    /// Runs all of `messages` on `contract` signed by `signer` in one transaction
    /// (`Utility.batch_all`: all land or none), e.g. to seed a chain for a benchmark. Meant
    /// for messages of one kind: only the first is dry-run, and the gas it needs (with a
    /// margin) is what each may use.
    ///
    /// # Errors
    /// As [`Chain::submit`]; when a later message fails, the whole transaction does, with
    /// [`CallError::Dispatch`]. An empty `messages` is [`CallError::Dispatch`] too.
    pub async fn submit_alike<T: Decode, E: ContractError>(
        &self,
        signer: &Keypair,
        contract: &AccountId32,
        messages: &[Message<Result<T, E>>],
    ) -> Result<CallOutcome, CallError> {
        let first = messages
            .first()
            .ok_or_else(|| CallError::Dispatch("an empty batch of messages".into()))?;
        let origin = signer.public_key().to_account_id();
        let dry = self
            .dry_run_call(&origin, contract, first.data(), None)
            .await?;
        if let Err(e) = decode_output::<Result<T, E>>(&dry.output)? {
            return Err(rejected(&e));
        }
        let gas_limit = dry.estimate.gas_required.with_margin();
        let calls: Vec<RuntimeCallDto> = messages
            .iter()
            .map(|m| {
                RuntimeCallDto::Contracts(ContractsCallDto::call {
                    dest: MultiAddress::Id(*contract),
                    value: 0,
                    gas_limit,
                    storage_deposit_limit: None,
                    data: m.data().to_vec(),
                })
            })
            .collect();
        let tx = subxt::dynamic::tx("Utility", "batch_all", (calls,));
        self.sign_and_finalize(&tx, signer).await
    }

    /// Sends a `System.remark` and waits until it is finalized: a block at the chain's time
    /// now, which a chain that makes blocks only for transactions (a dev node) otherwise
    /// lacks; dry runs judge time by the last finalized block.
    ///
    /// # Errors
    /// [`CallError`] when the node refuses or fails.
    pub async fn remark(&self, signer: &Keypair, note: &[u8]) -> Result<CallOutcome, CallError> {
        let tx = subxt::dynamic::tx("System", "remark", (note.to_vec(),));
        self.sign_and_finalize(&tx, signer).await
    }

    /// Uploads `wasm` and instantiates it with constructor input `data` (from a contract
    /// crate's constructor builder) and `salt`.
    ///
    /// # Errors
    /// [`CallError`] when the constructor fails or the chain refuses the upload.
    pub async fn instantiate_with_code(
        &self,
        signer: &Keypair,
        wasm: Vec<u8>,
        data: Vec<u8>,
        salt: Vec<u8>,
    ) -> Result<Instantiated, CallError> {
        let origin = signer.public_key().to_account_id();
        let args = (
            origin,
            0u128,
            Option::<Weight>::None,
            Option::<u128>::None,
            CodeDto::Upload(wasm.clone()),
            data.clone(),
            salt.clone(),
        );
        let (estimate, ok) = self
            .dry_run::<_, InstantiateReturnDto>(
                &origin,
                "instantiate",
                args,
                "dry-run the instantiation",
                None,
            )
            .await?;
        if is_revert(&ok.result.flags) {
            return Err(CallError::Reverted(hex::encode(&ok.result.data)));
        }
        let tx = subxt::dynamic::tx(
            "Contracts",
            "instantiate_with_code",
            (
                0u128,
                estimate.gas_required.with_margin(),
                Option::<u128>::None,
                wasm.clone(),
                data,
                salt,
            ),
        );
        let outcome = self.sign_and_finalize(&tx, signer).await?;
        let code_hash = H256(subxt_hash(&wasm));
        Ok(Instantiated {
            address: ok.account_id,
            code_hash,
            block_number: outcome.block_number,
        })
    }

    /// Uploads `wasm` (nothing happens when the chain has it already) and returns its code
    /// hash, e.g. for an upgrade.
    ///
    /// # Errors
    /// [`CallError`] when the chain refuses the upload (invalid code, funds for the deposit).
    pub async fn upload_code(&self, signer: &Keypair, wasm: Vec<u8>) -> Result<H256, CallError> {
        let code_hash = H256(subxt_hash(&wasm));
        let tx = subxt::dynamic::tx(
            "Contracts",
            "upload_code",
            (wasm, Option::<u128>::None, DeterminismDto::Enforced),
        );
        self.sign_and_finalize(&tx, signer).await?;
        Ok(code_hash)
    }

    async fn dry_run_call(
        &self,
        origin: &AccountId32,
        contract: &AccountId32,
        data: &[u8],
        block: Option<u64>,
    ) -> Result<DryRun, CallError> {
        let args = (
            *origin,
            *contract,
            0u128,
            Option::<Weight>::None,
            Option::<u128>::None,
            data.to_vec(),
        );
        let (estimate, exec) = self
            .dry_run::<_, ExecReturnDto>(origin, "call", args, "dry-run the call", block)
            .await?;
        Ok(DryRun {
            estimate,
            reverted: is_revert(&exec.flags),
            output: exec.data,
        })
    }

    /// Calls `ContractsApi_<method>` as `origin` at the finalized block (or at `block`, with
    /// that block's state and time): the gas it needs and what it returned, or the dispatch
    /// error by name ([`CallError::CannotPay`] when the origin's balance cannot cover the
    /// storage deposit).
    async fn dry_run<Args, Ok>(
        &self,
        origin: &AccountId32,
        method: &str,
        args: Args,
        action: &'static str,
        block: Option<u64>,
    ) -> Result<(Estimate, Ok), CallError>
    where
        Args: subxt::ext::frame_decode::runtime_apis::IntoEncodableValues,
        Ok: scale_decode::IntoVisitor,
        DryRunDto<Ok>: DecodeAsType,
    {
        let payload =
            subxt::dynamic::runtime_api_call::<_, DryRunDto<Ok>>("ContractsApi", method, args);
        let at = match block {
            None => self
                .api
                .at_current_block()
                .await
                .map_err(|e| CallError::node("read the finalized block", e))?,
            Some(number) => self
                .api
                .at_block(number)
                .await
                .map_err(|e| CallError::node("read the block asked for", e))?,
        };
        let answer = at
            .runtime_apis()
            .call(payload)
            .await
            .map_err(|e| CallError::node(action, e))?;
        let ok = answer.result.map_err(|e| {
            let name = describe_dispatch_error(&e, &at.metadata());
            // With no deposit limit given, the limit is what the origin has: running out of
            // it means the balance is too low.
            if name.ends_with("StorageDepositLimitExhausted")
                || name.ends_with("StorageDepositNotEnoughFunds")
            {
                CallError::CannotPay {
                    account: origin.to_string(),
                }
            } else {
                CallError::Dispatch(name)
            }
        })?;
        let estimate = Estimate {
            gas_required: answer.gas_required,
            storage_deposit: answer.storage_deposit.signed(),
        };
        Ok((estimate, ok))
    }

    async fn sign_and_finalize<CallData: scale_encode::EncodeAsFields>(
        &self,
        tx: &subxt::tx::DynamicPayload<CallData>,
        signer: &Keypair,
    ) -> Result<CallOutcome, CallError> {
        let account = signer.public_key().to_account_id();
        let mut attempt = 0;
        let progress = loop {
            attempt += 1;
            // The next nonce as the node's pool sees it (counting the signer's transactions
            // not yet in a block), not as the finalized state does: two commands of one
            // signer in quick succession then take two nonces.
            let nonce = self
                .rpc
                .system_account_next_index(&account)
                .await
                .map_err(|e| CallError::node("tell the signer's next nonce", e))?;
            let params = DefaultExtrinsicParamsBuilder::<SubstrateConfig>::new()
                .nonce(nonce)
                .build();
            let mut signing = self
                .api
                .tx()
                .await
                .map_err(|e| CallError::node("read the finalized block", e))?;
            self.progress.set(Sending::InFlight);
            match signing.sign_and_submit_then_watch(tx, signer, params).await {
                Ok(progress) => break progress,
                Err(e) => {
                    let text = e.to_string();
                    // Another transaction of this signer took the nonce in between (the
                    // pool's "priority is too low" or "outdated"): sign again.
                    let taken = text.contains("Priority is too low")
                        || text.contains("Transaction is outdated")
                        || text.contains("1014");
                    if taken && attempt < NONCE_ATTEMPTS {
                        self.progress.set(Sending::Nothing);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                    // The transaction pool's refusal of an account that cannot pay
                    // (`InvalidTransaction::Payment`).
                    if text.contains("Inability to pay") {
                        self.progress.set(Sending::Nothing);
                        return Err(CallError::CannotPay {
                            account: account.to_string(),
                        });
                    }
                    return Err(CallError::node("accept the transaction", e));
                }
            }
        };
        self.progress.set(Sending::Sent);
        let in_block = tokio::time::timeout(self.finality_timeout, progress.wait_for_finalized())
            .await
            .map_err(|_| CallError::NotFinalized {
                waited: self.finality_timeout,
            })?
            .map_err(|e| unconfirmed("finalize the transaction", e))?;
        let events = in_block.wait_for_success().await.map_err(|e| match e {
            subxt::error::TransactionEventsError::ExtrinsicFailed(d) => {
                CallError::Dispatch(d.to_string())
            }
            other => unconfirmed("report the transaction's events", other),
        })?;
        let block_hash = in_block.block_hash();
        let block_number = self
            .api
            .at_block(block_hash)
            .await
            .map_err(|e| unconfirmed("read the transaction's block", e))?
            .block_number();
        let mut emitted = Vec::new();
        for event in events.iter() {
            let event = event.map_err(|e| unconfirmed("decode the transaction's events", e))?;
            if event.pallet_name() == "Contracts" && event.event_name() == "ContractEmitted" {
                let (contract, data) =
                    <(AccountId32, Vec<u8>)>::decode(&mut event.field_bytes())
                        .map_err(|e| unconfirmed("decode a ContractEmitted event", e))?;
                emitted.push(EmittedEvent {
                    contract,
                    topics: event.topics().iter().map(|t| t.0).collect(),
                    data,
                });
            }
        }
        Ok(CallOutcome {
            block_hash,
            block_number,
            events: emitted,
        })
    }
}

fn unconfirmed(action: &'static str, reason: impl std::fmt::Display) -> CallError {
    CallError::Unconfirmed {
        action,
        reason: reason.to_string(),
    }
}

fn rejected<E: ContractError>(e: &E) -> CallError {
    CallError::Rejected {
        error: format!("{e:?}"),
        sentence: e.sentence(),
    }
}

fn decode_output<R: Decode>(output: &[u8]) -> Result<R, CallError> {
    match <Result<R, ink::LangError>>::decode(&mut &output[..]) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(lang)) => Err(CallError::Decode(format!(
            "the contract could not dispatch the message ({lang:?}); is the address right?"
        ))),
        Err(e) => Err(CallError::Decode(format!(
            "output 0x{} is not what the message returns: {e}",
            hex::encode(output)
        ))),
    }
}

fn is_revert(flags: &Value) -> bool {
    first_number(flags).is_some_and(|bits| bits & REVERT_FLAG != 0)
}

/// The first number inside a value (`ReturnFlags` is a composite around a `u32`).
fn first_number(value: &Value) -> Option<u128> {
    if let Some(n) = value.as_u128() {
        return Some(n);
    }
    (0..4)
        .find_map(|i| value.at(i).and_then(first_number))
        .or_else(|| value.at("bits").and_then(first_number))
}

/// Names a dispatch error of a dry run, e.g. `Contracts::ContractTrapped`.
fn describe_dispatch_error(error: &Value, metadata: &subxt::Metadata) -> String {
    module_error_name(error, metadata).unwrap_or_else(|| error.to_string())
}

/// `Pallet::Error` for a `Module` dispatch error.
fn module_error_name(error: &Value, metadata: &subxt::Metadata) -> Option<String> {
    let is_module = matches!(&error.value, scale_value::ValueDef::Variant(v) if v.name == "Module");
    if !is_module {
        return None;
    }
    let module = error.at(0)?;
    let index = u8::try_from(module.at("index")?.as_u128()?).ok()?;
    let first_byte = u8::try_from(module.at("error")?.at(0)?.as_u128()?).ok()?;
    let pallet = metadata.pallet_by_error_index(index)?;
    let variant = pallet.error_variant_by_index(first_byte)?;
    Some(format!("{}::{}", pallet.name(), variant.name))
}

/// blake2b-256, the hash pallet-contracts uses for code hashes.
fn subxt_hash(bytes: &[u8]) -> [u8; 32] {
    use blake2::digest::{Digest, consts::U32};
    blake2::Blake2b::<U32>::digest(bytes).into()
}
