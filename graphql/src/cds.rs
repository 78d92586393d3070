//! A consent decision service for other enforcement points: CDS Hooks discovery at
//! `GET /cds-services` and `POST /cds-services/patient-consent-consult`, with the request and
//! the answer of the LEAP Consent Decision Service (sdhealthconnect/leap-cds), so that an
//! enforcement point built for LEAP can ask medledger unchanged.
//!
//! The decision is the consent registry's rule at the mirror's chain time, taken by the same
//! code as the API's `authorization` (`rule::judge`), emergency windows included: for each
//! data category asked about (LEAP's `class`, with the sensitive categories always added;
//! every category when none is named), may the actor read it for every purpose named
//! (`purposeOfUse`, v3 ActReason codes, required)? Some categories
//! allowed: `CONSENT_PERMIT`, with a `REDACT` obligation naming the categories that are not;
//! none, but the patient gave the actor a consent (revoked, expired, not covering it):
//! `CONSENT_DENY`; no consent at all: `NO_CONSENT`. It reads the mirror only.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use medledger_events::{Access, DataCategory, Purpose};
use medledger_store::{AccountId, Store, Upto};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::rule::{Judgement, Question, judge};

/// The hook and service id LEAP uses.
pub const HOOK: &str = "patient-consent-consult";
/// How accounts are named in requests: the identifier system of medledger's accounts.
const ACCOUNT: &str = "urn:medledger:account";
/// medledger's data categories as a code system (codes as the API spells them: `LabResults`).
const CATEGORY: &str = "urn:medledger:category";
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const RESOURCE_TYPES: &str = "http://hl7.org/fhir/resource-types";
const CONSENT_SCOPE: &str = "http://terminology.hl7.org/CodeSystem/consentscope";

/// `GET /cds-services`: the one service, as LEAP describes it.
pub async fn discovery() -> Json<Value> {
    Json(json!({ "services": [{
        "id": HOOK,
        "hook": HOOK,
        "title": "Patient Consent Consult",
        "description": "medledger's consent decision service: whether the patient's consents on \
            the chain let an actor use the patient's data for a purpose, with the categories to \
            redact (LEAP Consent Decision Service request and answer).",
        "prefetch": { "patient": "Patient/{{context.patientId}}" },
    }]}))
}

/// An identifier: a system and a value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SystemValue {
    system: Option<String>,
    value: String,
}

/// A code: a system and a code.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SystemCode {
    system: String,
    code: String,
}

/// `purposeOfUse`: one code or several.
#[derive(Deserialize)]
#[serde(untagged)]
enum Codes {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Context {
    patient_id: Vec<SystemValue>,
    actor: Vec<SystemValue>,
    purpose_of_use: Option<Codes>,
    category: Option<Vec<SystemCode>>,
    class: Option<Vec<SystemCode>>,
    /// LEAP's content mode (a Bundle to label and redact) is not offered: enforcement
    /// points apply the obligations themselves.
    content: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HookRequest {
    hook: String,
    #[allow(dead_code)] // required by the hook's schema; only its presence matters
    hook_instance: String,
    context: Context,
}

/// A request this service cannot answer, as LEAP answers one (400, `bad_request`).
struct BadRequest(String);

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({
                "httpCode": 400,
                "error": "bad_request",
                "errorMessage": format!("Invalid request: {}", self.0),
            })),
        )
            .into_response()
    }
}

/// The mirror could not be read (LEAP: a consent store it cannot reach).
fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({
            "httpCode": 503,
            "error": "service_unavailable",
            "errorMessage": "The consent mirror could not be read.",
        })),
    )
        .into_response()
}

/// The decision: LEAP's three, with what it stands on.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    /// Allowed for these categories (the rest of those asked about are to be redacted),
    /// on this consent (none when only an emergency window allows it).
    Permit {
        allowed: Vec<DataCategory>,
        redact: Vec<DataCategory>,
        based_on: Option<String>,
        emergency: bool,
    },
    Deny {
        based_on: String,
    },
    NoConsent,
}

/// `POST /cds-services/patient-consent-consult`.
pub async fn consult(
    State(store): State<Arc<dyn Store>>,
    body: Result<Json<Value>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(body) => body,
        Err(e) => {
            return BadRequest(format!("the body is not JSON: {}", e.body_text())).into_response();
        }
    };
    let request: HookRequest = match serde_json::from_value(body) {
        Ok(r) => r,
        Err(e) => return BadRequest(e.to_string()).into_response(),
    };
    let asked = match Asked::of(&request) {
        Ok(asked) => asked,
        Err(message) => return BadRequest(message).into_response(),
    };
    match decide(store.as_ref(), &asked).await {
        Ok(decision) => Json(card(&decision)).into_response(),
        Err(()) => unavailable(),
    }
}

/// What a request asks, in medledger's terms.
struct Asked {
    patient: Option<AccountId>,
    actors: Vec<AccountId>,
    purposes: Vec<Purpose>,
    categories: Vec<DataCategory>,
    /// The request's `category` names no privacy consent (e.g. only `research` scope):
    /// no consent of medledger's applies.
    other_scope: bool,
}

impl Asked {
    fn of(request: &HookRequest) -> Result<Asked, String> {
        if request.hook != HOOK {
            return Err(format!("/hook must be {HOOK:?}"));
        }
        let c = &request.context;
        if c.content.is_some() {
            return Err(
                "/context/content (LEAP's content mode) is not offered: apply the answer's \
                 obligations to the content"
                    .into(),
            );
        }
        let accounts = |ids: &[SystemValue]| -> Vec<AccountId> {
            ids.iter()
                .filter(|id| id.system.as_deref() == Some(ACCOUNT))
                .filter_map(|id| id.value.parse().ok())
                .collect()
        };
        let patient = accounts(&c.patient_id).into_iter().next();
        let actors = accounts(&c.actor);
        let codes = match &c.purpose_of_use {
            None => Vec::new(),
            Some(Codes::One(code)) => vec![code.clone()],
            Some(Codes::Many(codes)) => codes.clone(),
        };
        let mut purposes = Vec::new();
        for code in &codes {
            let purpose = purpose_of(code).ok_or_else(|| {
                format!(
                    "/context/purposeOfUse {code:?} is not a v3 ActReason code this service \
                     knows (TREAT, ETREAT, HPAYMT, HOPERAT, HRESCH, PUBHLTH, PATRQT)"
                )
            })?;
            if !purposes.contains(&purpose) {
                purposes.push(purpose);
            }
        }
        if purposes.is_empty() {
            return Err(
                "/context/purposeOfUse is required: a consent allows data for purposes, so \
                 the purpose must be named"
                    .into(),
            );
        }
        let mut categories = Vec::new();
        for class in c.class.iter().flatten() {
            let category = category_of(class).ok_or_else(|| {
                format!(
                    "/context/class {}|{} names no data category this service knows (FHIR \
                     resource types, or {CATEGORY} codes such as LabResults)",
                    class.system, class.code
                )
            })?;
            if !categories.contains(&category) {
                categories.push(category);
            }
        }
        // A resource type says nothing of how sensitive its content is: an Observation may
        // be about substance use. The sensitive categories are always asked about too, so
        // that they are redacted unless the consent covers them.
        if categories.is_empty() {
            categories = DataCategory::ALL.to_vec();
        } else {
            for c in DataCategory::ALL.into_iter().filter(|c| c.is_sensitive()) {
                if !categories.contains(&c) {
                    categories.push(c);
                }
            }
        }
        let other_scope = c.category.as_ref().is_some_and(|scopes| {
            !scopes
                .iter()
                .any(|s| s.system == CONSENT_SCOPE && s.code == "patient-privacy")
        });
        Ok(Asked {
            patient,
            actors,
            purposes,
            categories,
            other_scope,
        })
    }
}

/// A v3 ActReason code as a purpose of use.
fn purpose_of(code: &str) -> Option<Purpose> {
    Some(match code {
        "TREAT" | "ETREAT" => Purpose::Treatment,
        "HPAYMT" => Purpose::Payment,
        "HOPERAT" => Purpose::Operations,
        "HRESCH" => Purpose::Research,
        "PUBHLTH" => Purpose::PublicHealth,
        "PATRQT" => Purpose::PatientRequest,
        _ => return None,
    })
}

/// A content class as a data category: medledger's own codes, or a FHIR resource type.
fn category_of(class: &SystemCode) -> Option<DataCategory> {
    let norm = |s: &str| s.replace(['_', '-', ' '], "").to_ascii_lowercase();
    match class.system.as_str() {
        CATEGORY => DataCategory::ALL
            .into_iter()
            .find(|c| norm(&format!("{c:?}")) == norm(&class.code)),
        RESOURCE_TYPES => Some(match class.code.as_str() {
            "Patient" | "RelatedPerson" => DataCategory::Demographics,
            "AllergyIntolerance" => DataCategory::Allergies,
            "Medication"
            | "MedicationRequest"
            | "MedicationStatement"
            | "MedicationAdministration"
            | "MedicationDispense" => DataCategory::Medications,
            "Condition" => DataCategory::Problems,
            "Observation" | "DiagnosticReport" | "Specimen" => DataCategory::LabResults,
            "ImagingStudy" | "Media" => DataCategory::Imaging,
            "DocumentReference" | "Composition" | "ClinicalImpression" => {
                DataCategory::ClinicalNotes
            }
            "Immunization" | "ImmunizationRecommendation" => DataCategory::Immunizations,
            "Procedure" => DataCategory::Procedures,
            "MolecularSequence" => DataCategory::Genomics,
            "Claim" | "ClaimResponse" | "ExplanationOfBenefit" | "Coverage" | "Invoice" => {
                DataCategory::Billing
            }
            _ => return None,
        }),
        _ => None,
    }
}

/// The judgement for `asked`, at the mirror's chain time.
async fn decide(store: &dyn Store, asked: &Asked) -> Result<Decision, ()> {
    let Some(patient) = asked.patient else {
        return Ok(Decision::NoConsent);
    };
    if asked.other_scope {
        return Ok(Decision::NoConsent);
    }
    let mut denied_on = None;
    for actor in &asked.actors {
        let history = store
            .history(&patient, Some(actor), Upto::Latest)
            .await
            .map_err(
                |e| tracing::warn!(error = %e, "the decision service cannot read the mirror"),
            )?;
        let Some(position) = history.position else {
            return Ok(Decision::NoConsent);
        };
        let now = position.time;
        let (mut allowed, mut redact, mut based_on, mut emergency) =
            (Vec::new(), Vec::new(), None, false);
        for &category in &asked.categories {
            // Allowed only when every purpose named is: the data will serve all of them.
            let (mut yes, mut by_consent, mut by_window) = (true, None, false);
            for &purpose in &asked.purposes {
                let q = Question {
                    category,
                    purpose,
                    access: Access::Read,
                };
                match judge(&history, &patient, actor, &q, now) {
                    Judgement::ByConsent(grant) => {
                        by_consent = Some(consent_ref(&patient, actor, grant.version));
                    }
                    Judgement::ByEmergency(_) => by_window = true,
                    Judgement::Denied(_, last) => {
                        if let Some(grant) = last {
                            denied_on
                                .get_or_insert_with(|| consent_ref(&patient, actor, grant.version));
                        }
                        yes = false;
                        break;
                    }
                }
            }
            if yes {
                allowed.push(category);
                based_on = based_on.or(by_consent);
                emergency |= by_window;
            } else {
                redact.push(category);
            }
        }
        if !allowed.is_empty() {
            return Ok(Decision::Permit {
                allowed,
                redact,
                based_on,
                emergency,
            });
        }
    }
    Ok(match denied_on {
        Some(based_on) => Decision::Deny { based_on },
        None => Decision::NoConsent,
    })
}

/// How a decision names the consent it stands on: the pair and the grant's version.
fn consent_ref(patient: &AccountId, grantee: &AccountId, version: u32) -> String {
    format!("urn:medledger:consent:{patient}:{grantee}:v{version}")
}

/// A data category as a code of medledger's system.
fn category_code(category: DataCategory) -> Value {
    json!({ "system": CATEGORY, "code": format!("{category:?}") })
}

/// The answer: one card, as LEAP's.
fn card(decision: &Decision) -> Value {
    let (summary, detail, indicator) = match decision {
        Decision::Permit { .. } => (
            "CONSENT_PERMIT",
            "There is a patient consent permitting this action.",
            "info",
        ),
        Decision::Deny { .. } => (
            "CONSENT_DENY",
            "There is a patient consent denying this action.",
            "critical",
        ),
        Decision::NoConsent => ("NO_CONSENT", "No applicable consent was found.", "warning"),
    };
    let mut extension = json!({ "decision": summary, "obligations": [] });
    match decision {
        Decision::Permit {
            allowed,
            redact,
            based_on,
            emergency,
        } => {
            if !redact.is_empty() {
                extension["obligations"] = json!([{
                    "id": { "system": ACT_CODE, "code": "REDACT" },
                    "parameters": { "codes": redact.iter().copied().map(category_code).collect::<Vec<_>>() },
                }]);
            }
            extension["permitted"] = json!(
                allowed
                    .iter()
                    .copied()
                    .map(category_code)
                    .collect::<Vec<_>>()
            );
            if let Some(based_on) = based_on {
                extension["basedOn"] = json!(based_on);
            }
            if *emergency {
                extension["emergency"] = json!(true);
            }
        }
        Decision::Deny { based_on } => extension["basedOn"] = json!(based_on),
        Decision::NoConsent => {}
    }
    json!({ "cards": [{
        "summary": summary,
        "detail": detail,
        "indicator": indicator,
        "source": { "label": "medledger consent decision service", "url": "urn:medledger:cds" },
        "extension": extension,
    }]})
}
