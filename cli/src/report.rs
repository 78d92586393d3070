//! What a command prints: sentences for people, or one JSON object with `--json`; and the
//! exit status, documented in `medledger --help`.

use medledger_client::{CallError, CallOutcome, ConnectError};
use serde_json::{Value, json};

/// Exit statuses (see `EXIT_CODES` in args.rs).
pub mod exit {
    pub const FAILURE: u8 = 1;
    /// The command line itself is wrong (clap's own status).
    pub const USAGE: u8 = 2;
    pub const REFUSED: u8 = 3;
    pub const NODE: u8 = 4;
    pub const MISMATCH: u8 = 5;
    pub const SUPERSEDED: u8 = 6;
    /// The document matches, but its record's category was outside the custodian's Write
    /// consent when it was anchored.
    pub const OUTSIDE_CONSENT: u8 = 7;
}

/// A command's result.
pub struct Report {
    human: String,
    json: Value,
    /// The exit status: 0, or a verdict of `verify`.
    pub code: u8,
}

impl Report {
    pub fn new(human: impl Into<String>, json: Value) -> Self {
        Report {
            human: human.into(),
            json,
            code: 0,
        }
    }

    /// A report of a transaction that landed: `json` gains its block.
    pub fn landed(human: impl Into<String>, mut json: Value, outcome: &CallOutcome) -> Self {
        if let Value::Object(map) = &mut json {
            map.insert("block".into(), json!(outcome.block_number));
            map.insert(
                "block_hash".into(),
                json!(crate::files::hex_of(outcome.block_hash.0)),
            );
        }
        Report::new(
            format!("{} (block #{})", human.into(), outcome.block_number),
            json,
        )
    }

    pub fn with_code(mut self, code: u8) -> Self {
        self.code = code;
        self
    }

    pub fn print(&self, as_json: bool) {
        if as_json {
            println!("{}", self.json);
        } else {
            println!("{}", self.human);
        }
    }
}

/// Tells of a failure: one line on stderr, and with `--json` also one JSON object on stdout
/// (`{"error": …, "exit": …}`), so that a script reading stdout is never left with nothing.
/// Returns the exit status.
pub fn failed(error: &anyhow::Error, as_json: bool) -> u8 {
    let code = exit_code(error);
    let line = format!("{error:#}");
    eprintln!("error: {line}");
    if as_json {
        println!("{}", json!({"error": line, "exit": code}));
    }
    code
}

/// A command line clap refused (or `--help` / `--version`, which clap answers by "failing"):
/// clap's own message, and with `--json` one JSON object as for any other failure.
pub fn usage_error(error: clap::Error, as_json: bool) -> std::process::ExitCode {
    let code = u8::try_from(error.exit_code()).unwrap_or(exit::USAGE);
    if as_json && error.use_stderr() {
        // clap's message without its usage and help hints, on one line.
        let text = error.to_string();
        let line = text
            .lines()
            .map(str::trim)
            .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let line = line.trim_start_matches("error: ");
        println!("{}", json!({"error": line, "exit": code}));
    }
    let _ = error.print();
    std::process::ExitCode::from(code)
}

/// A refusal decided here rather than by the contract (e.g. an access that would be denied
/// and would publish a record's category): exit 3, nothing sent.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// The exit status for a failure: what kind of thing went wrong.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<CallError>() {
            return match e {
                CallError::Node { .. }
                | CallError::NotFinalized { .. }
                | CallError::Unconfirmed { .. } => exit::NODE,
                CallError::Decode(_) => exit::FAILURE,
                _ => exit::REFUSED,
            };
        }
        if let Some(e) = cause.downcast_ref::<ConnectError>() {
            return match e {
                ConnectError::InvalidUrl { .. } => exit::FAILURE,
                _ => exit::NODE,
            };
        }
        if cause.downcast_ref::<crate::api::Unreachable>().is_some() {
            return exit::NODE;
        }
        if cause.downcast_ref::<Refused>().is_some() {
            return exit::REFUSED;
        }
    }
    exit::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;
    use medledger_client::ContractError;
    use medledger_consent::consent_registry::Error as ConsentError;
    use medledger_records::record_registry::Error as RecordsError;

    fn every_variant<E: scale::Decode>() -> Vec<E> {
        (0u8..=u8::MAX)
            .map_while(|i| E::decode(&mut &[i][..]).ok())
            .collect()
    }

    /// The line `main` prints for a refusal, and the status it exits with.
    fn line_and_status<E: ContractError>(e: &E) -> (String, u8) {
        let error = anyhow::Error::new(CallError::Rejected {
            error: format!("{e:?}"),
            sentence: e.sentence(),
        })
        .context("doing what the command does");
        (format!("error: {error:#}"), exit_code(&error))
    }

    fn check<E: ContractError>() -> usize {
        let all = every_variant::<E>();
        for e in &all {
            let (line, status) = line_and_status(e);
            assert_eq!(status, exit::REFUSED, "{line}");
            assert!(!line.contains('\n'), "one line: {line}");
            assert!(
                line.contains(e.sentence()) && line.ends_with(&format!("({e:?})")),
                "{line}"
            );
        }
        all.len()
    }

    #[test]
    fn each_contract_error_is_one_line_in_words_with_exit_status_3() {
        assert!(check::<ConsentError>() >= 29);
        assert!(check::<RecordsError>() >= 24);
    }

    #[test]
    fn failures_are_told_apart_by_status() {
        let node = anyhow::Error::new(CallError::NotFinalized {
            waited: std::time::Duration::from_secs(1),
        });
        assert_eq!(exit_code(&node), exit::NODE);
        let bad_url = anyhow::Error::new(ConnectError::InvalidUrl { url: "x".into() });
        assert_eq!(exit_code(&bad_url), exit::FAILURE);
        assert_eq!(exit_code(&anyhow::anyhow!("cannot read x")), exit::FAILURE);
        assert_eq!(
            exit_code(&anyhow::Error::new(Refused("no".into()))),
            exit::REFUSED
        );
    }
}
