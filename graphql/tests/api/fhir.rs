//! The FHIR R4 resources the API gives, validated against HL7's FHIR R4 JSON schema (from the
//! npm registry, fetched by `cargo xtask setup`): a Consent in each status, AuditEvents of an
//! access, a denied attempt and an emergency window, Provenance of a record's versions.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use medledger_store::{AnchorRef, ChainEvent, Hash32, RecordRef};
use serde_json::{Value, json};

use crate::helpers::*;

fn schema_path() -> PathBuf {
    std::env::var_os("MEDLEDGER_FHIR_SCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".cache/medledger/fhir/package/fhir.schema.json")
        })
}

/// HL7's R4 schema, as one document to validate any resource against.
fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = schema_path();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "the FHIR R4 schema is not at {} ({e}): run `cargo xtask setup`",
                path.display()
            )
        });
        serde_json::from_str(&text).expect("the FHIR schema is JSON")
    })
}

/// The schema's errors for `resource` as its own `resourceType` (empty when valid).
fn violations(resource: &Value) -> Vec<String> {
    type Validators = Mutex<HashMap<String, Arc<jsonschema::Validator>>>;
    static VALIDATORS: OnceLock<Validators> = OnceLock::new();
    let kind = resource["resourceType"].as_str().expect("a resourceType");
    let validator = VALIDATORS
        .get_or_init(Default::default)
        .lock()
        .expect("validators")
        .entry(kind.to_string())
        .or_insert_with(|| {
            // This resource type alone, for errors that name its fields.
            let mut one = schema().clone();
            one["oneOf"] = json!([{"$ref": format!("#/definitions/{kind}")}]);
            Arc::new(jsonschema::draft6::new(&one).expect("the FHIR schema compiles"))
        })
        .clone();
    validator
        .iter_errors(resource)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

fn assert_valid(resource: &Value) {
    let errors = violations(resource);
    assert!(errors.is_empty(), "{resource:#}\n{errors:#?}");
}

#[test]
fn the_validator_refuses_what_r4_forbids() {
    // The check can fail: a Consent without its required scope, an AuditEvent with a
    // made-up field, a Provenance whose `recorded` is not an instant.
    assert!(
        !violations(&json!({"resourceType": "Consent", "status": "active",
        "category": [{"text": "x"}]}))
        .is_empty()
    );
    assert!(
        !violations(&json!({"resourceType": "AuditEvent", "type": {"code": "x"},
        "recorded": "2026-01-01T00:00:00.000Z", "agent": [{"requestor": true}],
        "source": {"observer": {"display": "x"}}, "madeUp": 1}))
        .is_empty()
    );
    assert!(
        !violations(
            &json!({"resourceType": "Provenance", "target": [{"display": "x"}],
        "recorded": "yesterday", "agent": [{"who": {"display": "x"}}]})
        )
        .is_empty()
    );
}

#[tokio::test]
async fn consents_accesses_windows_and_record_versions_are_valid_r4_resources() {
    let record = RecordRef {
        custodian: PROVIDER,
        record_id: Hash32([0xaa; 32]),
    };
    let s = store_with(&[
        block(
            12,
            vec![
                registered(PROVIDER, "Provider"),
                registered(INSURER, "Insurer"),
                granted(PROVIDER, 1, Some(time_of(100))),
                granted(INSURER, 1, None),
                ChainEvent::ConsentRevoked {
                    patient: PATIENT,
                    grantee: INSURER,
                    version: 1,
                    by: PATIENT,
                },
                ChainEvent::RecordAnchored {
                    patient: PATIENT,
                    custodian: PROVIDER,
                    commitment: Hash32([0xc1; 32]),
                    record_id: Hash32([0xaa; 32]),
                    category_commitment: Hash32([0xdd; 32]),
                    version: 1,
                },
            ],
        ),
        block(
            13,
            vec![
                ChainEvent::RecordAmended {
                    patient: PATIENT,
                    custodian: PROVIDER,
                    commitment: Hash32([0xc2; 32]),
                    record_id: Hash32([0xaa; 32]),
                    previous: Hash32([0xc1; 32]),
                    version: 2,
                    reason: "Correction",
                },
                ChainEvent::ClaimAttested {
                    patient: PATIENT,
                    insurer: INSURER,
                    claim_ref: Hash32([0x21; 32]),
                    documents: vec![AnchorRef {
                        custodian: PROVIDER,
                        commitment: Hash32([0xc2; 32]),
                    }],
                    all_current: true,
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
                ChainEvent::EmergencyAccessOpened {
                    patient: PATIENT,
                    provider: PROVIDER,
                    reason: "PatientIncapacitated",
                    justification_hash: Hash32([0x11; 32]),
                    ends_at: time_of(40),
                },
            ],
        ),
    ])
    .await;
    let v = run(
        &s.store,
        &format!(
            r#"{{ consents(patient: "{PATIENT}") {{ nodes {{ status fhir }} }}
                 accessLog(patient: "{PATIENT}") {{ nodes {{ outcome fhir }} }}
                 emergencyWindows(patient: "{PATIENT}") {{ nodes {{ fhir }} }}
                 record(custodian: "{PROVIDER}", recordId: "0x{}") {{ versions {{ fhir }} }} }}"#,
            "aa".repeat(32)
        ),
    )
    .await;
    assert_eq!(v["errors"], Value::Null, "{v}");
    let d = &v["data"];
    let mut resources = Vec::new();
    for list in ["consents", "accessLog", "emergencyWindows"] {
        for node in d[list]["nodes"].as_array().into_iter().flatten() {
            resources.push(node["fhir"].clone());
        }
    }
    for version in d["record"]["versions"].as_array().into_iter().flatten() {
        resources.push(version["fhir"].clone());
    }
    let kinds: Vec<_> = resources
        .iter()
        .map(|r| r["resourceType"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "Consent",
            "Consent",
            "AuditEvent",
            "AuditEvent",
            "AuditEvent",
            "Provenance",
            "Provenance"
        ]
    );
    for r in &resources {
        assert_valid(r);
    }

    // and they say what the mirror says
    let consents = d["consents"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let status = |s: &str| {
        consents
            .iter()
            .find(|c| c["status"] == s)
            .map(|c| c["fhir"].clone())
            .expect("a consent")
    };
    assert_eq!(status("ACTIVE")["status"], "active");
    assert_eq!(status("REVOKED")["status"], "inactive");
    let active = status("ACTIVE");
    assert_eq!(
        active["provision"]["actor"][0]["reference"]["identifier"]["value"],
        PROVIDER.to_string()
    );
    assert_eq!(active["provision"]["purpose"][0]["code"], "TREAT");
    let classes: Vec<_> = active["provision"]["class"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["code"].clone())
        .collect();
    assert_eq!(classes, [json!("LabResults"), json!("Imaging")]);
    let accesses = d["accessLog"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(accesses[0]["fhir"]["outcome"], "0");
    assert_eq!(accesses[1]["outcome"], "DENIED");
    assert_eq!(accesses[1]["fhir"]["outcome"], "4");
    let versions = &d["record"]["versions"];
    assert_eq!(
        versions[0]["fhir"]["activity"]["coding"][0]["code"],
        "CREATE"
    );
    assert_eq!(
        versions[1]["fhir"]["activity"]["coding"][0]["code"],
        "UPDATE"
    );
    assert_eq!(
        versions[1]["fhir"]["entity"][0]["what"]["identifier"]["value"],
        format!("0x{}", "c1".repeat(32)),
        "the amendment names the version it revised"
    );
}
