//! `authorization`: the contract's rule from the mirror, now or at a past instant or block,
//! with the reason in words.

use medledger_store::{AccountId, ChainEvent, Hash32};
use serde_json::{Value, json};

use crate::helpers::*;

const DELEGATE: AccountId = AccountId([3; 32]);

/// Block 12: provider registered, granted; 14: window opened by the lab (ends at block 30's
/// time); 16: provider suspended; 17: reinstated; 18: revoked; 20: the mirror's last block.
async fn history() -> Seeded {
    store_with(&[
        block(
            12,
            vec![
                registered(PROVIDER, "Provider"),
                registered(LAB, "Provider"),
                granted(PROVIDER, 1, None),
            ],
        ),
        block(
            14,
            vec![ChainEvent::EmergencyAccessOpened {
                patient: PATIENT,
                provider: LAB,
                reason: "PatientIncapacitated",
                justification_hash: Hash32([0x11; 32]),
                ends_at: time_of(30),
            }],
        ),
        block(16, vec![ChainEvent::OrgSuspended { org: PROVIDER }]),
        block(17, vec![ChainEvent::OrgReinstated { org: PROVIDER }]),
        block(
            18,
            vec![ChainEvent::ConsentRevoked {
                patient: PATIENT,
                grantee: PROVIDER,
                version: 1,
                by: PATIENT,
            }],
        ),
        block(20, vec![]),
    ])
    .await
}

/// `authorization` for `grantee` reading `category` for `purpose`, with `moment` (e.g.
/// `atBlock: 12`) or now.
async fn ask(s: &Seeded, grantee: AccountId, category: &str, purpose: &str, moment: &str) -> Value {
    run(
        &s.store,
        &format!(
            r#"{{ authorization(patient: "{PATIENT}", grantee: "{grantee}", category: {category},
                  purpose: {purpose}, access: READ{moment}) {{
                allowed reason explanation at atBlock asOf {{ block time lag }}
                consent {{ version grantedBy grantedBlock categories }}
                emergencyWindow {{ provider openedBlock endsAt }} }} }}"#
        ),
    )
    .await
}

fn reason(v: &Value) -> &str {
    v["data"]["authorization"]["reason"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_consent_in_force_allows_and_says_which() {
    let s = history().await;
    let v = ask(&s, PROVIDER, "LAB_RESULTS", "TREATMENT", ", atBlock: 12").await;
    assert_eq!(v["errors"], Value::Null, "{v}");
    let a = &v["data"]["authorization"];
    assert_eq!(a["allowed"], true);
    assert_eq!(a["reason"], "CONSENT");
    assert_eq!(a["explanation"], "allowed by the patient's consent");
    assert_eq!(a["atBlock"], 12);
    assert_eq!(a["at"], "2026-01-01T00:00:00+00:00");
    assert_eq!(
        a["consent"],
        json!({"version": 1, "grantedBy": PATIENT.to_string(), "grantedBlock": 12,
               "categories": ["LabResults", "Imaging"]})
    );
    assert_eq!(
        a["asOf"],
        json!({"block": 20, "time": "2026-01-01T00:00:08+00:00", "lag": 0}),
        "the mirror's own progress, whatever moment was asked about"
    );
}

#[tokio::test]
async fn what_the_consent_does_not_cover_is_named() {
    let s = history().await;
    let v = ask(&s, PROVIDER, "MEDICATIONS", "TREATMENT", ", atBlock: 12").await;
    assert_eq!(reason(&v), "CATEGORY_NOT_COVERED", "{v}");
    assert_eq!(v["data"]["authorization"]["allowed"], false);
    assert_eq!(
        v["data"]["authorization"]["explanation"],
        "refused: the consent does not cover this data category"
    );
    let v = ask(&s, PROVIDER, "LAB_RESULTS", "RESEARCH", ", atBlock: 12").await;
    assert_eq!(reason(&v), "PURPOSE_NOT_COVERED", "{v}");
}

#[tokio::test]
async fn past_instants_are_judged_by_the_history_up_to_them() {
    let s = history().await;
    let at = |block: u64, ms: u64| {
        let t =
            chrono::DateTime::from_timestamp_millis((time_of(block) + ms) as i64).expect("a time");
        format!(r#", at: "{}""#, t.to_rfc3339())
    };
    // suspended in block 16 and reinstated in 17
    let v = ask(&s, PROVIDER, "LAB_RESULTS", "TREATMENT", &at(16, 500)).await;
    assert_eq!(reason(&v), "GRANTEE_SUSPENDED", "{v}");
    assert_eq!(v["data"]["authorization"]["atBlock"], Value::Null);
    let v = ask(&s, PROVIDER, "LAB_RESULTS", "TREATMENT", &at(17, 0)).await;
    assert_eq!(reason(&v), "CONSENT", "{v}");
    // revoked in block 18: allowed just before, refused from then on, naming the grant
    let v = ask(&s, PROVIDER, "LAB_RESULTS", "TREATMENT", &at(17, 999)).await;
    assert_eq!(reason(&v), "CONSENT", "{v}");
    let v = ask(&s, PROVIDER, "LAB_RESULTS", "TREATMENT", &at(18, 0)).await;
    assert_eq!(reason(&v), "REVOKED", "{v}");
    assert_eq!(v["data"]["authorization"]["consent"]["version"], 1);
    // now (the mirror's block 20): still revoked
    let v = ask(&s, PROVIDER, "LAB_RESULTS", "TREATMENT", "").await;
    assert_eq!(reason(&v), "REVOKED", "{v}");
    assert_eq!(v["data"]["authorization"]["atBlock"], 20);
    // before the mirror's first block: one line saying so, not an answer from no history
    for moment in [at(11, 0), ", atBlock: 11".to_string()] {
        let v = ask(&s, PROVIDER, "LAB_RESULTS", "TREATMENT", &moment).await;
        let message = v["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("cannot judge before the mirror's first block #12 ("),
            "{v}"
        );
    }
    // the first block itself is judged: the provider registered and was granted in it
    let v = ask(&s, PROVIDER, "LAB_RESULTS", "TREATMENT", &at(12, 0)).await;
    assert_eq!(reason(&v), "CONSENT", "{v}");
}

#[tokio::test]
async fn an_open_emergency_window_allows_reading_non_sensitive_data_for_treatment() {
    let s = history().await;
    let v = ask(&s, LAB, "LAB_RESULTS", "TREATMENT", "").await;
    let a = &v["data"]["authorization"];
    assert_eq!(a["reason"], "EMERGENCY_WINDOW", "{v}");
    assert_eq!(a["allowed"], true);
    assert_eq!(a["emergencyWindow"]["provider"], LAB.to_string());
    assert_eq!(a["emergencyWindow"]["openedBlock"], 14);
    assert_eq!(a["consent"], Value::Null);
    let v = ask(&s, LAB, "MENTAL_HEALTH", "TREATMENT", "").await;
    assert_eq!(
        reason(&v),
        "NO_CONSENT",
        "sensitive data needs a consent: {v}"
    );
    let v = ask(&s, LAB, "LAB_RESULTS", "PAYMENT", "").await;
    assert_eq!(reason(&v), "NO_CONSENT", "{v}");
    let v = ask(&s, LAB, "LAB_RESULTS", "TREATMENT", ", atBlock: 12").await;
    assert_eq!(reason(&v), "NO_CONSENT", "not open yet at block 12: {v}");
}

#[tokio::test]
async fn a_delegates_grant_stops_counting_when_the_delegation_ends() {
    let s = store_with(&[
        block(
            12,
            vec![
                registered(PROVIDER, "Provider"),
                ChainEvent::DelegateSet {
                    patient: PATIENT,
                    delegate: DELEGATE,
                    expires_at: time_of(15),
                },
                granted_by(DELEGATE, PROVIDER, 1, None),
            ],
        ),
        block(20, vec![]),
    ])
    .await;
    let v = ask(&s, PROVIDER, "LAB_RESULTS", "TREATMENT", ", atBlock: 12").await;
    assert_eq!(reason(&v), "CONSENT", "{v}");
    assert_eq!(
        v["data"]["authorization"]["consent"]["grantedBy"],
        DELEGATE.to_string()
    );
    let v = ask(&s, PROVIDER, "LAB_RESULTS", "TREATMENT", "").await;
    assert_eq!(reason(&v), "DELEGATION_ENDED", "{v}");
}

#[tokio::test]
async fn moments_the_mirror_cannot_judge_are_refused_with_a_reason() {
    let s = history().await;
    let v = ask(&s, PROVIDER, "LAB_RESULTS", "TREATMENT", ", atBlock: 21").await;
    assert!(
        error(&v).contains("cannot judge at block 21: the mirror has reached block 20"),
        "{v}"
    );
    let v = ask(
        &s,
        PROVIDER,
        "LAB_RESULTS",
        "TREATMENT",
        r#", at: "2030-01-01T00:00:00Z""#,
    )
    .await;
    assert!(error(&v).contains("the mirror has reached block 20"), "{v}");
    let v = ask(&s, PROVIDER, "LAB_RESULTS", "TREATMENT", ", atBlock: 15").await;
    assert!(
        error(&v).contains("block 15 carried no medledger events"),
        "{v}"
    );
    let v = ask(
        &s,
        PROVIDER,
        "LAB_RESULTS",
        "TREATMENT",
        r#", atBlock: 12, at: "2026-01-01T00:00:00Z""#,
    )
    .await;
    assert!(error(&v).contains("not both"), "{v}");

    let empty = store_with(&[]).await;
    let v = ask(&empty, PROVIDER, "LAB_RESULTS", "TREATMENT", "").await;
    assert!(error(&v).contains("has not indexed any block yet"), "{v}");
}
