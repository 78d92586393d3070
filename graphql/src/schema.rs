use std::sync::Arc;

use async_graphql::{
    Context, EmptyMutation, EmptySubscription, Enum, Error, Object, Result, Schema, SimpleObject,
};
use chrono::{DateTime, TimeZone, Utc};
use medledger_store::{
    ACCESS_NAMES, CATEGORY_NAMES, ConsentRow, PURPOSE_NAMES, RecordVersionRow, Store, StoreError,
    names_of_bits,
};

use crate::scalars::{AccountIdScalar, HashScalar};

/// The schema type served by the API.
pub type MedledgerSchema = Schema<QueryRoot, EmptyMutation, EmptySubscription>;

/// Builds the schema over `store`, with depth and complexity limits.
pub fn build_schema(store: Arc<dyn Store>) -> MedledgerSchema {
    Schema::build(QueryRoot, EmptyMutation, EmptySubscription)
        .data(store)
        .limit_depth(10)
        .limit_complexity(1_000)
        .finish()
}

fn store<'a>(ctx: &'a Context<'_>) -> &'a Arc<dyn Store> {
    // The schema is only ever built by `build_schema`, which always adds the store.
    ctx.data_unchecked::<Arc<dyn Store>>()
}

/// Logs a store failure and answers with a message that leaks nothing.
fn internal(error: StoreError) -> Error {
    tracing::error!(%error, "store failure while answering a query");
    Error::new("internal error")
}

fn time(ms: u64) -> DateTime<Utc> {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn names(bits: u64, all: &[&'static str]) -> Vec<String> {
    names_of_bits(bits, all)
        .into_iter()
        .map(String::from)
        .collect()
}

/// Where a consent stands at the time of the query.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ConsentStatus {
    /// Granted and in its validity window.
    Active,
    /// Granted, but its window has not begun.
    Pending,
    /// Its window has ended.
    Expired,
    /// Revoked by the patient.
    Revoked,
}

/// The current consent a patient gave one grantee.
pub struct Consent(ConsentRow);

#[Object]
impl Consent {
    async fn patient(&self) -> AccountIdScalar {
        AccountIdScalar(self.0.patient)
    }
    async fn grantee(&self) -> AccountIdScalar {
        AccountIdScalar(self.0.grantee)
    }
    /// Data categories covered (e.g. "LabResults").
    async fn categories(&self) -> Vec<String> {
        names(u64::from(self.0.categories), &CATEGORY_NAMES)
    }
    /// Purposes of use covered (e.g. "Treatment").
    async fn purposes(&self) -> Vec<String> {
        names(u64::from(self.0.purposes), &PURPOSE_NAMES)
    }
    /// "Read" and/or "Write".
    async fn access(&self) -> Vec<String> {
        names(u64::from(self.0.access), &ACCESS_NAMES)
    }
    async fn valid_from(&self) -> DateTime<Utc> {
        time(self.0.valid_from)
    }
    /// When the consent ends; null for no end.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at.map(time)
    }
    /// Commitment to the off-chain consent document.
    async fn terms_hash(&self) -> HashScalar {
        HashScalar(self.0.terms_hash)
    }
    /// 1 for the first grant of the pair, bumped by each replacement.
    async fn version(&self) -> u32 {
        self.0.version
    }
    async fn revoked(&self) -> bool {
        self.0.revoked
    }
    /// Status now, judged against the current time.
    async fn status(&self) -> ConsentStatus {
        let now = u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0);
        let c = &self.0;
        if c.revoked {
            ConsentStatus::Revoked
        } else if now < c.valid_from {
            ConsentStatus::Pending
        } else if c.expires_at.is_some_and(|end| end <= now) {
            ConsentStatus::Expired
        } else {
            ConsentStatus::Active
        }
    }
    /// Who signed the last change.
    async fn updated_by(&self) -> AccountIdScalar {
        AccountIdScalar(self.0.updated_by)
    }
    async fn updated_block(&self) -> u64 {
        self.0.updated_block
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        time(self.0.updated_at)
    }
}

/// Where and when a commitment was anchored.
pub struct Anchor(RecordVersionRow);

#[Object]
impl Anchor {
    async fn commitment(&self) -> HashScalar {
        HashScalar(self.0.commitment)
    }
    async fn record_id(&self) -> HashScalar {
        HashScalar(self.0.record_id)
    }
    async fn version(&self) -> u32 {
        self.0.version
    }
    async fn patient(&self) -> AccountIdScalar {
        AccountIdScalar(self.0.patient)
    }
    /// Who anchored it: the provider holding the record, or the patient.
    async fn custodian(&self) -> AccountIdScalar {
        AccountIdScalar(self.0.custodian)
    }
    /// The record's salted category commitment: the category itself is never on chain;
    /// the receipt holder opens it with the category salt.
    async fn category_commitment(&self) -> HashScalar {
        HashScalar(self.0.category_commitment)
    }
    async fn block_number(&self) -> u64 {
        self.0.block_number
    }
    async fn anchored_at(&self) -> DateTime<Utc> {
        time(self.0.anchored_at)
    }
    /// The commitment of the next version, once amended.
    async fn superseded_by(&self) -> Option<HashScalar> {
        self.0.superseded_by.map(HashScalar)
    }
}

/// How far the mirror is behind the chain.
#[derive(SimpleObject)]
pub struct IndexerStatus {
    /// The last block indexed; null before the first one.
    indexed_block: Option<u64>,
    indexed_hash: Option<HashScalar>,
    /// The chain's finalized head when the indexer last looked.
    finalized_head: Option<u64>,
    /// Finalized blocks not indexed yet.
    lag: Option<u64>,
    /// The genesis hash of the chain mirrored; null before the indexer first started.
    genesis_hash: Option<HashScalar>,
    /// Events of the watched contracts that did not decode, kept raw for audit.
    undecoded_events: u64,
}

/// A registered organization.
#[derive(SimpleObject)]
pub struct Organization {
    account: AccountIdScalar,
    role: String,
    flags: u32,
    active: bool,
    registered_block: u64,
}

pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// The consents `patient` has granted, one per grantee (revoked ones included), most
    /// recently changed first.
    async fn consents(&self, ctx: &Context<'_>, patient: AccountIdScalar) -> Result<Vec<Consent>> {
        let rows = store(ctx)
            .consents_of_patient(&patient.0)
            .await
            .map_err(internal)?;
        Ok(rows.into_iter().map(Consent).collect())
    }

    /// Where `commitment` was anchored: one anchor per custodian that anchored it (give
    /// `custodian`, as a receipt names it, to ask for that one), empty when it never was.
    async fn verify_commitment(
        &self,
        ctx: &Context<'_>,
        commitment: HashScalar,
        custodian: Option<AccountIdScalar>,
    ) -> Result<Vec<Anchor>> {
        let rows = store(ctx)
            .record_versions(&commitment.0)
            .await
            .map_err(internal)?;
        Ok(rows
            .into_iter()
            .filter(|r| custodian.as_ref().is_none_or(|c| c.0 == r.custodian))
            .map(Anchor)
            .collect())
    }

    /// The organization registered under `account`, if any.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        account: AccountIdScalar,
    ) -> Result<Option<Organization>> {
        let row = store(ctx)
            .organization(&account.0)
            .await
            .map_err(internal)?;
        Ok(row.map(|o| Organization {
            account: AccountIdScalar(o.account),
            role: o.role,
            flags: o.flags,
            active: o.active,
            registered_block: o.registered_block,
        }))
    }

    /// How far indexing got.
    async fn indexer_status(&self, ctx: &Context<'_>) -> Result<IndexerStatus> {
        let status = store(ctx).status().await.map_err(internal)?;
        let indexed = status.cursor.map(|c| c.number);
        Ok(IndexerStatus {
            indexed_block: indexed,
            indexed_hash: status.cursor.map(|c| HashScalar(c.hash)),
            finalized_head: status.finalized_head,
            lag: status
                .finalized_head
                .map(|head| head.saturating_sub(indexed.unwrap_or(0))),
            genesis_hash: status.genesis_hash.map(HashScalar),
            undecoded_events: status.undecoded_events,
        })
    }
}
