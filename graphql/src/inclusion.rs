//! `verifyInclusion(bundle)`: whether a proof bundle (a document's commitment, its path in a
//! batch's Merkle tree, the root and where it was anchored; see `medledger-proofs`) holds up
//! against the mirror, and what it shows.

use std::sync::Arc;

use async_graphql::{Error, Json, Result, SimpleObject};
use chrono::{DateTime, Utc};
use medledger_proofs::ProofBundle;
use medledger_store::{BatchRow, Hash32, Store};

use crate::objects::time;
use crate::scalars::{AccountIdScalar, HashScalar};
use crate::schema::internal;

/// A Merkle root an organization anchored for a batch of records.
#[derive(SimpleObject)]
pub struct Batch {
    pub org: AccountIdScalar,
    pub root: HashScalar,
    pub leaf_count: u32,
    pub block: u64,
    pub block_hash: HashScalar,
    pub anchored_at: DateTime<Utc>,
}

impl From<&BatchRow> for Batch {
    fn from(b: &BatchRow) -> Self {
        Batch {
            org: AccountIdScalar(b.org),
            root: HashScalar(b.root),
            leaf_count: b.leaf_count,
            block: b.block_number,
            block_hash: HashScalar(b.block_hash),
            anchored_at: time(b.anchored_at),
        }
    }
}

/// What a proof bundle shows.
#[derive(SimpleObject)]
pub struct Inclusion {
    /// True when the path leads from the commitment to the root and the root was anchored
    /// in the block the bundle names.
    pub valid: bool,
    /// What held and what did not, in words.
    pub explanation: String,
    /// The document's commitment.
    pub commitment: HashScalar,
    pub root: HashScalar,
    /// The anchoring the bundle names, when the mirror has it.
    pub batch: Option<Batch>,
    /// Every anchoring of the root the mirror knows.
    pub anchored: Vec<Batch>,
}

/// Checks `bundle` (the JSON the CLI writes beside each document of a batch).
pub async fn verify(store: &Arc<dyn Store>, bundle: Json<serde_json::Value>) -> Result<Inclusion> {
    let bundle: ProofBundle = serde_json::from_value(bundle.0)
        .map_err(|e| Error::new(format!("the bundle is not a medledger proof bundle: {e}")))?;
    let root = Hash32(bundle.root);
    let anchored = store.batches_with_root(&root).await.map_err(internal)?;
    let named = anchored
        .iter()
        .find(|b| b.block_number == bundle.block_number && b.block_hash.0 == bundle.block_hash);
    let path_holds = bundle.verifies();
    let explanation = match (path_holds, named, anchored.first()) {
        (false, _, _) => {
            "invalid: the proof's path does not lead from the commitment to the root".to_string()
        }
        (true, Some(b), _) => format!(
            "valid: the commitment is one of the {} anchored by {} in block {} at {}",
            b.leaf_count,
            b.org,
            b.block_number,
            time(b.anchored_at).to_rfc3339()
        ),
        (true, None, None) => "invalid: the root was never anchored".to_string(),
        (true, None, Some(b)) => format!(
            "invalid: the root was anchored in block {}, not in the bundle's block {} (or that \
             block's hash differs)",
            b.block_number, bundle.block_number
        ),
    };
    Ok(Inclusion {
        valid: path_holds && named.is_some(),
        explanation,
        commitment: HashScalar(Hash32(bundle.proof.leaf)),
        root: HashScalar(root),
        batch: named.map(Batch::from),
        anchored: anchored.iter().map(Batch::from).collect(),
    })
}
