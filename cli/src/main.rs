//! `medledger`: the one binary users run.
//!
//! - `medledger dev`: a dev chain, the contracts, the indexer and the API, on one machine.
//! - `medledger index` / `medledger serve`: the indexer (with metrics, a health check and a
//!   progress bar) and the API on their own.
//! - `medledger org|registrar|consent|delegate|emergency|access|record|batch|claim`: signed
//!   contract calls, with receipts and proofs kept beside anchored documents;
//!   `medledger verify`: a document checked against the chain or the API, never uploaded.
//!
//! Keys come from a wallet's JSON export, `MEDLEDGER_SURI`, or `--suri` for dev accounts;
//! secrets are never printed or logged. Every failure is one line on stderr naming what is
//! wrong, and a documented non-zero exit status (`medledger --help`).

mod api;
mod args;
mod chain;
mod commands;
mod dev;
mod files;
mod interrupt;
mod keys;
mod names;
mod ops;
mod orgs;
mod report;
mod run;

use clap::Parser;

/// mimalloc rather than glibc's allocator: the API allocates and frees small objects per
/// request on every worker thread, where glibc's arenas spent a tenth of its time
/// (`cargo xtask bench api`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return report::usage_error(e, args::json_requested()),
    };
    run::init_logs(&cli.log_format);
    let json = cli.json;
    interrupt::set_json(json);
    match run::run(cli).await {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => std::process::ExitCode::from(report::failed(&e, json)),
    }
}
