//! What the CLI's test files share: `medledger dev` started on a free port and stopped
//! again.

#![allow(dead_code)] // each test file uses its part

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_medledger");

/// A child process, stopped when dropped: Ctrl-C (SIGINT) first, so that `medledger dev`
/// stops its node too, then killed if it has not stopped within 10 s.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `medledger dev` running in `dir` (which gets its deployment file and database).
pub struct Dev {
    pub process: Running,
    /// `http://127.0.0.1:<port>/graphql`
    pub graphql: String,
    /// What it prints on stdout from then on, line by line.
    pub lines: std::sync::mpsc::Receiver<String>,
}

/// Starts `medledger dev` in `dir`, its API on a port the system picks, and waits until it
/// says where the API is (the chain is up, the contracts deployed, the organizations
/// registered). Its logs go to the test's stderr at `warn` (all of them with `TEST_LOG`).
pub fn spawn_dev(dir: &Path) -> Dev {
    let contracts = concat!(env!("CARGO_MANIFEST_DIR"), "/../artifacts/contracts");
    let level = if std::env::var_os("TEST_LOG").is_some() {
        "info"
    } else {
        "warn"
    };
    let mut child = Command::new(BIN)
        .args(["dev", "--contracts", contracts, "--listen", "127.0.0.1:0"])
        .current_dir(dir)
        .env("RUST_LOG", level)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start medledger dev");
    let stdout = child.stdout.take().expect("stdout");
    let process = Running(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let started = Instant::now();
    let graphql = loop {
        match rx.recv_timeout(Duration::from_secs(180)) {
            Ok(line) => {
                if let Some(url) = line.strip_prefix("GraphQL API: ") {
                    break url.to_string();
                }
            }
            Err(e) => panic!(
                "medledger dev printed no GraphQL URL ({e}) after {:?} (build the contracts \
                 with `cargo xtask contracts`; the node comes with `cargo xtask setup`)",
                started.elapsed()
            ),
        }
    };
    Dev {
        process,
        graphql,
        lines: rx,
    }
}

/// Posts `query` to the GraphQL API at `url` (with curl, as an app would from outside) and
/// returns the answer, or null when it is no JSON.
pub fn graphql(url: &str, query: &str) -> serde_json::Value {
    let body = serde_json::json!({ "query": query }).to_string();
    let out = Command::new("curl")
        .args([
            "-sS",
            "-H",
            "content-type: application/json",
            "--data",
            &body,
            url,
        ])
        .output()
        .expect("run curl");
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}
