//! Ctrl-C during a signing command: the user is told whether the transaction was sent and
//! what to do next, and a receipt or manifest written for a transaction that was never sent
//! is removed (one that may land is kept, for `record resume` / `batch resume`).
//!
//! Armed once the command is connected to the chain (after any password was read, so that
//! Ctrl-C at the password prompt still just stops the program).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use medledger_client::{SendProgress, Sending};
use serde_json::json;

/// Exit status of an interrupted command (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;

static ARMED: OnceLock<SendProgress> = OnceLock::new();
static JSON: AtomicBool = AtomicBool::new(false);
static PENDING: Mutex<Option<Pending>> = Mutex::new(None);

/// A file written before a transaction was sent, and the command that finishes it.
struct Pending {
    path: PathBuf,
    resume: String,
}

/// Whether the failure line should also be JSON on stdout (`--json`).
pub fn set_json(json: bool) {
    JSON.store(json, Ordering::Relaxed);
}

/// Arms the Ctrl-C handler for a command that signs through a chain whose progress is
/// `progress`. Later calls (a second connection) keep the first handler.
pub fn arm(progress: SendProgress) {
    if ARMED.set(progress).is_err() {
        return;
    }
    let stop = crate::run::ctrl_c();
    tokio::spawn(async move {
        stop.await;
        let (line, sent) = what_happened();
        eprintln!("error: {line}");
        if JSON.load(Ordering::Relaxed) {
            println!(
                "{}",
                json!({"error": line, "exit": INTERRUPTED, "sent": sent})
            );
        }
        std::process::exit(i32::from(INTERRUPTED));
    });
}

/// `path` was written for the transaction about to be sent; `resume` finishes it.
pub fn pending(path: &Path, resume: String) {
    if let Ok(mut p) = PENDING.lock() {
        *p = Some(Pending {
            path: path.to_path_buf(),
            resume,
        });
    }
}

/// The pending file was completed or removed: nothing is left to tell about.
pub fn settled() {
    if let Ok(mut p) = PENDING.lock() {
        *p = None;
    }
}

/// The line to print on Ctrl-C, and whether the transaction was sent ("no", "maybe",
/// "yes"); removes a pending file of a transaction that was never sent.
fn what_happened() -> (String, &'static str) {
    let state = ARMED.get().map_or(Sending::Nothing, SendProgress::get);
    let pending = PENDING.lock().ok().and_then(|mut p| p.take());
    match state {
        Sending::Nothing => {
            let mut line = "interrupted before anything was sent: nothing changed".to_string();
            if let Some(p) = pending
                && std::fs::remove_file(&p.path).is_ok()
            {
                line.push_str(&format!(" ({} was removed)", p.path.display()));
            }
            (line, "no")
        }
        sent => {
            let (how, sent) = if sent == Sending::Sent {
                (
                    "interrupted after the transaction was sent: it may still land",
                    "yes",
                )
            } else {
                (
                    "interrupted while the transaction was being sent: it may have reached the \
                     node and may still land",
                    "maybe",
                )
            };
            let next = match pending {
                Some(p) => format!(
                    "{} is kept; run `{}` to find out and finish it",
                    p.path.display(),
                    p.resume
                ),
                None => "check what it changed before sending it again".to_string(),
            };
            (format!("{how}; {next}"), sent)
        }
    }
}
