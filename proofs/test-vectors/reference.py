#!/usr/bin/env python3
"""An independent implementation of medledger's commitments and Merkle proofs (Python's
hashlib only), used to write `vectors.json`, and to check a vectors file:

    python3 reference.py > vectors.json     # write the vectors
    python3 reference.py --check vectors.json

`medledger-proofs` checks itself against the same file (`cargo test -p medledger-proofs`),
so the Rust crate and this script agree byte for byte. See docs/proofs.md for the format.
"""
import hashlib
import json
import sys


def h(*parts: bytes) -> bytes:
    d = hashlib.blake2b(digest_size=32)
    for p in parts:
        d.update(p)
    return d.digest()


def commitment(salt: bytes, document: bytes) -> bytes:
    return h(b"medledger/record/v1", salt, document)


def category_commitment(salt: bytes, index: int) -> bytes:
    return h(b"medledger/category/v1", salt, bytes([index]))


def terms_commitment(salt: bytes, document: bytes) -> bytes:
    return h(b"medledger/terms/v1", salt, document)


def document_salt(salt_key: bytes, patient: bytes, document: bytes) -> bytes:
    return h(b"medledger/document-salt/v1", salt_key, len(patient).to_bytes(8, "little"), patient, document)


def claim_reference(text: str) -> bytes:
    return h(b"medledger/claim/v1", text.encode())


def leaf(c: bytes) -> bytes:
    return h(b"\x00", c)


def node(left: bytes, right: bytes) -> bytes:
    return h(b"\x01", left, right)


def levels(commitments):
    out = [[leaf(c) for c in commitments]]
    while len(out[-1]) > 1:
        prev = out[-1]
        nxt = []
        for i in range(0, len(prev), 2):
            nxt.append(node(prev[i], prev[i + 1]) if i + 1 < len(prev) else prev[i])
        out.append(nxt)
    return out


def proof(lv, index):
    path = []
    i = index
    for level in lv[:-1]:
        s = i ^ 1
        if s < len(level):
            path.append({"side": "left" if s < i else "right", "sibling": hx(level[s])})
        i //= 2
    return path


def root_of(c: bytes, path) -> bytes:
    acc = leaf(c)
    for step in path:
        sib = unhx(step["sibling"])
        acc = node(sib, acc) if step["side"] == "left" else node(acc, sib)
    return acc


def hx(b: bytes) -> str:
    return "0x" + b.hex()


def unhx(s: str) -> bytes:
    return bytes.fromhex(s[2:])


def salt(n: int) -> bytes:
    return bytes([n]) * 32


def vectors():
    docs = ["", "HbA1c 5.4 %", "HbA1c 5.5 %", "\u00e9chographie r\u00e9nale \u2014 normal"]
    records = [
        {"salt": hx(salt(i + 1)), "document_utf8": d, "commitment": hx(commitment(salt(i + 1), d.encode()))}
        for i, d in enumerate(docs)
    ]
    records.append({
        "salt": hx(bytes(range(32))),
        "document_utf8": "HbA1c 5.4 %",
        "commitment": hx(commitment(bytes(range(32)), "HbA1c 5.4 %".encode())),
    })
    names = ["Demographics", "Allergies", "Medications", "Problems", "LabResults", "Imaging",
             "ClinicalNotes", "Immunizations", "Procedures", "Genomics", "MentalHealth",
             "SubstanceUse", "SexualHealth", "Billing"]
    categories = [
        {"category_salt": hx(salt(0x11)), "category": names[i], "index": i,
         "commitment": hx(category_commitment(salt(0x11), i))}
        for i in (10, 4)
    ] + [
        {"category_salt": hx(bytes(range(32))), "category": "Billing", "index": 13,
         "commitment": hx(category_commitment(bytes(range(32)), 13))},
        {"category_salt": hx(b"\xff" * 32), "category": "Demographics", "index": 0,
         "commitment": hx(category_commitment(b"\xff" * 32, 0))},
    ]
    terms_docs = [
        (salt(0x22), "I consent to Example Clinic reading my lab results for treatment until 2027-12-31."),
        (bytes(range(32)), ""),
    ]
    terms = [{"salt": hx(s), "document_utf8": d, "commitment": hx(terms_commitment(s, d.encode()))}
             for s, d in terms_docs]
    document_salts = [
        {"salt_key": hx(k), "patient": hx(p), "document_utf8": d,
         "salt": hx(document_salt(k, p, d.encode()))}
        for k, p, d in [
            (salt(0x33), salt(0x01), "HbA1c 5.4 %"),
            (salt(0x33), salt(0x02), "HbA1c 5.4 %"),
            (bytes(range(32)), b"", "scans/a.txt contents"),
        ]
    ]
    claims = [{"text": t, "claim_ref": hx(claim_reference(t))} for t in ["CLM-2026-0042", "\u00e4"]]
    trees = []
    for n in (1, 2, 3, 4, 5, 7, 8, 13):
        cs = [commitment(salt(i), f"document {i}".encode()) for i in range(n)]
        lv = levels(cs)
        trees.append({
            "commitments": [hx(c) for c in cs],
            "root": hx(lv[-1][0]),
            "proofs": [{"index": i, "path": proof(lv, i)} for i in range(n)],
        })
    return {
        "description": "medledger-proofs test vectors, written by reference.py (Python hashlib, "
                       "independent of the Rust crate). See docs/proofs.md.",
        "record_commitments": records,
        "category_commitments": categories,
        "terms_commitments": terms,
        "document_salts": document_salts,
        "claim_references": claims,
        "merkle_trees": trees,
    }


def check(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    bad = 0
    for r in v["record_commitments"]:
        bad += hx(commitment(unhx(r["salt"]), r["document_utf8"].encode())) != r["commitment"]
    for r in v["category_commitments"]:
        bad += hx(category_commitment(unhx(r["category_salt"]), r["index"])) != r["commitment"]
    for r in v["terms_commitments"]:
        bad += hx(terms_commitment(unhx(r["salt"]), r["document_utf8"].encode())) != r["commitment"]
    for r in v["document_salts"]:
        bad += hx(document_salt(unhx(r["salt_key"]), unhx(r["patient"]),
                                r["document_utf8"].encode())) != r["salt"]
    for r in v["claim_references"]:
        bad += hx(claim_reference(r["text"])) != r["claim_ref"]
    for t in v["merkle_trees"]:
        cs = [unhx(c) for c in t["commitments"]]
        bad += hx(levels(cs)[-1][0]) != t["root"]
        for p in t["proofs"]:
            bad += hx(root_of(cs[p["index"]], p["path"])) != t["root"]
    print("all vectors hold" if bad == 0 else f"{bad} vectors do not hold")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2]))
    json.dump(vectors(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
