//! The signing and verifying commands, one file per group: each defines its arguments and
//! runs them, returning a [`Report`](crate::report::Report).

mod access;
mod batch;
mod claim;
mod consent;
mod delegate;
mod emergency;
mod org;
mod record;
mod token;
mod verify;

pub use access::AccessCommand;
pub use batch::BatchCommand;
pub use claim::ClaimCommand;
pub use consent::ConsentCommand;
pub use delegate::DelegateCommand;
pub use emergency::EmergencyCommand;
pub use org::{OrgCommand, RegistrarCommand};
pub use record::RecordCommand;
pub use token::TokenArgs;
pub use verify::VerifyArgs;

use crate::args::Command;
use crate::report::Report;

/// Runs a signing or verifying command.
pub async fn run(command: Command) -> anyhow::Result<Report> {
    match command {
        Command::Org(c) => org::run(c).await,
        Command::Registrar(c) => org::run_registrar(c).await,
        Command::Consent(c) => consent::run(c).await,
        Command::Delegate(c) => delegate::run(c).await,
        Command::Emergency(c) => emergency::run(c).await,
        Command::Access(c) => access::run(c).await,
        Command::Record(c) => record::run(c).await,
        Command::Batch(c) => batch::run(c).await,
        Command::Claim(c) => claim::run(c).await,
        Command::Verify(a) => verify::run(a).await,
        Command::Token(a) => token::run(a),
        Command::Dev(_) | Command::Index(_) | Command::Serve(_) => Err(anyhow::anyhow!(
            "internal error: dev, index and serve are run by run::run"
        )),
    }
}
