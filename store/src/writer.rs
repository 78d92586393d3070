//! The writes of one transaction, sent in as few statements as the order of events allows.
//!
//! A backfill commits hundreds of blocks per transaction; one statement per row would make it
//! as slow as the database's round trip (about 90 µs on PostgreSQL over loopback) times three
//! rows per event. The projections therefore hand their rows to a [`Writer`], which:
//!
//! - **appends** rows of the log tables (`events`, `consent_history`, `access_log`, …), which
//!   no projection reads or changes, in multi-row `INSERT`s of their own: a table's rows go in
//!   as soon as they fill a statement, the rest at the end of the transaction, so that the
//!   writer never holds more than a statement's worth of rows per table;
//! - **merges** consecutive rows of one statement into one multi-row statement (e.g. 200
//!   consent upserts in a row), in event order. PostgreSQL refuses to upsert one row twice in
//!   one statement, so a row whose key the pending statement already holds either replaces
//!   the earlier row there (an upsert that sets every column: the earlier one would be
//!   overwritten anyway) or starts a new statement;
//! - **runs** any other statement (an `UPDATE`, an `INSERT … SELECT`) in event order, after
//!   the rows before it.
//!
//! So the tables end exactly as with one statement per row, in event order.
//!
//! The projections do not talk to the database: they record what a block's events write as
//! [`Ops`], which needs no connection, so a block is prepared on any core (the indexer does it
//! in a task of its own per block, while the committer writes the blocks before). The
//! committer only replays each block's `Ops` into the transaction's [`Writer`].

use std::collections::HashMap;

use sqlx::AnyConnection;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

use crate::Backend;
use crate::error::StoreError;
use crate::types::{AccountId, Hash32};

/// Bound parameters per statement, under SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_PARAMS: usize = 30_000;
/// Rows per statement, so that the statements a backfill prepares are few and reused.
const MAX_ROWS: usize = 500;

/// One SQL value.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

impl Value {
    pub const NULL_INT: Value = Value::Int(None);
    pub const NULL_TEXT: Value = Value::Text(None);
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_string()))
    }
}

impl From<&AccountId> for Value {
    fn from(a: &AccountId) -> Self {
        Value::Text(Some(a.to_string()))
    }
}

impl From<&Hash32> for Value {
    fn from(h: &Hash32) -> Self {
        Value::Text(Some(h.to_string()))
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::Text(v)
    }
}

/// An `INSERT` of rows into one table: `INSERT INTO {into} VALUES (…), (…) {tail}`.
pub(crate) struct Insert {
    /// The table and its columns, e.g. `consents (patient, grantee, …)`.
    pub into: &'static str,
    /// What follows the rows, e.g. `ON CONFLICT (…) DO UPDATE SET …`; empty for none.
    pub tail: &'static str,
    /// What the rows are, for the error when the database refuses them.
    pub action: &'static str,
    /// Whether a later row with the same key leaves nothing of an earlier one: an upsert
    /// whose `DO UPDATE` sets every column outside the key.
    pub replaces: bool,
}

impl Insert {
    /// Values per row: the number of columns named in `into`.
    fn width(&self) -> usize {
        self.into.matches(',').count() + 1
    }

    /// The statement for `rows` rows. Placeholders are numbered (`$1`) for PostgreSQL and
    /// anonymous (`?`) for SQLite, where binding a numbered one costs a scan of all the
    /// statement's names (quadratic in a statement of thousands of values).
    fn sql(&self, rows: usize, backend: Backend) -> String {
        let mut sql = format!("INSERT INTO {} VALUES ", self.into);
        let width = self.width();
        let mut n = 0;
        for row in 0..rows {
            sql.push_str(if row == 0 { "(" } else { ", (" });
            for col in 0..width {
                n += 1;
                if col > 0 {
                    sql.push_str(", ");
                }
                match backend {
                    Backend::Postgres => {
                        sql.push('$');
                        sql.push_str(&n.to_string());
                    }
                    Backend::Sqlite => sql.push('?'),
                }
            }
            sql.push(')');
        }
        if !self.tail.is_empty() {
            sql.push(' ');
            sql.push_str(self.tail);
        }
        sql
    }

    fn rows_per_statement(&self) -> usize {
        (MAX_PARAMS / self.width()).clamp(1, MAX_ROWS)
    }
}

/// A statement a projection runs with its own values, in event order: an `UPDATE`, an
/// `INSERT … SELECT`. Placeholders are numbered (`$1`), and may repeat.
pub(crate) struct Statement {
    pub sql: &'static str,
    /// What the statement does, for the error when the database refuses it.
    pub action: &'static str,
}

/// One write a projection asked for.
enum Op {
    Row {
        insert: &'static Insert,
        key: Option<String>,
        values: Vec<Value>,
    },
    Append {
        insert: &'static Insert,
        values: Vec<Value>,
    },
    Run {
        statement: &'static Statement,
        values: Vec<Value>,
    },
}

/// The writes of some events, in event order, recorded without a database; a [`Writer`]
/// sends them. See the module's documentation.
#[derive(Default)]
pub struct Ops(Vec<Op>);

impl Ops {
    /// A row of a log table that no projection reads or changes (see [`Writer`]).
    pub(crate) fn append(&mut self, insert: &'static Insert, values: Vec<Value>) {
        debug_assert_eq!(values.len(), insert.width(), "{}", insert.into);
        self.0.push(Op::Append { insert, values });
    }

    /// A row written in event order, merged with the rows of the same `insert` right before
    /// it; `key` is the row's conflict key (see [`Insert::replaces`]).
    pub(crate) fn row(&mut self, insert: &'static Insert, key: Option<String>, values: Vec<Value>) {
        debug_assert_eq!(values.len(), insert.width(), "{}", insert.into);
        self.0.push(Op::Row {
            insert,
            key,
            values,
        });
    }

    /// `statement` with `values` for its placeholders, run after the rows before it.
    pub(crate) fn run(&mut self, statement: &'static Statement, values: Vec<Value>) {
        self.0.push(Op::Run { statement, values });
    }
}

/// Rows waiting for one statement.
struct Pending {
    insert: &'static Insert,
    values: Vec<Value>,
    /// The row number of each key.
    keys: HashMap<String, usize>,
}

/// The writes of one transaction; see the module's documentation.
pub(crate) struct Writer<'c> {
    conn: &'c mut AnyConnection,
    backend: Backend,
    pending: Option<Pending>,
    /// Log-table rows, by table, in the order each table was first written.
    appended: Vec<(&'static Insert, Vec<Value>)>,
}

impl<'c> Writer<'c> {
    pub fn new(conn: &'c mut AnyConnection, backend: Backend) -> Self {
        Writer {
            conn,
            backend,
            pending: None,
            appended: Vec::new(),
        }
    }

    /// Sends what `ops` recorded, in their order.
    pub async fn write(&mut self, ops: Ops) -> Result<(), StoreError> {
        for op in ops.0 {
            match op {
                Op::Row {
                    insert,
                    key,
                    values,
                } => self.row(insert, key, values).await?,
                Op::Append { insert, values } => self.append(insert, values).await?,
                Op::Run { statement, values } => self.run(statement, &values).await?,
            }
        }
        Ok(())
    }

    /// A row of a log table that no projection reads or changes: written once the table's
    /// rows fill a statement, else at [`finish`].
    ///
    /// [`finish`]: Writer::finish
    async fn append(&mut self, insert: &'static Insert, row: Vec<Value>) -> Result<(), StoreError> {
        let at = match self
            .appended
            .iter()
            .position(|(i, _)| std::ptr::eq(*i, insert))
        {
            Some(at) => at,
            None => {
                self.appended.push((insert, Vec::new()));
                self.appended.len() - 1
            }
        };
        let values = &mut self.appended[at].1;
        values.extend(row);
        if values.len() >= insert.rows_per_statement() * insert.width() {
            insert_all(self.conn, self.backend, insert, values).await?;
            values.clear();
        }
        Ok(())
    }

    /// A row written in event order, merged with the rows of the same `insert` right before
    /// it; `key` is the row's conflict key (see [`Insert::replaces`]).
    async fn row(
        &mut self,
        insert: &'static Insert,
        key: Option<String>,
        row: Vec<Value>,
    ) -> Result<(), StoreError> {
        let width = insert.width();
        if let Some(p) = self
            .pending
            .as_mut()
            .filter(|p| std::ptr::eq(p.insert, insert))
        {
            match key.as_ref().and_then(|k| p.keys.get(k)) {
                None => {
                    if let Some(key) = key {
                        p.keys.insert(key, p.values.len() / width);
                    }
                    p.values.extend(row);
                    return Ok(());
                }
                Some(&at) if insert.replaces => {
                    p.values.splice(at * width..(at + 1) * width, row);
                    return Ok(());
                }
                Some(_) => {}
            }
        }
        self.flush().await?;
        let mut keys = HashMap::new();
        if let Some(key) = key {
            keys.insert(key, 0);
        }
        self.pending = Some(Pending {
            insert,
            values: row,
            keys,
        });
        Ok(())
    }

    /// Runs `statement` now, after the rows before it.
    async fn run(&mut self, statement: &Statement, values: &[Value]) -> Result<(), StoreError> {
        self.flush().await?;
        bind(sqlx::query(statement.sql), values)
            .execute(&mut *self.conn)
            .await
            .map_err(StoreError::db(statement.action))?;
        Ok(())
    }

    /// Writes the pending rows.
    async fn flush(&mut self) -> Result<(), StoreError> {
        if let Some(p) = self.pending.take() {
            insert_all(self.conn, self.backend, p.insert, &p.values).await?;
        }
        Ok(())
    }

    /// Writes everything still held: the pending rows, then the log tables.
    pub async fn finish(mut self) -> Result<(), StoreError> {
        self.flush().await?;
        for (insert, values) in std::mem::take(&mut self.appended) {
            insert_all(self.conn, self.backend, insert, &values).await?;
        }
        Ok(())
    }
}

/// Inserts `values` (whole rows of `insert`) in as few statements as the limits allow.
async fn insert_all(
    conn: &mut AnyConnection,
    backend: Backend,
    insert: &Insert,
    values: &[Value],
) -> Result<(), StoreError> {
    let width = insert.width();
    for chunk in values.chunks(insert.rows_per_statement() * width) {
        let sql = insert.sql(chunk.len() / width, backend);
        bind(sqlx::query(&sql), chunk)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::db(insert.action))?;
    }
    Ok(())
}

/// `query` with `value` bound, by reference: a backfill's text is not copied once more on its
/// way in.
pub(crate) fn bind_value<'q>(
    query: Query<'q, sqlx::Any, AnyArguments<'q>>,
    value: &'q Value,
) -> Query<'q, sqlx::Any, AnyArguments<'q>> {
    match value {
        Value::Int(v) => query.bind(*v),
        Value::Text(v) => query.bind(v.as_deref()),
    }
}

/// `query` with `values` bound, in order (see [`bind_value`]).
fn bind<'q>(
    query: Query<'q, sqlx::Any, AnyArguments<'q>>,
    values: &'q [Value],
) -> Query<'q, sqlx::Any, AnyArguments<'q>> {
    values.iter().fold(query, bind_value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_numbered_placeholders_before_the_tail() {
        static I: Insert = Insert {
            into: "t (a, b)",
            tail: "ON CONFLICT (a) DO NOTHING",
            action: "test",
            replaces: false,
        };
        assert_eq!(
            I.sql(2, Backend::Postgres),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT (a) DO NOTHING"
        );
        assert_eq!(
            I.sql(2, Backend::Sqlite),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?) ON CONFLICT (a) DO NOTHING"
        );
        assert_eq!(I.rows_per_statement(), MAX_ROWS);
    }
}
