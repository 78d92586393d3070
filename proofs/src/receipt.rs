//! What a holder keeps beside a document to prove, later and offline, that it is the one
//! anchored: a [`Receipt`] for a record anchored on its own, a [`DocumentProof`] for a
//! document anchored in a batch. Both are JSON; `docs/proofs.md` specifies them.

use serde::{Deserialize, Serialize};

use crate::{Hash, ProofBundle, category_commitment, commitment, hex32};

/// The `format` of a [`Receipt`].
pub const RECEIPT_FORMAT: &str = "medledger-receipt/v1";
/// The `format` of a [`DocumentProof`].
pub const PROOF_FORMAT: &str = "medledger-proof/v1";

/// Where a transaction landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchored {
    /// The number of the finalized block holding the anchoring.
    pub block_number: u64,
    /// That block's hash.
    #[serde(with = "hex32")]
    pub block_hash: Hash,
}

/// A record version anchored with `RecordRegistry::anchor` or `amend`: the openings of its
/// two commitments (document and category) and where it is on chain. Whoever holds it and
/// the document can prove both; without it, the chain says neither.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Always [`RECEIPT_FORMAT`].
    pub format: String,
    /// The document's file name when it was anchored (for people; not checked).
    pub document: String,
    /// The document's salt: `commitment = blake2b_256("medledger/record/v1" || salt ||
    /// document)`.
    #[serde(with = "hex32")]
    pub salt: Hash,
    /// The document's commitment, as anchored.
    #[serde(with = "hex32")]
    pub commitment: Hash,
    /// The record's category by name (e.g. `LabResults`).
    pub category: String,
    /// The category's bit position in the contracts' category sets.
    pub category_index: u8,
    /// The category's salt, the same for every version of the record.
    #[serde(with = "hex32")]
    pub category_salt: Hash,
    /// The custodian's id of the record.
    #[serde(with = "hex32")]
    pub record_id: Hash,
    /// 1 for the first version, one more per amendment.
    pub version: u32,
    /// Whose record it is (SS58).
    pub patient: String,
    /// Who anchored it (SS58).
    pub custodian: String,
    /// The RecordRegistry it was anchored in (SS58).
    pub contract: String,
    /// The chain's genesis hash.
    #[serde(with = "hex32")]
    pub chain: Hash,
    /// Where the anchoring landed; `null` while it is being sent (a receipt is written
    /// before the transaction, so that a crash can never lose its salt).
    pub anchored: Option<Anchored>,
}

impl Receipt {
    /// Whether `document` is the document this receipt was made for.
    pub fn matches(&self, document: &[u8]) -> bool {
        commitment(&self.salt, document) == self.commitment
    }

    /// The record's category commitment, opened by this receipt.
    pub fn category_commitment(&self) -> Hash {
        category_commitment(&self.category_salt, self.category_index)
    }
}

/// A document anchored as one leaf of a batch (`RecordRegistry::anchor_batch`): its salt,
/// who anchored the batch where, and the inclusion proof with the batch's block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentProof {
    /// Always [`PROOF_FORMAT`].
    pub format: String,
    /// The document's file name when it was anchored (for people; not checked).
    pub document: String,
    /// The document's salt; the bundle's `leaf` is its commitment.
    #[serde(with = "hex32")]
    pub salt: Hash,
    /// The organization that anchored the batch (SS58).
    pub org: String,
    /// The RecordRegistry (SS58).
    pub contract: String,
    /// The chain's genesis hash.
    #[serde(with = "hex32")]
    pub chain: Hash,
    /// Leaf, path, root and the anchoring block: the part the GraphQL API's
    /// `verifyInclusion` reads.
    #[serde(flatten)]
    pub bundle: ProofBundle,
}

impl DocumentProof {
    /// Whether `document` is the leaf of this proof and the proof leads to its root.
    pub fn proves(&self, document: &[u8]) -> bool {
        self.matches(document) && self.bundle.verifies()
    }

    /// Whether `document` is the leaf of this proof.
    pub fn matches(&self, document: &[u8]) -> bool {
        commitment(&self.salt, document) == self.bundle.proof.leaf
    }
}
