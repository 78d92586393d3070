//! The rule's cases, one history each. Times are in seconds × 1000 from 0 for readability.

use medledger_events::{Access, DataCategory, Purpose};
use medledger_store::{
    AccountId, ConsentChange, DelegationChange, EmergencyWindow, Grant, Hash32, OrgAction,
    OrgChange, PatientHistory,
};

use super::{Judgement, Missing, Question, Standing, consents_at, judge, standing};

const PATIENT: AccountId = AccountId([1; 32]);
const CLINIC: AccountId = AccountId([2; 32]);
const DELEGATE: AccountId = AccountId([3; 32]);

const LABS_FOR_TREATMENT: Question = Question {
    category: DataCategory::LabResults,
    purpose: Purpose::Treatment,
    access: Access::Read,
};

/// A small history, built in chain order: each change gets the next block.
#[derive(Default)]
struct History {
    h: PatientHistory,
    block: u64,
}

impl History {
    fn next(&mut self) -> u64 {
        self.block += 1;
        self.block
    }
    fn org(mut self, action: OrgAction, at: u64) -> Self {
        let block_number = self.next();
        self.h.organizations.push(OrgChange {
            block_number,
            event_index: 0,
            account: CLINIC,
            action,
            at,
        });
        self
    }
    fn registered() -> Self {
        History::default().org(OrgAction::Registered, 0)
    }
    fn grant_by(mut self, by: AccountId, at: u64, grant: Grant) -> Self {
        let block_number = self.next();
        let version = self.h.consents.len() as u32 + 1;
        self.h.consents.push(ConsentChange {
            block_number,
            event_index: 0,
            grantee: CLINIC,
            grant: Some(grant),
            version,
            by,
            at,
        });
        self
    }
    fn grant(self, at: u64, grant: Grant) -> Self {
        self.grant_by(PATIENT, at, grant)
    }
    fn revoke(mut self, at: u64) -> Self {
        let block_number = self.next();
        let version = self.h.consents.len() as u32;
        self.h.consents.push(ConsentChange {
            block_number,
            event_index: 0,
            grantee: CLINIC,
            grant: None,
            version,
            by: PATIENT,
            at,
        });
        self
    }
    fn delegate(mut self, at: u64, expires_at: Option<u64>) -> Self {
        let block_number = self.next();
        self.h.delegations.push(DelegationChange {
            block_number,
            event_index: 0,
            delegate: DELEGATE,
            expires_at,
            at,
        });
        self
    }
    fn window(mut self, opened_at: u64, ends_at: u64, ended_at: Option<u64>) -> Self {
        let opened_block = self.next();
        self.h.windows.push(EmergencyWindow {
            opened_block,
            opened_index: 0,
            patient: PATIENT,
            provider: CLINIC,
            reason: "PatientIncapacitated".into(),
            justification_hash: Hash32([0x11; 32]),
            opened_at,
            ends_at,
            ended_at,
            ended_by: ended_at.map(|_| PATIENT),
        });
        self
    }
    fn judge(&self, q: &Question, now: u64) -> Judgement<'_> {
        judge(&self.h, &PATIENT, &CLINIC, q, now)
    }
    fn missing(&self, q: &Question, now: u64) -> Option<Missing> {
        match self.judge(q, now) {
            Judgement::Denied(m, _) => Some(m),
            _ => None,
        }
    }
}

/// Lab results and imaging, for treatment, read only, from 1,000 until 10,000.
fn labs() -> Grant {
    Grant {
        categories: DataCategory::LabResults.bit() | DataCategory::Imaging.bit(),
        purposes: Purpose::Treatment.bit(),
        access: Access::Read.bit(),
        valid_from: 1_000,
        expires_at: Some(10_000),
        terms_hash: Hash32([7; 32]),
    }
}

#[test]
fn a_grant_allows_what_it_covers_while_it_is_valid() {
    let h = History::registered().grant(500, labs());
    assert!(matches!(
        h.judge(&LABS_FOR_TREATMENT, 5_000),
        Judgement::ByConsent(c) if c.version == 1
    ));
    assert_eq!(
        h.missing(&LABS_FOR_TREATMENT, 999),
        Some(Missing::NotYetValid)
    );
    assert!(
        h.missing(&LABS_FOR_TREATMENT, 1_000).is_none(),
        "from is inclusive"
    );
    assert_eq!(
        h.missing(&LABS_FOR_TREATMENT, 10_000),
        Some(Missing::Expired),
        "until is not"
    );
}

#[test]
fn each_part_of_the_scope_is_named_when_it_is_missing() {
    let h = History::registered().grant(500, labs());
    let ask = |category, purpose, access| {
        h.missing(
            &Question {
                category,
                purpose,
                access,
            },
            5_000,
        )
    };
    use DataCategory as C;
    assert_eq!(
        ask(C::Medications, Purpose::Treatment, Access::Read),
        Some(Missing::Category)
    );
    assert_eq!(
        ask(C::LabResults, Purpose::Payment, Access::Read),
        Some(Missing::Purpose)
    );
    assert_eq!(
        ask(C::LabResults, Purpose::Treatment, Access::Write),
        Some(Missing::Access)
    );
}

#[test]
fn no_grant_a_revocation_and_an_unregistered_grantee_refuse() {
    let none = History::registered();
    assert_eq!(
        none.missing(&LABS_FOR_TREATMENT, 5_000),
        Some(Missing::NoConsent)
    );
    let revoked = History::registered().grant(500, labs()).revoke(2_000);
    assert_eq!(
        revoked.missing(&LABS_FOR_TREATMENT, 5_000),
        Some(Missing::Revoked)
    );
    assert!(
        matches!(
            revoked.judge(&LABS_FOR_TREATMENT, 5_000),
            Judgement::Denied(_, Some(c)) if c.version == 1
        ),
        "the revoked grant is named"
    );
    let stranger = History::default().grant(500, labs());
    assert_eq!(
        stranger.missing(&LABS_FOR_TREATMENT, 5_000),
        Some(Missing::GranteeNotRegistered)
    );
}

#[test]
fn a_suspended_grantee_is_refused_until_reinstated() {
    let h = History::registered()
        .grant(500, labs())
        .org(OrgAction::Suspended, 2_000);
    assert_eq!(
        h.missing(&LABS_FOR_TREATMENT, 5_000),
        Some(Missing::GranteeSuspended)
    );
    assert_eq!(
        standing(&h.h, &PATIENT, &CLINIC, 5_000),
        Standing::Not(Missing::GranteeSuspended)
    );
    let back = h.org(OrgAction::Reinstated, 3_000);
    assert!(matches!(
        back.judge(&LABS_FOR_TREATMENT, 5_000),
        Judgement::ByConsent(_)
    ));
}

#[test]
fn a_delegates_grant_lasts_as_long_as_its_delegation() {
    let h = History::registered()
        .delegate(100, Some(8_000))
        .grant_by(DELEGATE, 500, labs());
    assert!(matches!(
        h.judge(&LABS_FOR_TREATMENT, 5_000),
        Judgement::ByConsent(_)
    ));
    assert_eq!(
        h.missing(&LABS_FOR_TREATMENT, 8_000),
        Some(Missing::DelegationEnded)
    );

    // extended while it lasts: the same delegation, the grant stays in force
    let extended = History::registered()
        .delegate(100, Some(8_000))
        .grant_by(DELEGATE, 500, labs())
        .delegate(700, Some(9_500));
    assert!(matches!(
        extended.judge(&LABS_FOR_TREATMENT, 9_000),
        Judgement::ByConsent(_)
    ));

    // removed, or set again after it ran out: a new delegation, the old grant lapses
    let removed = History::registered()
        .delegate(100, Some(8_000))
        .grant_by(DELEGATE, 500, labs())
        .delegate(600, None);
    assert_eq!(
        removed.missing(&LABS_FOR_TREATMENT, 5_000),
        Some(Missing::DelegationEnded)
    );
    let anew = History::registered()
        .delegate(100, Some(400))
        .grant_by(DELEGATE, 300, labs())
        .delegate(450, Some(9_000));
    assert_eq!(
        anew.missing(&LABS_FOR_TREATMENT, 5_000),
        Some(Missing::DelegationEnded)
    );
}

#[test]
fn an_open_window_allows_reading_non_sensitive_data_for_treatment_only() {
    let h = History::registered().window(1_000, 4_000, None);
    assert!(matches!(
        h.judge(&LABS_FOR_TREATMENT, 2_000),
        Judgement::ByEmergency(w) if w.opened_at == 1_000
    ));
    assert_eq!(
        h.missing(&LABS_FOR_TREATMENT, 4_000),
        Some(Missing::NoConsent),
        "ran out"
    );
    assert_eq!(
        h.missing(&LABS_FOR_TREATMENT, 999),
        Some(Missing::NoConsent),
        "not yet open"
    );
    let sensitive = Question {
        category: DataCategory::MentalHealth,
        ..LABS_FOR_TREATMENT
    };
    assert_eq!(h.missing(&sensitive, 2_000), Some(Missing::NoConsent));
    let write = Question {
        access: Access::Write,
        ..LABS_FOR_TREATMENT
    };
    assert_eq!(h.missing(&write, 2_000), Some(Missing::NoConsent));
    let payment = Question {
        purpose: Purpose::Payment,
        ..LABS_FOR_TREATMENT
    };
    assert_eq!(h.missing(&payment, 2_000), Some(Missing::NoConsent));

    // ended early by the patient: closed from that moment
    let ended = History::registered().window(1_000, 4_000, Some(2_500));
    assert!(matches!(
        ended.judge(&LABS_FOR_TREATMENT, 2_499),
        Judgement::ByEmergency(_)
    ));
    assert_eq!(
        ended.missing(&LABS_FOR_TREATMENT, 2_500),
        Some(Missing::NoConsent)
    );

    // a suspended provider's window allows nothing
    let suspended = History::registered()
        .window(1_000, 4_000, None)
        .org(OrgAction::Suspended, 1_500);
    assert_eq!(
        suspended.missing(&LABS_FOR_TREATMENT, 2_000),
        Some(Missing::GranteeSuspended)
    );
}

#[test]
fn a_window_covers_what_an_expired_consent_no_longer_does_and_says_the_consent_was_missing() {
    let h = History::registered()
        .grant(500, labs())
        .window(9_000, 12_000, None);
    assert!(matches!(
        h.judge(&LABS_FOR_TREATMENT, 11_000),
        Judgement::ByEmergency(_)
    ));
    let imaging_for_payment = Question {
        category: DataCategory::Imaging,
        purpose: Purpose::Payment,
        access: Access::Read,
    };
    assert_eq!(
        h.missing(&imaging_for_payment, 11_000),
        Some(Missing::Expired)
    );
}

#[test]
fn the_consents_as_they_stood_keep_a_revoked_grants_scope_and_the_latest_change_first() {
    let h = History::registered()
        .grant(500, labs())
        .revoke(2_000)
        .grant_by(DELEGATE, 2_500, labs());
    let mut other = h.h.consents[2].clone();
    other.grantee = DELEGATE;
    let rows = consents_at(&h.h, &PATIENT);
    assert_eq!(rows.len(), 1, "one row per grantee");
    assert_eq!(rows[0].version, 3);
    assert!(!rows[0].revoked);
    assert_eq!(rows[0].updated_by, DELEGATE);
    let revoked = History::registered().grant(500, labs()).revoke(2_000);
    let rows = consents_at(&revoked.h, &PATIENT);
    assert!(rows[0].revoked);
    assert_eq!(
        rows[0].categories,
        labs().categories,
        "the revoked grant's scope"
    );
    assert_eq!((rows[0].updated_block, rows[0].updated_at), (3, 2_000));
    let mut two = revoked.h.clone();
    two.consents.push(other);
    let rows = consents_at(&two, &PATIENT);
    let grantees: Vec<_> = rows.iter().map(|r| r.grantee).collect();
    assert_eq!(grantees, [DELEGATE, CLINIC], "most recently changed first");
}
