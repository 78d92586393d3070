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
mod keys;
mod names;
mod ops;
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
    let cli = args::Cli::parse();
    run::init_logs(&cli.log_format);
    match run::run(cli).await {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(report::exit_code(&e))
        }
    }
}
