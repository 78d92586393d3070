//! The medledger indexer: follows the chain's finalized blocks and mirrors the medledger
//! contracts' events into the [`Store`](medledger_store::Store).
//!
//! Only finalized blocks are read, so no reorg can ever reach the database. Each block's
//! `ContractEmitted` events from the deployed contract addresses are matched by their
//! signature topic and decoded with the very `medledger-events` types the contracts emit;
//! unknown or undecodable events are stored raw with the reason and counted, never fatal.
//! Fetching runs ahead of writing; blocks that are ready are committed together with the
//! cursor in one transaction, so a restart resumes exactly where it stopped. On start the
//! indexer binds the database to the chain (genesis hash) and deployment, and refuses a
//! database of another. Transient failures of the node or the database are retried with
//! backoff; once caught up it waits on the node's finalized-head subscription.
//!
//! The indexer is the only writer of the store. It serves nothing.

mod decode;
mod follow;
mod source;

pub use decode::{DecodeError, decode_event};
pub use follow::{
    DEFAULT_CONCURRENCY, Health, Indexer, IndexerConfig, IndexerError, Stats, Watched,
};
pub use source::{BlockSource, Heads, RawBlock, RawContractEvent, SourceError, SubxtSource};
