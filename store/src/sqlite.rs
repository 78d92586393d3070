//! The SQLite store: one file, WAL journal, migrations embedded from `migrations/sqlite`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};

use crate::Store;
use crate::error::StoreError;
use crate::types::{
    AccountId, BlockChanges, ChainEvent, ConsentRow, Cursor, Hash32, IndexedEvent, IndexerStatus,
    OrganizationRow, RecordVersionRow,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The read model in a SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

fn int(v: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} {v} does not fit in SQL")))
}

fn uint<T: TryFrom<i64>>(v: i64, what: &str) -> Result<T, StoreError> {
    T::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} {v} is out of range")))
}

fn parsed<T: FromStr>(s: String, what: &str) -> Result<T, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what} {s:?} does not parse")))
}

fn col<'r, T>(row: &'r SqliteRow, name: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get(name)
        .map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `url`: `sqlite:<path>`,
    /// `sqlite::memory:`, or a plain path.
    ///
    /// # Errors
    /// [`StoreError::Open`] when the file cannot be opened or migrated.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let open_err = |reason: String| StoreError::Open {
            url: url.to_string(),
            reason,
        };
        let full = if url.starts_with("sqlite:") {
            url.to_string()
        } else {
            format!("sqlite:{url}")
        };
        let options = SqliteConnectOptions::from_str(&full)
            .map_err(|e| open_err(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        // An in-memory database lives in one connection.
        let max = if full.contains(":memory:") { 1 } else { 4 };
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            .connect_with(options)
            .await
            .map_err(|e| open_err(e.to_string()))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| open_err(format!("migration failed: {e}")))?;
        Ok(SqliteStore { pool })
    }

    async fn cursor_in(tx: &mut Transaction<'_, Sqlite>) -> Result<Option<Cursor>, StoreError> {
        let row = sqlx::query("SELECT block_number, block_hash FROM cursor WHERE id = 1")
            .fetch_optional(&mut **tx)
            .await
            .map_err(StoreError::db("read the cursor"))?;
        row.map(|r| cursor_of(&r)).transpose()
    }

    async fn apply_event(
        tx: &mut Transaction<'_, Sqlite>,
        block: &BlockChanges,
        event: &IndexedEvent,
    ) -> Result<(), StoreError> {
        let number = int(block.number, "block number")?;
        let at = int(block.timestamp_ms, "timestamp")?;
        let payload = serde_json::to_string(&event.event)
            .map_err(|e| StoreError::Corrupt(format!("event does not serialize: {e}")))?;
        sqlx::query(
            "INSERT INTO events (block_number, event_index, contract, kind, payload)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(number)
        .bind(event.index)
        .bind(event.contract.to_string())
        .bind(event.event.kind())
        .bind(payload)
        .execute(&mut **tx)
        .await
        .map_err(StoreError::db("insert an event"))?;

        match &event.event {
            ChainEvent::OrgRegistered { org, role, flags } => {
                sqlx::query(
                    "INSERT INTO organizations
                       (account, role, flags, active, registered_block, registered_at)
                     VALUES (?, ?, ?, 1, ?, ?)",
                )
                .bind(org.to_string())
                .bind(*role)
                .bind(*flags)
                .bind(number)
                .bind(at)
                .execute(&mut **tx)
                .await
                .map_err(StoreError::db("insert an organization"))?;
            }
            ChainEvent::ConsentGranted {
                patient,
                grantee,
                categories,
                purposes,
                access,
                valid_from,
                expires_at,
                terms_hash,
                version,
                by,
            } => {
                let valid_from = int(*valid_from, "valid_from")?;
                let expires_at = expires_at.map(|e| int(e, "expires_at")).transpose()?;
                sqlx::query(
                    "INSERT INTO consents (patient, grantee, categories, purposes, access,
                       valid_from, expires_at, terms_hash, version, revoked, updated_by,
                       updated_block, updated_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)
                     ON CONFLICT (patient, grantee) DO UPDATE SET
                       categories = excluded.categories, purposes = excluded.purposes,
                       access = excluded.access, valid_from = excluded.valid_from,
                       expires_at = excluded.expires_at, terms_hash = excluded.terms_hash,
                       version = excluded.version, revoked = 0,
                       updated_by = excluded.updated_by, updated_block = excluded.updated_block,
                       updated_at = excluded.updated_at",
                )
                .bind(patient.to_string())
                .bind(grantee.to_string())
                .bind(*categories)
                .bind(*purposes)
                .bind(*access)
                .bind(valid_from)
                .bind(expires_at)
                .bind(terms_hash.to_string())
                .bind(*version)
                .bind(by.to_string())
                .bind(number)
                .bind(at)
                .execute(&mut **tx)
                .await
                .map_err(StoreError::db("upsert a consent"))?;
                sqlx::query(
                    "INSERT INTO consent_history (block_number, event_index, patient, grantee,
                       action, version, categories, purposes, access, valid_from, expires_at,
                       terms_hash, by_account, at)
                     VALUES (?, ?, ?, ?, 'granted', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(number)
                .bind(event.index)
                .bind(patient.to_string())
                .bind(grantee.to_string())
                .bind(*version)
                .bind(*categories)
                .bind(*purposes)
                .bind(*access)
                .bind(valid_from)
                .bind(expires_at)
                .bind(terms_hash.to_string())
                .bind(by.to_string())
                .bind(at)
                .execute(&mut **tx)
                .await
                .map_err(StoreError::db("record consent history"))?;
            }
            ChainEvent::ConsentRevoked {
                patient,
                grantee,
                version,
                by,
            } => {
                sqlx::query(
                    "UPDATE consents SET revoked = 1, updated_by = ?, updated_block = ?,
                       updated_at = ?
                     WHERE patient = ? AND grantee = ?",
                )
                .bind(by.to_string())
                .bind(number)
                .bind(at)
                .bind(patient.to_string())
                .bind(grantee.to_string())
                .execute(&mut **tx)
                .await
                .map_err(StoreError::db("revoke a consent"))?;
                sqlx::query(
                    "INSERT INTO consent_history (block_number, event_index, patient, grantee,
                       action, version, by_account, at)
                     VALUES (?, ?, ?, ?, 'revoked', ?, ?, ?)",
                )
                .bind(number)
                .bind(event.index)
                .bind(patient.to_string())
                .bind(grantee.to_string())
                .bind(*version)
                .bind(by.to_string())
                .bind(at)
                .execute(&mut **tx)
                .await
                .map_err(StoreError::db("record consent history"))?;
            }
            ChainEvent::RecordAnchored {
                patient,
                custodian,
                commitment,
                record_id,
                category_commitment,
                version,
            } => {
                sqlx::query(
                    "INSERT INTO records (custodian, record_id, patient, category_commitment,
                       latest_version, latest_commitment)
                     VALUES (?, ?, ?, ?, ?, ?)",
                )
                .bind(custodian.to_string())
                .bind(record_id.to_string())
                .bind(patient.to_string())
                .bind(category_commitment.to_string())
                .bind(*version)
                .bind(commitment.to_string())
                .execute(&mut **tx)
                .await
                .map_err(StoreError::db("insert a record"))?;
                sqlx::query(
                    "INSERT INTO record_versions (custodian, commitment, record_id, version,
                       patient, category_commitment, block_number, anchored_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(custodian.to_string())
                .bind(commitment.to_string())
                .bind(record_id.to_string())
                .bind(*version)
                .bind(patient.to_string())
                .bind(category_commitment.to_string())
                .bind(number)
                .bind(at)
                .execute(&mut **tx)
                .await
                .map_err(StoreError::db("insert a record version"))?;
            }
            ChainEvent::OrgSuspended { org } | ChainEvent::OrgReinstated { org } => {
                let active = matches!(event.event, ChainEvent::OrgReinstated { .. });
                sqlx::query("UPDATE organizations SET active = ? WHERE account = ?")
                    .bind(active)
                    .bind(org.to_string())
                    .execute(&mut **tx)
                    .await
                    .map_err(StoreError::db("update an organization"))?;
            }
            ChainEvent::RecordAmended {
                custodian,
                commitment,
                record_id,
                previous,
                version,
                ..
            } => {
                let (custodian, record_id) = (custodian.to_string(), record_id.to_string());
                sqlx::query(
                    "INSERT INTO record_versions (custodian, commitment, record_id, version,
                       patient, category_commitment, block_number, anchored_at)
                     SELECT custodian, ?, record_id, ?, patient, category_commitment, ?, ?
                     FROM records WHERE custodian = ? AND record_id = ?",
                )
                .bind(commitment.to_string())
                .bind(*version)
                .bind(number)
                .bind(at)
                .bind(&custodian)
                .bind(&record_id)
                .execute(&mut **tx)
                .await
                .map_err(StoreError::db("insert an amended version"))?;
                sqlx::query(
                    "UPDATE record_versions SET superseded_by = ?
                     WHERE custodian = ? AND commitment = ?",
                )
                .bind(commitment.to_string())
                .bind(&custodian)
                .bind(previous.to_string())
                .execute(&mut **tx)
                .await
                .map_err(StoreError::db("supersede a record version"))?;
                sqlx::query(
                    "UPDATE records SET latest_version = ?, latest_commitment = ?
                     WHERE custodian = ? AND record_id = ?",
                )
                .bind(*version)
                .bind(commitment.to_string())
                .bind(&custodian)
                .bind(&record_id)
                .execute(&mut **tx)
                .await
                .map_err(StoreError::db("update a record"))?;
            }
            // Kept in the raw `events` table for audit; their projections (delegates,
            // emergency access, access log, batches, claims) are not built yet.
            ChainEvent::RegistrarProposed { .. }
            | ChainEvent::RegistrarChanged { .. }
            | ChainEvent::PolicyChanged { .. }
            | ChainEvent::ContractUpgraded { .. }
            | ChainEvent::DelegateSet { .. }
            | ChainEvent::DelegateRemoved { .. }
            | ChainEvent::EmergencyAccessOpened { .. }
            | ChainEvent::EmergencyAccessEnded { .. }
            | ChainEvent::EmergencyBlockChanged { .. }
            | ChainEvent::AccessRecorded { .. }
            | ChainEvent::AccessDenied { .. }
            | ChainEvent::BatchAnchored { .. }
            | ChainEvent::ClaimAttested { .. }
            | ChainEvent::DuplicateClaimUse { .. } => {}
        }
        Ok(())
    }
}

fn cursor_of(row: &SqliteRow) -> Result<Cursor, StoreError> {
    Ok(Cursor {
        number: uint(col(row, "block_number")?, "cursor block")?,
        hash: parsed(col(row, "block_hash")?, "cursor hash")?,
    })
}

fn consent_of(row: &SqliteRow) -> Result<ConsentRow, StoreError> {
    let expires_at: Option<i64> = col(row, "expires_at")?;
    Ok(ConsentRow {
        patient: parsed(col(row, "patient")?, "patient")?,
        grantee: parsed(col(row, "grantee")?, "grantee")?,
        categories: uint(col(row, "categories")?, "categories")?,
        purposes: uint(col(row, "purposes")?, "purposes")?,
        access: uint(col(row, "access")?, "access")?,
        valid_from: uint(col(row, "valid_from")?, "valid_from")?,
        expires_at: expires_at.map(|e| uint(e, "expires_at")).transpose()?,
        terms_hash: parsed(col(row, "terms_hash")?, "terms_hash")?,
        version: uint(col(row, "version")?, "version")?,
        revoked: col::<i64>(row, "revoked")? != 0,
        updated_by: parsed(col(row, "updated_by")?, "updated_by")?,
        updated_block: uint(col(row, "updated_block")?, "updated_block")?,
        updated_at: uint(col(row, "updated_at")?, "updated_at")?,
    })
}

fn record_version_of(row: &SqliteRow) -> Result<RecordVersionRow, StoreError> {
    let superseded_by: Option<String> = col(row, "superseded_by")?;
    Ok(RecordVersionRow {
        commitment: parsed(col(row, "commitment")?, "commitment")?,
        record_id: parsed(col(row, "record_id")?, "record_id")?,
        version: uint(col(row, "version")?, "version")?,
        patient: parsed(col(row, "patient")?, "patient")?,
        custodian: parsed(col(row, "custodian")?, "custodian")?,
        category_commitment: parsed(col(row, "category_commitment")?, "category_commitment")?,
        block_number: uint(col(row, "block_number")?, "block_number")?,
        anchored_at: uint(col(row, "anchored_at")?, "anchored_at")?,
        superseded_by: superseded_by
            .map(|s| parsed(s, "superseded_by"))
            .transpose()?,
    })
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn cursor(&self) -> Result<Option<Cursor>, StoreError> {
        let row = sqlx::query("SELECT block_number, block_hash FROM cursor WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db("read the cursor"))?;
        row.map(|r| cursor_of(&r)).transpose()
    }

    async fn apply_block(&self, block: &BlockChanges) -> Result<bool, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(StoreError::db("begin a transaction"))?;
        if let Some(cursor) = Self::cursor_in(&mut tx).await?
            && cursor.number >= block.number
        {
            return Ok(false);
        }
        let number = int(block.number, "block number")?;
        if !block.events.is_empty() {
            sqlx::query("INSERT INTO blocks (number, hash, timestamp_ms) VALUES (?, ?, ?)")
                .bind(number)
                .bind(block.hash.to_string())
                .bind(int(block.timestamp_ms, "timestamp")?)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db("insert a block"))?;
        }
        for event in &block.events {
            Self::apply_event(&mut tx, block, event).await?;
        }
        sqlx::query(
            "INSERT INTO cursor (id, block_number, block_hash, finalized_head) VALUES (1, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET block_number = excluded.block_number,
               block_hash = excluded.block_hash,
               finalized_head = MAX(cursor.finalized_head, excluded.finalized_head)",
        )
        .bind(number)
        .bind(block.hash.to_string())
        .bind(number)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::db("advance the cursor"))?;
        tx.commit()
            .await
            .map_err(StoreError::db("commit a block"))?;
        Ok(true)
    }

    async fn set_finalized_head(&self, number: u64) -> Result<(), StoreError> {
        sqlx::query("UPDATE cursor SET finalized_head = MAX(finalized_head, ?) WHERE id = 1")
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
        let rows = sqlx::query(
            "SELECT * FROM consents WHERE patient = ?
             ORDER BY updated_block DESC, grantee",
        )
        .bind(patient.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::db("read consents"))?;
        rows.iter().map(consent_of).collect()
    }

    async fn record_versions(
        &self,
        commitment: &Hash32,
    ) -> Result<Vec<RecordVersionRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM record_versions WHERE commitment = ?
             ORDER BY block_number, custodian",
        )
        .bind(commitment.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::db("read record versions"))?;
        rows.iter().map(record_version_of).collect()
    }

    async fn organization(
        &self,
        account: &AccountId,
    ) -> Result<Option<OrganizationRow>, StoreError> {
        let row = sqlx::query("SELECT * FROM organizations WHERE account = ?")
            .bind(account.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db("read an organization"))?;
        row.map(|r| {
            Ok(OrganizationRow {
                account: parsed(col(&r, "account")?, "account")?,
                role: col(&r, "role")?,
                flags: uint(col(&r, "flags")?, "flags")?,
                active: col::<i64>(&r, "active")? != 0,
                registered_block: uint(col(&r, "registered_block")?, "registered_block")?,
                registered_at: uint(col(&r, "registered_at")?, "registered_at")?,
            })
        })
        .transpose()
    }

    async fn status(&self) -> Result<IndexerStatus, StoreError> {
        let row =
            sqlx::query("SELECT block_number, block_hash, finalized_head FROM cursor WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::db("read the indexer status"))?;
        match row {
            None => Ok(IndexerStatus {
                cursor: None,
                finalized_head: None,
            }),
            Some(r) => Ok(IndexerStatus {
                cursor: Some(cursor_of(&r)?),
                finalized_head: Some(uint(col(&r, "finalized_head")?, "finalized head")?),
            }),
        }
    }
}
