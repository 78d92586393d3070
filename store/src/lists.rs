//! The read model's lists, a page at a time: each list is a table, equality filters, and a
//! key to order and page by. A page's rows come with opaque cursors (the row's key, as text),
//! and `after` takes one of them back; the total counts every row the filters keep.

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::error::StoreError;
use crate::readers::Readers;
use crate::sql::{col, num, num_or_null, parsed, text};
use crate::types::{AccountId, AnchorRef, Hash32, OrgProfile, OrganizationRow};
use crate::writer::{Value, bind_value};

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows, each with the cursor that continues after it.
    pub rows: Vec<(String, T)>,
    /// Whether rows follow this page.
    pub more: bool,
    /// How many rows the filters keep, in all.
    pub total: u64,
}

/// How a key column is typed.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Int,
    Text,
}

/// A page of `table` where each `filters` column equals its value (a `None` keeps all) and
/// the `contains` column holds the text, ignoring ASCII case, in `key` order, after the row
/// `after` names, at most `limit` rows.
pub(crate) struct List<'a> {
    pub table: &'static str,
    pub filters: Vec<(&'static str, Option<Value>)>,
    pub contains: Option<(&'static str, &'a str)>,
    pub key: &'static [(&'static str, Kind)],
    pub after: Option<&'a str>,
    pub limit: usize,
}

/// The cursor of `row`: its key columns as text, joined by `|` (accounts, hashes and numbers
/// never hold one).
fn cursor_of(row: &AnyRow, key: &[(&str, Kind)]) -> Result<String, StoreError> {
    let mut parts = Vec::with_capacity(key.len());
    for (column, kind) in key {
        parts.push(match kind {
            Kind::Int => col::<i64>(row, column)?.to_string(),
            Kind::Text => col::<String>(row, column)?,
        });
    }
    Ok(parts.join("|"))
}

fn parse_cursor(cursor: &str, key: &[(&str, Kind)]) -> Result<Vec<Value>, StoreError> {
    let bad = || StoreError::BadCursor(cursor.to_string());
    let parts: Vec<&str> = cursor.split('|').collect();
    if parts.len() != key.len() {
        return Err(bad());
    }
    parts
        .iter()
        .zip(key)
        .map(|(part, (_, kind))| match kind {
            Kind::Int => part.parse::<i64>().map(Value::from).map_err(|_| bad()),
            Kind::Text if !part.is_empty() => Ok(Value::from(*part)),
            Kind::Text => Err(bad()),
        })
        .collect()
}

/// One page of `list`: its total and its rows, read in one snapshot.
pub(crate) async fn page<T: Send + 'static>(
    readers: &Readers,
    list: List<'_>,
    map: fn(&AnyRow) -> Result<T, StoreError>,
) -> Result<Page<T>, StoreError> {
    let plan = Plan::new(list)?;
    readers
        .in_snapshot(move |conn| Box::pin(async move { plan.read(conn, map).await }))
        .await
}

/// The statements that read one page of a list, with their values: made before the read, so
/// that a bad cursor is refused without one, and owned, so that the read can run as a task.
pub(crate) struct Plan {
    count_sql: String,
    rows_sql: String,
    filters: Vec<Value>,
    after: Vec<Value>,
    key: &'static [(&'static str, Kind)],
    limit: usize,
}

impl Plan {
    /// The statements of `list`.
    ///
    /// # Errors
    /// [`StoreError::BadCursor`] when `after` is not a cursor of this list.
    pub(crate) fn new(list: List<'_>) -> Result<Plan, StoreError> {
        let (columns, mut filters): (Vec<&str>, Vec<Value>) = list
            .filters
            .into_iter()
            .filter_map(|(c, v)| v.map(|v| (c, v)))
            .unzip();
        let mut conditions: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ${}", i + 1))
            .collect();
        if let Some((column, text)) = list.contains {
            // LIKE with the pattern's own wildcards escaped; LOWER on both sides, since
            // PostgreSQL's LIKE minds case and SQLite's does not
            let escaped: String = text
                .to_lowercase()
                .chars()
                .flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            filters.push(Value::from(format!("%{escaped}%")));
            conditions.push(format!(
                "LOWER({column}) LIKE ${} ESCAPE '\\'",
                filters.len()
            ));
        }
        let where_ = |conditions: &[String]| {
            if conditions.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", conditions.join(" AND "))
            }
        };
        let count_sql = format!(
            "SELECT COUNT(*) AS n FROM {} {}",
            list.table,
            where_(&conditions)
        );
        let after = match list.after {
            Some(cursor) => parse_cursor(cursor, list.key)?,
            None => Vec::new(),
        };
        let key: Vec<&str> = list.key.iter().map(|(c, _)| *c).collect();
        if !after.is_empty() {
            let first = filters.len() + 1;
            let placeholders: Vec<String> = (first..first + after.len())
                .map(|n| format!("${n}"))
                .collect();
            conditions.push(format!(
                "({}) > ({})",
                key.join(", "),
                placeholders.join(", ")
            ));
        }
        let rows_sql = format!(
            "SELECT * FROM {} {} ORDER BY {} LIMIT {}",
            list.table,
            where_(&conditions),
            key.join(", "),
            list.limit + 1,
        );
        Ok(Plan {
            count_sql,
            rows_sql,
            filters,
            after,
            key: list.key,
            limit: list.limit,
        })
    }

    /// Reads the page, inside a snapshot the caller holds (see [`Readers::in_snapshot`]).
    pub(crate) async fn read<T>(
        &self,
        conn: &mut AnyConnection,
        map: impl Fn(&AnyRow) -> Result<T, StoreError>,
    ) -> Result<Page<T>, StoreError> {
        let count = self
            .filters
            .iter()
            .fold(sqlx::query(&self.count_sql), bind_value);
        let total = num(
            &count
                .fetch_one(&mut *conn)
                .await
                .map_err(StoreError::read("count a list"))?,
            "n",
        )?;
        let rows = self
            .filters
            .iter()
            .chain(&self.after)
            .fold(sqlx::query(&self.rows_sql), bind_value);
        let mut rows = rows
            .fetch_all(&mut *conn)
            .await
            .map_err(StoreError::read("read a list"))?;
        let more = rows.len() > self.limit;
        rows.truncate(self.limit);
        let rows = rows
            .iter()
            .map(|r| Ok((cursor_of(r, self.key)?, map(r)?)))
            .collect::<Result<_, StoreError>>()?;
        Ok(Page { rows, more, total })
    }
}

/// A patient's delegate, as last set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationRow {
    pub patient: AccountId,
    pub delegate: AccountId,
    pub expires_at: u64,
    pub set_block: u64,
    pub set_at: u64,
    /// When the patient removed the delegate, if they did.
    pub removed_block: Option<u64>,
    pub removed_at: Option<u64>,
}

pub(crate) fn delegation(r: &AnyRow) -> Result<DelegationRow, StoreError> {
    Ok(DelegationRow {
        patient: text(r, "patient")?,
        delegate: text(r, "delegate")?,
        expires_at: num(r, "expires_at")?,
        set_block: num(r, "set_block")?,
        set_at: num(r, "set_at")?,
        removed_block: num_or_null(r, "removed_block")?,
        removed_at: num_or_null(r, "removed_at")?,
    })
}

/// Whether a patient barred a provider from breaking glass, as last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyBlockRow {
    pub patient: AccountId,
    pub provider: AccountId,
    /// False once the patient (or a delegate) lifted the block.
    pub blocked: bool,
    /// The patient, or the delegate who changed it.
    pub changed_by: AccountId,
    pub changed_block: u64,
    pub changed_at: u64,
}

pub(crate) fn emergency_block(r: &AnyRow) -> Result<EmergencyBlockRow, StoreError> {
    let blocked: i64 = num(r, "blocked")?;
    Ok(EmergencyBlockRow {
        patient: text(r, "patient")?,
        provider: text(r, "provider")?,
        blocked: blocked != 0,
        changed_by: text(r, "changed_by")?,
        changed_block: num(r, "changed_block")?,
        changed_at: num(r, "changed_at")?,
    })
}

/// An access to a patient's data an organization recorded, or a denied attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRow {
    pub block_number: u64,
    pub event_index: u32,
    pub patient: AccountId,
    pub accessor: AccountId,
    /// `recorded` or `denied`.
    pub outcome: String,
    /// The record named, if one was.
    pub record: Option<(AccountId, Hash32)>,
    pub categories: u16,
    pub purpose: String,
    /// Allowed by an emergency window rather than a consent.
    pub emergency: bool,
    pub at: u64,
}

pub(crate) fn access(r: &AnyRow) -> Result<AccessRow, StoreError> {
    let custodian: Option<String> = col(r, "record_custodian")?;
    let record_id: Option<String> = col(r, "record_id")?;
    let record = match (custodian, record_id) {
        (Some(c), Some(id)) => Some((parsed(c, "record_custodian")?, parsed(id, "record_id")?)),
        _ => None,
    };
    Ok(AccessRow {
        block_number: num(r, "block_number")?,
        event_index: num(r, "event_index")?,
        patient: text(r, "patient")?,
        accessor: text(r, "accessor")?,
        outcome: col(r, "outcome")?,
        record,
        categories: num(r, "categories")?,
        purpose: col(r, "purpose")?,
        emergency: col::<i64>(r, "emergency")? != 0,
        at: num(r, "at")?,
    })
}

/// The latest state of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRow {
    pub custodian: AccountId,
    pub record_id: Hash32,
    pub patient: AccountId,
    pub category_commitment: Hash32,
    pub latest_version: u32,
    pub latest_commitment: Hash32,
}

pub(crate) fn record(r: &AnyRow) -> Result<RecordRow, StoreError> {
    Ok(RecordRow {
        custodian: text(r, "custodian")?,
        record_id: text(r, "record_id")?,
        patient: text(r, "patient")?,
        category_commitment: text(r, "category_commitment")?,
        latest_version: num(r, "latest_version")?,
        latest_commitment: text(r, "latest_commitment")?,
    })
}

/// An attested insurance claim and the anchored documents it used, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRow {
    pub insurer: AccountId,
    pub claim_ref: Hash32,
    pub patient: AccountId,
    /// Whether every document was the current version of its record when attested.
    pub all_current: bool,
    pub block_number: u64,
    pub at: u64,
    pub documents: Vec<AnchorRef>,
}

pub(crate) fn claim(r: &AnyRow) -> Result<ClaimRow, StoreError> {
    Ok(ClaimRow {
        insurer: text(r, "insurer")?,
        claim_ref: text(r, "claim_ref")?,
        patient: text(r, "patient")?,
        all_current: col::<i64>(r, "all_current")? != 0,
        block_number: num(r, "block_number")?,
        at: num(r, "at")?,
        documents: Vec::new(),
    })
}

/// Fills in the documents of `claims`, with one read for all of them.
pub(crate) async fn with_documents(
    conn: &mut AnyConnection,
    claims: &mut [&mut ClaimRow],
) -> Result<(), StoreError> {
    if claims.is_empty() {
        return Ok(());
    }
    let pairs: Vec<String> = (0..claims.len())
        .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    let sql = format!(
        "SELECT * FROM claim_documents WHERE (insurer, claim_ref) IN ({})
         ORDER BY insurer, claim_ref, position",
        pairs.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for c in claims.iter() {
        q = q.bind(c.insurer.to_string()).bind(c.claim_ref.to_string());
    }
    let rows = q
        .fetch_all(&mut *conn)
        .await
        .map_err(StoreError::read("read claims' documents"))?;
    for r in &rows {
        let insurer: AccountId = text(r, "insurer")?;
        let claim_ref: Hash32 = text(r, "claim_ref")?;
        let document = AnchorRef {
            custodian: text(r, "custodian")?,
            commitment: text(r, "commitment")?,
        };
        if let Some(c) = claims
            .iter_mut()
            .find(|c| c.insurer == insurer && c.claim_ref == claim_ref)
        {
            c.documents.push(document);
        }
    }
    Ok(())
}

/// A document used again in another claim for the same patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateUseRow {
    pub block_number: u64,
    pub event_index: u32,
    pub patient: AccountId,
    pub insurer: AccountId,
    pub commitment: Hash32,
    pub claim_ref: Hash32,
    /// The claim that used it first.
    pub first_insurer: AccountId,
    pub first_claim_ref: Hash32,
    pub at: u64,
    /// `SameInsurer` (claimed before by this insurer) or `OtherInsurer`.
    pub reuse: String,
    /// `SameDocument` or `SameRecord` (another version of the document's record).
    pub overlap: String,
}

pub(crate) fn duplicate_use(r: &AnyRow) -> Result<DuplicateUseRow, StoreError> {
    Ok(DuplicateUseRow {
        block_number: num(r, "block_number")?,
        event_index: num(r, "event_index")?,
        patient: text(r, "patient")?,
        insurer: text(r, "insurer")?,
        commitment: text(r, "commitment")?,
        claim_ref: text(r, "claim_ref")?,
        first_insurer: text(r, "first_insurer")?,
        first_claim_ref: text(r, "first_claim_ref")?,
        at: num(r, "at")?,
        reuse: col(r, "reuse")?,
        overlap: col(r, "overlap")?,
    })
}

pub(crate) fn organization(r: &AnyRow) -> Result<OrganizationRow, StoreError> {
    Ok(OrganizationRow {
        account: text(r, "account")?,
        role: col(r, "role")?,
        flags: num(r, "flags")?,
        active: col::<i64>(r, "active")? != 0,
        registered_block: num(r, "registered_block")?,
        registered_at: num(r, "registered_at")?,
        profile: match col::<Option<String>>(r, "name")? {
            Some(name) => {
                let identifiers: String = col(r, "identifiers")?;
                Some(OrgProfile {
                    name,
                    kind: col::<Option<String>>(r, "kind")?.unwrap_or_default(),
                    identifiers: serde_json::from_str(&identifiers).map_err(|e| {
                        StoreError::Corrupt(format!("organizations.identifiers: {e}"))
                    })?,
                })
            }
            None => None,
        },
    })
}

/// A Merkle root an organization anchored for a batch of records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRow {
    pub org: AccountId,
    pub root: Hash32,
    pub leaf_count: u32,
    pub block_number: u64,
    pub block_hash: Hash32,
    pub anchored_at: u64,
}

pub(crate) fn batch(r: &AnyRow) -> Result<BatchRow, StoreError> {
    Ok(BatchRow {
        org: text(r, "org")?,
        root: text(r, "root")?,
        leaf_count: num(r, "leaf_count")?,
        block_number: num(r, "block_number")?,
        block_hash: text(r, "hash")?,
        anchored_at: num(r, "anchored_at")?,
    })
}
