//! The read model's lists: filters, pages, totals and bad cursors; a record's versions and
//! the claims that used a document.

use medledger_store::{AccountId, AnchorRef, ChainEvent, Hash32, RecordRef};
use serde_json::{Value, json};

use crate::helpers::*;

const DELEGATE: AccountId = AccountId([3; 32]);
const OTHER_INSURER: AccountId = AccountId([6; 32]);

fn h(b: u8) -> Hash32 {
    Hash32([b; 32])
}

fn hex(b: u8) -> String {
    h(b).to_string()
}

/// Every kind of event about `PATIENT`: the provider and two insurers registered (block 12),
/// consents, a delegate, a window, a record anchored then amended, a claim and a duplicate
/// use of its document, an access recorded and one denied (block 13).
async fn everything() -> Seeded {
    let record = RecordRef {
        custodian: PROVIDER,
        record_id: h(0xaa),
    };
    store_with(&[
        block(
            12,
            vec![
                registered(PROVIDER, "Provider"),
                registered(INSURER, "Insurer"),
                registered(OTHER_INSURER, "Insurer"),
            ],
        ),
        block(
            13,
            vec![
                granted(PROVIDER, 1, None),
                granted(INSURER, 1, None),
                ChainEvent::ConsentRevoked {
                    patient: PATIENT,
                    grantee: INSURER,
                    version: 1,
                    by: PATIENT,
                },
                ChainEvent::DelegateSet {
                    patient: PATIENT,
                    delegate: DELEGATE,
                    expires_at: time_of(100),
                },
                ChainEvent::EmergencyAccessOpened {
                    patient: PATIENT,
                    provider: PROVIDER,
                    reason: "LifeThreatening",
                    justification_hash: h(0x11),
                    ends_at: time_of(50),
                },
                ChainEvent::RecordAnchored {
                    patient: PATIENT,
                    custodian: PROVIDER,
                    commitment: h(0xc1),
                    record_id: h(0xaa),
                    category_commitment: h(0xdd),
                    version: 1,
                },
                ChainEvent::RecordAmended {
                    patient: PATIENT,
                    custodian: PROVIDER,
                    commitment: h(0xc2),
                    record_id: h(0xaa),
                    previous: h(0xc1),
                    version: 2,
                    reason: "Correction",
                },
                ChainEvent::ClaimAttested {
                    patient: PATIENT,
                    insurer: INSURER,
                    claim_ref: h(0x21),
                    documents: vec![AnchorRef {
                        custodian: PROVIDER,
                        commitment: h(0xc2),
                    }],
                    all_current: true,
                },
                ChainEvent::DuplicateClaimUse {
                    patient: PATIENT,
                    insurer: OTHER_INSURER,
                    commitment: h(0xc2),
                    claim_ref: h(0x22),
                    first_insurer: INSURER,
                    first_claim_ref: h(0x21),
                    reuse: "OtherInsurer",
                    overlap: "SameDocument",
                },
                ChainEvent::AccessRecorded {
                    patient: PATIENT,
                    accessor: PROVIDER,
                    record: Some(record),
                    categories: 1 << 4,
                    purpose: "Treatment",
                    emergency: false,
                },
                ChainEvent::AccessDenied {
                    patient: PATIENT,
                    accessor: INSURER,
                    record: None,
                    categories: 1 << 4,
                    purpose: "Payment",
                },
            ],
        ),
    ])
    .await
}

async fn ok(s: &Seeded, query: &str) -> Value {
    let v = run(&s.store, query).await;
    assert_eq!(v["errors"], Value::Null, "{v}");
    v["data"].clone()
}

#[tokio::test]
async fn organizations_are_listed_by_role_a_page_at_a_time() {
    let s = everything().await;
    let d = ok(
        &s,
        r#"{ organizations(role: "Insurer", first: 1) { totalCount
               pageInfo { hasNextPage endCursor } nodes { role active } } }"#,
    )
    .await;
    let page = &d["organizations"];
    assert_eq!(page["totalCount"], 2);
    assert_eq!(page["nodes"], json!([{"role": "Insurer", "active": true}]));
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let end = page["pageInfo"]["endCursor"].as_str().expect("cursor");
    let d = ok(
        &s,
        &format!(
            r#"{{ organizations(role: "Insurer", after: "{end}") {{ pageInfo {{ hasNextPage }}
                 nodes {{ role }} }} }}"#
        ),
    )
    .await;
    assert_eq!(d["organizations"]["nodes"], json!([{"role": "Insurer"}]));
    assert_eq!(d["organizations"]["pageInfo"]["hasNextPage"], false);
    let all = ok(&s, "{ organizations { totalCount } }").await;
    assert_eq!(all["organizations"]["totalCount"], 3);

    let bad = run(
        &s.store,
        r#"{ organizations(role: "Dentist") { totalCount } }"#,
    )
    .await;
    assert!(error(&bad).contains("\"Dentist\" is not a role"), "{bad}");
    let bad = run(
        &s.store,
        r#"{ organizations(after: "5|x|y") { totalCount } }"#,
    )
    .await;
    assert!(
        error(&bad).contains("is not an endCursor of this list"),
        "{bad}"
    );
    let bad = run(
        &s.store,
        &format!(r#"{{ consents(patient: "{PATIENT}", after: "x") {{ totalCount }} }}"#),
    )
    .await;
    assert_eq!(
        error(&bad),
        "\"x\" is not an endCursor of this list",
        "{bad}"
    );
}

#[tokio::test]
async fn consent_history_delegations_and_windows_are_listed() {
    let s = everything().await;
    let d = ok(
        &s,
        &format!(
            r#"{{ consentHistory(patient: "{PATIENT}", grantee: "{INSURER}") {{ totalCount
                   nodes {{ block revoked version by grant {{ categories }} }} }}
                 delegations(patient: "{PATIENT}") {{ nodes {{ delegate removedBlock }} }}
                 emergencyWindows(provider: "{PROVIDER}") {{ nodes {{ patient reason openedBlock
                   endedAt }} }} }}"#
        ),
    )
    .await;
    assert_eq!(
        d["consentHistory"],
        json!({"totalCount": 2, "nodes": [
            {"block": 13, "revoked": false, "version": 1, "by": PATIENT.to_string(),
             "grant": {"categories": ["LabResults", "Imaging"]}},
            {"block": 13, "revoked": true, "version": 1, "by": PATIENT.to_string(), "grant": null},
        ]})
    );
    assert_eq!(
        d["delegations"]["nodes"],
        json!([{"delegate": DELEGATE.to_string(), "removedBlock": null}])
    );
    assert_eq!(
        d["emergencyWindows"]["nodes"],
        json!([{"patient": PATIENT.to_string(), "reason": "LifeThreatening",
                "openedBlock": 13, "endedAt": null}])
    );
}

#[tokio::test]
async fn the_access_log_tells_recorded_from_denied() {
    let s = everything().await;
    let d = ok(
        &s,
        &format!(
            r#"{{ all: accessLog(patient: "{PATIENT}") {{ totalCount nodes {{ outcome accessor }} }}
                 denied: accessLog(patient: "{PATIENT}", outcome: DENIED) {{ nodes {{ accessor
                   purpose categories record {{ recordId }} }} }}
                 byProvider: accessLog(accessor: "{PROVIDER}") {{ nodes {{ record {{ custodian
                   recordId }} emergency }} }} }}"#
        ),
    )
    .await;
    assert_eq!(d["all"]["totalCount"], 2);
    assert_eq!(
        d["denied"]["nodes"],
        json!([{"accessor": INSURER.to_string(), "purpose": "Payment",
                "categories": ["LabResults"], "record": null}])
    );
    assert_eq!(
        d["byProvider"]["nodes"],
        json!([{"record": {"custodian": PROVIDER.to_string(), "recordId": hex(0xaa)},
                "emergency": false}])
    );
}

#[tokio::test]
async fn a_record_shows_its_versions_and_a_document_the_claims_that_used_it() {
    let s = everything().await;
    let d = ok(
        &s,
        &format!(
            r#"{{ records(patient: "{PATIENT}") {{ totalCount nodes {{ recordId latestVersion
                   latestCommitment }} }}
                 record(custodian: "{PROVIDER}", recordId: "{aa}") {{ record {{ latestVersion }}
                   versions {{ version commitment current supersededBy }} }}
                 elsewhere: record(custodian: "{PATIENT}", recordId: "{aa}") {{ record {{ latestVersion }} }}
                 old: verifyCommitment(commitment: "{c1}") {{ current claims {{ claimRef }} }}
                 used: verifyCommitment(commitment: "{c2}") {{ current claims {{ insurer claimRef
                   allCurrent documents {{ custodian commitment }} }} }}
                 claims(insurer: "{INSURER}") {{ totalCount nodes {{ claimRef patient }} }}
                 duplicateClaimUses(patient: "{PATIENT}") {{ nodes {{ insurer firstInsurer
                   firstClaimRef commitment }} }} }}"#,
            aa = hex(0xaa),
            c1 = hex(0xc1),
            c2 = hex(0xc2),
        ),
    )
    .await;
    assert_eq!(
        d["records"],
        json!({"totalCount": 1, "nodes": [{"recordId": hex(0xaa), "latestVersion": 2,
               "latestCommitment": hex(0xc2)}]})
    );
    assert_eq!(
        d["record"]["versions"],
        json!([
            {"version": 1, "commitment": hex(0xc1), "current": false, "supersededBy": hex(0xc2)},
            {"version": 2, "commitment": hex(0xc2), "current": true, "supersededBy": null},
        ])
    );
    assert_eq!(
        d["elsewhere"],
        Value::Null,
        "ids live in their custodian's key space"
    );
    assert_eq!(d["old"], json!([{"current": false, "claims": []}]));
    assert_eq!(
        d["used"],
        json!([{"current": true, "claims": [{"insurer": INSURER.to_string(),
                "claimRef": hex(0x21), "allCurrent": true,
                "documents": [{"custodian": PROVIDER.to_string(), "commitment": hex(0xc2)}]}]}])
    );
    assert_eq!(
        d["claims"],
        json!({"totalCount": 1, "nodes": [{"claimRef": hex(0x21), "patient": PATIENT.to_string()}]})
    );
    assert_eq!(
        d["duplicateClaimUses"]["nodes"],
        json!([{"insurer": OTHER_INSURER.to_string(), "firstInsurer": INSURER.to_string(),
                "firstClaimRef": hex(0x21), "commitment": hex(0xc2)}])
    );
}
