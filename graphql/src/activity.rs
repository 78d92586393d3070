//! What happened to a patient: `auditTrail` (everything that touched them, in chain order)
//! and the subscriptions that push it as it is committed.

use std::sync::Arc;

use async_graphql::connection::{Connection, CursorType, Edge, query};
use async_graphql::{Context, Error, Json, Result, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures::Stream;
use medledger_store::{AccountId, EventKey, Store, StoredEvent};
use tokio::sync::broadcast;

use crate::live::{Hub, LazyHub};
use crate::objects::{Consent, time};
use crate::scalars::AccountIdScalar;
use crate::schema::{consent_of, internal, page_size, store};

/// A contract event that touched a patient, as the chain recorded it.
#[derive(SimpleObject, Clone)]
pub struct Activity {
    pub block: u64,
    /// The event's index in its block.
    pub index: u32,
    /// Block time.
    pub at: DateTime<Utc>,
    /// The event's name: ConsentGranted, ConsentRevoked, DelegateSet, DelegateRemoved,
    /// EmergencyAccessOpened, EmergencyAccessEnded, EmergencyBlockChanged, RecordAnchored,
    /// RecordAmended, ClaimAttested, DuplicateClaimUse, AccessRecorded or AccessDenied.
    pub kind: String,
    /// The contract that emitted it.
    pub contract: AccountIdScalar,
    /// The event's fields, as the indexer stored them (accounts SS58, hashes 0x-hex, times
    /// ms since the Unix epoch, sets as bitmaps).
    pub details: Json<serde_json::Value>,
}

impl Activity {
    fn of(e: &StoredEvent) -> Result<Activity> {
        let details = serde_json::from_str(&e.payload).map_err(|error| {
            tracing::error!(%error, block = e.block_number, "a stored event is not JSON");
            Error::new("internal error")
        })?;
        Ok(Activity {
            block: e.block_number,
            index: e.event_index,
            at: time(e.at),
            kind: e.kind.clone(),
            contract: AccountIdScalar(e.contract),
            details: Json(details),
        })
    }
}

/// A position in a patient's audit trail: `block:index` of the last event seen.
pub struct TrailCursor(EventKey);

impl CursorType for TrailCursor {
    type Error = String;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let bad = || format!("{s:?} is not an auditTrail cursor");
        let (block, index) = s.split_once(':').ok_or_else(bad)?;
        // A block number is what a database integer holds.
        let block: i64 = block.parse().map_err(|_| bad())?;
        Ok(TrailCursor((
            u64::try_from(block).map_err(|_| bad())?,
            index.parse().map_err(|_| bad())?,
        )))
    }

    fn encode_cursor(&self) -> String {
        format!("{}:{}", self.0.0, self.0.1)
    }
}

/// What a page of the audit trail says beside its events.
#[derive(SimpleObject)]
pub struct TrailPage {
    /// How many events touched the patient in all.
    total_count: u64,
}

/// `auditTrail(patient, first, after)`.
pub async fn audit_trail(
    store: Arc<dyn Store>,
    patient: AccountId,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Connection<TrailCursor, Activity, TrailPage>> {
    query(
        after,
        None,
        first,
        None,
        |after: Option<TrailCursor>, _, first, _| async move {
            let first = page_size(first)?;
            let total_count = store
                .patient_event_count(&patient)
                .await
                .map_err(internal)?;
            // One more than asked, to tell whether there is a next page.
            let mut events = store
                .patient_events(&patient, after.as_ref().map(|c| c.0), first + 1)
                .await
                .map_err(internal)?;
            let more = events.len() > first;
            events.truncate(first);
            let mut page = Connection::with_additional_fields(
                after.is_some(),
                more,
                TrailPage { total_count },
            );
            for e in &events {
                let key = (e.block_number, e.event_index);
                page.edges
                    .push(Edge::new(TrailCursor(key), Activity::of(e)?));
            }
            Ok::<_, Error>(page)
        },
    )
    .await
}

/// The events of `patient` committed from now on, as `Activity`, ending with an error when
/// the subscriber fell too far behind to be sent them all.
fn patient_events(
    hub: &Hub,
    patient: AccountId,
) -> impl Stream<Item = Result<Arc<StoredEvent>>> + use<> {
    let (rx, interest) = hub.subscribe(patient);
    futures::stream::unfold(Some((rx, interest)), move |state| async move {
        let (mut rx, interest) = state?;
        loop {
            match rx.recv().await {
                Ok(e) if e.patient == Some(patient) => {
                    return Some((Ok(e), Some((rx, interest))));
                }
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    let missed = Error::new(format!(
                        "this subscription fell {n} events behind and ends; read auditTrail \
                         for what it missed and subscribe again"
                    ));
                    return Some((Err(missed), None));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// What happens to `patient` from now on, pushed once the indexer has committed it:
    /// consents granted and revoked, data accessed and access denied, emergency windows
    /// opened and ended, delegates, records and claims. `kinds` keeps only those event names.
    async fn patient_activity(
        &self,
        ctx: &Context<'_>,
        patient: AccountIdScalar,
        kinds: Option<Vec<String>>,
    ) -> Result<impl Stream<Item = Result<Activity>> + use<>> {
        let store = store(ctx).clone();
        let hub = ctx.data_unchecked::<Arc<LazyHub>>().get(&store).await;
        let events = patient_events(hub, patient.0);
        Ok(futures::StreamExt::filter_map(events, move |e| {
            let keep = match &e {
                Ok(e) => kinds.as_ref().is_none_or(|k| k.contains(&e.kind)),
                Err(_) => true,
            };
            async move { keep.then(|| e.and_then(|e| Activity::of(&e))) }
        }))
    }

    /// `patient`'s consent each time one is granted or revoked, as it stood after that block
    /// and with its status then (`asOf` is that block).
    async fn consent_changed(
        &self,
        ctx: &Context<'_>,
        patient: AccountIdScalar,
    ) -> Result<impl Stream<Item = Result<Consent>> + use<>> {
        let store = store(ctx).clone();
        let hub = ctx.data_unchecked::<Arc<LazyHub>>().get(&store).await;
        let events = patient_events(hub, patient.0);
        Ok(futures::StreamExt::filter_map(events, move |e| {
            let store = store.clone();
            async move {
                let e = match e {
                    Ok(e) if e.kind == "ConsentGranted" || e.kind == "ConsentRevoked" => e,
                    Ok(_) => return None,
                    Err(missed) => return Some(Err(missed)),
                };
                let grantee = serde_json::from_str::<serde_json::Value>(&e.payload)
                    .ok()
                    .and_then(|v| v["grantee"].as_str().and_then(|g| g.parse().ok()));
                let Some(grantee) = grantee else {
                    tracing::error!(block = e.block_number, "a consent event without a grantee");
                    return Some(Err(Error::new("internal error")));
                };
                consent_of(&store, &patient.0, &grantee, Some((e.block_number, e.at)))
                    .await
                    .transpose()
            }
        }))
    }
}
