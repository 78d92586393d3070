//! Projections: what each event means for the tables, one small module per table (or pair
//! of tables that change together). A projection only records its rows and statements as
//! [`Ops`], without a database, so a block is projected on any core; the committer in
//! `sql.rs` owns the transaction and the cursor, and its [`Writer`] sends the `Ops` in as few
//! statements as event order allows. Every statement is portable SQL with `$N` placeholders,
//! so SQLite and PostgreSQL share every line here.

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

use crate::types::ChainEvent;
use crate::writer::Ops;

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
pub(crate) fn project(w: &mut Ops, at: &At<'_>, event: &ChainEvent) {
    use ChainEvent as E;
    match event {
        E::OrgRegistered { .. }
        | E::OrgUpdated { .. }
        | E::OrgSuspended { .. }
        | E::OrgReinstated { .. } => organizations::apply(w, at, event),
        E::RegistrarProposed { .. } | E::RegistrarChanged { .. } | E::PolicyChanged { .. } => {
            registrar::apply(w, at, event)
        }
        E::ContractUpgraded { .. } | E::UpgradeAnnounced { .. } | E::UpgradeCancelled { .. } => {
            contracts::apply(w, at, event)
        }
        E::ConsentGranted { .. } | E::ConsentRevoked { .. } => consents::apply(w, at, event),
        E::DelegateSet { .. } | E::DelegateRemoved { .. } => delegations::apply(w, at, event),
        E::EmergencyAccessOpened { .. }
        | E::EmergencyAccessEnded { .. }
        | E::EmergencyBlockChanged { .. } => emergency::apply(w, at, event),
        E::RecordAnchored { .. } | E::RecordAmended { .. } => records::apply(w, at, event),
        E::BatchAnchored { .. } => batches::apply(w, at, event),
        E::ClaimAttested { .. } | E::DuplicateClaimUse { .. } => claims::apply(w, at, event),
        E::AccessRecorded { .. } | E::AccessDenied { .. } => access_log::apply(w, at, event),
    }
}

/// A `u64` from an event (a time, a length of time) as an SQL integer. The contracts accept
/// any `u64`; values past `i64::MAX` (the year 292,277,026 in milliseconds) mean "never" in
/// practice and are stored as `i64::MAX`, so that no event a caller can craft stops the
/// indexer. The raw event in `events` keeps the exact value.
fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
