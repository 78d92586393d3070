use ink::env::Event;
use medledger_events::{
    AccessDenied, AccessRecorded, AmendReason, BatchAnchored, ClaimAttested, ClaimOverlap,
    ClaimReuse, ConsentGranted, ConsentRevoked, ContractUpgraded, DelegateRemoved, DelegateSet,
    DuplicateClaimUse, EmergencyAccessEnded, EmergencyAccessOpened, EmergencyBlockChanged,
    EmergencyReason, OrgKind, OrgProfile, OrgRegistered, OrgReinstated, OrgSuspended, OrgUpdated,
    PolicyChanged, Purpose, RecordAmended, RecordAnchored, RecordKey, RegistrarChanged,
    RegistrarProposed, Role, UpgradeAnnounced, UpgradeCancelled, v2,
};
use medledger_store::{
    AccountId, AnchorRef, CLAIM_OVERLAP_NAMES, CLAIM_REUSE_NAMES, ChainEvent, Hash32,
    ORG_KIND_NAMES, OrgIdentifier, PURPOSE_NAMES, ROLE_NAMES, RecordRef,
};
use scale::Decode;

use crate::source::RawContractEvent;

/// A contract event that matched a known signature but did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event} event does not decode: {reason}")]
pub struct DecodeError {
    pub event: &'static str,
    pub reason: String,
}

fn account(a: &ink::primitives::AccountId) -> AccountId {
    AccountId(*AsRef::<[u8; 32]>::as_ref(a))
}

fn hash(h: &ink::primitives::Hash) -> Hash32 {
    let mut out = [0; 32];
    out.copy_from_slice(h.as_ref());
    Hash32(out)
}

fn role_name(role: Role) -> &'static str {
    ROLE_NAMES[role as usize]
}

fn purpose_name(purpose: Purpose) -> &'static str {
    PURPOSE_NAMES[purpose as usize]
}

fn kind_name(kind: OrgKind) -> &'static str {
    ORG_KIND_NAMES[kind as usize]
}

/// The profile these bytes encode (`OrgProfile::to_bytes`), if they encode one that passes
/// its checks: the contract only bounds them, and an unreadable profile is shown as none.
fn profile(bytes: &[u8]) -> Option<medledger_store::OrgProfile> {
    let p = OrgProfile::from_bytes(bytes).ok()?;
    Some(medledger_store::OrgProfile {
        name: p.name,
        kind: kind_name(p.kind).to_string(),
        identifiers: p
            .identifiers
            .into_iter()
            .map(|i| OrgIdentifier {
                system: i.system,
                value: i.value,
            })
            .collect(),
    })
}

fn reuse_name(reuse: ClaimReuse) -> &'static str {
    CLAIM_REUSE_NAMES[reuse as usize]
}

fn overlap_name(overlap: ClaimOverlap) -> &'static str {
    CLAIM_OVERLAP_NAMES[overlap as usize]
}

fn record_ref(key: Option<RecordKey>) -> Option<RecordRef> {
    key.map(|k| RecordRef {
        custodian: account(&k.custodian),
        record_id: hash(&k.record_id),
    })
}

fn emergency_reason_name(reason: EmergencyReason) -> &'static str {
    match reason {
        EmergencyReason::PatientIncapacitated => "PatientIncapacitated",
        EmergencyReason::LifeThreatening => "LifeThreatening",
        EmergencyReason::Other => "Other",
    }
}

fn amend_reason_name(reason: AmendReason) -> &'static str {
    match reason {
        AmendReason::Correction => "Correction",
        AmendReason::Addendum => "Addendum",
        AmendReason::Other => "Other",
    }
}

/// Decodes `data` entirely as `E` (trailing bytes mean a different layout).
fn decode_exact<E: Event + Decode>(name: &'static str, data: &[u8]) -> Result<E, DecodeError> {
    let mut input = data;
    let event = E::decode(&mut input).map_err(|e| DecodeError {
        event: name,
        reason: e.to_string(),
    })?;
    if !input.is_empty() {
        return Err(DecodeError {
            event: name,
            reason: format!("{} bytes left over", input.len()),
        });
    }
    Ok(event)
}

fn is<E: Event>(topic: &[u8; 32]) -> bool {
    E::SIGNATURE_TOPIC.as_ref() == Some(topic)
}

/// For each listed event type: if the topic is its signature, decode the data as it and map it
/// with the given closure-like body.
macro_rules! dispatch {
    ($topic:expr, $data:expr; $( $ty:ident => |$e:ident| $body:expr ),* $(,)?) => {{
        $(
            if is::<$ty>($topic) {
                let $e: $ty = decode_exact(stringify!($ty), $data)?;
                return Ok(Some($body));
            }
        )*
        Ok(None)
    }};
}

/// Decodes a medledger contract event by its signature topic (topic 0).
///
/// Returns `Ok(None)` for an event with no topics or an unknown signature.
///
/// # Errors
/// [`DecodeError`] when the signature is known but the data does not decode as that event.
pub fn decode_event(raw: &RawContractEvent) -> Result<Option<ChainEvent>, DecodeError> {
    let Some(topic) = raw.topics.first() else {
        return Ok(None);
    };
    // The second release's layouts first: their topics differ from the third's, and a chain
    // upgraded in place holds both.
    if is::<v2::OrgRegistered>(topic) {
        let e: v2::OrgRegistered = decode_exact("OrgRegistered", &raw.data)?;
        return Ok(Some(ChainEvent::OrgRegistered {
            org: account(&e.org),
            role: role_name(e.role),
            flags: e.flags,
            profile: None,
        }));
    }
    if is::<v2::DuplicateClaimUse>(topic) {
        let e: v2::DuplicateClaimUse = decode_exact("DuplicateClaimUse", &raw.data)?;
        // The second release followed commitments only, and named the first insurer.
        let reuse = if e.first_insurer == e.insurer {
            ClaimReuse::SameInsurer
        } else {
            ClaimReuse::OtherInsurer
        };
        return Ok(Some(ChainEvent::DuplicateClaimUse {
            patient: account(&e.patient),
            insurer: account(&e.insurer),
            commitment: hash(&e.commitment),
            claim_ref: hash(&e.claim_ref),
            first_insurer: account(&e.first_insurer),
            first_claim_ref: hash(&e.first_claim_ref),
            reuse: reuse_name(reuse),
            overlap: overlap_name(ClaimOverlap::SameDocument),
        }));
    }
    dispatch!(topic, &raw.data[..];
        OrgRegistered => |e| ChainEvent::OrgRegistered {
            org: account(&e.org),
            role: role_name(e.role),
            flags: e.flags,
            profile: profile(&e.profile),
        },
        OrgUpdated => |e| ChainEvent::OrgUpdated {
            org: account(&e.org),
            profile: profile(&e.profile),
        },
        UpgradeAnnounced => |e| ChainEvent::UpgradeAnnounced {
            code_hash: hash(&e.code_hash),
            effective_at: e.effective_at,
        },
        UpgradeCancelled => |e| ChainEvent::UpgradeCancelled {
            code_hash: hash(&e.code_hash),
        },
        OrgSuspended => |e| ChainEvent::OrgSuspended { org: account(&e.org) },
        OrgReinstated => |e| ChainEvent::OrgReinstated { org: account(&e.org) },
        RegistrarProposed => |e| ChainEvent::RegistrarProposed {
            current: account(&e.current),
            proposed: account(&e.proposed),
        },
        RegistrarChanged => |e| ChainEvent::RegistrarChanged {
            previous: account(&e.previous),
            registrar: account(&e.registrar),
        },
        PolicyChanged => |e| ChainEvent::PolicyChanged {
            emergency_window_ms: e.policy.emergency_window_ms,
            emergency_cooldown_ms: e.policy.emergency_cooldown_ms,
            max_delegation_ms: e.policy.max_delegation_ms,
        },
        ContractUpgraded => |e| ChainEvent::ContractUpgraded {
            code_hash: hash(&e.code_hash),
            from_version: e.from_version,
            storage_version: e.storage_version,
        },
        ConsentGranted => |e| ChainEvent::ConsentGranted {
            patient: account(&e.patient),
            grantee: account(&e.grantee),
            categories: e.categories,
            purposes: e.purposes,
            access: e.access,
            valid_from: e.valid_from,
            expires_at: e.expires_at,
            terms_hash: hash(&e.terms_hash),
            version: e.version,
            by: account(&e.by),
        },
        ConsentRevoked => |e| ChainEvent::ConsentRevoked {
            patient: account(&e.patient),
            grantee: account(&e.grantee),
            version: e.version,
            by: account(&e.by),
        },
        DelegateSet => |e| ChainEvent::DelegateSet {
            patient: account(&e.patient),
            delegate: account(&e.delegate),
            expires_at: e.expires_at,
        },
        DelegateRemoved => |e| ChainEvent::DelegateRemoved {
            patient: account(&e.patient),
            delegate: account(&e.delegate),
        },
        EmergencyAccessOpened => |e| ChainEvent::EmergencyAccessOpened {
            patient: account(&e.patient),
            provider: account(&e.provider),
            reason: emergency_reason_name(e.reason),
            justification_hash: hash(&e.justification_hash),
            ends_at: e.ends_at,
        },
        EmergencyAccessEnded => |e| ChainEvent::EmergencyAccessEnded {
            patient: account(&e.patient),
            provider: account(&e.provider),
            by: account(&e.by),
            cooldown_until: e.cooldown_until,
        },
        EmergencyBlockChanged => |e| ChainEvent::EmergencyBlockChanged {
            patient: account(&e.patient),
            provider: account(&e.provider),
            blocked: e.blocked,
            by: account(&e.by),
            cooldown_until: e.cooldown_until,
        },
        RecordAnchored => |e| ChainEvent::RecordAnchored {
            patient: account(&e.patient),
            custodian: account(&e.custodian),
            commitment: hash(&e.commitment),
            record_id: hash(&e.record_id),
            category_commitment: hash(&e.category_commitment),
            version: e.version,
        },
        RecordAmended => |e| ChainEvent::RecordAmended {
            patient: account(&e.patient),
            custodian: account(&e.custodian),
            commitment: hash(&e.commitment),
            record_id: hash(&e.record_id),
            previous: hash(&e.previous),
            version: e.version,
            reason: amend_reason_name(e.reason),
        },
        BatchAnchored => |e| ChainEvent::BatchAnchored {
            org: account(&e.org),
            root: hash(&e.root),
            leaf_count: e.leaf_count,
        },
        ClaimAttested => |e| ChainEvent::ClaimAttested {
            patient: account(&e.patient),
            insurer: account(&e.insurer),
            claim_ref: hash(&e.claim_ref),
            documents: e
                .documents
                .iter()
                .map(|d| AnchorRef {
                    custodian: account(&d.custodian),
                    commitment: hash(&d.commitment),
                })
                .collect(),
            all_current: e.all_current,
        },
        DuplicateClaimUse => |e| ChainEvent::DuplicateClaimUse {
            patient: account(&e.patient),
            insurer: account(&e.insurer),
            commitment: hash(&e.commitment),
            claim_ref: hash(&e.claim_ref),
            first_insurer: account(&e.first_insurer),
            first_claim_ref: hash(&e.first_claim_ref),
            reuse: reuse_name(e.reuse),
            overlap: overlap_name(e.overlap),
        },
        AccessRecorded => |e| ChainEvent::AccessRecorded {
            patient: account(&e.patient),
            accessor: account(&e.accessor),
            record: record_ref(e.record),
            categories: e.categories,
            purpose: purpose_name(e.purpose),
            emergency: e.emergency,
        },
        AccessDenied => |e| ChainEvent::AccessDenied {
            patient: account(&e.patient),
            accessor: account(&e.accessor),
            record: record_ref(e.record),
            categories: e.categories,
            purpose: purpose_name(e.purpose),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ink::primitives::{AccountId as InkAccount, Hash as InkHash};
    use medledger_events::DataCategory;
    use scale::Encode;

    fn raw<E: Event + Encode>(event: &E) -> RawContractEvent {
        RawContractEvent {
            index: 3,
            contract: [5; 32],
            topics: vec![E::SIGNATURE_TOPIC.expect("not anonymous")],
            data: event.encode(),
        }
    }

    fn granted() -> ConsentGranted {
        ConsentGranted {
            patient: InkAccount::from([1; 32]),
            grantee: InkAccount::from([2; 32]),
            categories: DataCategory::LabResults.bit() | DataCategory::Genomics.bit(),
            purposes: Purpose::Treatment.bit(),
            access: 1,
            valid_from: 10,
            expires_at: Some(20),
            terms_hash: InkHash::from([7; 32]),
            version: 4,
            by: InkAccount::from([1; 32]),
        }
    }

    #[test]
    fn a_consent_granted_event_decodes_into_its_store_form() {
        let decoded = decode_event(&raw(&granted())).expect("decodes");
        assert_eq!(
            decoded,
            Some(ChainEvent::ConsentGranted {
                patient: AccountId([1; 32]),
                grantee: AccountId([2; 32]),
                categories: (1 << 4) | (1 << 9),
                purposes: 1,
                access: 1,
                valid_from: 10,
                expires_at: Some(20),
                terms_hash: Hash32([7; 32]),
                version: 4,
                by: AccountId([1; 32]),
            })
        );
    }

    #[test]
    fn each_event_kind_is_told_apart_by_its_signature_topic() {
        let org = OrgRegistered {
            org: InkAccount::from([3; 32]),
            role: Role::Insurer,
            flags: 1,
            profile: OrgProfile {
                name: "Acme Health Insurance".into(),
                kind: OrgKind::Insurer,
                identifiers: vec![],
            }
            .to_bytes(),
        };
        let revoked = ConsentRevoked {
            patient: InkAccount::from([1; 32]),
            grantee: InkAccount::from([2; 32]),
            version: 2,
            by: InkAccount::from([1; 32]),
        };
        let anchored = RecordAnchored {
            patient: InkAccount::from([1; 32]),
            custodian: InkAccount::from([2; 32]),
            commitment: InkHash::from([9; 32]),
            record_id: InkHash::from([8; 32]),
            category_commitment: InkHash::from([6; 32]),
            version: 1,
        };
        let amended = RecordAmended {
            patient: InkAccount::from([1; 32]),
            custodian: InkAccount::from([2; 32]),
            commitment: InkHash::from([10; 32]),
            record_id: InkHash::from([8; 32]),
            previous: InkHash::from([9; 32]),
            version: 2,
            reason: AmendReason::Addendum,
        };
        let opened = EmergencyAccessOpened {
            patient: InkAccount::from([1; 32]),
            provider: InkAccount::from([2; 32]),
            reason: EmergencyReason::PatientIncapacitated,
            justification_hash: InkHash::from([3; 32]),
            ends_at: 99,
        };
        let duplicate = DuplicateClaimUse {
            patient: InkAccount::from([1; 32]),
            insurer: InkAccount::from([3; 32]),
            commitment: InkHash::from([9; 32]),
            claim_ref: InkHash::from([4; 32]),
            first_insurer: InkAccount::from([2; 32]),
            first_claim_ref: InkHash::from([5; 32]),
            reuse: ClaimReuse::OtherInsurer,
            overlap: ClaimOverlap::SameRecord,
        };
        let denied = AccessDenied {
            patient: InkAccount::from([1; 32]),
            accessor: InkAccount::from([3; 32]),
            record: Some(RecordKey {
                custodian: InkAccount::from([2; 32]),
                record_id: InkHash::from([8; 32]),
            }),
            categories: DataCategory::MentalHealth.bit(),
            purpose: Purpose::Treatment,
        };
        let kinds: Vec<_> = [
            raw(&org),
            raw(&revoked),
            raw(&anchored),
            raw(&amended),
            raw(&opened),
            raw(&duplicate),
            raw(&denied),
        ]
        .iter()
        .map(|r| decode_event(r).expect("decodes").expect("known").kind())
        .collect();
        assert_eq!(
            kinds,
            [
                "OrgRegistered",
                "ConsentRevoked",
                "RecordAnchored",
                "RecordAmended",
                "EmergencyAccessOpened",
                "DuplicateClaimUse",
                "AccessDenied"
            ]
        );
        match decode_event(&raw(&opened)) {
            Ok(Some(ChainEvent::EmergencyAccessOpened {
                reason, ends_at, ..
            })) => {
                assert_eq!((reason, ends_at), ("PatientIncapacitated", 99))
            }
            other => panic!("unexpected {other:?}"),
        }
        match decode_event(&raw(&anchored)) {
            Ok(Some(ChainEvent::RecordAnchored {
                custodian,
                category_commitment,
                ..
            })) => {
                assert_eq!(
                    (custodian, category_commitment),
                    (AccountId([2; 32]), Hash32([6; 32]))
                )
            }
            other => panic!("unexpected {other:?}"),
        }
        match decode_event(&raw(&denied)) {
            Ok(Some(ChainEvent::AccessDenied { record, .. })) => assert_eq!(
                record,
                Some(RecordRef {
                    custodian: AccountId([2; 32]),
                    record_id: Hash32([8; 32])
                })
            ),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn the_second_releases_events_still_decode() {
        let registered = v2::OrgRegistered {
            org: InkAccount::from([3; 32]),
            role: Role::Provider,
            flags: 1,
        };
        assert_eq!(
            decode_event(&raw(&registered)),
            Ok(Some(ChainEvent::OrgRegistered {
                org: AccountId([3; 32]),
                role: "Provider",
                flags: 1,
                profile: None,
            }))
        );
        let reused = v2::DuplicateClaimUse {
            patient: InkAccount::from([1; 32]),
            insurer: InkAccount::from([2; 32]),
            commitment: InkHash::from([9; 32]),
            claim_ref: InkHash::from([4; 32]),
            first_insurer: InkAccount::from([2; 32]),
            first_claim_ref: InkHash::from([5; 32]),
        };
        match decode_event(&raw(&reused)) {
            Ok(Some(ChainEvent::DuplicateClaimUse { reuse, overlap, .. })) => {
                assert_eq!((reuse, overlap), ("SameInsurer", "SameDocument"))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn an_organizations_profile_decodes_with_its_name_kind_and_identifiers() {
        let updated = |profile: Vec<u8>| OrgUpdated {
            org: InkAccount::from([3; 32]),
            profile,
        };
        let clinic = OrgProfile {
            name: "Riverside Clinic".into(),
            kind: OrgKind::Clinic,
            identifiers: vec![medledger_events::OrgIdentifier {
                system: medledger_events::NPI_SYSTEM.into(),
                value: "1234567893".into(),
            }],
        };
        match decode_event(&raw(&updated(clinic.to_bytes()))) {
            Ok(Some(ChainEvent::OrgUpdated {
                profile: Some(profile),
                ..
            })) => {
                assert_eq!(
                    (profile.name.as_str(), profile.kind.as_str()),
                    ("Riverside Clinic", "Clinic")
                );
                assert_eq!(profile.identifiers[0].value, "1234567893");
            }
            other => panic!("unexpected {other:?}"),
        }
        // bytes the registrar got wrong are shown as no profile, never misread
        let unnamed = OrgProfile {
            name: "\n".into(),
            ..clinic
        };
        for bytes in [b"not a profile".to_vec(), unnamed.to_bytes()] {
            assert!(matches!(
                decode_event(&raw(&updated(bytes))),
                Ok(Some(ChainEvent::OrgUpdated { profile: None, .. }))
            ));
        }
    }

    #[test]
    fn unknown_signatures_and_topicless_events_are_skipped() {
        let mut unknown = raw(&granted());
        unknown.topics[0] = [0xee; 32];
        assert_eq!(decode_event(&unknown), Ok(None));
        unknown.topics.clear();
        assert_eq!(decode_event(&unknown), Ok(None));
    }

    #[test]
    fn a_known_signature_with_bad_data_is_an_error() {
        let mut truncated = raw(&granted());
        truncated.data.truncate(10);
        let err = decode_event(&truncated).expect_err("truncated");
        assert_eq!(err.event, "ConsentGranted");
        let mut longer = raw(&granted());
        longer.data.push(0);
        assert!(decode_event(&longer).is_err(), "trailing bytes are refused");
    }

    #[test]
    fn store_names_match_the_contract_enums() {
        for c in DataCategory::ALL {
            assert_eq!(
                medledger_store::CATEGORY_NAMES[c.index() as usize],
                format!("{c:?}")
            );
        }
        for r in Role::ALL {
            assert_eq!(role_name(r), format!("{r:?}"));
        }
        for k in OrgKind::ALL {
            assert_eq!(kind_name(k), format!("{k:?}"));
        }
        for r in [ClaimReuse::SameInsurer, ClaimReuse::OtherInsurer] {
            assert_eq!(reuse_name(r), format!("{r:?}"));
        }
        for o in [ClaimOverlap::SameDocument, ClaimOverlap::SameRecord] {
            assert_eq!(overlap_name(o), format!("{o:?}"));
        }
        for p in Purpose::ALL {
            assert_eq!(purpose_name(p), format!("{p:?}"));
        }
        for r in [
            EmergencyReason::PatientIncapacitated,
            EmergencyReason::LifeThreatening,
            EmergencyReason::Other,
        ] {
            assert_eq!(emergency_reason_name(r), format!("{r:?}"));
        }
        for r in [
            AmendReason::Correction,
            AmendReason::Addendum,
            AmendReason::Other,
        ] {
            assert_eq!(amend_reason_name(r), format!("{r:?}"));
        }
    }
}
