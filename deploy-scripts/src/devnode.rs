//! A throwaway `substrate-contracts-node` for development and tests: started on free
//! loopback ports with its chain in a temporary folder, which outlives restarts of the node;
//! stopped (and the folder removed) when dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use medledger_client::Chain;
use tokio::process::{Child, Command};

/// The node binary's name, and the environment variable that can point at it (the same one
/// `ink_e2e` reads).
pub const NODE_BINARY: &str = "substrate-contracts-node";
pub const NODE_ENV: &str = "CONTRACTS_NODE";

/// How long a fresh node may take to answer.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// The dev node could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    #[error(
        "{NODE_BINARY} was not found (looked at ${NODE_ENV}, PATH and ~/.cargo/bin); install it with `cargo xtask setup`"
    )]
    NotFound,
    #[error("cannot start {binary}: {reason}")]
    Spawn { binary: PathBuf, reason: String },
    #[error("the node exited while starting ({status}): {log_tail}")]
    Exited { status: String, log_tail: String },
    #[error("the node did not answer on {url} within {seconds} s: {log_tail}")]
    Timeout {
        url: String,
        seconds: u64,
        log_tail: String,
    },
}

/// A running dev node. Dropping it kills the process.
pub struct DevNode {
    child: Child,
    binary: PathBuf,
    rpc_port: u16,
    url: String,
    log: PathBuf,
    dir: tempfile::TempDir,
}

/// Finds the node binary: `$CONTRACTS_NODE`, then `PATH`, then `~/.cargo/bin`.
pub fn find_node_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(NODE_ENV).map(PathBuf::from) {
        return p.is_file().then_some(p);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(NODE_BINARY))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))?;
        let p = home.join("bin").join(NODE_BINARY);
        p.is_file().then_some(p)
    })
}

/// A free TCP port on 127.0.0.1 (free when asked; the node binds it right after).
pub fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Spawns the node with its chain in `base`/chain and its output appended to `log`.
fn spawn(binary: &Path, base: &Path, log: &Path, rpc_port: u16) -> Result<Child, NodeError> {
    let spawn_err = |reason: String| NodeError::Spawn {
        binary: binary.to_path_buf(),
        reason,
    };
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| spawn_err(e.to_string()))?;
    let log_err = log_file.try_clone().map_err(|e| spawn_err(e.to_string()))?;
    Command::new(binary)
        .args(["--dev", "--finalize-delay-sec", "1"])
        // Keep the state of every finalized block, so that an indexer can backfill from the
        // deployment on however long the chain grew (a node keeps 256 blocks by default).
        .args(["--state-pruning", "archive-canonical"])
        .args(["--rpc-port", &rpc_port.to_string()])
        .args(["--listen-addr", "/ip4/127.0.0.1/tcp/0"])
        .args(["--no-prometheus", "--no-mdns", "--no-telemetry"])
        .arg("--base-path")
        .arg(base.join("chain"))
        .stdin(Stdio::null())
        .stdout(Stdio::from(log_file))
        .stderr(Stdio::from(log_err))
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| spawn_err(e.to_string()))
}

impl DevNode {
    /// Starts a dev node (`--dev`, instant seal, finalized a second after each block) on free
    /// loopback ports, its chain in a temporary folder, and waits until its RPC answers.
    ///
    /// # Errors
    /// [`NodeError`] when the binary is missing or the node does not come up.
    pub async fn start() -> Result<Self, NodeError> {
        let port = free_port().map_err(|e| NodeError::Spawn {
            binary: PathBuf::from(NODE_BINARY),
            reason: format!("no free port: {e}"),
        })?;
        Self::start_on(port).await
    }

    /// Like [`DevNode::start`], with the RPC on `rpc_port`: e.g. a fresh chain where another
    /// node answered before.
    ///
    /// # Errors
    /// [`NodeError`] when the binary is missing or the node does not come up.
    pub async fn start_on(rpc_port: u16) -> Result<Self, NodeError> {
        let binary = find_node_binary().ok_or(NodeError::NotFound)?;
        let dir = tempfile::tempdir().map_err(|e| NodeError::Spawn {
            binary: binary.clone(),
            reason: format!("no temp dir: {e}"),
        })?;
        let log = dir.path().join("node.log");
        let child = spawn(&binary, dir.path(), &log, rpc_port)?;
        let mut node = DevNode {
            child,
            binary,
            rpc_port,
            url: format!("ws://127.0.0.1:{rpc_port}"),
            log,
            dir,
        };
        node.wait_until_ready().await?;
        Ok(node)
    }

    /// Stops the node, then starts it again on the same port and the same chain database
    /// (the base path persists across restarts), and waits until it answers.
    ///
    /// # Errors
    /// [`NodeError`] when it does not come up again.
    pub async fn restart(&mut self) -> Result<(), NodeError> {
        self.kill().await;
        self.start_again().await
    }

    /// Kills the node (like a crash or a power cut) and leaves it stopped until
    /// [`DevNode::start_again`].
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Starts a node killed with [`DevNode::kill`] again, on its chain database.
    ///
    /// # Errors
    /// [`NodeError`] when it does not come up again.
    pub async fn start_again(&mut self) -> Result<(), NodeError> {
        let base = self.dir.path().to_path_buf();
        self.child = spawn(&self.binary, &base, &self.log, self.rpc_port)?;
        self.wait_until_ready().await
    }

    async fn wait_until_ready(&mut self) -> Result<(), NodeError> {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(NodeError::Exited {
                    status: status.to_string(),
                    log_tail: self.log_tail(),
                });
            }
            if Chain::connect(&self.url).await.is_ok() {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(NodeError::Timeout {
                    url: self.url.clone(),
                    seconds: START_TIMEOUT.as_secs(),
                    log_tail: self.log_tail(),
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The last non-empty line of the node's log (the folder is gone once an error returns).
    fn log_tail(&self) -> String {
        std::fs::read_to_string(&self.log)
            .ok()
            .and_then(|text| {
                text.lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "the node wrote no log".into())
    }

    /// The node's WebSocket RPC URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The node's log file (gone once the node is dropped).
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Stops the node and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
