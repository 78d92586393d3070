//! The shipped labeling table on resources as FHIR servers hold them.

use medledger_events::DataCategory as C;
use medledger_gateway::labels::{Labels, LabelsError};
use serde_json::json;

fn condition(system: &str, code: &str) -> serde_json::Value {
    json!({"resourceType": "Condition", "code": {"coding": [{"system": system, "code": code}]}})
}

#[test]
fn the_shipped_table_labels_sensitive_conditions_before_plain_problems() {
    let labels = Labels::shipped().expect("the shipped table parses");
    let icd = "http://hl7.org/fhir/sid/icd-10";
    assert_eq!(
        labels.category(&condition(icd, "F32.1")),
        Some(C::MentalHealth)
    );
    assert_eq!(
        labels.category(&condition(icd, "F10.2")),
        Some(C::SubstanceUse)
    );
    assert_eq!(
        labels.category(&condition(icd, "B20")),
        Some(C::SexualHealth)
    );
    assert_eq!(labels.category(&condition(icd, "E11.9")), Some(C::Problems));
    // a security label says it too
    let labeled = json!({"resourceType": "Observation",
        "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}]},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}]}]});
    assert_eq!(labels.category(&labeled), Some(C::MentalHealth));
}

#[test]
fn observations_by_their_category_and_resources_by_their_type() {
    let labels = Labels::shipped().expect("parses");
    let category = |code: &str| {
        json!({"resourceType": "Observation", "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": code}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]}})
    };
    assert_eq!(
        labels.category(&category("laboratory")),
        Some(C::LabResults)
    );
    assert_eq!(labels.category(&category("imaging")), Some(C::Imaging));
    // an observation of a kind the table does not know is not labeled (so not released)
    assert_eq!(labels.category(&category("social-history")), None);
    for (kind, want) in [
        ("Patient", C::Demographics),
        ("AllergyIntolerance", C::Allergies),
        ("MedicationRequest", C::Medications),
        ("ImagingStudy", C::Imaging),
        ("Immunization", C::Immunizations),
        ("Procedure", C::Procedures),
        ("DocumentReference", C::ClinicalNotes),
        ("ExplanationOfBenefit", C::Billing),
        ("MolecularSequence", C::Genomics),
    ] {
        assert_eq!(
            labels.category(&json!({"resourceType": kind})),
            Some(want),
            "{kind}"
        );
    }
    assert_eq!(labels.category(&json!({"resourceType": "Spaceship"})), None);
    assert_eq!(labels.category(&json!({"no": "type"})), None);
}

#[test]
fn a_table_with_a_mistake_names_the_rule() {
    let bad = r#"{"rules": [{"category": "Problems", "resourceType": ["Condition"]},
                            {"category": "Dentistry", "resourceType": ["Procedure"]}]}"#;
    assert_eq!(
        Labels::parse(bad).err(),
        Some(LabelsError::UnknownCategory {
            rule: 2,
            name: "Dentistry".into()
        })
    );
    let empty = r#"{"rules": [{"category": "Problems", "resourceType": []}]}"#;
    assert_eq!(
        Labels::parse(empty).err(),
        Some(LabelsError::NoResourceType { rule: 1 })
    );
    assert!(matches!(Labels::parse("[]"), Err(LabelsError::Shape(_))));
}
