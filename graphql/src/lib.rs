//! The medledger GraphQL API: a read-only view of the read model for apps, patients and
//! insurers.
//!
//! It reads the [`Store`] and nothing else; it never talks to the chain (no subxt here) and
//! never writes. Every judgement (a consent's status, an authorization) is made at the chain
//! time the mirror has reached, by the consent registry's own rule re-judged from the
//! mirror's history, and says which block that is; never by the server's clock. The same
//! rule answers CDS Hooks consent consults (`/cds-services`, LEAP's decision service shape)
//! for enforcement points other than medledger's own. Database
//! failures are logged and answered as "internal error", so no internals leak to clients.

mod activity;
mod authorization;
mod cds;
mod fhir;
mod inclusion;
mod lists;
mod live;
mod objects;
mod rule;
mod scalars;
mod schema;
mod server;

pub use scalars::{AccountIdScalar, HashScalar};
pub use schema::{MedledgerSchema, QueryRoot, build_schema};
pub use server::{Cors, HttpOptions, router, serve};
