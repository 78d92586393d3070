use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "medledger",
    version,
    about = "Patient consent and record integrity on a public chain"
)]
pub struct Cli {
    /// Log format on stderr (levels from RUST_LOG).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "MEDLEDGER_LOG_FORMAT"
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run a dev chain with the contracts deployed, the indexer and the GraphQL API.
    Dev(DevArgs),
    /// Mirror the contracts' events from a node into the database.
    Index(IndexArgs),
    /// Serve the GraphQL API over the database.
    Serve(ServeArgs),
    /// Organizations (registrar only).
    #[command(subcommand)]
    Org(OrgCommand),
    /// Consents (signed by the patient).
    #[command(subcommand)]
    Consent(ConsentCommand),
}

/// Where the contracts are and how to reach the chain.
#[derive(Args, Clone)]
pub struct ChainArgs {
    /// The deployment file written by `medledger dev` or `medledger-deploy`.
    #[arg(
        long,
        env = "MEDLEDGER_DEPLOYMENT",
        default_value = "deploy-scripts/deployments/dev.json"
    )]
    pub deployment: PathBuf,
    /// Node URL; defaults to the one in the deployment file.
    #[arg(long, env = "MEDLEDGER_NODE_URL")]
    pub node_url: Option<String>,
}

/// Who signs.
#[derive(Args, Clone)]
pub struct SignerArgs {
    /// Secret URI of the signer: a dev name like //Alice, or a mnemonic.
    #[arg(long, env = "MEDLEDGER_SURI", hide_env_values = true)]
    pub suri: String,
}

#[derive(Args)]
pub struct DevArgs {
    /// Use this node instead of starting one.
    #[arg(long, env = "MEDLEDGER_NODE_URL")]
    pub node_url: Option<String>,
    /// Database file of the read model (recreated when a fresh node is started).
    #[arg(long, default_value = ".medledger/dev.db")]
    pub db: PathBuf,
    /// Where the GraphQL API listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Folder holding the .contract bundles.
    #[arg(
        long,
        env = "MEDLEDGER_CONTRACTS_DIR",
        default_value = "artifacts/contracts"
    )]
    pub contracts: PathBuf,
    /// Where to write the deployment file.
    #[arg(long, default_value = "deploy-scripts/deployments/dev.json")]
    pub deployment: PathBuf,
}

#[derive(Args)]
pub struct IndexArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Database URL: sqlite:<path> (created if missing) or postgres://user@host:port/db.
    #[arg(
        long,
        visible_alias = "database-url",
        env = "MEDLEDGER_DATABASE_URL",
        default_value = "sqlite:.medledger/medledger.db"
    )]
    pub db: String,
    #[command(flatten)]
    pub tuning: IndexTuning,
    /// Serve Prometheus metrics at /metrics and a health check at /healthz on this address
    /// (e.g. 127.0.0.1:9616; port 0 picks a free one, printed on start). Off by default.
    #[arg(long, env = "MEDLEDGER_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// /healthz reports the indexer stuck after this many seconds of retrying a failure, or
    /// of no progress while behind the finalized head.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub stall_secs: u64,
}

/// How hard the indexer works while catching up.
#[derive(Args, Clone, Debug)]
pub struct IndexTuning {
    /// Blocks fetched from the node at once while catching up.
    #[arg(
        long,
        default_value_t = medledger_indexer::DEFAULT_CONCURRENCY as u16,
        value_parser = clap::value_parser!(u16).range(1..=256)
    )]
    pub concurrency: u16,
    /// At most this many blocks committed in one transaction while catching up.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..))]
    pub batch_blocks: u16,
}

impl Default for IndexTuning {
    fn default() -> Self {
        IndexTuning {
            concurrency: medledger_indexer::DEFAULT_CONCURRENCY as u16,
            batch_blocks: 256,
        }
    }
}

#[derive(Args)]
pub struct ServeArgs {
    /// Database URL: sqlite:<path> or postgres://user@host:port/db.
    #[arg(
        long,
        visible_alias = "database-url",
        env = "MEDLEDGER_DATABASE_URL",
        default_value = "sqlite:.medledger/medledger.db"
    )]
    pub db: String,
    /// Where the GraphQL API listens.
    #[arg(long, env = "MEDLEDGER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// A browser origin allowed to call the API (CORS), e.g. https://portal.example.org;
    /// repeat for several, `*` for any. Default: none but the server's own pages.
    #[arg(
        long = "cors-origin",
        env = "MEDLEDGER_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
    /// The largest request body read, in bytes (larger ones are refused unread).
    #[arg(long, env = "MEDLEDGER_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,
    /// Seconds a request may take before it is answered 408.
    #[arg(long, env = "MEDLEDGER_REQUEST_TIMEOUT_SECS", default_value_t = 10)]
    pub request_timeout_secs: u64,
}

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Register an organization with a role.
    Register {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        /// SS58 address of the organization.
        #[arg(long)]
        account: String,
        /// provider, insurer, researcher, auditor or app.
        #[arg(long)]
        role: String,
        /// May open emergency access windows.
        #[arg(long)]
        emergency: bool,
    },
}

#[derive(Args, Clone)]
pub struct ScopeArgs {
    /// Data categories, comma-separated (e.g. lab-results,imaging).
    #[arg(long, value_delimiter = ',', required = true)]
    pub categories: Vec<String>,
    /// Purposes of use, comma-separated (e.g. treatment,payment).
    #[arg(long, value_delimiter = ',', default_value = "treatment")]
    pub purposes: Vec<String>,
    /// read, write, or read,write.
    #[arg(long, value_delimiter = ',', default_value = "read")]
    pub access: Vec<String>,
}

#[derive(Subcommand)]
pub enum ConsentCommand {
    /// Grant (or replace) your consent to a registered organization.
    Grant {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        /// SS58 address of the organization.
        #[arg(long)]
        grantee: String,
        #[command(flatten)]
        scope: ScopeArgs,
        /// Start of validity: RFC 3339 time (default: now).
        #[arg(long)]
        valid_from: Option<String>,
        /// End of validity: RFC 3339 time (default: none).
        #[arg(long)]
        expires_at: Option<String>,
        /// The signed consent document: its salted commitment (a fresh salt, see
        /// medledger-proofs) becomes the terms hash, and FILE.terms.json keeps the salt to
        /// prove it later.
        #[arg(long, value_name = "FILE", conflicts_with = "terms_hash")]
        terms: Option<PathBuf>,
        /// A salted terms commitment computed elsewhere (0x-hex); never a plain hash of a
        /// standard form, which would tell which form was signed.
        #[arg(long)]
        terms_hash: Option<String>,
    },
    /// Revoke your consent to an organization, at once.
    Revoke {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        signer: SignerArgs,
        /// SS58 address of the organization.
        #[arg(long)]
        grantee: String,
    },
    /// Ask the chain whether a grantee may use a patient's data now.
    Check {
        #[command(flatten)]
        chain: ChainArgs,
        #[arg(long)]
        patient: String,
        #[arg(long)]
        grantee: String,
        #[arg(long)]
        category: String,
        #[arg(long, default_value = "treatment")]
        purpose: String,
        #[arg(long, default_value = "read")]
        access: String,
    },
}
