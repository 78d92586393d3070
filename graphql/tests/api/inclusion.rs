//! `verifyInclusion`: a proof bundle holds only when its path leads to its root and the root
//! was anchored in the block it names.

use medledger_proofs::{MerkleTree, ProofBundle, commitment};
use medledger_store::{ChainEvent, Hash32};
use serde_json::{Value, json};

use crate::helpers::*;

async fn verify(s: &Seeded, bundle: &Value) -> Value {
    run(
        &s.store,
        &format!(
            "{{ verifyInclusion(bundle: {}) {{ valid explanation commitment root
                 batch {{ org leafCount block }} anchored {{ block }} }} }}",
            graphql_literal(bundle)
        ),
    )
    .await
}

/// `v` as a GraphQL input literal (object keys unquoted).
fn graphql_literal(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}: {}", graphql_literal(v)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(graphql_literal).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

#[tokio::test]
async fn a_bundle_holds_when_its_path_leads_to_a_root_anchored_in_its_block() {
    let documents: Vec<[u8; 32]> = (0..3u8)
        .map(|i| commitment(&[i; 32], format!("lab report {i}").as_bytes()))
        .collect();
    let tree = MerkleTree::new(&documents).expect("a tree");
    let s = store_with(&[block(
        12,
        vec![
            registered(PROVIDER, "Provider"),
            ChainEvent::BatchAnchored {
                org: PROVIDER,
                root: Hash32(tree.root()),
                leaf_count: 3,
            },
        ],
    )])
    .await;
    let bundle = ProofBundle {
        proof: tree.proof(1).expect("a proof"),
        root: tree.root(),
        block_number: 12,
        block_hash: [12; 32],
    };
    let good = serde_json::to_value(&bundle).expect("json");

    let v = verify(&s, &good).await;
    assert_eq!(v["errors"], Value::Null, "{v}");
    let r = &v["data"]["verifyInclusion"];
    assert_eq!(r["valid"], true, "{v}");
    assert_eq!(r["commitment"], Hash32(documents[1]).to_string());
    assert_eq!(
        r["batch"],
        json!({"org": PROVIDER.to_string(), "leafCount": 3, "block": 12})
    );
    let says = r["explanation"].as_str().unwrap_or("");
    assert!(
        says.starts_with("valid: the commitment is one of the 3 anchored by"),
        "{says}"
    );

    // another document's commitment on the same path
    let mut forged = bundle.clone();
    forged.proof.leaf = documents[0];
    let v = verify(&s, &serde_json::to_value(&forged).expect("json")).await;
    assert_eq!(v["data"]["verifyInclusion"]["valid"], false);
    assert!(
        v["data"]["verifyInclusion"]["explanation"]
            .as_str()
            .unwrap_or("")
            .contains("does not lead from the commitment to the root"),
        "{v}"
    );

    // a root nobody anchored (its own path holds)
    let other = MerkleTree::new(&documents[..2]).expect("a tree");
    let unanchored = ProofBundle {
        proof: other.proof(0).expect("a proof"),
        root: other.root(),
        ..bundle.clone()
    };
    let v = verify(&s, &serde_json::to_value(&unanchored).expect("json")).await;
    assert_eq!(v["data"]["verifyInclusion"]["valid"], false);
    assert!(
        v["data"]["verifyInclusion"]["explanation"]
            .as_str()
            .unwrap_or("")
            .contains("never anchored"),
        "{v}"
    );

    // the right root, but not in the block the bundle names
    let elsewhere = ProofBundle {
        block_number: 13,
        ..bundle.clone()
    };
    let v = verify(&s, &serde_json::to_value(&elsewhere).expect("json")).await;
    let r = &v["data"]["verifyInclusion"];
    assert_eq!(r["valid"], false);
    assert_eq!(r["anchored"], json!([{"block": 12}]));
    assert!(
        r["explanation"]
            .as_str()
            .unwrap_or("")
            .contains("anchored in block 12, not in the bundle's block 13"),
        "{v}"
    );

    // not a bundle at all
    let v = verify(&s, &json!({"leaf": "0x12"})).await;
    assert!(error(&v).contains("not a medledger proof bundle"), "{v}");
}
