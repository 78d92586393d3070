//! The medledger GraphQL API: a read-only view of the read model for apps, patients and
//! insurers.
//!
//! It reads the [`Store`] and nothing else; it never talks to the chain (no subxt here) and
//! never writes. Database failures are logged and answered as "internal error", so no
//! internals leak to clients.

mod rule;
mod scalars;
mod schema;
mod server;

pub use scalars::{AccountIdScalar, HashScalar};
pub use schema::{MedledgerSchema, QueryRoot, build_schema};
pub use server::{router, serve};
