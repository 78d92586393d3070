//! Projections: what each event means for the tables, one small module per table (or pair
//! of tables that change together). The committer in `sql.rs` owns the transaction and the
//! cursor; a projection only hands its rows and statements to the transaction's
//! [`Writer`], which sends them in as few statements as event order allows. Every statement
//! is portable SQL with `$N` placeholders, so SQLite and PostgreSQL share every line here.

mod access_log;
mod batches;
mod claims;
mod consents;
mod contracts;
mod delegations;
mod emergency;
mod organizations;
mod records;
mod registrar;

use crate::error::StoreError;
use crate::types::ChainEvent;
use crate::writer::Writer;

/// Where an event stands: its block, its index in the block, the block's time and the
/// contract that emitted it.
pub(crate) struct At<'a> {
    pub block: i64,
    pub index: i64,
    /// Block time, ms since the Unix epoch.
    pub time: i64,
    /// The emitting contract's address, as stored.
    pub contract: &'a str,
}

/// Hands `event` to the projection of the tables it changes.
pub(crate) async fn project(
    w: &mut Writer<'_>,
    at: &At<'_>,
    event: &ChainEvent,
) -> Result<(), StoreError> {
    use ChainEvent as E;
    match event {
        E::OrgRegistered { .. } | E::OrgSuspended { .. } | E::OrgReinstated { .. } => {
            organizations::apply(w, at, event).await
        }
        E::RegistrarProposed { .. } | E::RegistrarChanged { .. } | E::PolicyChanged { .. } => {
            registrar::apply(w, at, event);
            Ok(())
        }
        E::ContractUpgraded { .. } => contracts::apply(w, at, event).await,
        E::ConsentGranted { .. } | E::ConsentRevoked { .. } => consents::apply(w, at, event).await,
        E::DelegateSet { .. } | E::DelegateRemoved { .. } => delegations::apply(w, at, event).await,
        E::EmergencyAccessOpened { .. }
        | E::EmergencyAccessEnded { .. }
        | E::EmergencyBlockChanged { .. } => emergency::apply(w, at, event).await,
        E::RecordAnchored { .. } | E::RecordAmended { .. } => records::apply(w, at, event).await,
        E::BatchAnchored { .. } => {
            batches::apply(w, at, event);
            Ok(())
        }
        E::ClaimAttested { .. } | E::DuplicateClaimUse { .. } => {
            claims::apply(w, at, event);
            Ok(())
        }
        E::AccessRecorded { .. } | E::AccessDenied { .. } => {
            access_log::apply(w, at, event);
            Ok(())
        }
    }
}

/// A `u64` from an event (a time, a length of time) as an SQL integer. The contracts accept
/// any `u64`; values past `i64::MAX` (the year 292,277,026 in milliseconds) mean "never" in
/// practice and are stored as `i64::MAX`, so that no event a caller can craft stops the
/// indexer. The raw event in `events` keeps the exact value.
fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
