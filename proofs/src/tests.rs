use super::*;
use proptest::prelude::*;

fn commitments(n: usize) -> Vec<Hash> {
    (0..n)
        .map(|i| commitment(&[i as u8; 32], format!("document {i}").as_bytes()))
        .collect()
}

#[test]
fn a_commitment_depends_on_salt_and_every_byte() {
    let salt = [1; 32];
    let c = commitment(&salt, b"HbA1c 5.4%");
    assert_eq!(c, commitment(&salt, b"HbA1c 5.4%"));
    assert_ne!(c, commitment(&salt, b"HbA1c 5.5%"));
    assert_ne!(c, commitment(&[2; 32], b"HbA1c 5.4%"));
    assert_ne!(random_salt(), random_salt());
}

#[test]
fn a_document_salt_is_the_same_for_the_same_document_and_no_other() {
    let key = [7; 32];
    let (alice, bob) = ([1; 32], [2; 32]);
    let salt = document_salt(&key, &alice, b"HbA1c 5.4%");
    // Anchoring the same document again gives the same commitment, which the chain refuses.
    assert_eq!(salt, document_salt(&key, &alice, b"HbA1c 5.4%"));
    assert_ne!(salt, document_salt(&key, &alice, b"HbA1c 5.5%"));
    assert_ne!(salt, document_salt(&key, &bob, b"HbA1c 5.4%"));
    // Another custodian's key, or a guess without one, gives another salt.
    assert_ne!(salt, document_salt(&[8; 32], &alice, b"HbA1c 5.4%"));
    // The patient's length is hashed, so moving bytes between patient and document changes
    // the salt.
    assert_ne!(
        document_salt(&key, b"ab", b"c"),
        document_salt(&key, b"a", b"bc")
    );
}

#[derive(Deserialize)]
struct Vectors {
    record_commitments: Vec<DocumentVector>,
    category_commitments: Vec<CategoryVector>,
    terms_commitments: Vec<DocumentVector>,
    document_salts: Vec<SaltVector>,
    claim_references: Vec<ClaimVector>,
    merkle_trees: Vec<TreeVector>,
}

#[derive(Deserialize)]
struct CategoryVector {
    #[serde(with = "hex32")]
    category_salt: Hash,
    index: u8,
    #[serde(with = "hex32")]
    commitment: Hash,
}

#[derive(Deserialize)]
struct DocumentVector {
    #[serde(with = "hex32")]
    salt: Hash,
    document_utf8: String,
    #[serde(with = "hex32")]
    commitment: Hash,
}

#[derive(Deserialize)]
struct SaltVector {
    #[serde(with = "hex32")]
    salt_key: Hash,
    /// 0x-hex of any length (a batch names no patient).
    patient: String,
    document_utf8: String,
    #[serde(with = "hex32")]
    salt: Hash,
}

#[derive(Deserialize)]
struct ClaimVector {
    text: String,
    #[serde(with = "hex32")]
    claim_ref: Hash,
}

#[derive(Deserialize)]
struct TreeVector {
    commitments: Vec<String>,
    #[serde(with = "hex32")]
    root: Hash,
    proofs: Vec<ProofVector>,
}

#[derive(Deserialize)]
struct ProofVector {
    index: usize,
    path: Vec<Step>,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("../test-vectors/vectors.json")).expect("test vectors parse")
}

#[test]
fn the_checked_in_commitment_vectors_hold() {
    let v = vectors();
    assert!(v.record_commitments.len() >= 4 && v.category_commitments.len() >= 4);
    for r in &v.record_commitments {
        assert_eq!(
            commitment(&r.salt, r.document_utf8.as_bytes()),
            r.commitment
        );
    }
    for c in &v.category_commitments {
        assert_eq!(category_commitment(&c.category_salt, c.index), c.commitment);
    }
    for t in &v.terms_commitments {
        assert_eq!(
            terms_commitment(&t.salt, t.document_utf8.as_bytes()),
            t.commitment
        );
    }
    assert!(v.document_salts.len() >= 3);
    for d in &v.document_salts {
        let patient = hex::decode(d.patient.trim_start_matches("0x")).expect("patient hex");
        assert_eq!(
            document_salt(&d.salt_key, &patient, d.document_utf8.as_bytes()),
            d.salt
        );
    }
    for c in &v.claim_references {
        assert_eq!(claim_reference(&c.text), c.claim_ref);
    }
}

#[test]
fn the_checked_in_merkle_vectors_hold_roots_and_every_path() {
    let v = vectors();
    assert!(v.merkle_trees.len() >= 5);
    for t in &v.merkle_trees {
        let leaves: Vec<Hash> = t
            .commitments
            .iter()
            .map(|c| {
                let json = serde_json::json!({ "leaf": c, "path": [] });
                serde_json::from_value::<InclusionProof>(json)
                    .expect("hex")
                    .leaf
            })
            .collect();
        let tree = MerkleTree::new(&leaves).expect("tree");
        assert_eq!(tree.root(), t.root, "{} leaves", leaves.len());
        assert_eq!(t.proofs.len(), leaves.len());
        for p in &t.proofs {
            let ours = tree.proof(p.index).expect("proof");
            assert_eq!(
                ours.path,
                p.path,
                "{} leaves, index {}",
                leaves.len(),
                p.index
            );
            assert!(ours.verifies(&t.root));
        }
    }
}

#[test]
fn domains_keep_the_three_kinds_of_commitment_apart() {
    let salt = [5; 32];
    assert_ne!(commitment(&salt, &[4]), category_commitment(&salt, 4));
    assert_ne!(commitment(&salt, b"x"), terms_commitment(&salt, b"x"));
    let all: std::collections::HashSet<_> =
        (0..14).map(|i| category_commitment(&salt, i)).collect();
    assert_eq!(all.len(), 14, "each category commits differently");
}

#[test]
fn a_one_leaf_tree_has_the_leaf_hash_as_root() {
    let c = commitments(1);
    let tree = MerkleTree::new(&c).expect("tree");
    assert_eq!(tree.root(), leaf_hash(&c[0]));
    assert!(tree.proof(0).expect("proof").path.is_empty());
    assert_eq!(MerkleTree::new(&[]), Err(EmptyTree));
}

#[test]
fn a_two_leaf_root_is_the_node_of_both_leaves() {
    let c = commitments(2);
    let root = MerkleTree::new(&c).expect("tree").root();
    assert_eq!(root, node_hash(&leaf_hash(&c[0]), &leaf_hash(&c[1])));
}

#[test]
fn every_leaf_proves_into_the_root_for_many_sizes() {
    for n in 1..=33 {
        let c = commitments(n);
        let tree = MerkleTree::new(&c).expect("tree");
        for i in 0..n {
            let proof = tree.proof(i).expect("proof");
            assert!(proof.verifies(&tree.root()), "n={n} i={i}");
        }
        assert!(tree.proof(n).is_none());
    }
}

#[test]
fn a_proof_fails_for_another_leaf_or_root() {
    let c = commitments(5);
    let tree = MerkleTree::new(&c).expect("tree");
    let mut proof = tree.proof(2).expect("proof");
    assert!(!proof.verifies(&MerkleTree::new(&c[..4]).expect("tree").root()));
    proof.leaf = c[3];
    assert!(!proof.verifies(&tree.root()));
}

#[test]
fn a_leaf_is_not_mistaken_for_a_node() {
    // Domain separation: the two children's concatenation is not a valid leaf.
    let c = commitments(2);
    let tree = MerkleTree::new(&c).expect("tree");
    let forged = InclusionProof {
        leaf: node_hash(&leaf_hash(&c[0]), &leaf_hash(&c[1])),
        path: vec![],
    };
    assert!(!forged.verifies(&tree.root()));
}

#[test]
fn a_bundle_round_trips_through_json_and_still_verifies() {
    let c = commitments(6);
    let tree = MerkleTree::new(&c).expect("tree");
    let bundle = ProofBundle {
        proof: tree.proof(4).expect("proof"),
        root: tree.root(),
        block_number: 42,
        block_hash: [9; 32],
    };
    let json = serde_json::to_string(&bundle).expect("json");
    assert!(json.contains(r#""side":"#));
    let back: ProofBundle = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, bundle);
    assert!(back.verifies());
    let bad = json.replace(&format!("0x{}", hex::encode([9u8; 32])), "0x12");
    assert!(serde_json::from_str::<ProofBundle>(&bad).is_err());
}

fn tree_and_index() -> impl Strategy<Value = (Vec<Hash>, usize)> {
    proptest::collection::vec(any::<[u8; 32]>(), 1..80).prop_flat_map(|leaves| {
        let n = leaves.len();
        (Just(leaves), 0..n)
    })
}

proptest! {
    #[test]
    fn every_leafs_proof_verifies((leaves, i) in tree_and_index()) {
        let tree = MerkleTree::new(&leaves).expect("tree");
        let proof = tree.proof(i).expect("proof");
        prop_assert_eq!(proof.leaf, leaves[i]);
        prop_assert!(proof.verifies(&tree.root()));
    }

    #[test]
    fn a_flipped_bit_anywhere_fails((leaves, i) in tree_and_index(), bit in 0usize..256, at in any::<prop::sample::Index>()) {
        let tree = MerkleTree::new(&leaves).expect("tree");
        let proof = tree.proof(i).expect("proof");
        let root = tree.root();
        // in the leaf
        let mut p = proof.clone();
        p.leaf[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(!p.verifies(&root));
        // in the root
        let mut r = root;
        r[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(!proof.verifies(&r));
        // in a sibling, or a flipped side
        if !proof.path.is_empty() {
            let k = at.index(proof.path.len());
            let mut p = proof.clone();
            p.path[k].sibling[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(!p.verifies(&root));
            let mut p = proof.clone();
            p.path[k].side = match p.path[k].side { Side::Left => Side::Right, Side::Right => Side::Left };
            // swapping sides only keeps the root when both children are equal
            let equal = p.path[k].sibling == {
                let mut below = proof.clone();
                below.path.truncate(k);
                below.root()
            };
            prop_assert!(equal || !p.verifies(&root));
        }
    }

    #[test]
    fn another_index_or_root_fails((leaves, i) in tree_and_index(), j in any::<prop::sample::Index>(), other in any::<[u8; 32]>()) {
        let tree = MerkleTree::new(&leaves).expect("tree");
        let proof = tree.proof(i).expect("proof");
        let j = j.index(leaves.len());
        if leaves[j] != leaves[i] {
            // the path of leaf i does not prove leaf j
            let moved = InclusionProof { leaf: leaves[j], path: proof.path.clone() };
            prop_assert!(!moved.verifies(&tree.root()));
        }
        if other != tree.root() {
            prop_assert!(!proof.verifies(&other));
        }
    }

    #[test]
    fn a_document_matches_its_receipt_only(doc in proptest::collection::vec(any::<u8>(), 0..300), salt in any::<[u8; 32]>(), bit in 0usize..2400) {
        let receipt = receipt_for(&doc, salt);
        prop_assert!(receipt.matches(&doc));
        if !doc.is_empty() {
            let mut changed = doc.clone();
            let b = bit % (doc.len() * 8);
            changed[b / 8] ^= 1 << (b % 8);
            prop_assert!(!receipt.matches(&changed));
        }
        let mut other = receipt.clone();
        other.salt[0] ^= 1;
        prop_assert!(!other.matches(&doc));
    }
}

fn receipt_for(doc: &[u8], salt: Hash) -> Receipt {
    Receipt {
        format: RECEIPT_FORMAT.into(),
        document: "lab.pdf".into(),
        salt,
        commitment: commitment(&salt, doc),
        category: "LabResults".into(),
        category_index: 4,
        category_salt: [0x11; 32],
        record_id: [7; 32],
        version: 1,
        patient: "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy".into(),
        custodian: "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty".into(),
        contract: "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY".into(),
        chain: [1; 32],
        anchored: Some(Anchored {
            block_number: 9,
            block_hash: [2; 32],
        }),
    }
}

#[test]
fn a_receipt_round_trips_and_opens_its_category() {
    let r = receipt_for(b"HbA1c 5.4 %", [3; 32]);
    let json = serde_json::to_value(&r).expect("json");
    assert_eq!(json["format"], "medledger-receipt/v1");
    assert_eq!(json["anchored"]["block_number"], 9);
    let back: Receipt = serde_json::from_value(json).expect("parse");
    assert_eq!(back, r);
    // the vectors' LabResults opening under salt 0x11..
    let v = vectors();
    let lab = v
        .category_commitments
        .iter()
        .find(|c| c.index == 4)
        .expect("LabResults vector");
    assert_eq!(r.category_commitment(), lab.commitment);
}

#[test]
fn a_document_proof_is_a_bundle_the_api_reads_and_proves_its_document_only() {
    let docs: Vec<&[u8]> = vec![b"a", b"bb", b"ccc"];
    let salts = [[1u8; 32], [2; 32], [3; 32]];
    let leaves: Vec<Hash> = docs
        .iter()
        .zip(&salts)
        .map(|(d, s)| commitment(s, d))
        .collect();
    let tree = MerkleTree::new(&leaves).expect("tree");
    let proof = DocumentProof {
        format: PROOF_FORMAT.into(),
        document: "b.txt".into(),
        salt: salts[1],
        org: "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty".into(),
        contract: "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY".into(),
        chain: [1; 32],
        bundle: ProofBundle {
            proof: tree.proof(1).expect("proof"),
            root: tree.root(),
            block_number: 5,
            block_hash: [4; 32],
        },
    };
    assert!(proof.proves(b"bb"));
    assert!(!proof.proves(b"a") && !proof.proves(b"bB"));
    let json = serde_json::to_string(&proof).expect("json");
    // what GraphQL's verifyInclusion parses
    let bundle: ProofBundle = serde_json::from_str(&json).expect("a bundle");
    assert_eq!(bundle, proof.bundle);
    let back: DocumentProof = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, proof);
}
