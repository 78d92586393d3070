//! The decoder against events recorded from a real node (`fixtures/recorded-events.json`,
//! written by `cargo run -p medledger-e2e --bin record-events`): every contract message sent
//! once, so every event kind, as the node's `ContractEmitted` events carried them. Each must
//! decode to what the step that emitted it did; each, damaged, must be refused or skipped,
//! never misread. `fixtures/recorded-events-v2.json` holds the same walk recorded from the
//! contracts' second release: a chain upgraded in place holds its events too, and every one
//! must still decode.

use std::collections::BTreeSet;

use medledger_events::{DataCategory, FLAG_EMERGENCY, Purpose};
use medledger_indexer::{RawContractEvent, decode_event};
use medledger_store::{
    AccountId, AnchorRef, ChainEvent, Hash32, OrgIdentifier, OrgProfile, RecordRef,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    events: Vec<Recorded>,
}

#[derive(Deserialize)]
struct Recorded {
    step: String,
    block: u64,
    index: u32,
    topics: Vec<String>,
    data: String,
}

fn bytes(s: &str) -> Vec<u8> {
    let digits = s.strip_prefix("0x").expect("0x-prefixed hex");
    hex::decode(digits).expect("hex")
}

/// The third release's events.
fn recorded() -> Vec<(String, RawContractEvent)> {
    recorded_in(include_str!("fixtures/recorded-events.json"))
}

/// The second release's events.
fn recorded_v2() -> Vec<(String, RawContractEvent)> {
    recorded_in(include_str!("fixtures/recorded-events-v2.json"))
}

fn recorded_in(text: &str) -> Vec<(String, RawContractEvent)> {
    let fixture: Fixture = serde_json::from_str(text).expect("the fixture parses");
    fixture
        .events
        .into_iter()
        .map(|e| {
            let topics = e
                .topics
                .iter()
                .map(|t| bytes(t).try_into().expect("32-byte topic"))
                .collect();
            let raw = RawContractEvent {
                index: e.index,
                contract: [0; 32],
                topics,
                data: bytes(&e.data),
            };
            (format!("{} (block {})", e.step, e.block), raw)
        })
        .collect()
}

/// The dev accounts the walk signs with (their well-known SS58 addresses).
fn dev(name: &str) -> AccountId {
    let ss58 = match name {
        "alice" => "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
        "bob" => "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty",
        "charlie" => "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y",
        "dave" => "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy",
        "eve" => "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw",
        "ferdie" => "5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL",
        other => panic!("no dev account {other}"),
    };
    ss58.parse().expect("dev address")
}

fn h(byte: u8) -> Hash32 {
    Hash32([byte; 32])
}

/// Decodes every recorded event of the step named `step`, in chain order.
fn decoded(step: &str) -> Vec<ChainEvent> {
    let events: Vec<ChainEvent> = recorded()
        .into_iter()
        .filter(|(label, _)| label.starts_with(&format!("{step} (block")))
        .map(|(label, raw)| {
            decode_event(&raw)
                .unwrap_or_else(|e| panic!("{label}: {e}"))
                .unwrap_or_else(|| panic!("{label}: skipped as not ours"))
        })
        .collect();
    assert!(!events.is_empty(), "no event recorded for step {step}");
    events
}

fn one(step: &str) -> ChainEvent {
    let mut events = decoded(step);
    assert_eq!(events.len(), 1, "{step}: {events:?}");
    events.remove(0)
}

#[test]
fn every_recorded_event_decodes_and_every_kind_was_recorded() {
    let mut kinds = BTreeSet::new();
    for (label, raw) in recorded() {
        let event = decode_event(&raw)
            .unwrap_or_else(|e| panic!("{label}: {e}"))
            .unwrap_or_else(|| panic!("{label}: skipped as not ours"));
        kinds.insert(event.kind());
    }
    let all = [
        "OrgRegistered",
        "OrgUpdated",
        "UpgradeAnnounced",
        "UpgradeCancelled",
        "OrgSuspended",
        "OrgReinstated",
        "RegistrarProposed",
        "RegistrarChanged",
        "PolicyChanged",
        "ContractUpgraded",
        "ConsentGranted",
        "ConsentRevoked",
        "DelegateSet",
        "DelegateRemoved",
        "EmergencyAccessOpened",
        "EmergencyAccessEnded",
        "EmergencyBlockChanged",
        "RecordAnchored",
        "RecordAmended",
        "BatchAnchored",
        "ClaimAttested",
        "DuplicateClaimUse",
        "AccessRecorded",
        "AccessDenied",
    ];
    let missing: Vec<_> = all.iter().filter(|k| !kinds.contains(*k)).collect();
    assert!(missing.is_empty(), "never recorded: {missing:?}");
}

#[test]
fn organizations_and_the_registrar_decode_as_sent() {
    let named = |name: &str, kind: &str| {
        Some(OrgProfile {
            name: name.into(),
            kind: kind.into(),
            identifiers: vec![OrgIdentifier {
                system: "http://hl7.org/fhir/sid/us-npi".into(),
                value: "1234567893".into(),
            }],
        })
    };
    assert_eq!(
        one("register_org"),
        ChainEvent::OrgRegistered {
            org: dev("bob"),
            role: "Provider",
            flags: FLAG_EMERGENCY,
            profile: named("Riverside Clinic", "Clinic"),
        }
    );
    assert_eq!(
        one("register_org (insurer)"),
        ChainEvent::OrgRegistered {
            org: dev("charlie"),
            role: "Insurer",
            flags: 0,
            profile: named("Acme Health Insurance", "Insurer"),
        }
    );
    assert_eq!(
        one("update_org"),
        ChainEvent::OrgUpdated {
            org: dev("bob"),
            profile: named("Riverside Hospital", "Hospital"),
        }
    );
    assert_eq!(
        one("suspend_org"),
        ChainEvent::OrgSuspended { org: dev("ferdie") }
    );
    assert_eq!(
        one("reinstate_org"),
        ChainEvent::OrgReinstated { org: dev("ferdie") }
    );
    assert_eq!(
        one("propose_registrar"),
        ChainEvent::RegistrarProposed {
            current: dev("alice"),
            proposed: dev("ferdie")
        }
    );
    assert_eq!(
        one("accept_registrar"),
        ChainEvent::RegistrarChanged {
            previous: dev("alice"),
            registrar: dev("ferdie")
        }
    );
    match one("set_policy") {
        ChainEvent::PolicyChanged {
            emergency_window_ms,
            emergency_cooldown_ms,
            max_delegation_ms,
        } => {
            assert_eq!(emergency_cooldown_ms, 0);
            assert!(emergency_window_ms > 0 && max_delegation_ms > 0);
        }
        other => panic!("set_policy: {other:?}"),
    }
}

#[test]
fn consents_delegations_and_emergencies_decode_as_sent() {
    let labs_imaging = DataCategory::LabResults.bit() | DataCategory::Imaging.bit();
    assert_eq!(
        one("grant"),
        ChainEvent::ConsentGranted {
            patient: dev("dave"),
            grantee: dev("bob"),
            categories: labs_imaging,
            purposes: Purpose::Treatment.bit(),
            access: 0b11,
            valid_from: 0,
            expires_at: None,
            terms_hash: h(1),
            version: 1,
            by: dev("dave"),
        }
    );
    let ChainEvent::DelegateSet {
        patient,
        delegate,
        expires_at: delegation_ends,
    } = one("set_delegate")
    else {
        panic!("set_delegate is not a DelegateSet");
    };
    assert_eq!((patient, delegate), (dev("dave"), dev("eve")));
    // The delegate grants on the patient's behalf, until the delegation ends.
    match one("grant (by a delegate)") {
        ChainEvent::ConsentGranted {
            patient,
            grantee,
            purposes,
            access,
            expires_at,
            terms_hash,
            by,
            ..
        } => {
            assert_eq!(
                (patient, grantee, by),
                (dev("dave"), dev("charlie"), dev("eve"))
            );
            assert_eq!((purposes, access), (Purpose::Payment.bit(), 0b01));
            assert_eq!((expires_at, terms_hash), (Some(delegation_ends), h(2)));
        }
        other => panic!("grant (by a delegate): {other:?}"),
    }
    assert!(matches!(
        one("revoke (by a delegate)"),
        ChainEvent::ConsentRevoked { patient, grantee, by, .. }
            if (patient, grantee, by) == (dev("dave"), dev("charlie"), dev("eve"))
    ));
    match one("break_glass") {
        ChainEvent::EmergencyAccessOpened {
            patient,
            provider,
            reason,
            justification_hash,
            ends_at,
        } => {
            assert_eq!((patient, provider), (dev("dave"), dev("bob")));
            assert_eq!((reason, justification_hash), ("LifeThreatening", h(3)));
            assert!(ends_at > 0);
        }
        other => panic!("break_glass: {other:?}"),
    }
    assert!(matches!(
        one("break_glass (again)"),
        ChainEvent::EmergencyAccessOpened { reason: "Other", justification_hash, .. }
            if justification_hash == h(4)
    ));
    assert!(matches!(
        one("end_emergency (by a delegate)"),
        ChainEvent::EmergencyAccessEnded { patient, provider, by, .. }
            if (patient, provider, by) == (dev("dave"), dev("bob"), dev("eve"))
    ));
    assert!(matches!(
        one("end_emergency"),
        ChainEvent::EmergencyAccessEnded { by, .. } if by == dev("dave")
    ));
    assert!(matches!(
        one("set_emergency_block"),
        ChainEvent::EmergencyBlockChanged { provider, blocked: true, by, .. }
            if (provider, by) == (dev("bob"), dev("dave"))
    ));
    assert!(matches!(
        one("set_emergency_block (by a delegate)"),
        ChainEvent::EmergencyBlockChanged { blocked: false, by, .. } if by == dev("eve")
    ));
    assert_eq!(
        one("remove_delegate"),
        ChainEvent::DelegateRemoved {
            patient: dev("dave"),
            delegate: dev("eve")
        }
    );
    assert!(matches!(
        one("revoke"),
        // The version of the consent revoked: the one "grant" created.
        ChainEvent::ConsentRevoked { patient, grantee, by, version: 1 }
            if (patient, grantee, by) == (dev("dave"), dev("bob"), dev("dave"))
    ));
}

#[test]
fn records_batches_claims_and_accesses_decode_as_sent() {
    assert!(matches!(
        one("anchor (patient's own)"),
        ChainEvent::RecordAnchored { patient, custodian, record_id, commitment, version: 1, .. }
            if (patient, custodian, record_id, commitment) == (dev("dave"), dev("dave"), h(10), h(11))
    ));
    assert!(matches!(
        one("anchor (provider, consent checked)"),
        ChainEvent::RecordAnchored { custodian, record_id, commitment, .. }
            if (custodian, record_id, commitment) == (dev("bob"), h(12), h(13))
    ));
    assert_eq!(
        one("amend (provider, consent checked)"),
        ChainEvent::RecordAmended {
            patient: dev("dave"),
            custodian: dev("bob"),
            commitment: h(14),
            record_id: h(12),
            previous: h(13),
            version: 2,
            reason: "Correction",
        }
    );
    for (i, leaves) in [1u32, 100, 10_000].into_iter().enumerate() {
        assert_eq!(
            one(&format!("anchor_batch ({leaves} leaves)")),
            ChainEvent::BatchAnchored {
                org: dev("bob"),
                root: h(20 + i as u8),
                leaf_count: leaves
            }
        );
    }
    let report = AnchorRef {
        custodian: dev("bob"),
        commitment: h(14),
    };
    assert_eq!(
        one("attest_claim (1 document)"),
        ChainEvent::ClaimAttested {
            patient: dev("dave"),
            insurer: dev("charlie"),
            claim_ref: h(30),
            documents: vec![report],
            all_current: true,
        }
    );
    // Reusing a document raises the duplicate signal first, then attests the claim.
    let reused = decoded("attest_claim (reused document)");
    assert_eq!(
        reused,
        vec![
            ChainEvent::DuplicateClaimUse {
                patient: dev("dave"),
                insurer: dev("charlie"),
                commitment: h(14),
                claim_ref: h(31),
                first_insurer: dev("charlie"),
                first_claim_ref: h(30),
                reuse: "SameInsurer",
                overlap: "SameDocument",
            },
            ChainEvent::ClaimAttested {
                patient: dev("dave"),
                insurer: dev("charlie"),
                claim_ref: h(31),
                documents: vec![report],
                all_current: true,
            },
        ]
    );
    // The first version of the claimed record, claimed again: the signal follows the record.
    assert!(matches!(
        &decoded("attest_claim (another version of a claimed record)")[0],
        ChainEvent::DuplicateClaimUse { commitment, first_claim_ref, reuse: "SameInsurer", overlap: "SameRecord", .. }
            if (*commitment, *first_claim_ref) == (h(13), h(30))
    ));
    let labs = DataCategory::LabResults.bit();
    assert_eq!(
        one("record_access (allowed)"),
        ChainEvent::AccessRecorded {
            patient: dev("dave"),
            accessor: dev("bob"),
            record: None,
            categories: labs,
            purpose: "Treatment",
            emergency: false,
        }
    );
    assert!(matches!(
        one("record_access (allowed, named record)"),
        ChainEvent::AccessRecorded { record: Some(RecordRef { custodian, record_id }), .. }
            if (custodian, record_id) == (dev("bob"), h(12))
    ));
    assert_eq!(
        one("record_access (denied)"),
        ChainEvent::AccessDenied {
            patient: dev("dave"),
            accessor: dev("charlie"),
            record: None,
            categories: labs,
            purpose: "Research",
        }
    );
    for contract in ["ConsentRegistry", "RecordRegistry"] {
        assert!(matches!(
            one(&format!("announce_upgrade ({contract})")),
            ChainEvent::UpgradeAnnounced { effective_at, .. } if effective_at > 0
        ));
        assert!(matches!(
            one(&format!("upgrade ({contract})")),
            ChainEvent::ContractUpgraded { from_version, storage_version, .. }
                if from_version == storage_version
        ));
    }
    assert!(matches!(
        one("cancel_upgrade (ConsentRegistry)"),
        ChainEvent::UpgradeCancelled { .. }
    ));
}

#[test]
fn the_second_releases_events_all_still_decode() {
    let events = recorded_v2();
    assert!(events.len() > 20, "the second release's walk is recorded");
    for (label, raw) in events {
        let event = decode_event(&raw)
            .unwrap_or_else(|e| panic!("{label}: {e}"))
            .unwrap_or_else(|| panic!("{label}: skipped as not ours"));
        match (label.split(" (block").next().unwrap_or_default(), event) {
            ("register_org", e) => assert_eq!(
                e,
                ChainEvent::OrgRegistered {
                    org: dev("bob"),
                    role: "Provider",
                    flags: FLAG_EMERGENCY,
                    profile: None,
                }
            ),
            (
                "attest_claim (reused document)",
                ChainEvent::DuplicateClaimUse {
                    reuse,
                    overlap,
                    first_insurer,
                    ..
                },
            ) => {
                assert_eq!((reuse, overlap), ("SameInsurer", "SameDocument"));
                assert_eq!(first_insurer, dev("charlie"));
            }
            _ => {}
        }
    }
}

#[test]
fn recorded_events_damaged_in_any_way_are_refused_or_skipped_never_misread() {
    for (label, raw) in recorded().into_iter().chain(recorded_v2()) {
        let kind = decode_event(&raw)
            .unwrap_or_else(|e| panic!("{label}: {e}"))
            .unwrap_or_else(|| panic!("{label}: skipped"))
            .kind();
        // One byte short, at every length down to nothing: refused, naming the event.
        for len in 0..raw.data.len() {
            let mut short = raw.clone();
            short.data.truncate(len);
            match decode_event(&short) {
                Err(e) => assert_eq!(e.event, kind, "{label} cut to {len} bytes"),
                Ok(other) => panic!("{label} cut to {len} bytes was read as {other:?}"),
            }
        }
        // A byte too many: refused.
        let mut long = raw.clone();
        long.data.push(0);
        assert!(decode_event(&long).is_err(), "{label} with a trailing byte");
        // A different signature topic, or none: not ours, skipped.
        let mut other = raw.clone();
        other.topics[0][0] ^= 1;
        assert_eq!(decode_event(&other), Ok(None), "{label} with another topic");
        other.topics.clear();
        assert_eq!(decode_event(&other), Ok(None), "{label} without topics");
    }
}
