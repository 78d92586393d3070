use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands::{
    AccessCommand, BatchCommand, ClaimCommand, ConsentCommand, DelegateCommand, EmergencyCommand,
    OrgCommand, RecordCommand, RegistrarCommand, TokenArgs, VerifyArgs,
};

/// Printed under `--help`: what the exit status means.
const EXIT_CODES: &str = "\
Exit status:
  0  done (verify: the document matches its current anchored version)
  1  bad input or a local failure (file, key, password, database); nothing was sent
  2  the command line itself is wrong (unknown flag, missing argument)
  3  the contract or the chain refused the call, or the signer cannot pay: nothing changed
     (access record: the access was denied, and logged as denied)
  4  the node could not be reached, did not answer, or did not finalize in time
  5  verify: the document does not match, was never anchored, or its receipt's category
     does not open the anchored one
  6  verify: the document matches a version that was superseded by an amendment
  7  verify: it matches, but its record's category was outside the custodian's Write
     consent when it was anchored
130  interrupted (Ctrl-C): the line says whether the transaction was sent; a receipt or
     batch it may still complete is kept (medledger record resume / batch resume)

Signing, the first given wins: --key-file FILE (a wallet's JSON export; password from
MEDLEDGER_KEY_PASSWORD or asked on the terminal), --suri for dev accounts (alice, //Alice),
MEDLEDGER_KEY_FILE, MEDLEDGER_SURI.
Accounts are SS58 addresses, or dev account names (alice, bob, charlie, dave, eve, ferdie).";

#[derive(Parser)]
#[command(
    name = "medledger",
    version,
    about = "Patient consent and record integrity on a public chain",
    after_help = EXIT_CODES
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
    /// Print the result as one JSON object on stdout (for scripts) instead of sentences.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// Whether `--json` was on the command line, for a command line clap refused (so `Cli`
/// could not be built to say so).
pub fn json_requested() -> bool {
    std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json")
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
    #[command(subcommand, after_help = EXIT_CODES)]
    Org(OrgCommand),
    /// Hand the registrar role over, in two steps.
    #[command(subcommand, after_help = EXIT_CODES)]
    Registrar(RegistrarCommand),
    /// Consents (signed by the patient, or a delegate with --for).
    #[command(subcommand, after_help = EXIT_CODES)]
    Consent(ConsentCommand),
    /// Delegates who manage a patient's consents (guardians, proxies).
    #[command(subcommand, after_help = EXIT_CODES)]
    Delegate(DelegateCommand),
    /// Emergency access: providers break glass, patients end or block it.
    #[command(subcommand, after_help = EXIT_CODES)]
    Emergency(EmergencyCommand),
    /// The access log: an organization declares that it used a patient's data.
    #[command(subcommand, after_help = EXIT_CODES)]
    Access(AccessCommand),
    /// Anchor a record's salted commitment, or amend it, keeping a receipt beside the file.
    #[command(subcommand, after_help = EXIT_CODES)]
    Record(RecordCommand),
    /// Anchor a whole folder in one transaction, with a proof per file.
    #[command(subcommand, after_help = EXIT_CODES)]
    Batch(BatchCommand),
    /// Insurance claims: attest that a claim's documents are the anchored ones.
    #[command(subcommand, after_help = EXIT_CODES)]
    Claim(ClaimCommand),
    /// Check a document against its receipt or proof, and the chain (or the API): it is never
    /// uploaded anywhere.
    #[command(after_help = EXIT_CODES)]
    Verify(VerifyArgs),
    /// Make a short-lived bearer token for a medledger FHIR gateway, signed by your
    /// organization's account (printed on stdout).
    #[command(after_help = EXIT_CODES)]
    Token(TokenArgs),
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
    /// Give up waiting for a sent transaction to be finalized after this long (e.g. 90s, 2m).
    #[arg(long, default_value = "2m", value_parser = humantime::parse_duration)]
    pub finality_timeout: Duration,
}

/// Who signs.
#[derive(Args, Clone)]
pub struct SignerArgs {
    /// Sign with this account export of a wallet (polkadot.js, Talisman, SubWallet JSON); its
    /// password comes from MEDLEDGER_KEY_PASSWORD, or is asked on the terminal.
    #[arg(
        long,
        env = "MEDLEDGER_KEY_FILE",
        value_name = "FILE",
        conflicts_with = "suri"
    )]
    pub key_file: Option<PathBuf>,
    /// Sign as a dev account: alice, bob, charlie, dave, eve, ferdie (or //Alice). Any other
    /// secret here is visible to other users (ps) and in shell history: put it in
    /// MEDLEDGER_SURI, or use --key-file.
    #[arg(long, value_name = "SURI")]
    pub suri: Option<String>,
}

/// Where the GraphQL API is, for commands that read the mirror.
#[derive(Args, Clone)]
pub struct ApiArgs {
    /// The GraphQL endpoint, e.g. http://127.0.0.1:8080/graphql.
    #[arg(long = "api", env = "MEDLEDGER_API", value_name = "URL")]
    pub url: Option<String>,
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
    /// The deployment the patient's page at / signs against (its node URL and contracts);
    /// without it the page says what is missing.
    #[arg(long, env = "MEDLEDGER_DEPLOYMENT")]
    pub deployment: Option<PathBuf>,
    /// Folder holding the .contract bundles (their metadata goes to the page).
    #[arg(
        long,
        env = "MEDLEDGER_CONTRACTS_DIR",
        default_value = "artifacts/contracts"
    )]
    pub contracts: PathBuf,
    /// The node URL the page's browser uses (default: the deployment's).
    #[arg(long)]
    pub public_node_url: Option<String>,
}
