//! The read model's lists as Relay connections (`first` at most 100, `after` an `endCursor`,
//! `totalCount`), and the types of their nodes.

use std::future::Future;

use async_graphql::connection::{Connection, Edge, query};
use async_graphql::{ComplexObject, Enum, Error, Json, Result, SimpleObject};
use chrono::{DateTime, Utc};
use medledger_store::{
    AccessRow, AnchorRef, CATEGORY_NAMES, ClaimRow, ConsentChange, DelegationRow, DuplicateUseRow,
    Page, RecordRow, StoreError,
};

use crate::fhir;
use crate::objects::{Grant, names, time};
use crate::scalars::{AccountIdScalar, HashScalar};
use crate::schema::{internal, page_size};

/// What a page of a list says beside its nodes.
#[derive(SimpleObject)]
pub struct ListInfo {
    /// How many nodes the list holds in all, with its filters.
    pub total_count: u64,
}

/// A store failure as the client sees it: a cursor it sent that no page gave is its mistake,
/// anything else is an internal error.
fn list_error(error: StoreError) -> Error {
    match error {
        StoreError::BadCursor(cursor) => {
            Error::new(format!("{cursor:?} is not an endCursor of this list"))
        }
        other => internal(other),
    }
}

/// One page of a list: `fetch(after, first)` reads it, `node` turns each row into its node.
pub async fn list<T, N, F, Fut>(
    first: Option<i32>,
    after: Option<String>,
    fetch: F,
    node: impl Fn(T) -> N,
) -> Result<Connection<String, N, ListInfo>>
where
    N: async_graphql::OutputType,
    F: FnOnce(Option<String>, usize) -> Fut,
    Fut: Future<Output = Result<Page<T>, StoreError>>,
{
    query(
        after,
        None,
        first,
        None,
        |after: Option<String>, _, first, _| async move {
            let first = page_size(first)?;
            let has_previous = after.is_some();
            let page = fetch(after, first).await.map_err(list_error)?;
            let mut connection = Connection::with_additional_fields(
                has_previous,
                page.more,
                ListInfo {
                    total_count: page.total,
                },
            );
            connection.edges.extend(
                page.rows
                    .into_iter()
                    .map(|(cursor, row)| Edge::new(cursor, node(row))),
            );
            Ok::<_, Error>(connection)
        },
    )
    .await
}

/// A grant or revocation of a consent, in the history of a patient's consents.
#[derive(SimpleObject)]
pub struct ConsentHistoryEntry {
    pub block: u64,
    pub index: u32,
    pub grantee: AccountIdScalar,
    /// True for a revocation.
    pub revoked: bool,
    pub version: u32,
    /// The patient, or the delegate who signed.
    pub by: AccountIdScalar,
    pub at: DateTime<Utc>,
    /// What was granted; null for a revocation.
    pub grant: Option<Grant>,
}

impl From<ConsentChange> for ConsentHistoryEntry {
    fn from(c: ConsentChange) -> Self {
        ConsentHistoryEntry {
            block: c.block_number,
            index: c.event_index,
            grantee: AccountIdScalar(c.grantee),
            revoked: c.grant.is_none(),
            version: c.version,
            by: AccountIdScalar(c.by),
            at: time(c.at),
            grant: Grant::of(&c),
        }
    }
}

/// A patient's delegate, as last set.
#[derive(SimpleObject)]
pub struct Delegation {
    pub patient: AccountIdScalar,
    pub delegate: AccountIdScalar,
    pub expires_at: DateTime<Utc>,
    pub set_block: u64,
    pub set_at: DateTime<Utc>,
    /// When the patient removed the delegate; null while not removed.
    pub removed_block: Option<u64>,
    pub removed_at: Option<DateTime<Utc>>,
}

impl From<DelegationRow> for Delegation {
    fn from(d: DelegationRow) -> Self {
        Delegation {
            patient: AccountIdScalar(d.patient),
            delegate: AccountIdScalar(d.delegate),
            expires_at: time(d.expires_at),
            set_block: d.set_block,
            set_at: time(d.set_at),
            removed_block: d.removed_block,
            removed_at: d.removed_at.map(time),
        }
    }
}

/// Whether an access was let through.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum AccessOutcome {
    /// Allowed, by a consent or an emergency window, and recorded.
    Recorded,
    /// Refused, and recorded as an attempt.
    Denied,
}

impl AccessOutcome {
    pub fn as_stored(self) -> &'static str {
        match self {
            AccessOutcome::Recorded => "recorded",
            AccessOutcome::Denied => "denied",
        }
    }
}

/// A record named by its custodian and id.
#[derive(SimpleObject)]
pub struct RecordKey {
    pub custodian: AccountIdScalar,
    pub record_id: HashScalar,
}

/// An access to a patient's data, or a denied attempt, as the accessor recorded it.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct AccessEntry {
    #[graphql(skip)]
    row: AccessRow,
    pub block: u64,
    pub index: u32,
    pub patient: AccountIdScalar,
    pub accessor: AccountIdScalar,
    pub outcome: AccessOutcome,
    /// The record read, when one was named.
    pub record: Option<RecordKey>,
    pub categories: Vec<String>,
    pub purpose: String,
    /// Let through by an emergency window rather than a consent.
    pub emergency: bool,
    pub at: DateTime<Utc>,
}

impl From<AccessRow> for AccessEntry {
    fn from(a: AccessRow) -> Self {
        AccessEntry {
            row: a.clone(),
            block: a.block_number,
            index: a.event_index,
            patient: AccountIdScalar(a.patient),
            accessor: AccountIdScalar(a.accessor),
            outcome: if a.outcome == "denied" {
                AccessOutcome::Denied
            } else {
                AccessOutcome::Recorded
            },
            record: a.record.map(|(custodian, id)| RecordKey {
                custodian: AccountIdScalar(custodian),
                record_id: HashScalar(id),
            }),
            categories: names(u64::from(a.categories), &CATEGORY_NAMES),
            purpose: a.purpose,
            emergency: a.emergency,
            at: time(a.at),
        }
    }
}

#[ComplexObject]
impl AccessEntry {
    /// The access as an HL7 FHIR R4 `AuditEvent`.
    async fn fhir(&self) -> Json<serde_json::Value> {
        Json(fhir::access(&self.row))
    }
}

/// A record in its latest state. Its category is never on chain, only a salted commitment.
#[derive(SimpleObject)]
pub struct Record {
    pub custodian: AccountIdScalar,
    pub record_id: HashScalar,
    pub patient: AccountIdScalar,
    pub category_commitment: HashScalar,
    pub latest_version: u32,
    pub latest_commitment: HashScalar,
}

impl From<RecordRow> for Record {
    fn from(r: RecordRow) -> Self {
        Record {
            custodian: AccountIdScalar(r.custodian),
            record_id: HashScalar(r.record_id),
            patient: AccountIdScalar(r.patient),
            category_commitment: HashScalar(r.category_commitment),
            latest_version: r.latest_version,
            latest_commitment: HashScalar(r.latest_commitment),
        }
    }
}

/// An anchored document a claim used.
#[derive(SimpleObject)]
pub struct ClaimDocument {
    pub custodian: AccountIdScalar,
    pub commitment: HashScalar,
}

/// An attested insurance claim.
#[derive(SimpleObject)]
pub struct Claim {
    pub insurer: AccountIdScalar,
    pub claim_ref: HashScalar,
    pub patient: AccountIdScalar,
    /// Whether every document was its record's current version when the claim was attested.
    pub all_current: bool,
    pub block: u64,
    pub at: DateTime<Utc>,
    pub documents: Vec<ClaimDocument>,
}

impl From<ClaimRow> for Claim {
    fn from(c: ClaimRow) -> Self {
        Claim {
            insurer: AccountIdScalar(c.insurer),
            claim_ref: HashScalar(c.claim_ref),
            patient: AccountIdScalar(c.patient),
            all_current: c.all_current,
            block: c.block_number,
            at: time(c.at),
            documents: c
                .documents
                .into_iter()
                .map(
                    |AnchorRef {
                         custodian,
                         commitment,
                     }| ClaimDocument {
                        custodian: AccountIdScalar(custodian),
                        commitment: HashScalar(commitment),
                    },
                )
                .collect(),
        }
    }
}

/// A document of a claim that an earlier claim of the same patient used, itself or through
/// another version of its record: the duplicate signal.
#[derive(SimpleObject)]
pub struct DuplicateClaimUse {
    pub block: u64,
    pub index: u32,
    pub patient: AccountIdScalar,
    /// The insurer of the later claim.
    pub insurer: AccountIdScalar,
    pub claim_ref: HashScalar,
    /// The later claim's document.
    pub commitment: HashScalar,
    /// The earlier claim: this insurer's own when `reuse` is SAME_INSURER, else the first
    /// insurer's.
    pub first_insurer: AccountIdScalar,
    pub first_claim_ref: HashScalar,
    /// SAME_INSURER: claimed before by the same insurer (possibly billed twice).
    /// OTHER_INSURER: claimed before by other insurers only (a document shared by two
    /// payers, as in coordination of benefits).
    pub reuse: ClaimReuse,
    /// The same document, or another version of the same record.
    pub overlap: ClaimOverlap,
    pub at: DateTime<Utc>,
}

/// Who claimed a reused document before.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ClaimReuse {
    SameInsurer,
    OtherInsurer,
}

/// What a reused claim document has in common with the earlier claim's.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ClaimOverlap {
    /// The very same anchored document.
    SameDocument,
    /// Another version of the same record (same custodian and record id).
    SameRecord,
}

impl From<DuplicateUseRow> for DuplicateClaimUse {
    fn from(d: DuplicateUseRow) -> Self {
        DuplicateClaimUse {
            block: d.block_number,
            index: d.event_index,
            patient: AccountIdScalar(d.patient),
            insurer: AccountIdScalar(d.insurer),
            claim_ref: HashScalar(d.claim_ref),
            commitment: HashScalar(d.commitment),
            first_insurer: AccountIdScalar(d.first_insurer),
            first_claim_ref: HashScalar(d.first_claim_ref),
            reuse: if d.reuse == "SameInsurer" {
                ClaimReuse::SameInsurer
            } else {
                ClaimReuse::OtherInsurer
            },
            overlap: if d.overlap == "SameRecord" {
                ClaimOverlap::SameRecord
            } else {
                ClaimOverlap::SameDocument
            },
            at: time(d.at),
        }
    }
}
