//! The medledger indexer: follows the chain's finalized blocks and mirrors the medledger
//! contracts' events into the [`Store`](medledger_store::Store).
//!
//! Only finalized blocks are read, so no reorg can ever reach the database. Each block's
//! `ContractEmitted` events from the deployed contract addresses are matched by their
//! signature topic and decoded with the very `medledger-events` types the contracts emit;
//! unknown or undecodable events are counted and logged, never fatal. A block's rows and the
//! cursor are written in one transaction, so a restart resumes exactly where it stopped.
//!
//! The indexer is the only writer of the store. It serves nothing.

mod decode;
mod follow;
mod source;

pub use decode::{DecodeError, decode_event};
pub use follow::{Indexer, IndexerConfig, IndexerError, Stats};
pub use source::{BlockSource, RawBlock, RawContractEvent, SourceError, SubxtSource};
