use std::sync::Arc;

use async_graphql::connection::{Connection, Edge, query};
use async_graphql::{Context, EmptyMutation, Error, Json, Object, Result, Schema, SimpleObject};
use chrono::{DateTime, Utc};
use medledger_store::{AccountId, ClaimRow, ROLE_NAMES, Store, StoreError, Upto};

use crate::activity::{Activity, SubscriptionRoot, TrailCursor, TrailPage, audit_trail};
use crate::authorization::{Authorization, authorization};
use crate::inclusion::{self, Inclusion};
use crate::lists::{
    AccessEntry, AccessOutcome, Claim, ConsentHistoryEntry, Delegation, DuplicateClaimUse,
    ListInfo, Record, list,
};
use crate::live::LazyHub;
use crate::objects::{
    Access, Anchor, AsOf, Consent, ConsentStatus, DataCategory, EmergencyBlock, EmergencyWindow,
    HEALTHY_LAG, IndexerStatus, Organization, PendingUpgrade, Purpose, RecordDetail,
    WatchedContract, time,
};
use crate::rule::{Missing, Question, Standing, consents_at, standing};
use crate::scalars::{AccountIdScalar, HashScalar};

/// The schema type served by the API.
pub type MedledgerSchema = Schema<QueryRoot, EmptyMutation, SubscriptionRoot>;

/// The most items one page of a connection holds, and how many when `first` is not given.
pub const MAX_PAGE: usize = 100;
pub(crate) const DEFAULT_PAGE: usize = 50;

/// The page size a list was asked for: `first`, or [`DEFAULT_PAGE`]; more than [`MAX_PAGE`]
/// is refused.
pub(crate) fn page_size(first: Option<usize>) -> Result<usize> {
    let first = first.unwrap_or(DEFAULT_PAGE);
    if first > MAX_PAGE {
        return Err(Error::new(format!(
            "first may be at most {MAX_PAGE}, not {first}"
        )));
    }
    Ok(first)
}

/// The deepest query answered: the introspection query of graphql-js (what GraphiQL, codegen
/// and client libraries send) nests 15 levels, so tools work; the schema's own types nest
/// far less, so deeper queries are abuse.
pub const MAX_DEPTH: usize = 15;
/// The most complex query answered (graphql-js's introspection query costs about 300).
pub const MAX_COMPLEXITY: usize = 1_000;

/// Builds the schema over `store`, with depth and complexity limits.
pub fn build_schema(store: Arc<dyn Store>) -> MedledgerSchema {
    Schema::build(QueryRoot, EmptyMutation, SubscriptionRoot)
        .data(store)
        .data(Arc::new(LazyHub::default()))
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

pub(crate) fn store<'a>(ctx: &'a Context<'_>) -> &'a Arc<dyn Store> {
    // The schema is only ever built by `build_schema`, which always adds the store.
    ctx.data_unchecked::<Arc<dyn Store>>()
}

/// Logs a store failure and answers with a message that leaks nothing.
pub(crate) fn internal(error: StoreError) -> Error {
    tracing::error!(%error, "store failure while answering a query");
    Error::new("internal error")
}

/// Where a history read says the mirror stood, as `asOf`.
fn as_of_position(p: medledger_store::Position) -> AsOf {
    AsOf {
        block: p.block,
        time: time(p.time),
        lag: p.finalized_head.saturating_sub(p.block),
    }
}

fn not_indexed_yet() -> Error {
    Error::new("the indexer has not indexed any block yet; ask again later")
}

fn millis(t: DateTime<Utc>) -> u64 {
    u64::try_from(t.timestamp_millis()).unwrap_or(0)
}

fn status_of(standing: Standing) -> ConsentStatus {
    match standing {
        Standing::InForce(..) => ConsentStatus::Active,
        Standing::Not(Missing::Revoked) => ConsentStatus::Revoked,
        Standing::Not(Missing::NotYetValid) => ConsentStatus::Pending,
        Standing::Not(Missing::Expired) => ConsentStatus::Expired,
        Standing::Not(Missing::DelegationEnded) => ConsentStatus::Lapsed,
        Standing::Not(_) => ConsentStatus::Suspended,
    }
}

/// `patient`'s consent to `grantee` as it stood after block `at` (now when `None`; the row,
/// its status and where the mirror stands read in one statement, so that they agree), or
/// `None` when there was none.
pub(crate) async fn consent_of(
    store: &Arc<dyn Store>,
    patient: &AccountId,
    grantee: &AccountId,
    at: Option<(u64, u64)>,
) -> Result<Option<Consent>> {
    let upto = at.map_or(Upto::Latest, |(block, _)| Upto::Block(block));
    let history = store
        .history(patient, Some(grantee), upto)
        .await
        .map_err(internal)?;
    let mirror = history.position.ok_or_else(not_indexed_yet)?;
    let as_of = match at {
        Some((block, ms)) => AsOf {
            block,
            time: time(ms),
            lag: mirror.finalized_head.saturating_sub(block),
        },
        None => as_of_position(mirror),
    };
    let row = consents_at(&history, patient).into_iter().next();
    Ok(row.map(|row| Consent {
        status: status_of(standing(&history, patient, grantee, millis(as_of.time))),
        row,
        as_of,
    }))
}

/// What a page of consents says beside its consents.
#[derive(SimpleObject)]
pub struct ConsentPage {
    /// How many consents there are in all.
    total_count: usize,
    /// The block and chain time the statuses are judged at; null before the indexer's first
    /// block.
    as_of: Option<AsOf>,
}

pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// The consents `patient` has granted, one per grantee (revoked ones included), most
    /// recently changed first, each with its status at the mirror's chain time.
    async fn consents(
        &self,
        ctx: &Context<'_>,
        patient: AccountIdScalar,
        #[graphql(desc = "At most this many (default 50, at most 100).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the page before.")] after: Option<String>,
    ) -> Result<Connection<usize, Consent, ConsentPage>> {
        // A cursor of this list is a position; anything else gets the same sentence as the
        // other lists' bad cursors, not the parser's.
        if let Some(a) = after.as_deref().filter(|a| a.parse::<usize>().is_err()) {
            return Err(Error::new(format!(
                "{a:?} is not an endCursor of this list"
            )));
        }
        let store = store(ctx).clone();
        query(after, None, first, None, |after, _, first, _| async move {
            let first = page_size(first)?;
            // The rows, their statuses and where the mirror stands come from one read, so
            // that they agree.
            let history = store
                .history(&patient.0, None, Upto::Latest)
                .await
                .map_err(internal)?;
            let as_of = history.position.map(as_of_position);
            let rows = consents_at(&history, &patient.0);
            let total_count = rows.len();
            let start = after.map_or(0, |a| a + 1);
            let mut page =
                Connection::with_additional_fields(start > 0, start + first < total_count, {
                    ConsentPage { total_count, as_of }
                });
            if let Some(as_of) = as_of {
                let now = millis(as_of.time);
                page.edges
                    .extend(rows.into_iter().enumerate().skip(start).take(first).map(
                        |(i, row)| {
                            let status =
                                status_of(standing(&history, &row.patient, &row.grantee, now));
                            Edge::new(i, Consent { row, status, as_of })
                        },
                    ));
            }
            Ok::<_, Error>(page)
        })
        .await
    }

    /// The current consent `patient` gave `grantee`, with its status at the mirror's chain
    /// time; null when there never was one.
    async fn consent(
        &self,
        ctx: &Context<'_>,
        patient: AccountIdScalar,
        grantee: AccountIdScalar,
    ) -> Result<Option<Consent>> {
        consent_of(store(ctx), &patient.0, &grantee.0, None).await
    }

    /// Everything that touched `patient`, in chain order: consents granted and revoked,
    /// delegates, emergency windows, records anchored and amended, claims, data accessed and
    /// access denied. A Relay connection (`first` at most 100).
    async fn audit_trail(
        &self,
        ctx: &Context<'_>,
        patient: AccountIdScalar,
        #[graphql(desc = "At most this many (default 50, at most 100).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the page before.")] after: Option<String>,
    ) -> Result<Connection<TrailCursor, Activity, TrailPage>> {
        audit_trail(store(ctx).clone(), patient.0, first, after).await
    }

    /// Whether `grantee` may use `patient`'s data of `category` for `purpose` with `access`,
    /// exactly as the consent registry's `is_authorized` judges it: now (the mirror's chain
    /// time), at an instant (`at`) or at a block (`atBlock`), and why.
    #[allow(clippy::too_many_arguments)]
    async fn authorization(
        &self,
        ctx: &Context<'_>,
        patient: AccountIdScalar,
        grantee: AccountIdScalar,
        category: DataCategory,
        purpose: Purpose,
        access: Access,
        #[graphql(desc = "Judge at this instant instead of now.")] at: Option<DateTime<Utc>>,
        #[graphql(desc = "Judge at the end of this block instead of now.")] at_block: Option<u64>,
    ) -> Result<Authorization> {
        let store = store(ctx);
        let q = Question {
            category: category.into(),
            purpose: purpose.into(),
            access: access.into(),
        };
        let upto = match (at, at_block) {
            (Some(_), Some(_)) => return Err(Error::new("give `at` or `atBlock`, not both")),
            (None, None) => Upto::Latest,
            (Some(t), None) => Upto::Time(millis(t)),
            (None, Some(b)) => Upto::Block(b),
        };
        // Before the mirror's first block nothing was mirrored: no answer is better than the
        // empty history's "not registered".
        if at.is_some() || at_block.is_some() {
            let status = store.status().await.map_err(internal)?;
            if let Some((first, first_time)) = status.first_block {
                let before = match (at, at_block) {
                    (Some(t), _) => millis(t) < first_time,
                    (None, Some(b)) => b < first,
                    (None, None) => false,
                };
                if before {
                    return Err(Error::new(format!(
                        "cannot judge before the mirror's first block #{first} ({}): nothing \
                         earlier was mirrored (the contracts had no consents yet)",
                        time(first_time).to_rfc3339()
                    )));
                }
            }
        }
        // The history and where the mirror stands come from one read.
        let history = store
            .history(&patient.0, Some(&grantee.0), upto)
            .await
            .map_err(internal)?;
        let as_of = history
            .position
            .map(as_of_position)
            .ok_or_else(not_indexed_yet)?;
        let reached = || {
            format!(
                "the mirror has reached block {} ({}) only",
                as_of.block,
                as_of.time.to_rfc3339()
            )
        };
        let (now, judged_block) = match (at, at_block) {
            (Some(t), _) if t > as_of.time => {
                return Err(Error::new(format!(
                    "cannot judge at {}: {}",
                    t.to_rfc3339(),
                    reached()
                )));
            }
            (Some(t), _) => (millis(t), None),
            (None, Some(b)) if b > as_of.block => {
                return Err(Error::new(format!(
                    "cannot judge at block {b}: {}",
                    reached()
                )));
            }
            (None, Some(b)) => {
                let Some(t) = store.block_time(b).await.map_err(internal)? else {
                    return Err(Error::new(format!(
                        "block {b} carried no medledger events, so the mirror does not know its \
                         time; ask with `at` instead"
                    )));
                };
                (t, Some(b))
            }
            (None, None) => (millis(as_of.time), Some(as_of.block)),
        };
        Ok(authorization(
            &history,
            &patient.0,
            &grantee.0,
            &q,
            now,
            judged_block,
            as_of,
        ))
    }

    /// Where `commitment` was anchored: one anchor per custodian that anchored it (give
    /// `custodian`, as a receipt names it, to ask for that one), empty when it never was.
    async fn verify_commitment(
        &self,
        ctx: &Context<'_>,
        commitment: HashScalar,
        custodian: Option<AccountIdScalar>,
    ) -> Result<Vec<Anchor>> {
        let store = store(ctx);
        let rows = store
            .record_versions(&commitment.0)
            .await
            .map_err(internal)?;
        let claims = store.claims_using(&commitment.0).await.map_err(internal)?;
        Ok(rows
            .into_iter()
            .filter(|r| custodian.as_ref().is_none_or(|c| c.0 == r.custodian))
            .map(|r| {
                let used: Vec<ClaimRow> = claims
                    .iter()
                    .filter(|c| {
                        c.documents
                            .iter()
                            .any(|d| d.custodian == r.custodian && d.commitment == r.commitment)
                    })
                    .cloned()
                    .collect();
                Anchor(r, used, None)
            })
            .collect())
    }

    /// Whether a proof bundle holds: its path leads from the document's commitment to the
    /// root, and the root was anchored in the block it names (and by whom, when).
    async fn verify_inclusion(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A proof bundle, as `medledger batch anchor` writes it.")] bundle: Json<
            serde_json::Value,
        >,
    ) -> Result<Inclusion> {
        inclusion::verify(store(ctx), bundle).await
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
        Ok(row.map(Organization::from))
    }

    /// Registered organizations (of `role` when given: Provider, Insurer, Researcher,
    /// Auditor or App; whose name contains `name` when given, ignoring case), by account.
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        role: Option<String>,
        #[graphql(desc = "Part of the organization's name, e.g. \"riverside\".")] name: Option<
            String,
        >,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Organization, ListInfo>> {
        if let Some(role) = role.as_ref().filter(|r| !ROLE_NAMES.contains(&r.as_str())) {
            return Err(Error::new(format!(
                "{role:?} is not a role; use one of {}",
                ROLE_NAMES.join(", ")
            )));
        }
        if name
            .as_ref()
            .is_some_and(|n| n.trim().is_empty() || n.len() > 64)
        {
            return Err(Error::new(
                "name must be 1 to 64 characters of the organization's name",
            ));
        }
        let store = store(ctx);
        list(
            first,
            after,
            |after, n| async move {
                store
                    .organizations(
                        role.as_deref(),
                        name.as_deref().map(str::trim),
                        after.as_deref(),
                        n,
                    )
                    .await
            },
            Organization::from,
        )
        .await
    }

    /// Every grant and revocation of `patient`'s consents (to `grantee` when given), in
    /// chain order.
    async fn consent_history(
        &self,
        ctx: &Context<'_>,
        patient: AccountIdScalar,
        grantee: Option<AccountIdScalar>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, ConsentHistoryEntry, ListInfo>> {
        let store = store(ctx);
        let grantee = grantee.map(|g| g.0);
        list(
            first,
            after,
            |after, n| async move {
                store
                    .consent_changes(&patient.0, grantee.as_ref(), after.as_deref(), n)
                    .await
            },
            ConsentHistoryEntry::from,
        )
        .await
    }

    /// Delegates as last set (removed ones included), of `patient` and/or of `delegate`.
    async fn delegations(
        &self,
        ctx: &Context<'_>,
        patient: Option<AccountIdScalar>,
        delegate: Option<AccountIdScalar>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Delegation, ListInfo>> {
        let store = store(ctx);
        let (patient, delegate) = (patient.map(|a| a.0), delegate.map(|a| a.0));
        list(
            first,
            after,
            |after, n| async move {
                store
                    .delegations(patient.as_ref(), delegate.as_ref(), after.as_deref(), n)
                    .await
            },
            Delegation::from,
        )
        .await
    }

    /// Emergency windows (on `patient` and/or by `provider`), in the order they were opened.
    async fn emergency_windows(
        &self,
        ctx: &Context<'_>,
        patient: Option<AccountIdScalar>,
        provider: Option<AccountIdScalar>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, EmergencyWindow, ListInfo>> {
        let store = store(ctx);
        let (patient, provider) = (patient.map(|a| a.0), provider.map(|a| a.0));
        list(
            first,
            after,
            |after, n| async move {
                store
                    .emergency_windows(patient.as_ref(), provider.as_ref(), after.as_deref(), n)
                    .await
            },
            EmergencyWindow::from,
        )
        .await
    }

    /// The providers `patient` barred from breaking glass (with `blockedOnly: false`, also
    /// those barred once and allowed again), by provider.
    async fn emergency_blocks(
        &self,
        ctx: &Context<'_>,
        patient: AccountIdScalar,
        #[graphql(default = true)] blocked_only: bool,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, EmergencyBlock, ListInfo>> {
        let store = store(ctx);
        list(
            first,
            after,
            |after, n| async move {
                store
                    .emergency_blocks(Some(&patient.0), blocked_only, after.as_deref(), n)
                    .await
            },
            EmergencyBlock::from,
        )
        .await
    }

    /// The access log: accesses organizations recorded and denied attempts (of `patient`,
    /// by `accessor`, with `outcome`, as given), in chain order.
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        patient: Option<AccountIdScalar>,
        accessor: Option<AccountIdScalar>,
        outcome: Option<AccessOutcome>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, AccessEntry, ListInfo>> {
        let store = store(ctx);
        let (patient, accessor) = (patient.map(|a| a.0), accessor.map(|a| a.0));
        list(
            first,
            after,
            |after, n| async move {
                store
                    .access_log(
                        patient.as_ref(),
                        accessor.as_ref(),
                        outcome.map(AccessOutcome::as_stored),
                        after.as_deref(),
                        n,
                    )
                    .await
            },
            AccessEntry::from,
        )
        .await
    }

    /// Records in their latest state (of `patient` and/or held by `custodian`).
    async fn records(
        &self,
        ctx: &Context<'_>,
        patient: Option<AccountIdScalar>,
        custodian: Option<AccountIdScalar>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Record, ListInfo>> {
        let store = store(ctx);
        let (patient, custodian) = (patient.map(|a| a.0), custodian.map(|a| a.0));
        list(
            first,
            after,
            |after, n| async move {
                store
                    .records(patient.as_ref(), custodian.as_ref(), after.as_deref(), n)
                    .await
            },
            Record::from,
        )
        .await
    }

    /// A record (ids live in their custodian's key space) and its chain of versions; null
    /// when there is none.
    async fn record(
        &self,
        ctx: &Context<'_>,
        custodian: AccountIdScalar,
        record_id: HashScalar,
    ) -> Result<Option<RecordDetail>> {
        let store = store(ctx);
        let Some((record, versions)) = store
            .record(&custodian.0, &record_id.0)
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        Ok(Some(RecordDetail {
            record: Record::from(record),
            versions: versions
                .iter()
                .map(|v| {
                    // The version this one amended: the one it superseded.
                    let previous = versions
                        .iter()
                        .find(|p| p.superseded_by == Some(v.commitment))
                        .map(|p| p.commitment);
                    Anchor(v.clone(), Vec::new(), previous)
                })
                .collect(),
        }))
    }

    /// Attested insurance claims with their documents (of `patient` and/or by `insurer`).
    async fn claims(
        &self,
        ctx: &Context<'_>,
        patient: Option<AccountIdScalar>,
        insurer: Option<AccountIdScalar>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Claim, ListInfo>> {
        let store = store(ctx);
        let (patient, insurer) = (patient.map(|a| a.0), insurer.map(|a| a.0));
        list(
            first,
            after,
            |after, n| async move {
                store
                    .claims(patient.as_ref(), insurer.as_ref(), after.as_deref(), n)
                    .await
            },
            Claim::from,
        )
        .await
    }

    /// Documents used again in another claim for the same patient (of `patient` and/or by
    /// the later claim's `insurer`), in chain order.
    async fn duplicate_claim_uses(
        &self,
        ctx: &Context<'_>,
        patient: Option<AccountIdScalar>,
        insurer: Option<AccountIdScalar>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, DuplicateClaimUse, ListInfo>> {
        let store = store(ctx);
        let (patient, insurer) = (patient.map(|a| a.0), insurer.map(|a| a.0));
        list(
            first,
            after,
            |after, n| async move {
                store
                    .duplicate_claim_uses(patient.as_ref(), insurer.as_ref(), after.as_deref(), n)
                    .await
            },
            DuplicateClaimUse::from,
        )
        .await
    }

    /// How far indexing got, and what is mirrored.
    async fn indexer_status(&self, ctx: &Context<'_>) -> Result<IndexerStatus> {
        let store = store(ctx);
        let status = store.status().await.map_err(internal)?;
        let contracts = store.contracts().await.map_err(internal)?;
        let indexed = status.cursor.map(|c| c.number);
        Ok(IndexerStatus {
            indexed_block: indexed,
            indexed_hash: status.cursor.map(|c| HashScalar(c.hash)),
            indexed_time: status.cursor.and(status.cursor_time).map(time),
            finalized_head: status.finalized_head,
            lag: status
                .finalized_head
                .map(|head| head.saturating_sub(indexed.unwrap_or(0))),
            genesis_hash: status.genesis_hash.map(HashScalar),
            contracts: contracts
                .into_iter()
                .map(|c| WatchedContract {
                    name: c.name,
                    address: AccountIdScalar(c.address),
                    code_hash: HashScalar(c.code_hash),
                    storage_version: c.storage_version,
                    updated_block: c.updated_block,
                    pending_upgrade: c.pending_upgrade.map(|(code_hash, effective_at)| {
                        PendingUpgrade {
                            code_hash: HashScalar(code_hash),
                            effective_at: time(effective_at),
                        }
                    }),
                })
                .collect(),
            undecoded_events: status.undecoded_events,
            healthy: indexed.is_some()
                && status
                    .finalized_head
                    .is_none_or(|head| head.saturating_sub(indexed.unwrap_or(0)) <= HEALTHY_LAG),
        })
    }
}
