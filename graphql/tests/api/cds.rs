//! The CDS Hooks consent decision service, asked as an enforcement point built for LEAP asks
//! (the request and answer of the LEAP Consent Decision Service README), and checked against
//! the API's own `authorization` for the same moment.

use medledger_graphql::HttpOptions;
use medledger_store::{AccountId, ChainEvent, Hash32};
use serde_json::{Value, json};

use crate::helpers::*;

/// Nobody the patient ever dealt with.
const STRANGER: AccountId = AccountId([9; 32]);

/// Block 12: the provider, the lab and the insurer registered, the provider granted lab
/// results and imaging for treatment; 14: the insurer granted, the lab opened an emergency
/// window (until block 30's time); 16: the insurer's consent revoked; 20: the mirror's last.
async fn history() -> Seeded {
    store_with(&[
        block(
            12,
            vec![
                registered(PROVIDER, "Provider"),
                registered(LAB, "Provider"),
                registered(INSURER, "Insurer"),
                granted(PROVIDER, 1, None),
            ],
        ),
        block(
            14,
            vec![
                granted(INSURER, 1, None),
                ChainEvent::EmergencyAccessOpened {
                    patient: PATIENT,
                    provider: LAB,
                    reason: "PatientIncapacitated",
                    justification_hash: Hash32([0x11; 32]),
                    ends_at: time_of(30),
                },
            ],
        ),
        block(
            16,
            vec![ChainEvent::ConsentRevoked {
                patient: PATIENT,
                grantee: INSURER,
                version: 1,
                by: PATIENT,
            }],
        ),
        block(20, vec![]),
    ])
    .await
}

/// A request shaped as the LEAP README's example, for `actor`, with `class` and purposes.
fn request(actor: AccountId, class: Option<Value>, purposes: Value) -> Value {
    let mut context = json!({
        "patientId": [{"system": "urn:medledger:account", "value": PATIENT.to_string()}],
        "category": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                      "code": "patient-privacy"}],
        "purposeOfUse": purposes,
        "actor": [{"system": "urn:medledger:account", "value": actor.to_string()}],
    });
    if let Some(class) = class {
        context["class"] = class;
    }
    json!({"hook": "patient-consent-consult", "hookInstance": "hook-instance-123", "context": context})
}

async fn consult(app: &App, body: &Value) -> (u16, Value) {
    let answer = reqwest::Client::new()
        .post(format!("{}/cds-services/patient-consent-consult", app.base))
        .json(body)
        .send()
        .await
        .expect("post");
    let status = answer.status().as_u16();
    (status, answer.json().await.expect("a JSON answer"))
}

/// The API's `authorization` of `grantee` reading `category` for treatment, now.
async fn allowed(s: &Seeded, grantee: AccountId, category: &str) -> bool {
    let v = run(
        &s.store,
        &format!(
            r#"{{ authorization(patient: "{PATIENT}", grantee: "{grantee}", category: {category},
                  purpose: TREATMENT, access: READ) {{ allowed }} }}"#
        ),
    )
    .await;
    v["data"]["authorization"]["allowed"]
        .as_bool()
        .unwrap_or_else(|| panic!("{v}"))
}

fn codes(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["code"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The contracts' categories as the API's enum spells them, and as the service's codes do.
const CATEGORIES: [(&str, &str); 14] = [
    ("DEMOGRAPHICS", "Demographics"),
    ("ALLERGIES", "Allergies"),
    ("MEDICATIONS", "Medications"),
    ("PROBLEMS", "Problems"),
    ("LAB_RESULTS", "LabResults"),
    ("IMAGING", "Imaging"),
    ("CLINICAL_NOTES", "ClinicalNotes"),
    ("IMMUNIZATIONS", "Immunizations"),
    ("PROCEDURES", "Procedures"),
    ("GENOMICS", "Genomics"),
    ("MENTAL_HEALTH", "MentalHealth"),
    ("SUBSTANCE_USE", "SubstanceUse"),
    ("SEXUAL_HEALTH", "SexualHealth"),
    ("BILLING", "Billing"),
];

#[tokio::test]
async fn discovery_lists_the_patient_consent_consult_service() {
    let s = history().await;
    let app = spawn_app(s.store.clone(), HttpOptions::default()).await;
    let v: Value = reqwest::get(format!("{}/cds-services", app.base))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(v["services"][0]["id"], "patient-consent-consult");
    assert_eq!(v["services"][0]["hook"], "patient-consent-consult");
    app.stop().await;
}

#[tokio::test]
async fn permit_deny_and_no_consent_are_judged_as_authorization_judges() {
    let s = history().await;
    let app = spawn_app(s.store.clone(), HttpOptions::default()).await;
    let observation =
        json!([{"system": "http://hl7.org/fhir/resource-types", "code": "Observation"}]);

    // permit: the provider's consent covers lab results (Observation) for treatment
    let (status, v) = consult(
        &app,
        &request(PROVIDER, Some(observation.clone()), json!(["TREAT"])),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let card = &v["cards"][0];
    assert_eq!(card["summary"], "CONSENT_PERMIT", "{v}");
    assert_eq!(card["indicator"], "info");
    assert_eq!(card["extension"]["decision"], "CONSENT_PERMIT");
    assert_eq!(codes(&card["extension"]["permitted"]), ["LabResults"]);
    // an Observation may be about substance use or mental health: those are redacted, as
    // the consent does not cover them
    assert_eq!(
        codes(&card["extension"]["obligations"][0]["parameters"]["codes"]),
        ["Genomics", "MentalHealth", "SubstanceUse", "SexualHealth"],
        "{v}"
    );
    assert_eq!(
        card["extension"]["basedOn"],
        format!("urn:medledger:consent:{PATIENT}:{PROVIDER}:v1")
    );
    assert!(allowed(&s, PROVIDER, "LAB_RESULTS").await);

    // every category asked (no class): permitted exactly where authorization allows, the
    // rest to be redacted
    let (_, v) = consult(&app, &request(PROVIDER, None, json!("TREAT"))).await;
    let extension = &v["cards"][0]["extension"];
    let permitted = codes(&extension["permitted"]);
    let redacted = codes(&extension["obligations"][0]["parameters"]["codes"]);
    assert_eq!(extension["obligations"][0]["id"]["code"], "REDACT", "{v}");
    for (api, code) in CATEGORIES {
        let yes = allowed(&s, PROVIDER, api).await;
        assert_eq!(permitted.contains(&code.to_string()), yes, "{code}: {v}");
        assert_eq!(redacted.contains(&code.to_string()), !yes, "{code}: {v}");
    }
    assert_eq!(permitted, ["LabResults", "Imaging"]);

    // treatment and research at once: the consent covers only treatment, so nothing is
    // permitted (the data would serve research too)
    let (_, v) = consult(
        &app,
        &request(
            PROVIDER,
            Some(observation.clone()),
            json!(["TREAT", "HRESCH"]),
        ),
    )
    .await;
    assert_eq!(v["cards"][0]["summary"], "CONSENT_DENY", "{v}");

    // a purpose the consent does not cover: a consent exists, and it denies
    let (_, v) = consult(
        &app,
        &request(PROVIDER, Some(observation.clone()), json!(["HRESCH"])),
    )
    .await;
    assert_eq!(v["cards"][0]["summary"], "CONSENT_DENY", "{v}");
    assert_eq!(v["cards"][0]["indicator"], "critical");

    // deny: the insurer's consent was revoked
    let (_, v) = consult(
        &app,
        &request(INSURER, Some(observation.clone()), json!(["TREAT"])),
    )
    .await;
    let card = &v["cards"][0];
    assert_eq!(card["summary"], "CONSENT_DENY", "{v}");
    assert_eq!(
        card["extension"]["basedOn"],
        format!("urn:medledger:consent:{PATIENT}:{INSURER}:v1")
    );
    assert!(!allowed(&s, INSURER, "LAB_RESULTS").await);

    // no consent: nobody the patient dealt with
    let (_, v) = consult(
        &app,
        &request(STRANGER, Some(observation.clone()), json!(["TREAT"])),
    )
    .await;
    assert_eq!(v["cards"][0]["summary"], "NO_CONSENT", "{v}");
    assert_eq!(v["cards"][0]["indicator"], "warning");
    assert!(v["cards"][0]["extension"].get("basedOn").is_none());
    assert!(!allowed(&s, STRANGER, "LAB_RESULTS").await);

    // an open emergency window lets the lab read non-sensitive data for treatment, as the
    // rule says, and the answer says so; mental health stays redacted
    let (_, v) = consult(&app, &request(LAB, None, json!(["ETREAT"]))).await;
    let extension = &v["cards"][0]["extension"];
    assert_eq!(extension["decision"], "CONSENT_PERMIT", "{v}");
    assert_eq!(extension["emergency"], true);
    let redacted = codes(&extension["obligations"][0]["parameters"]["codes"]);
    assert!(redacted.contains(&"MentalHealth".to_string()), "{v}");
    for (api, code) in CATEGORIES {
        assert_eq!(
            codes(&extension["permitted"]).contains(&code.to_string()),
            allowed(&s, LAB, api).await,
            "{code}: {v}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_requests_are_400_with_what_is_wrong() {
    let s = history().await;
    let app = spawn_app(s.store.clone(), HttpOptions::default()).await;
    let mut no_hook = request(PROVIDER, None, json!(["TREAT"]));
    no_hook.as_object_mut().expect("object").remove("hook");
    let unknown_purpose = request(PROVIDER, None, json!(["XYZ"]));
    let unknown_class = request(
        PROVIDER,
        Some(json!([{"system": "http://hl7.org/fhir/resource-types", "code": "Spaceship"}])),
        json!(["TREAT"]),
    );
    let no_purpose = request(PROVIDER, None, json!([]));
    let mut with_scope = request(PROVIDER, None, json!(["TREAT"]));
    with_scope["context"]["scope"] = json!("patient-privacy");
    for (body, needle) in [
        (&no_hook, "hook"),
        (&unknown_purpose, "purposeOfUse \"XYZ\""),
        (&unknown_class, "Spaceship"),
        (&with_scope, "scope"),
        (&no_purpose, "purposeOfUse is required"),
    ] {
        let (status, v) = consult(&app, body).await;
        assert_eq!(status, 400, "{v}");
        assert_eq!(v["error"], "bad_request");
        let message = v["errorMessage"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("Invalid request: ") && message.contains(needle),
            "{needle}: {v}"
        );
    }
    let answer = reqwest::Client::new()
        .post(format!("{}/cds-services/patient-consent-consult", app.base))
        .header("content-type", "application/json")
        .body("not json")
        .send()
        .await
        .expect("post");
    assert_eq!(answer.status(), 400);
    let v: Value = answer.json().await.expect("json");
    assert_eq!(v["error"], "bad_request", "{v}");
    app.stop().await;
}
