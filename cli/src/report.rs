//! What a command prints: sentences for people, or one JSON object with `--json`; and the
//! exit status, documented in `medledger --help`.

use medledger_client::{CallError, CallOutcome, ConnectError};
use serde_json::{Value, json};

/// Exit statuses (see `EXIT_CODES` in args.rs).
pub mod exit {
    pub const FAILURE: u8 = 1;
    pub const REFUSED: u8 = 3;
    pub const NODE: u8 = 4;
    pub const MISMATCH: u8 = 5;
    pub const SUPERSEDED: u8 = 6;
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
                json!(format!("0x{}", hex::encode(outcome.block_hash.0))),
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

/// The exit status for a failure: what kind of thing went wrong.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<CallError>() {
            return match e {
                CallError::Node { .. } | CallError::NotFinalized { .. } => exit::NODE,
                CallError::Decode(_) => exit::FAILURE,
                _ => exit::REFUSED,
            };
        }
        if cause.downcast_ref::<ConnectError>().is_some()
            || cause.downcast_ref::<crate::api::Unreachable>().is_some()
        {
            return exit::NODE;
        }
    }
    exit::FAILURE
}
