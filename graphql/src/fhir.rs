//! HL7 FHIR R4 JSON views of the read model, for systems that speak FHIR: a consent as a
//! `Consent`, an access, a denied attempt or an emergency window as an `AuditEvent`, an
//! anchored record version as a `Provenance`. Accounts, records and commitments appear as
//! identifiers in medledger's own systems (`urn:medledger:…`); the health data itself never
//! does, since the chain never held it.

use chrono::SecondsFormat;
use medledger_store::{
    AccessRow, AccountId, CATEGORY_NAMES, ConsentRow, EmergencyWindow, Hash32, PURPOSE_NAMES,
    RecordVersionRow, names_of_bits,
};
use serde_json::{Value, json};

use crate::objects::{ConsentStatus, time};

const ACCOUNT: &str = "urn:medledger:account";
const RECORD: &str = "urn:medledger:record";
const COMMITMENT: &str = "urn:medledger:commitment";
const CATEGORY: &str = "urn:medledger:category";
const ACT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
const DICOM: &str = "http://dicom.nema.org/resources/ontology/DCM";
const ENTITY_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
const OBJECT_ROLE: &str = "http://terminology.hl7.org/CodeSystem/object-role";

/// A FHIR `instant`: milliseconds and `Z`.
fn instant(ms: u64) -> String {
    time(ms).to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn account(a: &AccountId) -> Value {
    json!({"identifier": {"system": ACCOUNT, "value": a.to_string()}})
}

/// The v3 ActReason code of a purpose of use.
fn purpose_code(purpose: &str) -> &'static str {
    match purpose {
        "Treatment" => "TREAT",
        "Payment" => "HPAYMT",
        "Operations" => "HOPERAT",
        "Research" => "HRESCH",
        "PublicHealth" => "PUBHLTH",
        _ => "PATRQT",
    }
}

fn purposes(bits: u8) -> Vec<Value> {
    names_of_bits(u64::from(bits), &PURPOSE_NAMES)
        .into_iter()
        .map(|p| json!({"system": ACT_REASON, "code": purpose_code(p), "display": p}))
        .collect()
}

fn categories(bits: u16) -> Vec<Value> {
    names_of_bits(u64::from(bits), &CATEGORY_NAMES)
        .into_iter()
        .map(|c| json!({"system": CATEGORY, "code": c}))
        .collect()
}

/// A consent as an R4 `Consent`: a privacy consent permitting the grantee its categories,
/// purposes and access for its period.
pub fn consent(c: &ConsentRow, status: ConsentStatus) -> Value {
    let fhir_status = match status {
        ConsentStatus::Active => "active",
        ConsentStatus::Pending => "proposed",
        ConsentStatus::Expired
        | ConsentStatus::Revoked
        | ConsentStatus::Lapsed
        | ConsentStatus::Suspended => "inactive",
    };
    let mut period = json!({"start": instant(c.valid_from)});
    if let Some(end) = c.expires_at {
        period["end"] = json!(instant(end));
    }
    let mut actions = Vec::new();
    if c.access & 1 != 0 {
        actions.push(json!({"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/consentaction",
            "code": "access"}]}));
    }
    if c.access & 2 != 0 {
        actions.push(json!({"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/consentaction",
            "code": "correct"}]}));
    }
    json!({
        "resourceType": "Consent",
        "identifier": [{"system": "urn:medledger:terms-commitment",
                        "value": c.terms_hash.to_string()}],
        "status": fhir_status,
        "scope": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/consentscope",
            "code": "patient-privacy"}]},
        "category": [{"coding": [{
            "system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]}],
        "patient": account(&c.patient),
        "dateTime": instant(c.updated_at),
        "performer": [account(&c.updated_by)],
        "policyRule": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
        "provision": {
            "type": "permit",
            "period": period,
            "actor": [{
                "role": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                    "code": "IRCP"}]},
                "reference": account(&c.grantee),
            }],
            "action": actions,
            "purpose": purposes(c.purposes),
            "class": categories(c.categories),
        },
    })
}

/// An access the accessor recorded, or a denied attempt, as an R4 `AuditEvent`.
pub fn access(a: &AccessRow) -> Value {
    let denied = a.outcome == "denied";
    let reason = json!({"coding": [{"system": ACT_REASON, "code": purpose_code(&a.purpose),
                                    "display": a.purpose}]});
    let mut entities = vec![json!({
        "what": account(&a.patient),
        "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
        "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
    })];
    if let Some((custodian, id)) = &a.record {
        entities.push(json!({
            "what": {"identifier": {"system": RECORD, "value": format!("{custodian}/{id}")}},
            "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
        }));
    }
    json!({
        "resourceType": "AuditEvent",
        "type": {"system": DICOM, "code": "110110", "display": "Patient Record"},
        "action": "R",
        "recorded": instant(a.at),
        "outcome": if denied { "4" } else { "0" },
        "outcomeDesc": if denied {
            "denied: no consent or emergency window covered it"
        } else if a.emergency {
            "allowed by an emergency window"
        } else {
            "allowed by the patient's consent"
        },
        "purposeOfEvent": [reason],
        "agent": [{"who": account(&a.accessor), "requestor": true}],
        "source": {"observer": {"display": "medledger RecordRegistry"}},
        "entity": entities,
    })
}

/// An emergency window a provider opened, as an R4 `AuditEvent` (emergency treatment).
pub fn emergency(w: &EmergencyWindow) -> Value {
    let mut period = json!({"start": instant(w.opened_at), "end": instant(w.ends_at)});
    if let Some(ended) = w.ended_at {
        period["end"] = json!(instant(ended.min(w.ends_at)));
    }
    json!({
        "resourceType": "AuditEvent",
        "type": {"system": DICOM, "code": "110113", "display": "Security Alert"},
        "subtype": [{"system": "urn:medledger:event", "code": "EmergencyAccessOpened"}],
        "action": "E",
        "period": period,
        "recorded": instant(w.opened_at),
        "outcome": "0",
        "outcomeDesc": format!("emergency access opened: {}", w.reason),
        "purposeOfEvent": [{"coding": [{"system": ACT_REASON, "code": "ETREAT",
                                        "display": "Emergency Treatment"}]}],
        "agent": [{"who": account(&w.provider), "requestor": true}],
        "source": {"observer": {"display": "medledger ConsentRegistry"}},
        "entity": [{
            "what": account(&w.patient),
            "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
            "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
        }],
    })
}

/// An anchored record version as an R4 `Provenance`: who anchored which commitment when,
/// and, for an amendment, which version it revised.
pub fn provenance(v: &RecordVersionRow, previous: Option<&Hash32>) -> Value {
    let mut p = json!({
        "resourceType": "Provenance",
        "target": [
            {"identifier": {"system": COMMITMENT, "value": v.commitment.to_string()}},
            {"identifier": {"system": RECORD,
                            "value": format!("{}/{}", v.custodian, v.record_id)}},
        ],
        "recorded": instant(v.anchored_at),
        "activity": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
            "code": if v.version == 1 { "CREATE" } else { "UPDATE" }}]},
        "agent": [{
            "type": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                "code": "custodian"}]},
            "who": account(&v.custodian),
        }],
    });
    if let Some(previous) = previous {
        p["entity"] = json!([{
            "role": "revision",
            "what": {"identifier": {"system": COMMITMENT, "value": previous.to_string()}},
        }]);
    }
    p
}
