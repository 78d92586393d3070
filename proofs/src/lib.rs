//! Record commitments, Merkle trees and inclusion proofs for medledger.
//!
//! A commitment is `blake2b_256("medledger/record/v1" || salt || document)`. The 32-byte salt
//! is random per record version and travels with the document, never to the chain: without
//! it a commitment reveals nothing about the document, however short or guessable. A record's
//! category is committed the same way ([`category_commitment`], with its own salt, so that
//! opening the category never opens the document), and so is a consent's terms document
//! ([`terms_commitment`]). `test-vectors/vectors.json` holds vectors any other
//! implementation can check itself against (written by `test-vectors/reference.py`, an
//! independent Python implementation).
//!
//! Many commitments can be anchored at once as the root of a Merkle tree with RFC 6962-style
//! domain separation: leaf `blake2b_256(0x00 || c)`, node `blake2b_256(0x01 || left || right)`,
//! an odd node promoted unchanged to the next level. An [`InclusionProof`] shows one
//! commitment is under a root; a [`ProofBundle`] adds where that root was anchored, as JSON
//! that can be checked offline. A [`Receipt`] and a [`DocumentProof`] are what the CLI keeps
//! beside a document it anchored alone or in a batch (format: `docs/proofs.md`).
//!
//! Pure functions and data only: no I/O, no chain, no clock.

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use serde::{Deserialize, Serialize};

mod receipt;
pub use receipt::{Anchored, DocumentProof, PROOF_FORMAT, RECEIPT_FORMAT, Receipt};

/// A 32-byte blake2b-256 digest.
pub type Hash = [u8; 32];

/// Domain tag of version 1 record commitments.
pub const COMMITMENT_DOMAIN: &[u8] = b"medledger/record/v1";
/// Domain tag of record category commitments; the RecordRegistry checks openings with it.
pub const CATEGORY_DOMAIN: &[u8] = b"medledger/category/v1";
/// Domain tag of consent terms commitments (a grant's `terms_hash`).
pub const TERMS_DOMAIN: &[u8] = b"medledger/terms/v1";
const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

fn blake2b_256(parts: &[&[u8]]) -> Hash {
    let mut hasher = Blake2b::<U32>::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// A fresh random salt for one record version.
pub fn random_salt() -> [u8; 32] {
    rand::random()
}

/// Domain tag of document salts derived from a custodian's salt key.
pub const DOCUMENT_SALT_DOMAIN: &[u8] = b"medledger/document-salt/v1";

/// The salt a custodian gives `document` of `patient` (empty for a batch, which names no
/// patient): `blake2b_256(DOCUMENT_SALT_DOMAIN || salt_key || len(patient) as u64 LE ||
/// patient || document)` under the custodian's secret `salt_key` (BLAKE2 has no length
/// extension, so a secret prefix makes it a keyed function). Without the key it is as
/// unpredictable as a random salt; with it, the same document of the same patient always
/// gets the same salt, so the custodian anchoring it again makes the same commitment, which
/// the chain refuses (`CommitmentExists`) instead of taking it for a new document that a
/// claim could use again unnoticed.
pub fn document_salt(salt_key: &[u8; 32], patient: &[u8], document: &[u8]) -> [u8; 32] {
    let length = (patient.len() as u64).to_le_bytes();
    blake2b_256(&[DOCUMENT_SALT_DOMAIN, salt_key, &length, patient, document])
}

/// The commitment of `document` under `salt`.
pub fn commitment(salt: &[u8; 32], document: &[u8]) -> Hash {
    blake2b_256(&[COMMITMENT_DOMAIN, salt, document])
}

/// The category commitment of a record: `blake2b_256(CATEGORY_DOMAIN || category_salt ||
/// [category_index])`, where the index is the category's bit position in the contracts'
/// category sets (0 Demographics … 13 Billing). Without the salt it does not say which of
/// the fourteen categories it is; the salt is random per record and not the document's.
pub fn category_commitment(category_salt: &[u8; 32], category_index: u8) -> Hash {
    blake2b_256(&[CATEGORY_DOMAIN, category_salt, &[category_index]])
}

/// The salted commitment of a consent document: what a grant's `terms_hash` should be, so
/// that the chain does not reveal which of a few standard consent forms a patient signed.
pub fn terms_commitment(salt: &[u8; 32], document: &[u8]) -> Hash {
    blake2b_256(&[TERMS_DOMAIN, salt, document])
}

/// The hash of a leaf holding commitment `c`.
pub fn leaf_hash(c: &Hash) -> Hash {
    blake2b_256(&[&[LEAF_PREFIX], c])
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    blake2b_256(&[&[NODE_PREFIX], left, right])
}

/// Which side a sibling is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Left,
    Right,
}

/// The path from one leaf to the root: the siblings met on the way up, bottom first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    #[serde(with = "hex32")]
    pub leaf: Hash,
    pub path: Vec<Step>,
}

/// One step of an inclusion proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub side: Side,
    #[serde(with = "hex32")]
    pub sibling: Hash,
}

impl InclusionProof {
    /// The root this proof leads to.
    pub fn root(&self) -> Hash {
        self.path
            .iter()
            .fold(leaf_hash(&self.leaf), |acc, step| match step.side {
                Side::Left => node_hash(&step.sibling, &acc),
                Side::Right => node_hash(&acc, &step.sibling),
            })
    }

    /// Whether this proof shows its leaf is under `root`.
    pub fn verifies(&self, root: &Hash) -> bool {
        &self.root() == root
    }
}

/// A Merkle tree over commitments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleTree {
    /// Level 0 holds the leaf hashes; the last level holds the root alone.
    levels: Vec<Vec<Hash>>,
    leaves: Vec<Hash>,
}

/// A tree needs at least one leaf.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a Merkle tree needs at least one commitment")]
pub struct EmptyTree;

impl MerkleTree {
    /// Builds the tree over `commitments`, in order.
    ///
    /// # Errors
    /// [`EmptyTree`] when there are none.
    pub fn new(commitments: &[Hash]) -> Result<Self, EmptyTree> {
        if commitments.is_empty() {
            return Err(EmptyTree);
        }
        let mut levels = vec![commitments.iter().map(leaf_hash).collect::<Vec<_>>()];
        while let Some(level) = levels.last().filter(|l| l.len() > 1) {
            let next = level
                .chunks(2)
                .map(|pair| match pair {
                    [left, right] => node_hash(left, right),
                    // The odd node out is promoted unchanged.
                    odd => odd.first().copied().unwrap_or_default(),
                })
                .collect();
            levels.push(next);
        }
        Ok(MerkleTree {
            levels,
            leaves: commitments.to_vec(),
        })
    }

    /// The root.
    pub fn root(&self) -> Hash {
        self.levels
            .last()
            .and_then(|l| l.first())
            .copied()
            .unwrap_or_default()
    }

    /// How many commitments the tree holds.
    pub fn len(&self) -> usize {
        self.leaves.len()
    }

    /// Always false: a tree has at least one leaf.
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// The inclusion proof of the commitment at `index`, if there is one.
    pub fn proof(&self, index: usize) -> Option<InclusionProof> {
        let leaf = *self.leaves.get(index)?;
        let mut path = Vec::new();
        let mut i = index;
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = i ^ 1;
            if let Some(hash) = level.get(sibling) {
                let side = if sibling < i { Side::Left } else { Side::Right };
                path.push(Step {
                    side,
                    sibling: *hash,
                });
            }
            i /= 2;
        }
        Some(InclusionProof { leaf, path })
    }
}

/// An inclusion proof with where its root was anchored, checkable offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofBundle {
    #[serde(flatten)]
    pub proof: InclusionProof,
    #[serde(with = "hex32")]
    pub root: Hash,
    pub block_number: u64,
    #[serde(with = "hex32")]
    pub block_hash: Hash,
}

impl ProofBundle {
    /// Whether the proof leads to the bundle's root.
    pub fn verifies(&self) -> bool {
        self.proof.verifies(&self.root)
    }
}

pub mod hex32 {
    //! Serde for 32-byte hashes as `0x`-prefixed lowercase hex.
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(h: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{}", hex::encode(h)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        s.strip_prefix("0x")
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| D::Error::custom(format!("{s:?} is not a 0x-prefixed 32-byte hex hash")))
    }
}

/// Domain tag of claim references derived from an insurer's own claim number.
pub const CLAIM_DOMAIN: &[u8] = b"medledger/claim/v1";

/// The on-chain reference of a claim known by `text` (an insurer's claim number):
/// `blake2b_256(CLAIM_DOMAIN || text)`. Claim numbers are the insurer's own; the chain sees
/// only this hash.
pub fn claim_reference(text: &str) -> Hash {
    blake2b_256(&[CLAIM_DOMAIN, text.as_bytes()])
}

#[cfg(test)]
mod tests;
