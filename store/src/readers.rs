//! The connections the API's reads go through.
//!
//! sqlx's own pool pings a connection when it is acquired and again when it is released: two
//! round trips around every read (to SQLite's worker thread, or to PostgreSQL), which cost
//! more than an `authorization` read itself. The reads therefore use a deadpool pool that
//! checks a connection only when it was last handed out over a second ago or after some read
//! failed as if its connection broke; writes, migrations and the indexer keep sqlx's pool.
//! (sqlx's release ping also guards against a read dropped midway; its drivers recover from
//! that themselves: PostgreSQL's drains the unfinished answer before the next query, SQLite's
//! worker resets the statement. A BEGIN dropped midway is the exception, so the reads that
//! need one run as tasks of their own: [`Readers::in_snapshot`].)

use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, PoolError, RecycleResult, Timeouts};
use sqlx::any::AnyConnectOptions;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions, Connection, Executor};

use crate::error::StoreError;
use crate::sql::Backend;

/// Connections kept for reads: a couple per core keeps both cores busy without a queue of
/// threads (each SQLite connection is a thread) contending for them.
const READERS: usize = 4;

/// A connection last handed out this long ago is pinged before a read gets it, so that a
/// database restarted while the API was quiet costs no request an error. Under load connections are
/// reused within milliseconds and never pinged.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// How long a read waits for a free connection, or for a new one, before it fails.
const WAIT: Duration = Duration::from_secs(5);

/// Reads that failed in a way that says their connection may be broken (the database
/// restarted, a socket closed), across the process: each connection is checked once after
/// the count moves.
static BROKEN: AtomicU64 = AtomicU64::new(0);

/// Counts a failed read that may have broken its connection.
pub(crate) fn note_failure(error: &StoreError) {
    if error.is_transient() {
        BROKEN.fetch_add(1, Ordering::Relaxed);
    }
}

/// A read connection, and the failure count when it was last known to work.
pub(crate) struct ReadConnection {
    conn: AnyConnection,
    checked_at: u64,
}

/// Opens read connections like the store's own, read-only on SQLite.
pub(crate) struct Opener {
    options: AnyConnectOptions,
    backend: Backend,
}

impl managed::Manager for Opener {
    type Type = ReadConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<ReadConnection, sqlx::Error> {
        let mut conn = self.options.connect().await?;
        if self.backend == Backend::Sqlite {
            conn.execute("PRAGMA busy_timeout = 5000; PRAGMA query_only = ON;")
                .await?;
        }
        Ok(ReadConnection {
            conn,
            checked_at: BROKEN.load(Ordering::Relaxed),
        })
    }

    async fn recycle(
        &self,
        c: &mut ReadConnection,
        metrics: &Metrics,
    ) -> RecycleResult<sqlx::Error> {
        let failures = BROKEN.load(Ordering::Relaxed);
        if failures != c.checked_at || metrics.last_used() > IDLE_CHECK {
            c.conn.ping().await?;
            c.checked_at = failures;
        }
        Ok(())
    }
}

/// Where reads get their connection.
#[derive(Clone)]
pub(crate) enum Readers {
    /// Their own pool.
    Own(managed::Pool<Opener>),
    /// The store's pool: an in-memory SQLite database lives in its one connection.
    Shared(AnyPool),
}

impl Readers {
    pub(crate) fn new(
        options: AnyConnectOptions,
        backend: Backend,
        shared: &AnyPool,
        in_memory: bool,
    ) -> Result<Readers, managed::BuildError> {
        if in_memory {
            return Ok(Readers::Shared(shared.clone()));
        }
        managed::Pool::builder(Opener { options, backend })
            .max_size(READERS)
            .timeouts(Timeouts {
                wait: Some(WAIT),
                create: Some(WAIT),
                recycle: Some(WAIT),
            })
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map(Readers::Own)
    }

    /// A connection to read on.
    pub(crate) async fn get(&self) -> Result<Reader, StoreError> {
        let connect = StoreError::read("connect for a read");
        match self {
            Readers::Own(pool) => pool.get().await.map(Reader::Own).map_err(|e| {
                connect(match e {
                    PoolError::Backend(e) => e,
                    PoolError::Timeout(_) => sqlx::Error::PoolTimedOut,
                    _ => sqlx::Error::PoolClosed,
                })
            }),
            Readers::Shared(pool) => pool.acquire().await.map(Reader::Shared).map_err(connect),
        }
    }
}

/// A connection lent to one read.
pub(crate) enum Reader {
    Own(Object<Opener>),
    Shared(PoolConnection<Any>),
}

impl Deref for Reader {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        match self {
            Reader::Own(c) => &c.conn,
            Reader::Shared(c) => c,
        }
    }
}

impl DerefMut for Reader {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Reader::Own(c) => &mut c.conn,
            Reader::Shared(c) => c,
        }
    }
}

/// A read of several statements, on the connection it is given.
pub(crate) type Read<'c, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'c>>;

impl Readers {
    /// The database the reads go to: an in-memory one is always SQLite.
    fn backend(&self) -> Backend {
        match self {
            Readers::Own(pool) => pool.manager().backend,
            Readers::Shared(_) => Backend::Sqlite,
        }
    }

    /// Runs `read` on a connection of its own, in one snapshot of the database (BEGIN on
    /// SQLite, REPEATABLE READ READ ONLY on PostgreSQL), so that a commit landing between its
    /// statements cannot make a list's total disagree with its rows, or show a record without
    /// its newest version.
    ///
    /// It runs as a task of its own, which the caller cannot cancel: a request dropped after
    /// the database began the snapshot but before the driver read its answer (a client gone;
    /// `wrk` drops its requests at the end of every run) would leave no transaction to end,
    /// and the connection would serve every later read from that old snapshot.
    pub(crate) async fn in_snapshot<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> Read<'c, T> + Send + 'static,
    {
        let begin = match self.backend() {
            // Deferred: SQLite takes the snapshot at the first read and keeps it to the end.
            Backend::Sqlite => "BEGIN",
            Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
        };
        let mut conn = self.get().await?;
        let task = tokio::spawn(async move {
            let mut snapshot = conn
                .begin_with(begin)
                .await
                .map_err(StoreError::read("begin a read"))?;
            let out = read(&mut snapshot).await?;
            snapshot
                .commit()
                .await
                .map_err(StoreError::read("end a read"))?;
            Ok(out)
        });
        match task.await {
            Ok(out) => out,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Only a runtime shutting down cancels a task.
            Err(_) => Err(StoreError::read("finish a read")(sqlx::Error::Io(
                std::io::Error::new(
                    std::io::ErrorKind::Interrupted,
                    "the read was cancelled: the process is shutting down",
                ),
            ))),
        }
    }
}
