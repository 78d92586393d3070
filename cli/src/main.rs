//! `medledger`: the one binary users run.
//!
//! - `medledger dev`: a dev chain, the contracts, the indexer and the API, on one machine.
//! - `medledger index` / `medledger serve`: the indexer (with metrics, a health check and a
//!   progress bar) and the API on their own.
//! - `medledger org register`, `medledger consent grant|revoke|check`: signed contract calls.
//!
//! Every failure is one line on stderr naming what is wrong, and a non-zero exit.

mod args;
mod dev;
mod names;
mod ops;
mod run;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = args::Cli::parse();
    run::init_logs(&cli.log_format);
    match run::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
