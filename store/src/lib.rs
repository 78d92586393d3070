//! The medledger read model: what the chain's contract events mean, as tables.
//!
//! The indexer hands each finalized block's decoded events to [`Store::apply_block`], which
//! writes the raw events, the projections (organizations, consents, records, ...) and the
//! cursor in one transaction, so a crash can never leave half a block behind and a replay
//! changes nothing. The API reads through the same trait. This crate knows nothing about
//! the chain client or HTTP: it is the one place that speaks SQL.

mod error;
mod sqlite;
mod types;

pub use error::StoreError;
pub use sqlite::SqliteStore;
pub use types::{
    ACCESS_NAMES, AccountId, AnchorRef, BlockChanges, CATEGORY_NAMES, ChainEvent, ConsentRow,
    Cursor, Hash32, IndexedEvent, IndexerStatus, OrganizationRow, PURPOSE_NAMES, ParseError,
    ROLE_NAMES, RecordRef, RecordVersionRow, names_of_bits,
};

use std::sync::Arc;

/// The read model, as the indexer writes it and the API reads it.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// The last block applied, if any.
    async fn cursor(&self) -> Result<Option<Cursor>, StoreError>;

    /// Writes one block's events, projections and the cursor in one transaction.
    ///
    /// Returns `false` (and writes nothing) when the block is not after the cursor: a replay.
    async fn apply_block(&self, block: &BlockChanges) -> Result<bool, StoreError>;

    /// Remembers the chain's finalized head, to report the indexer's lag.
    async fn set_finalized_head(&self, number: u64) -> Result<(), StoreError>;

    /// The current consents a patient has granted, revoked ones included, newest first.
    async fn consents_of_patient(&self, patient: &AccountId)
    -> Result<Vec<ConsentRow>, StoreError>;

    /// Every anchor of this commitment, one per custodian that anchored it (anchors live in
    /// their custodian's key space, so a copy never replaces the original), oldest first.
    async fn record_versions(
        &self,
        commitment: &Hash32,
    ) -> Result<Vec<RecordVersionRow>, StoreError>;

    /// The organization registered under `account`, if any.
    async fn organization(
        &self,
        account: &AccountId,
    ) -> Result<Option<OrganizationRow>, StoreError>;

    /// How far indexing got.
    async fn status(&self) -> Result<IndexerStatus, StoreError>;
}

/// Opens the store a database URL names: `sqlite:<path>` (created if missing) or a plain
/// file path.
///
/// # Errors
/// [`StoreError::UnsupportedUrl`] for other schemes; [`StoreError::Open`] when the database
/// cannot be opened or migrated.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        return Err(StoreError::UnsupportedUrl {
            url: url.to_string(),
            reason: "PostgreSQL is not supported yet; use a sqlite: URL".into(),
        });
    }
    let store = SqliteStore::open(url).await?;
    Ok(Arc::new(store))
}
