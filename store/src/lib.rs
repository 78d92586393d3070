//! The medledger read model: what the chain's contract events mean, as tables, in SQLite (the
//! embedded default) or PostgreSQL.
//!
//! The indexer prepares finalized blocks' decoded events ([`PreparedBlock`], no database
//! needed, so on any core) and hands them to [`Store::apply_prepared`], which writes the raw
//! events, the projections (organizations, consents, records, delegations, emergency
//! windows, the access log, batches, claims, upgrades, ...) and the cursor in one transaction,
//! so a crash can never leave half a block behind and a replay changes nothing. Events that do
//! not decode are kept raw with the reason. The database records which chain and contracts it
//! mirrors and refuses any other. The API reads through the same trait. This crate knows
//! nothing about the chain client or HTTP: it is the one place that speaks SQL, and each
//! statement is written once for both databases.

mod activity;
mod error;
mod history;
mod lists;
mod prepare;
mod projections;
mod readers;
mod sql;
mod types;
mod writer;

pub use activity::{EventKey, StoredEvent};
pub use error::StoreError;
pub use history::{
    ConsentChange, DelegationChange, EmergencyWindow, Grant, OrgAction, OrgChange, PatientHistory,
    Position, Upto,
};
pub use lists::{
    AccessRow, BatchRow, ClaimRow, DelegationRow, DuplicateUseRow, EmergencyBlockRow, Page,
    RecordRow,
};
pub use prepare::PreparedBlock;
pub use sql::{Backend, SqlStore};
pub use types::{
    ACCESS_NAMES, AccountId, AnchorRef, BlockChanges, CATEGORY_NAMES, CLAIM_OVERLAP_NAMES,
    CLAIM_REUSE_NAMES, ChainEvent, ConsentRow, ContractRow, Cursor, Hash32, IndexedEvent,
    IndexerStatus, Mirror, ORG_KIND_NAMES, OrgIdentifier, OrgProfile, OrganizationRow,
    PURPOSE_NAMES, ParseError, ROLE_NAMES, RecordRef, RecordVersionRow, UndecodedEvent,
    names_of_bits,
};

use std::sync::Arc;

/// The read model, as the indexer writes it and the API reads it.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// The last block applied, if any.
    async fn cursor(&self) -> Result<Option<Cursor>, StoreError>;

    /// Binds an unbound database to `mirror` (its chain, contracts and start block), or
    /// checks that a bound one mirrors the same chain and contracts.
    ///
    /// # Errors
    /// [`StoreError::OtherMirror`] when the database mirrors another chain or deployment.
    async fn check_mirror(&self, mirror: &Mirror) -> Result<(), StoreError>;

    /// Writes the blocks' events, projections and the cursor (the last block) in one
    /// transaction. Blocks at or before the cursor are skipped: a replay changes nothing.
    /// Returns how many blocks were applied.
    async fn apply_prepared(&self, blocks: Vec<PreparedBlock>) -> Result<usize, StoreError>;

    /// [`PreparedBlock::new`] for each block, then [`Store::apply_prepared`]: for callers
    /// that have no other core to prepare blocks on.
    ///
    /// # Errors
    /// As both.
    async fn apply_blocks(&self, blocks: &[BlockChanges]) -> Result<usize, StoreError> {
        let prepared = blocks
            .iter()
            .map(PreparedBlock::new)
            .collect::<Result<Vec<_>, _>>()?;
        self.apply_prepared(prepared).await
    }

    /// [`Store::apply_blocks`] for one block; `false` when it was a replay.
    async fn apply_block(&self, block: &BlockChanges) -> Result<bool, StoreError> {
        Ok(self.apply_blocks(std::slice::from_ref(block)).await? == 1)
    }

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

    /// The watched contracts and the code they run now.
    async fn contracts(&self) -> Result<Vec<ContractRow>, StoreError>;

    /// `patient`'s consents, delegations, the organizations concerned and the emergency
    /// windows on them (only towards `grantee` when given), up to `upto`, in chain order: what
    /// judging an authorization at that point needs.
    async fn history(
        &self,
        patient: &AccountId,
        grantee: Option<&AccountId>,
        upto: Upto,
    ) -> Result<PatientHistory, StoreError>;

    /// The time of block `number` (ms since the Unix epoch), when the mirror knows it: the
    /// blocks that carried medledger events, and the last block indexed.
    async fn block_time(&self, number: u64) -> Result<Option<u64>, StoreError>;

    /// The events that touched `patient` (consents, delegates, emergency windows, records,
    /// claims, data accesses), in chain order, after `after`, at most `limit`.
    async fn patient_events(
        &self,
        patient: &AccountId,
        after: Option<EventKey>,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError>;

    /// How many events touched `patient`.
    async fn patient_event_count(&self, patient: &AccountId) -> Result<u64, StoreError>;

    /// The events that touched any patient in blocks `after + 1 ..= upto`, in chain order.
    async fn patient_events_between(
        &self,
        after: u64,
        upto: u64,
    ) -> Result<Vec<StoredEvent>, StoreError>;

    /// The last block of each commit from now on: this process's commits and, on
    /// PostgreSQL, every process's on the database (`LISTEN`/`NOTIFY`). A receiver that
    /// falls behind skips announcements (`Lagged`); read by block range to catch up.
    fn commits(&self) -> tokio::sync::broadcast::Receiver<u64>;

    /// Registered organizations (only those of `role`, and those whose name holds
    /// `name_contains` ignoring ASCII case, when given), by account.
    async fn organizations(
        &self,
        role: Option<&str>,
        name_contains: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<OrganizationRow>, StoreError>;

    /// Every grant and revocation of `patient`'s consents (towards `grantee` when given),
    /// in chain order.
    async fn consent_changes(
        &self,
        patient: &AccountId,
        grantee: Option<&AccountId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<ConsentChange>, StoreError>;

    /// Delegations as last set, removed ones included, by patient and delegate.
    async fn delegations(
        &self,
        patient: Option<&AccountId>,
        delegate: Option<&AccountId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<DelegationRow>, StoreError>;

    /// Emergency windows, in the order they were opened.
    async fn emergency_windows(
        &self,
        patient: Option<&AccountId>,
        provider: Option<&AccountId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<EmergencyWindow>, StoreError>;

    /// The providers patients barred from breaking glass (`blocked_only`: those still
    /// barred), by patient and provider.
    async fn emergency_blocks(
        &self,
        patient: Option<&AccountId>,
        blocked_only: bool,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<EmergencyBlockRow>, StoreError>;

    /// The access log (`outcome` `recorded` or `denied` when given), in chain order.
    async fn access_log(
        &self,
        patient: Option<&AccountId>,
        accessor: Option<&AccountId>,
        outcome: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<AccessRow>, StoreError>;

    /// Records in their latest state, by custodian and record id.
    async fn records(
        &self,
        patient: Option<&AccountId>,
        custodian: Option<&AccountId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<RecordRow>, StoreError>;

    /// A record and every version of it, oldest first.
    async fn record(
        &self,
        custodian: &AccountId,
        record_id: &Hash32,
    ) -> Result<Option<(RecordRow, Vec<RecordVersionRow>)>, StoreError>;

    /// Attested claims with their documents, by insurer and claim reference.
    async fn claims(
        &self,
        patient: Option<&AccountId>,
        insurer: Option<&AccountId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<ClaimRow>, StoreError>;

    /// The claims that used a document with this commitment, oldest first.
    async fn claims_using(&self, commitment: &Hash32) -> Result<Vec<ClaimRow>, StoreError>;

    /// Documents used again in another claim for the same patient, in chain order.
    async fn duplicate_claim_uses(
        &self,
        patient: Option<&AccountId>,
        insurer: Option<&AccountId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<DuplicateUseRow>, StoreError>;

    /// Every anchoring of this Merkle root (by any organization), oldest first.
    async fn batches_with_root(&self, root: &Hash32) -> Result<Vec<BatchRow>, StoreError>;

    /// How far indexing got.
    async fn status(&self) -> Result<IndexerStatus, StoreError>;
}

/// Opens the store a database URL names: `sqlite:<path>` (created if missing), a plain file
/// path, or `postgres://user@host:port/database`.
///
/// # Errors
/// As [`SqlStore::open`].
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(SqlStore::open(url).await?))
}
