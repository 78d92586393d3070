//! The API over seeded stores: every query field and its errors (`schema.execute`), the
//! checked-in SDL, and the HTTP server's routes and limits against a running server.

mod authorization;
mod cds;
mod consents;
mod fhir;
mod helpers;
mod http;
mod inclusion;
mod lists;
mod live;
mod lookups;
mod schema;
