//! Deploys the medledger contracts: uploads and instantiates the ConsentRegistry and the
//! RecordRegistry (wired to the first), and describes the result as a [`Deployment`], written
//! to `deploy-scripts/deployments/<network>.json` for the CLI, the indexer and apps.
//!
//! Constructor input comes from the contract crates' own constructor builders. This crate
//! only deploys: it does not index or serve.

pub mod devnode;

use std::path::{Path, PathBuf};

use ink::primitives::Hash;
use medledger_client::{AccountId32, CallError, Chain, Keypair, account_of, to_ink, to_subxt};
use medledger_consent::consent_registry::ConsentRegistryRef;
use medledger_records::record_registry::RecordRegistryRef;
use scale::Encode;
use serde::{Deserialize, Serialize};

/// The file names of the two bundles `cargo xtask contracts` builds.
pub const CONSENT_BUNDLE: &str = "medledger_consent.contract";
pub const RECORDS_BUNDLE: &str = "medledger_records.contract";
/// The folder (under the bundles' folder) of the test-only next builds (feature `test-next`)
/// that prove upgrades; never deployed.
pub const TEST_NEXT_DIR: &str = "test-next";

/// Deploying failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeployError {
    #[error("contract bundle {path} is missing; build it with `cargo xtask contracts`")]
    MissingBundle { path: PathBuf },
    #[error("contract bundle {path} is not a valid .contract file: {reason}")]
    BadBundle { path: PathBuf, reason: String },
    #[error("instantiating the {contract} failed: {source}")]
    Instantiate {
        contract: &'static str,
        #[source]
        source: CallError,
    },
    #[error("the RecordRegistry is not wired to the ConsentRegistry: {0}")]
    Wiring(String),
    #[error("uploading the new code failed: {source}")]
    Upload {
        #[source]
        source: CallError,
    },
    #[error("upgrading the {contract} failed: {source}")]
    Upgrade {
        contract: &'static str,
        #[source]
        source: CallError,
    },
    #[error(
        "the upgrade is announced and may apply from {effective_at} ms (Unix time): apply it \
         then with apply_upgrade"
    )]
    Wait { effective_at: u64 },
    #[error("cannot {action} {path}: {reason}")]
    File {
        action: &'static str,
        path: PathBuf,
        reason: String,
    },
}

/// A compiled contract: its wasm and code hash, read from a `.contract` bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub wasm: Vec<u8>,
    pub code_hash: [u8; 32],
}

#[derive(Deserialize)]
struct BundleFile {
    source: BundleSource,
}

#[derive(Deserialize)]
struct BundleSource {
    hash: String,
    wasm: String,
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    hex::decode(s.strip_prefix("0x")?).ok()?.try_into().ok()
}

/// Reads a `.contract` bundle.
///
/// # Errors
/// [`DeployError::MissingBundle`] or [`DeployError::BadBundle`].
pub fn load_bundle(path: &Path) -> Result<Bundle, DeployError> {
    let text = std::fs::read_to_string(path).map_err(|_| DeployError::MissingBundle {
        path: path.to_path_buf(),
    })?;
    let bad = |reason: String| DeployError::BadBundle {
        path: path.to_path_buf(),
        reason,
    };
    let file: BundleFile = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let wasm = file
        .source
        .wasm
        .strip_prefix("0x")
        .and_then(|h| hex::decode(h).ok())
        .ok_or_else(|| bad("source.wasm is not 0x-hex".into()))?;
    let code_hash =
        hex32(&file.source.hash).ok_or_else(|| bad("source.hash is not a 32-byte hash".into()))?;
    Ok(Bundle { wasm, code_hash })
}

/// One deployed contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractInfo {
    /// SS58 address.
    pub address: String,
    /// 0x-hex code hash.
    pub code_hash: String,
}

impl ContractInfo {
    /// The address as an account id.
    ///
    /// # Errors
    /// A message naming the malformed address.
    pub fn account(&self) -> Result<AccountId32, String> {
        self.address
            .parse()
            .map_err(|_| format!("{:?} is not an SS58 address", self.address))
    }

    /// The code hash as bytes.
    ///
    /// # Errors
    /// A message naming the malformed hash.
    pub fn code_hash(&self) -> Result<[u8; 32], String> {
        let hex_part = self.code_hash.strip_prefix("0x").unwrap_or(&self.code_hash);
        let mut out = [0; 32];
        hex::decode_to_slice(hex_part, &mut out)
            .map_err(|e| format!("code hash {:?} is not 32 bytes of hex: {e}", self.code_hash))?;
        Ok(out)
    }
}

/// Where the medledger contracts live on one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub network: String,
    pub node_url: String,
    /// SS58 address of the deployer, the registrar of the ConsentRegistry.
    pub registrar: String,
    /// The block of the last instantiation: indexing starts here.
    pub block_number: u64,
    pub consent_registry: ContractInfo,
    pub record_registry: ContractInfo,
}

impl Deployment {
    /// Reads a deployment file.
    ///
    /// # Errors
    /// [`DeployError::File`] when it is missing or malformed.
    pub fn load(path: &Path) -> Result<Self, DeployError> {
        let file_err = |action, reason: String| DeployError::File {
            action,
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| file_err("read the deployment file", e.to_string()))?;
        serde_json::from_str(&text)
            .map_err(|e| file_err("parse the deployment file", e.to_string()))
    }

    /// Writes the deployment file, creating its folder.
    ///
    /// # Errors
    /// [`DeployError::File`] when it cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), DeployError> {
        let file_err = |reason: String| DeployError::File {
            action: "write the deployment file",
            path: path.to_path_buf(),
            reason,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| file_err(e.to_string()))?;
        }
        let json = serde_json::to_string_pretty(self).map_err(|e| file_err(e.to_string()))?;
        std::fs::write(path, json + "\n").map_err(|e| file_err(e.to_string()))
    }

    /// Both contract addresses, or a message naming the malformed one.
    ///
    /// # Errors
    /// A message naming the malformed address.
    pub fn accounts(&self) -> Result<(AccountId32, AccountId32), String> {
        Ok((
            self.consent_registry.account()?,
            self.record_registry.account()?,
        ))
    }

    /// Both contracts' code hashes at deployment, or a message naming the malformed one.
    ///
    /// # Errors
    /// A message naming the malformed hash.
    pub fn code_hashes(&self) -> Result<([u8; 32], [u8; 32]), String> {
        Ok((
            self.consent_registry.code_hash()?,
            self.record_registry.code_hash()?,
        ))
    }
}

/// What a constructor builder needs to produce its call data.
struct CtorInputs {
    code_hash: Hash,
    salt: Vec<u8>,
}

/// Uploads and instantiates one bundle with a random salt; `ctor` encodes the constructor
/// call with the contract crate's own builder.
async fn instantiate(
    chain: &Chain,
    signer: &Keypair,
    bundle: Bundle,
    contract: &'static str,
    ctor: impl FnOnce(CtorInputs) -> Vec<u8>,
) -> Result<medledger_client::Instantiated, DeployError> {
    let salt = rand::random::<[u8; 32]>().to_vec();
    let data = ctor(CtorInputs {
        code_hash: Hash::from(bundle.code_hash),
        salt: salt.clone(),
    });
    let instantiated = chain
        .instantiate_with_code(signer, bundle.wasm, data, salt)
        .await
        .map_err(|source| DeployError::Instantiate { contract, source })?;
    tracing::info!(address = %instantiated.address, "{contract} instantiated");
    Ok(instantiated)
}

/// Uploads and instantiates both contracts from the bundles in `bundles_dir`, signed by
/// `signer` (who becomes the registrar), and checks the wiring. Upgrades wait
/// `upgrade_delay_ms` after their announcement (`None`: the ConsentRegistry's default, 7
/// days; a dev or test chain may want less).
///
/// # Errors
/// [`DeployError`] naming the step that failed.
pub async fn deploy(
    chain: &Chain,
    signer: &Keypair,
    bundles_dir: &Path,
    network: &str,
    upgrade_delay_ms: Option<u64>,
) -> Result<Deployment, DeployError> {
    let consent_bundle = load_bundle(&bundles_dir.join(CONSENT_BUNDLE))?;
    let records_bundle = load_bundle(&bundles_dir.join(RECORDS_BUNDLE))?;

    let consent =
        instantiate(
            chain,
            signer,
            consent_bundle,
            "ConsentRegistry",
            |ctor| match upgrade_delay_ms {
                None => ConsentRegistryRef::new()
                    .code_hash(ctor.code_hash)
                    .endowment(0)
                    .salt_bytes(ctor.salt)
                    .params()
                    .exec_input()
                    .encode(),
                Some(delay) => ConsentRegistryRef::with_upgrade_delay(delay)
                    .code_hash(ctor.code_hash)
                    .endowment(0)
                    .salt_bytes(ctor.salt)
                    .params()
                    .exec_input()
                    .encode(),
            },
        )
        .await?;
    let consent_ink = to_ink(&consent.address);
    let records = instantiate(chain, signer, records_bundle, "RecordRegistry", |ctor| {
        RecordRegistryRef::new(consent_ink)
            .code_hash(ctor.code_hash)
            .endowment(0)
            .salt_bytes(ctor.salt)
            .params()
            .exec_input()
            .encode()
    })
    .await?;

    let wired = chain
        .query(
            &account_of(signer),
            &records.address,
            &medledger_client::records::consent_registry(&records.address),
        )
        .await
        .map_err(|e| DeployError::Wiring(e.to_string()))?;
    if to_subxt(&wired) != consent.address {
        return Err(DeployError::Wiring(format!(
            "it points at {} instead of {}",
            to_subxt(&wired),
            consent.address
        )));
    }

    Ok(Deployment {
        network: network.to_string(),
        node_url: chain.url().to_string(),
        registrar: account_of(signer).to_string(),
        block_number: records.block_number.max(consent.block_number),
        consent_registry: ContractInfo {
            address: consent.address.to_string(),
            code_hash: format!("0x{}", hex::encode(consent.code_hash.0)),
        },
        record_registry: ContractInfo {
            address: records.address.to_string(),
            code_hash: format!("0x{}", hex::encode(records.code_hash.0)),
        },
    })
}

/// One of the two contracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contract {
    ConsentRegistry,
    RecordRegistry,
}

impl Contract {
    fn name(self) -> &'static str {
        match self {
            Contract::ConsentRegistry => "ConsentRegistry",
            Contract::RecordRegistry => "RecordRegistry",
        }
    }
}

/// Uploads `bundle`'s code (the registrar pays), returning its code hash.
///
/// # Errors
/// [`DeployError::Upload`].
pub async fn upload(
    chain: &Chain,
    registrar: &Keypair,
    bundle: Bundle,
) -> Result<[u8; 32], DeployError> {
    let code_hash = chain
        .upload_code(registrar, bundle.wasm)
        .await
        .map_err(|source| DeployError::Upload { source })?;
    Ok(code_hash.0)
}

fn address_of(deployment: &Deployment, contract: Contract) -> Result<AccountId32, DeployError> {
    let info = match contract {
        Contract::ConsentRegistry => &deployment.consent_registry,
        Contract::RecordRegistry => &deployment.record_registry,
    };
    info.account().map_err(|reason| DeployError::File {
        action: "use the deployment file",
        path: PathBuf::new(),
        reason,
    })
}

/// Has the registrar announce that `contract` will switch to the uploaded `code_hash`; the
/// upgrade may apply once the ConsentRegistry's upgrade delay has passed. Returns the
/// announcement (its `effective_at` says from when).
///
/// # Errors
/// [`DeployError::Upgrade`] (the contract's own error by name, e.g. `NotRegistrar`).
pub async fn announce_upgrade(
    chain: &Chain,
    registrar: &Keypair,
    deployment: &Deployment,
    contract: Contract,
    code_hash: [u8; 32],
) -> Result<medledger_events::UpgradeAnnounced, DeployError> {
    let address = address_of(deployment, contract)?;
    let upgrade_err = |source| DeployError::Upgrade {
        contract: contract.name(),
        source,
    };
    let outcome = match contract {
        Contract::ConsentRegistry => {
            let message = medledger_client::consent::announce_upgrade(&address, code_hash);
            chain.submit(registrar, &address, &message).await
        }
        Contract::RecordRegistry => {
            let message = medledger_client::records::announce_upgrade(&address, code_hash);
            chain.submit(registrar, &address, &message).await
        }
    }
    .map_err(upgrade_err)?;
    outcome
        .events
        .iter()
        .filter(|e| e.contract == address)
        .find_map(|e| e.decode_as::<medledger_events::UpgradeAnnounced>())
        .ok_or_else(|| upgrade_err(CallError::Decode("no UpgradeAnnounced event".into())))
}

/// Has the registrar switch `contract` to the announced `code_hash` (its delay must have
/// passed; a contract of the second release, which announced nothing, switches at once):
/// the new code migrates the storage in the same call, or nothing changes. Records the new
/// code hash in `deployment` and returns what the contract reported.
///
/// # Errors
/// [`DeployError::Upgrade`] (the contract's own error by name, e.g. `UpgradeTooEarly` or
/// `UpgradeFailed`); [`DeployError::File`] for a malformed address in `deployment`.
pub async fn apply_upgrade(
    chain: &Chain,
    registrar: &Keypair,
    deployment: &mut Deployment,
    contract: Contract,
    code_hash: [u8; 32],
) -> Result<medledger_events::ContractUpgraded, DeployError> {
    let address = address_of(deployment, contract)?;
    let upgrade_err = |source| DeployError::Upgrade {
        contract: contract.name(),
        source,
    };
    let outcome = match contract {
        Contract::ConsentRegistry => {
            let message = medledger_client::consent::upgrade(&address, code_hash);
            chain.submit(registrar, &address, &message).await
        }
        Contract::RecordRegistry => {
            let message = medledger_client::records::upgrade(&address, code_hash);
            chain.submit(registrar, &address, &message).await
        }
    }
    .map_err(upgrade_err)?;
    let upgraded = outcome
        .events
        .iter()
        .filter(|e| e.contract == address)
        .find_map(|e| e.decode_as::<medledger_events::ContractUpgraded>())
        .ok_or_else(|| upgrade_err(CallError::Decode("no ContractUpgraded event".into())))?;
    let info = match contract {
        Contract::ConsentRegistry => &mut deployment.consent_registry,
        Contract::RecordRegistry => &mut deployment.record_registry,
    };
    info.code_hash = format!("0x{}", hex::encode(code_hash));
    Ok(upgraded)
}

/// The longest [`upgrade`] waits for an announced upgrade to come due.
pub const LONGEST_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// Uploads `bundle`, announces the upgrade, waits for its delay (at most [`LONGEST_WAIT`];
/// a longer delay is applied later with [`apply_upgrade`]) and applies it.
///
/// # Errors
/// As [`upload`], [`announce_upgrade`] and [`apply_upgrade`]; [`DeployError::Wait`] when
/// the delay is longer than [`LONGEST_WAIT`].
pub async fn upgrade(
    chain: &Chain,
    registrar: &Keypair,
    deployment: &mut Deployment,
    contract: Contract,
    bundle: Bundle,
) -> Result<medledger_events::ContractUpgraded, DeployError> {
    let code_hash = upload(chain, registrar, bundle).await?;
    let announced = announce_upgrade(chain, registrar, deployment, contract, code_hash).await?;
    wait_until(chain, registrar, contract, announced.effective_at).await?;
    apply_upgrade(chain, registrar, deployment, contract, code_hash).await
}

/// Waits until the wall clock, which block times follow, has passed `effective_at` (ms since
/// the Unix epoch), then makes sure a finalized block is that late: the upgrade's dry run
/// judges time by the last finalized block, and a dev node makes blocks only for
/// transactions, so the registrar sends a remark (a tiny fee) to have one.
async fn wait_until(
    chain: &Chain,
    registrar: &Keypair,
    contract: Contract,
    effective_at: u64,
) -> Result<(), DeployError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let wait = std::time::Duration::from_millis(effective_at.saturating_sub(now) + 500);
    if wait > LONGEST_WAIT {
        return Err(DeployError::Wait { effective_at });
    }
    tokio::time::sleep(wait).await;
    chain
        .remark(registrar, b"medledger: an announced upgrade is due")
        .await
        .map_err(|source| DeployError::Upgrade {
            contract: contract.name(),
            source,
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_bundle_names_the_build_command() {
        let err = load_bundle(Path::new("/nonexistent/x.contract")).expect_err("missing");
        assert!(err.to_string().contains("cargo xtask contracts"), "{err}");
    }

    #[test]
    fn a_bundle_yields_its_wasm_and_code_hash() {
        let dir = std::env::temp_dir().join(format!("medledger-bundle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("ok.contract");
        let hash = format!("0x{}", "ab".repeat(32));
        std::fs::write(
            &path,
            format!(r#"{{"source":{{"hash":"{hash}","wasm":"0x0061736d"}}}}"#),
        )
        .expect("write");
        let bundle = load_bundle(&path).expect("loads");
        assert_eq!(bundle.wasm, [0x00, 0x61, 0x73, 0x6d]);
        assert_eq!(bundle.code_hash, [0xab; 32]);
        std::fs::write(&path, r#"{"source":{"hash":"0x12","wasm":"0x00"}}"#).expect("write");
        assert!(matches!(
            load_bundle(&path),
            Err(DeployError::BadBundle { .. })
        ));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_deployment_round_trips_through_its_file() {
        let d = Deployment {
            network: "local".into(),
            node_url: "ws://127.0.0.1:9944".into(),
            registrar: "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY".into(),
            block_number: 3,
            consent_registry: ContractInfo {
                address: "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY".into(),
                code_hash: "0x00".into(),
            },
            record_registry: ContractInfo {
                address: "not-an-address".into(),
                code_hash: "0x00".into(),
            },
        };
        let path = std::env::temp_dir().join(format!("medledger-dep-{}.json", std::process::id()));
        d.save(&path).expect("save");
        assert_eq!(Deployment::load(&path).expect("load"), d);
        let err = d.accounts().expect_err("bad records address");
        assert!(err.contains("not-an-address"));
        std::fs::remove_file(&path).ok();
    }
}
