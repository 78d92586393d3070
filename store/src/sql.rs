//! The one SQL store, on SQLite or PostgreSQL through sqlx's `Any` driver.
//!
//! Every statement is written once, with `$N` placeholders that both databases accept, and
//! only portable SQL (`ON CONFLICT`, `CASE`, no `MAX(a, b)`). Each backend has its own
//! migrations (`migrations/sqlite`, `migrations/postgres`) that build the same tables.
//! `apply_prepared` is the committer: it owns the transaction, sends what the projections
//! (one small module per table, in `projections/`) recorded for each block, and writes the
//! cursor in the same transaction, so a crash never leaves part of a block behind.

use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::broadcast;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyConnection, AnyPool, Column, Executor, Row};

use crate::Store;
use crate::activity::{self, EventKey, StoredEvent};
use crate::error::{StoreError, redact};
use crate::history::{self, ConsentChange, EmergencyWindow, PatientHistory, Upto};
use crate::lists::{
    self, AccessRow, BatchRow, ClaimRow, DelegationRow, DuplicateUseRow, EmergencyBlockRow, Kind,
    List, Page, RecordRow,
};
use crate::prepare::PreparedBlock;
use crate::readers::Readers;
use crate::types::{
    AccountId, ConsentRow, ContractRow, Cursor, Hash32, IndexerStatus, Mirror, OrganizationRow,
    RecordVersionRow,
};
use crate::writer::{Value, Writer};

/// How often a SQLite migration is tried when another process migrates the same file.
const MIGRATE_ATTEMPTS: u32 = 5;

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a [`SqlStore`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The read model in SQLite or PostgreSQL.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    /// The connections the API's reads use.
    readers: Readers,
    backend: Backend,
    /// Commits of this process and, on PostgreSQL, of every process on the database.
    commits: broadcast::Sender<u64>,
    /// PostgreSQL's URL, for the connection that listens for other processes' commits.
    listen_url: Option<Arc<str>>,
    listening: Arc<OnceLock<()>>,
}

/// The key of the log tables: the event's place in the chain.
const EVENT_KEY: &[(&str, Kind)] = &[("block_number", Kind::Int), ("event_index", Kind::Int)];

/// The PostgreSQL channel each commit is announced on, with its last block as the payload.
const COMMITS_CHANNEL: &str = "medledger_commits";

pub(crate) fn int(v: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} {v} does not fit in SQL")))
}

pub(crate) fn uint<T: TryFrom<i64>>(v: i64, what: &str) -> Result<T, StoreError> {
    T::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} {v} is out of range")))
}

pub(crate) fn parsed<T: FromStr>(s: String, what: &str) -> Result<T, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what} {s:?} does not parse")))
}

/// Column `name` parsed from its text (accounts, hashes).
pub(crate) fn text<T: FromStr>(row: &AnyRow, name: &str) -> Result<T, StoreError> {
    parsed(col(row, name)?, name)
}

/// Column `name` as an unsigned number of the row type.
pub(crate) fn num<T: TryFrom<i64>>(row: &AnyRow, name: &str) -> Result<T, StoreError> {
    uint(col(row, name)?, name)
}

/// Nullable column `name` as an unsigned number.
pub(crate) fn num_or_null<T: TryFrom<i64>>(
    row: &AnyRow,
    name: &str,
) -> Result<Option<T>, StoreError> {
    col::<Option<i64>>(row, name)?
        .map(|v| uint(v, name))
        .transpose()
}

pub(crate) fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(name)
        .map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
}

/// Every table, in the order a dump lists them, with the columns it is ordered by.
const TABLES: &[(&str, &str)] = &[
    ("mirror", "id"),
    ("contracts", "address"),
    ("cursor", "id"),
    ("blocks", "number"),
    ("events", "block_number, event_index"),
    ("undecoded_events", "block_number, event_index"),
    ("organizations", "account"),
    ("organization_history", "block_number, event_index"),
    ("registrar_history", "block_number, event_index"),
    ("policy_history", "block_number, event_index"),
    ("upgrades", "block_number, event_index"),
    ("consents", "patient, grantee"),
    ("consent_history", "block_number, event_index"),
    ("delegations", "patient, delegate"),
    ("delegation_history", "block_number, event_index"),
    ("emergency_windows", "opened_block, opened_index"),
    ("emergency_blocks", "patient, provider"),
    ("records", "custodian, record_id"),
    ("record_versions", "custodian, commitment"),
    ("batches", "org, root"),
    ("claims", "insurer, claim_ref"),
    ("claim_documents", "insurer, claim_ref, position"),
    ("duplicate_claim_uses", "block_number, event_index"),
    ("access_log", "block_number, event_index"),
];

impl SqlStore {
    /// Opens and migrates the database at `url`: `sqlite:<path>` (created if missing),
    /// `sqlite::memory:`, a plain path (SQLite), or `postgres://…` / `postgresql://…` (the
    /// database must exist).
    ///
    /// # Errors
    /// [`StoreError::UnsupportedUrl`] for other schemes, [`StoreError::Open`] when the
    /// database cannot be reached, [`StoreError::Migrate`] when its schema cannot be brought
    /// up to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, full) = if url.starts_with("postgres://") || url.starts_with("postgresql://")
        {
            (Backend::Postgres, url.to_string())
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            (Backend::Sqlite, sqlite_url(rest))
        } else if url.contains("://") {
            return Err(StoreError::UnsupportedUrl {
                url: redact(url),
                reason: "use sqlite:<path> or postgres://user@host/database".into(),
            });
        } else {
            (Backend::Sqlite, sqlite_url(url))
        };
        let open_err = |source| StoreError::Open {
            url: redact(url),
            source,
        };
        let options = AnyConnectOptions::from_str(&full).map_err(open_err)?;
        let in_memory = full.contains(":memory:");
        let pool = AnyPoolOptions::new()
            // An in-memory SQLite database lives in one connection.
            .max_connections(if in_memory { 1 } else { 4 })
            // A database that is down is reported (and retried by the caller) after 5 s,
            // not sqlx's default 30.
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL with synchronous = NORMAL: a commit does not wait for the disk.
                        // A killed process loses nothing committed; a power cut may lose the
                        // last commits, rows and cursor together, and the indexer reads
                        // those blocks again.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options.clone())
            .await
            .map_err(open_err)?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE,
            Backend::Postgres => &POSTGRES,
        };
        // PostgreSQL serializes migrators with an advisory lock; SQLite has no such lock, so
        // two processes opening a fresh file at once (`index` and `serve` started together)
        // race, and the loser fails on a table the winner just created. It tries again and
        // then finds the winner's migrations applied.
        let mut attempt = 1;
        loop {
            match migrator.run(&pool).await {
                Ok(()) => break,
                Err(_) if backend == Backend::Sqlite && attempt < MIGRATE_ATTEMPTS => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(source) => {
                    return Err(StoreError::Migrate {
                        url: redact(url),
                        source,
                    });
                }
            }
        }
        Ok(SqlStore {
            readers: Readers::new(options, backend, &pool, in_memory)
                .map_err(|e| open_err(sqlx::Error::Configuration(e.into())))?,
            pool,
            backend,
            commits: broadcast::channel(64).0,
            listen_url: (backend == Backend::Postgres).then(|| Arc::from(full.as_str())),
            listening: Arc::new(OnceLock::new()),
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// On PostgreSQL, makes the writers of one database take turns (a transaction-scoped
    /// advisory lock), so that a second indexer started by mistake reads the cursor only
    /// after the first committed and skips what it wrote. SQLite allows one writer at a time
    /// anyway; the loser gets SQLITE_BUSY, which is transient.
    async fn writer_turn(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT 1 AS turn FROM (SELECT pg_advisory_xact_lock(7316001)) AS l")
                .execute(&mut *conn)
                .await
                .map_err(StoreError::db("wait for the writer's turn"))?;
        }
        Ok(())
    }

    async fn cursor_in(conn: &mut AnyConnection) -> Result<Option<Cursor>, StoreError> {
        let row = sqlx::query("SELECT block_number, block_hash FROM cursor WHERE id = 1")
            .fetch_optional(&mut *conn)
            .await
            .map_err(StoreError::db("read the cursor"))?;
        row.map(|r| cursor_of(&r)).transpose()
    }

    /// Refreshes the query planner's statistics of every table (`ANALYZE`). PostgreSQL's
    /// autovacuum does so by itself a while after a bulk load; until then it may plan reads
    /// of a big table as if it were as small as it was.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the database refuses.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        sqlx::query("ANALYZE")
            .execute(&self.pool)
            .await
            .map_err(StoreError::db("refresh the planner's statistics"))?;
        Ok(())
    }

    /// Every table's rows as text, in a fixed order: what a test compares to tell two
    /// databases apart (a crash-and-resume run against an uninterrupted one, SQLite against
    /// PostgreSQL). `cursor.finalized_head` is left out: it depends on when the head was read.
    ///
    /// # Errors
    /// [`StoreError::Database`] when a table cannot be read.
    pub async fn dump(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        let mut out = Vec::new();
        for (table, order) in TABLES {
            let rows = sqlx::query(&format!("SELECT * FROM {table} ORDER BY {order}"))
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::db("dump a table"))?;
            let mut lines = Vec::with_capacity(rows.len());
            for row in &rows {
                let mut fields = Vec::new();
                for column in row.columns() {
                    let name = column.name();
                    if *table == "cursor" && name == "finalized_head" {
                        continue;
                    }
                    let i = column.ordinal();
                    let value = if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                        v.map_or("NULL".to_string(), |v| v.to_string())
                    } else {
                        row.try_get::<Option<String>, _>(i)
                            .map_err(|e| StoreError::Corrupt(format!("{table}.{name}: {e}")))?
                            .unwrap_or_else(|| "NULL".to_string())
                    };
                    fields.push(format!("{name}={value}"));
                }
                lines.push(fields.join(" "));
            }
            out.push((table.to_string(), lines));
        }
        Ok(out)
    }
}

/// Forwards PostgreSQL's commit announcements (of every process on the database) to
/// `commits`, reconnecting after a failure. Announcements made while disconnected are lost;
/// a listener reads by block range, so the next one covers them.
async fn listen(url: Arc<str>, commits: broadcast::Sender<u64>) {
    let mut listener = None;
    loop {
        if listener.is_none() {
            match sqlx::postgres::PgListener::connect(&url).await {
                Ok(mut l) => match l.listen(COMMITS_CHANNEL).await {
                    Ok(()) => listener = Some(l),
                    Err(e) => tracing::warn!(error = %e, "cannot listen for commits; retrying"),
                },
                Err(e) => tracing::warn!(error = %e, "cannot listen for commits; retrying"),
            }
        }
        let Some(l) = listener.as_mut() else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        match l.recv().await {
            Ok(note) => {
                if let Ok(block) = note.payload().parse() {
                    let _ = commits.send(block);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "lost the commit announcements; reconnecting");
                listener = None;
            }
        }
    }
}

/// SQLite has no notifications between processes: announces the commits of other processes
/// on the file (an indexer beside a separate `serve`) by reading the cursor twice a second.
/// This process's own commits are announced at once by `apply_prepared`.
async fn poll(pool: AnyPool, commits: broadcast::Sender<u64>) {
    let mut last = None;
    loop {
        let cursor = sqlx::query("SELECT block_number FROM cursor WHERE id = 1")
            .fetch_optional(&pool)
            .await
            .map(|row| row.and_then(|r| r.try_get::<i64, _>("block_number").ok()));
        match cursor {
            Ok(Some(block)) if last.is_some_and(|l| block > l) => {
                if let Ok(number) = u64::try_from(block) {
                    let _ = commits.send(number);
                }
                last = Some(block);
            }
            Ok(block) => last = last.or(block).or(Some(-1)),
            Err(e) => tracing::warn!(error = %e, "cannot read the cursor for commit announcements"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn sqlite_url(path: &str) -> String {
    if path.contains(":memory:") || path.contains("mode=") {
        format!("sqlite:{path}")
    } else if path.contains('?') {
        format!("sqlite:{path}&mode=rwc")
    } else {
        format!("sqlite:{path}?mode=rwc")
    }
}

fn cursor_of(row: &AnyRow) -> Result<Cursor, StoreError> {
    Ok(Cursor {
        number: uint(col(row, "block_number")?, "cursor block")?,
        hash: parsed(col(row, "block_hash")?, "cursor hash")?,
    })
}

fn consent_of(row: &AnyRow) -> Result<ConsentRow, StoreError> {
    Ok(ConsentRow {
        patient: text(row, "patient")?,
        grantee: text(row, "grantee")?,
        categories: num(row, "categories")?,
        purposes: num(row, "purposes")?,
        access: num(row, "access")?,
        valid_from: num(row, "valid_from")?,
        expires_at: num_or_null(row, "expires_at")?,
        terms_hash: text(row, "terms_hash")?,
        version: num(row, "version")?,
        revoked: col::<i64>(row, "revoked")? != 0,
        updated_by: text(row, "updated_by")?,
        updated_block: num(row, "updated_block")?,
        updated_at: num(row, "updated_at")?,
    })
}

fn record_version_of(row: &AnyRow) -> Result<RecordVersionRow, StoreError> {
    let superseded_by: Option<String> = col(row, "superseded_by")?;
    Ok(RecordVersionRow {
        commitment: text(row, "commitment")?,
        record_id: text(row, "record_id")?,
        version: num(row, "version")?,
        patient: text(row, "patient")?,
        custodian: text(row, "custodian")?,
        category_commitment: text(row, "category_commitment")?,
        block_number: num(row, "block_number")?,
        anchored_at: num(row, "anchored_at")?,
        superseded_by: superseded_by
            .map(|s| parsed(s, "superseded_by"))
            .transpose()?,
    })
}

#[async_trait::async_trait]
impl Store for SqlStore {
    async fn cursor(&self) -> Result<Option<Cursor>, StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(StoreError::db("connect"))?;
        Self::cursor_in(&mut conn).await
    }

    async fn check_mirror(&self, mirror: &Mirror) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(StoreError::db("begin a transaction"))?;
        self.writer_turn(&mut tx).await?;
        let row = sqlx::query(
            "SELECT genesis_hash, consent_registry, record_registry FROM mirror WHERE id = 1",
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::db("read what the database mirrors"))?;
        if let Some(row) = row {
            let stored = [
                ("chain (genesis)", col::<String>(&row, "genesis_hash")?),
                ("ConsentRegistry", col::<String>(&row, "consent_registry")?),
                ("RecordRegistry", col::<String>(&row, "record_registry")?),
            ];
            let given = [
                mirror.genesis_hash.to_string(),
                mirror.consent_registry.to_string(),
                mirror.record_registry.to_string(),
            ];
            for ((what, stored), given) in stored.into_iter().zip(given) {
                if stored != given {
                    return Err(StoreError::OtherMirror {
                        what,
                        stored,
                        given,
                    });
                }
            }
            return Ok(());
        }
        let start = int(mirror.start_block, "start block")?;
        sqlx::query(
            "INSERT INTO mirror (id, genesis_hash, consent_registry, record_registry, start_block)
             VALUES (1, $1, $2, $3, $4)",
        )
        .bind(mirror.genesis_hash.to_string())
        .bind(mirror.consent_registry.to_string())
        .bind(mirror.record_registry.to_string())
        .bind(start)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::db("record what the database mirrors"))?;
        for (address, name, code_hash) in [
            (
                mirror.consent_registry,
                "ConsentRegistry",
                mirror.consent_code_hash,
            ),
            (
                mirror.record_registry,
                "RecordRegistry",
                mirror.record_code_hash,
            ),
        ] {
            sqlx::query(
                "INSERT INTO contracts (address, name, code_hash, updated_block)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (address) DO NOTHING",
            )
            .bind(address.to_string())
            .bind(name)
            .bind(code_hash.to_string())
            .bind(start)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::db("record the watched contracts"))?;
        }
        tx.commit()
            .await
            .map_err(StoreError::db("commit what the database mirrors"))
    }

    async fn apply_prepared(&self, blocks: Vec<PreparedBlock>) -> Result<usize, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(StoreError::db("begin a transaction"))?;
        self.writer_turn(&mut tx).await?;
        let mut after = Self::cursor_in(&mut tx).await?.map(|c| c.number);
        let mut last = None;
        let mut applied = 0;
        let mut w = Writer::new(&mut tx, self.backend);
        for block in blocks {
            if after.is_some_and(|n| n >= block.number) {
                continue;
            }
            after = Some(block.number);
            last = Some((block.number, block.hash, block.timestamp_ms));
            w.write(block.ops).await?;
            applied += 1;
        }
        w.finish().await?;
        let Some((last_number, last_hash, last_time)) = last else {
            return Ok(0);
        };
        let number = int(last_number, "block number")?;
        sqlx::query(
            "INSERT INTO cursor (id, block_number, block_hash, finalized_head, block_time)
             VALUES (1, $1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET block_number = excluded.block_number,
               block_hash = excluded.block_hash, block_time = excluded.block_time,
               finalized_head = CASE WHEN cursor.finalized_head > excluded.finalized_head
                                THEN cursor.finalized_head ELSE excluded.finalized_head END",
        )
        .bind(number)
        .bind(last_hash.to_string())
        .bind(number)
        .bind(int(last_time, "timestamp")?)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::db("advance the cursor"))?;
        if self.backend == Backend::Postgres {
            // Delivered to every listener when (and only if) the transaction commits.
            sqlx::query("SELECT 1 AS sent FROM (SELECT pg_notify($1, $2)) AS n")
                .bind(COMMITS_CHANNEL)
                .bind(number.to_string())
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db("announce the commit"))?;
        }
        tx.commit().await.map_err(StoreError::db("commit blocks"))?;
        // No one listening is fine.
        let _ = self.commits.send(last_number);
        Ok(applied)
    }

    async fn set_finalized_head(&self, number: u64) -> Result<(), StoreError> {
        sqlx::query("UPDATE cursor SET finalized_head = $1 WHERE id = 1 AND finalized_head < $1")
            .bind(int(number, "finalized head")?)
            .execute(&self.pool)
            .await
            .map_err(StoreError::db("record the finalized head"))?;
        Ok(())
    }

    async fn consents_of_patient(
        &self,
        patient: &AccountId,
    ) -> Result<Vec<ConsentRow>, StoreError> {
        let mut conn = self.readers.get().await?;
        let rows = sqlx::query(
            "SELECT * FROM consents WHERE patient = $1
             ORDER BY updated_block DESC, grantee",
        )
        .bind(patient.to_string())
        .fetch_all(&mut *conn)
        .await
        .map_err(StoreError::read("read consents"))?;
        rows.iter().map(consent_of).collect()
    }

    async fn record_versions(
        &self,
        commitment: &Hash32,
    ) -> Result<Vec<RecordVersionRow>, StoreError> {
        let mut conn = self.readers.get().await?;
        let rows = sqlx::query(
            "SELECT * FROM record_versions WHERE commitment = $1
             ORDER BY block_number, custodian",
        )
        .bind(commitment.to_string())
        .fetch_all(&mut *conn)
        .await
        .map_err(StoreError::read("read record versions"))?;
        rows.iter().map(record_version_of).collect()
    }

    async fn organization(
        &self,
        account: &AccountId,
    ) -> Result<Option<OrganizationRow>, StoreError> {
        let mut conn = self.readers.get().await?;
        let row = sqlx::query("SELECT * FROM organizations WHERE account = $1")
            .bind(account.to_string())
            .fetch_optional(&mut *conn)
            .await
            .map_err(StoreError::read("read an organization"))?;
        row.as_ref().map(lists::organization).transpose()
    }

    async fn contracts(&self) -> Result<Vec<ContractRow>, StoreError> {
        let mut conn = self.readers.get().await?;
        let rows = sqlx::query("SELECT * FROM contracts ORDER BY name")
            .fetch_all(&mut *conn)
            .await
            .map_err(StoreError::read("read the watched contracts"))?;
        rows.iter()
            .map(|r| {
                Ok(ContractRow {
                    address: text(r, "address")?,
                    name: col(r, "name")?,
                    code_hash: text(r, "code_hash")?,
                    storage_version: num_or_null(r, "storage_version")?,
                    updated_block: num(r, "updated_block")?,
                    pending_upgrade: match col::<Option<String>>(r, "pending_code_hash")? {
                        Some(code) => Some((
                            parsed(code, "pending_code_hash")?,
                            num(r, "pending_effective_at")?,
                        )),
                        None => None,
                    },
                })
            })
            .collect()
    }

    async fn history(
        &self,
        patient: &AccountId,
        grantee: Option<&AccountId>,
        upto: Upto,
    ) -> Result<PatientHistory, StoreError> {
        let mut conn = self.readers.get().await?;
        history::patient_history(&mut conn, patient, grantee, upto).await
    }

    async fn block_time(&self, number: u64) -> Result<Option<u64>, StoreError> {
        let mut conn = self.readers.get().await?;
        let number = int(number, "block number")?;
        let row = sqlx::query(
            "SELECT timestamp_ms AS t FROM blocks WHERE number = $1
             UNION SELECT block_time AS t FROM cursor WHERE id = 1 AND block_number = $1",
        )
        .bind(number)
        .fetch_optional(&mut *conn)
        .await
        .map_err(StoreError::read("read a block's time"))?;
        row.map(|r| num(&r, "t")).transpose()
    }

    async fn patient_events(
        &self,
        patient: &AccountId,
        after: Option<EventKey>,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut conn = self.readers.get().await?;
        activity::of_patient(&mut conn, patient, after, limit).await
    }

    async fn patient_event_count(&self, patient: &AccountId) -> Result<u64, StoreError> {
        let mut conn = self.readers.get().await?;
        activity::count_of_patient(&mut conn, patient).await
    }

    async fn patient_events_between(
        &self,
        after: u64,
        upto: u64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut conn = self.readers.get().await?;
        activity::between(&mut conn, after, upto).await
    }

    fn commits(&self) -> broadcast::Receiver<u64> {
        self.listening.get_or_init(|| match &self.listen_url {
            Some(url) => {
                tokio::spawn(listen(url.clone(), self.commits.clone()));
            }
            None => {
                tokio::spawn(poll(self.pool.clone(), self.commits.clone()));
            }
        });
        self.commits.subscribe()
    }

    async fn organizations(
        &self,
        role: Option<&str>,
        name_contains: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<OrganizationRow>, StoreError> {
        let list = List {
            table: "organizations",
            filters: vec![("role", role.map(Value::from))],
            contains: name_contains.map(|text| ("name", text)),
            key: &[("account", Kind::Text)],
            after,
            limit,
        };
        lists::page(&self.readers, list, lists::organization).await
    }

    async fn consent_changes(
        &self,
        patient: &AccountId,
        grantee: Option<&AccountId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<ConsentChange>, StoreError> {
        let list = List {
            table: "consent_history",
            filters: vec![
                ("patient", Some(patient.into())),
                ("grantee", grantee.map(Value::from)),
            ],
            contains: None,
            key: EVENT_KEY,
            after,
            limit,
        };
        lists::page(&self.readers, list, history::consent_history_row).await
    }

    async fn delegations(
        &self,
        patient: Option<&AccountId>,
        delegate: Option<&AccountId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<DelegationRow>, StoreError> {
        let list = List {
            table: "delegations",
            filters: vec![
                ("patient", patient.map(Value::from)),
                ("delegate", delegate.map(Value::from)),
            ],
            contains: None,
            key: &[("patient", Kind::Text), ("delegate", Kind::Text)],
            after,
            limit,
        };
        lists::page(&self.readers, list, lists::delegation).await
    }

    async fn emergency_windows(
        &self,
        patient: Option<&AccountId>,
        provider: Option<&AccountId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<EmergencyWindow>, StoreError> {
        let list = List {
            table: "emergency_windows",
            filters: vec![
                ("patient", patient.map(Value::from)),
                ("provider", provider.map(Value::from)),
            ],
            contains: None,
            key: &[("opened_block", Kind::Int), ("opened_index", Kind::Int)],
            after,
            limit,
        };
        lists::page(&self.readers, list, history::window).await
    }

    async fn emergency_blocks(
        &self,
        patient: Option<&AccountId>,
        blocked_only: bool,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<EmergencyBlockRow>, StoreError> {
        let list = List {
            table: "emergency_blocks",
            filters: vec![
                ("patient", patient.map(Value::from)),
                ("blocked", blocked_only.then_some(Value::from(1i64))),
            ],
            contains: None,
            key: &[("patient", Kind::Text), ("provider", Kind::Text)],
            after,
            limit,
        };
        lists::page(&self.readers, list, lists::emergency_block).await
    }

    async fn access_log(
        &self,
        patient: Option<&AccountId>,
        accessor: Option<&AccountId>,
        outcome: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<AccessRow>, StoreError> {
        let list = List {
            table: "access_log",
            filters: vec![
                ("patient", patient.map(Value::from)),
                ("accessor", accessor.map(Value::from)),
                ("outcome", outcome.map(Value::from)),
            ],
            contains: None,
            key: EVENT_KEY,
            after,
            limit,
        };
        lists::page(&self.readers, list, lists::access).await
    }

    async fn records(
        &self,
        patient: Option<&AccountId>,
        custodian: Option<&AccountId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<RecordRow>, StoreError> {
        let list = List {
            table: "records",
            filters: vec![
                ("patient", patient.map(Value::from)),
                ("custodian", custodian.map(Value::from)),
            ],
            contains: None,
            key: &[("custodian", Kind::Text), ("record_id", Kind::Text)],
            after,
            limit,
        };
        lists::page(&self.readers, list, lists::record).await
    }

    async fn record(
        &self,
        custodian: &AccountId,
        record_id: &Hash32,
    ) -> Result<Option<(RecordRow, Vec<RecordVersionRow>)>, StoreError> {
        let (custodian, record_id) = (custodian.to_string(), record_id.to_string());
        self.readers
            .in_snapshot(move |conn| {
                Box::pin(async move {
                    let row = sqlx::query(
                        "SELECT * FROM records WHERE custodian = $1 AND record_id = $2",
                    )
                    .bind(&custodian)
                    .bind(&record_id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(StoreError::read("read a record"))?;
                    let Some(row) = row else {
                        return Ok(None);
                    };
                    let versions = sqlx::query(
                        "SELECT * FROM record_versions WHERE custodian = $1 AND record_id = $2
                     ORDER BY version",
                    )
                    .bind(&custodian)
                    .bind(&record_id)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(StoreError::read("read a record's versions"))?;
                    Ok(Some((
                        lists::record(&row)?,
                        versions
                            .iter()
                            .map(record_version_of)
                            .collect::<Result<_, _>>()?,
                    )))
                })
            })
            .await
    }

    async fn claims(
        &self,
        patient: Option<&AccountId>,
        insurer: Option<&AccountId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<ClaimRow>, StoreError> {
        let list = List {
            table: "claims",
            filters: vec![
                ("patient", patient.map(Value::from)),
                ("insurer", insurer.map(Value::from)),
            ],
            contains: None,
            key: &[("insurer", Kind::Text), ("claim_ref", Kind::Text)],
            after,
            limit,
        };
        let plan = lists::Plan::new(list)?;
        self.readers
            .in_snapshot(move |conn| {
                Box::pin(async move {
                    let mut page = plan.read(conn, lists::claim).await?;
                    let mut claims: Vec<&mut ClaimRow> =
                        page.rows.iter_mut().map(|(_, c)| c).collect();
                    lists::with_documents(conn, &mut claims).await?;
                    Ok(page)
                })
            })
            .await
    }

    async fn claims_using(&self, commitment: &Hash32) -> Result<Vec<ClaimRow>, StoreError> {
        // Two statements without a snapshot: a claim and its documents are written in one
        // transaction and never change, so every claim read has all its documents.
        let mut conn = self.readers.get().await?;
        let rows = sqlx::query(
            "SELECT * FROM claims WHERE (insurer, claim_ref) IN
               (SELECT insurer, claim_ref FROM claim_documents WHERE commitment = $1)
             ORDER BY block_number, event_index",
        )
        .bind(commitment.to_string())
        .fetch_all(&mut *conn)
        .await
        .map_err(StoreError::read("read the claims that used a document"))?;
        let mut claims = rows
            .iter()
            .map(lists::claim)
            .collect::<Result<Vec<_>, _>>()?;
        let mut refs: Vec<&mut ClaimRow> = claims.iter_mut().collect();
        lists::with_documents(&mut conn, &mut refs).await?;
        Ok(claims)
    }

    async fn duplicate_claim_uses(
        &self,
        patient: Option<&AccountId>,
        insurer: Option<&AccountId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<DuplicateUseRow>, StoreError> {
        let list = List {
            table: "duplicate_claim_uses",
            filters: vec![
                ("patient", patient.map(Value::from)),
                ("insurer", insurer.map(Value::from)),
            ],
            contains: None,
            key: EVENT_KEY,
            after,
            limit,
        };
        lists::page(&self.readers, list, lists::duplicate_use).await
    }

    async fn batches_with_root(&self, root: &Hash32) -> Result<Vec<BatchRow>, StoreError> {
        let mut conn = self.readers.get().await?;
        let rows = sqlx::query(
            "SELECT b.*, k.hash FROM batches b JOIN blocks k ON k.number = b.block_number
             WHERE b.root = $1 ORDER BY b.block_number, b.org",
        )
        .bind(root.to_string())
        .fetch_all(&mut *conn)
        .await
        .map_err(StoreError::read("read a batch root's anchors"))?;
        rows.iter().map(lists::batch).collect()
    }

    async fn status(&self) -> Result<IndexerStatus, StoreError> {
        let mut conn = self.readers.get().await?;
        let row = sqlx::query(
            "SELECT c.block_number, c.block_hash, c.block_time, c.finalized_head, m.genesis_hash,
               (SELECT COUNT(*) FROM undecoded_events) AS undecoded,
               f.number AS first_number, f.timestamp_ms AS first_time
             FROM (SELECT 1 AS one) AS o
             LEFT JOIN (SELECT number, timestamp_ms FROM blocks ORDER BY number LIMIT 1) f
               ON 1 = 1
             LEFT JOIN cursor c ON c.id = 1
             LEFT JOIN mirror m ON m.id = 1",
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(StoreError::read("read the indexer status"))?;
        let number: Option<i64> = col(&row, "block_number")?;
        let hash: Option<String> = col(&row, "block_hash")?;
        let head: Option<i64> = col(&row, "finalized_head")?;
        let time: Option<i64> = col(&row, "block_time")?;
        let genesis: Option<String> = col(&row, "genesis_hash")?;
        let cursor = match (number, hash) {
            (Some(n), Some(h)) => Some(Cursor {
                number: uint(n, "cursor block")?,
                hash: parsed(h, "cursor hash")?,
            }),
            _ => None,
        };
        Ok(IndexerStatus {
            cursor,
            cursor_time: time.map(|t| uint(t, "cursor time")).transpose()?,
            finalized_head: head.map(|h| uint(h, "finalized head")).transpose()?,
            genesis_hash: genesis.map(|g| parsed(g, "genesis hash")).transpose()?,
            undecoded_events: uint(col(&row, "undecoded")?, "undecoded events")?,
            first_block: match (
                col::<Option<i64>>(&row, "first_number")?,
                col::<Option<i64>>(&row, "first_time")?,
            ) {
                (Some(n), Some(t)) => Some((uint(n, "first block")?, uint(t, "first block time")?)),
                _ => None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[tokio::test]
    async fn the_dump_covers_every_table_of_the_schema() {
        let store = SqlStore::open("sqlite::memory:").await.expect("open");
        let rows = sqlx::query(
            "SELECT name FROM sqlite_master WHERE type = 'table'
               AND name NOT LIKE '\\_sqlx%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        )
        .fetch_all(&store.pool)
        .await
        .expect("list tables");
        let schema: BTreeSet<String> = rows
            .iter()
            .map(|r| r.try_get::<String, _>("name").expect("name"))
            .collect();
        let dumped: BTreeSet<String> = TABLES.iter().map(|(t, _)| t.to_string()).collect();
        assert_eq!(dumped, schema);
        assert_eq!(dumped.len(), TABLES.len(), "a table is listed twice");
    }
}
