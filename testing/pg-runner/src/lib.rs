//! A throwaway PostgreSQL cluster for tests and benchmarks.
//!
//! [`Postgres::start`] runs Debian's `initdb` and `pg_ctl` (as the `postgres` user when the
//! caller is root, since PostgreSQL refuses to run as root) into a temporary folder, listening
//! on 127.0.0.1 only, on a free port, with trust authentication for local connections. Dropping
//! the value stops the server and deletes the folder. [`Postgres::stop`] and
//! [`Postgres::restart`] let a test take the database away for a while.
//!
//! This crate only runs a server for tests; it knows nothing about medledger's schema and is
//! never used to run a production database.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// What to run when PostgreSQL is missing.
pub const SETUP_HINT: &str = "install it with `cargo xtask setup` (Debian package postgresql)";

/// Starting or stopping the cluster failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// No PostgreSQL server binaries were found.
    #[error(
        "PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin): {SETUP_HINT}"
    )]
    NotInstalled,
    /// A command could not be started at all.
    #[error("cannot run {program}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    /// A command ran and failed.
    #[error("{what} failed: {output}")]
    Failed { what: String, output: String },
    /// The temporary folder could not be prepared.
    #[error("cannot prepare the cluster's folder")]
    Folder(#[source] std::io::Error),
}

/// Whether the server keeps its data safe across a power cut (`fsync`), or trades that for
/// speed (tests: the server is never killed, only the clients are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// PostgreSQL's defaults: every commit is flushed to disk.
    Durable,
    /// `fsync=off`, `synchronous_commit=off`, `full_page_writes=off`.
    Fast,
}

/// A running throwaway cluster. Dropping it stops the server and removes its files.
#[derive(Debug)]
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    durability: Durability,
    /// Whether commands run as the `postgres` user (PostgreSQL refuses to run as root).
    as_postgres: bool,
}

static NEXT_DB: AtomicU32 = AtomicU32::new(0);

fn bin_dir() -> Result<PathBuf, PgError> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| PgError::NotInstalled)?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).ok_or(PgError::NotInstalled)
}

fn is_root() -> bool {
    // `id -u` spares a libc dependency for one number; asked once per cluster.
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> Result<u16, PgError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(PgError::Folder)?;
    let port = listener.local_addr().map_err(PgError::Folder)?.port();
    Ok(port)
}

fn check(what: &str, output: std::io::Result<Output>, program: &Path) -> Result<Output, PgError> {
    let output = output.map_err(|source| PgError::Spawn {
        program: program.display().to_string(),
        source,
    })?;
    if output.status.success() {
        Ok(output)
    } else {
        let mut text = String::from_utf8_lossy(&output.stderr).trim().to_string();
        if text.is_empty() {
            text = String::from_utf8_lossy(&output.stdout).trim().to_string();
        }
        Err(PgError::Failed {
            what: what.to_string(),
            output: text,
        })
    }
}

impl Postgres {
    /// Creates and starts a fresh cluster with [`Durability::Fast`].
    ///
    /// # Errors
    /// [`PgError::NotInstalled`] when PostgreSQL is missing; other variants when `initdb` or
    /// the server fail, with their output.
    pub fn start() -> Result<Self, PgError> {
        Self::start_with(Durability::Fast)
    }

    /// Creates and starts a fresh cluster.
    ///
    /// # Errors
    /// As [`Postgres::start`].
    pub fn start_with(durability: Durability) -> Result<Self, PgError> {
        let bin = bin_dir()?;
        let dir = tempfile::Builder::new()
            .prefix("medledger-pg-")
            .tempdir()
            .map_err(PgError::Folder)?;
        let mut pg = Postgres {
            dir,
            bin,
            port: 0,
            durability,
            as_postgres: is_root(),
        };
        if pg.as_postgres {
            let chown = Command::new("chown")
                .arg("-R")
                .arg("postgres:postgres")
                .arg(pg.dir.path())
                .output();
            check(
                "giving the cluster folder to the postgres user",
                chown,
                Path::new("chown"),
            )?;
        }
        let initdb = pg.bin.join("initdb");
        let out = pg
            .command(&initdb)
            .arg("--pgdata")
            .arg(pg.data())
            .args(["--username=postgres", "--auth=trust", "--encoding=UTF8"])
            .args(["--locale=C", "--no-sync", "--no-instructions"])
            .output();
        check("initdb", out, &initdb)?;
        // Another process may take the free port between our probe and the server's bind:
        // try a few ports.
        let mut last = None;
        for _ in 0..5 {
            pg.port = free_port()?;
            match pg.start_server() {
                Ok(()) => return Ok(pg),
                Err(e) => {
                    // A start that timed out may still leave a server behind.
                    pg.stop_immediately();
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or(PgError::NotInstalled))
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &Path) -> Command {
        if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(program);
            cmd
        } else {
            Command::new(program)
        }
    }

    fn start_server(&mut self) -> Result<(), PgError> {
        let mut options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories='{}' \
             -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        if self.durability == Durability::Fast {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        let pg_ctl = self.bin.join("pg_ctl");
        let out = self
            .command(&pg_ctl)
            .arg("start")
            .arg("--wait")
            .arg("--pgdata")
            .arg(self.data())
            .arg("--log")
            .arg(self.dir.path().join("server.log"))
            .arg("-o")
            .arg(options)
            .output();
        match check("starting PostgreSQL", out, &pg_ctl) {
            Ok(_) => Ok(()),
            Err(PgError::Failed { what, output }) => {
                let log =
                    std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                Err(PgError::Failed {
                    what,
                    output: format!("{output}; server log: {}", tail.join(" | ")),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `name` as user `postgres`.
    pub fn url_of(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates a new, empty database and returns its URL. Each call gives another database,
    /// so tests sharing one cluster never see each other's rows.
    ///
    /// # Errors
    /// [`PgError::Failed`] when `createdb` fails (e.g. the server is stopped).
    pub fn fresh_database(&self) -> Result<String, PgError> {
        let name = format!("medledger_{}", NEXT_DB.fetch_add(1, Ordering::Relaxed));
        let createdb = self.bin.join("createdb");
        let out = Command::new(&createdb)
            .args(["--host=127.0.0.1", "--username=postgres"])
            .arg(format!("--port={}", self.port))
            .arg(&name)
            .output();
        check("createdb", out, &createdb)?;
        Ok(self.url_of(&name))
    }

    /// Stops the server (fast shutdown: clients are disconnected), keeping its data.
    ///
    /// # Errors
    /// [`PgError::Failed`] when `pg_ctl stop` fails.
    pub fn stop(&mut self) -> Result<(), PgError> {
        let pg_ctl = self.bin.join("pg_ctl");
        let out = self
            .command(&pg_ctl)
            .args(["stop", "--wait", "--mode=fast", "--pgdata"])
            .arg(self.data())
            .output();
        check("stopping PostgreSQL", out, &pg_ctl)?;
        Ok(())
    }

    /// Starts the server again on the same port after [`Postgres::stop`].
    ///
    /// # Errors
    /// As [`Postgres::start`].
    pub fn restart(&mut self) -> Result<(), PgError> {
        self.start_server()
    }
}

impl Postgres {
    fn stop_immediately(&mut self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let _ = self
            .command(&pg_ctl)
            .args(["stop", "--wait", "--mode=immediate", "--pgdata"])
            .arg(self.data())
            .output();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Always try: a start that timed out may have left a server running. (A test process
        // killed outright cannot run this; the server then stays until the machine restarts,
        // listening on loopback only.)
        self.stop_immediately();
    }
}
