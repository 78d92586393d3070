//! Unit tests of the RecordRegistry (`#[ink::test]`), kept beside the contract as ink!'s own
//! examples keep them. ink!'s off-chain environment has no cross-contract calls, so the
//! ConsentRegistry's answers are scripted ([`scripted_consent`]); the e2e tests use the real
//! contract.
//!
//! - `messages`: each message's effect, event and errors;
//! - `audit`: one test per promise the audit found broken (hardening issue), named after it;
//! - `authorization_matrix`: every state-changing message against every kind of caller.

use crate::record_registry::*;
use ink::env::hash::Blake2x256;
use ink::env::test::{recorded_events, set_block_timestamp, set_callee, set_caller};
use ink::env::DefaultEnvironment;
use ink::prelude::vec;
use ink::primitives::{AccountId, Hash};
use ink::scale::Decode;
use medledger_events::*;

type Env = DefaultEnvironment;

/// The ConsentRegistry's answers, as the unit tests script them: organizations with a role
/// and an active flag, consents as (patient, grantee, categories, purpose, access), and the
/// registrar. No emergency windows: the ConsentRegistry's own tests cover those.
pub(crate) mod scripted_consent {
    use super::*;
    use medledger_consent::consent_registry::{AccessVerdict, Org, Standing};
    use std::cell::RefCell;

    type Grant = (AccountId, AccountId, CategorySet, Purpose, Access);

    std::thread_local! {
        static ORGS: RefCell<Vec<(AccountId, Org)>> = const { RefCell::new(Vec::new()) };
        static GRANTS: RefCell<Vec<Grant>> = const { RefCell::new(Vec::new()) };
        static REGISTRAR: RefCell<Option<AccountId>> = const { RefCell::new(None) };
        static DOWN: RefCell<bool> = const { RefCell::new(false) };
        static UPGRADE_DELAY: RefCell<Timestamp> = const { RefCell::new(0) };
    }

    pub fn reset(registrar: AccountId) {
        ORGS.with(|o| o.borrow_mut().clear());
        GRANTS.with(|g| g.borrow_mut().clear());
        REGISTRAR.with(|r| *r.borrow_mut() = Some(registrar));
        DOWN.with(|d| *d.borrow_mut() = false);
        UPGRADE_DELAY.with(|d| *d.borrow_mut() = 0);
    }

    pub fn set_upgrade_delay(ms: Timestamp) {
        UPGRADE_DELAY.with(|d| *d.borrow_mut() = ms);
    }

    pub fn upgrade_delay() -> Result<Timestamp> {
        up()?;
        Ok(UPGRADE_DELAY.with(|d| *d.borrow()))
    }

    pub fn register(account: AccountId, role: Role, active: bool) {
        let org = Org {
            role,
            flags: 0,
            active,
        };
        ORGS.with(|o| {
            let mut orgs = o.borrow_mut();
            orgs.retain(|(a, _)| *a != account);
            orgs.push((account, org));
        });
    }

    pub fn grant(
        patient: AccountId,
        grantee: AccountId,
        categories: CategorySet,
        purpose: Purpose,
        access: Access,
    ) {
        GRANTS.with(|g| {
            g.borrow_mut()
                .push((patient, grantee, categories, purpose, access))
        });
    }

    /// Ends every consent of the pair (revoked or expired: the ConsentRegistry answers the
    /// same).
    pub fn revoke(patient: AccountId, grantee: AccountId) {
        GRANTS.with(|g| {
            g.borrow_mut()
                .retain(|(p, gr, ..)| (*p, *gr) != (patient, grantee))
        });
    }

    pub fn go_down() {
        DOWN.with(|d| *d.borrow_mut() = true);
    }

    fn up() -> Result<()> {
        if DOWN.with(|d| *d.borrow()) {
            Err(Error::ConsentCheckFailed)
        } else {
            Ok(())
        }
    }

    pub fn org(account: AccountId) -> Result<Option<Org>> {
        up()?;
        Ok(ORGS.with(|o| {
            o.borrow()
                .iter()
                .find(|(a, _)| *a == account)
                .map(|(_, org)| org.clone())
        }))
    }

    fn covered(
        patient: AccountId,
        grantee: AccountId,
        category: Option<DataCategory>,
        purpose: Purpose,
        access: Access,
    ) -> bool {
        GRANTS.with(|g| {
            g.borrow().iter().any(|&(p, gr, cats, pu, a)| {
                (p, gr, pu, a) == (patient, grantee, purpose, access)
                    && category.is_none_or(|c| cats & c.bit() != 0)
            })
        })
    }

    pub fn standing(
        patient: AccountId,
        grantee: AccountId,
        role: Role,
        purpose: Purpose,
        access: Access,
    ) -> Result<Standing> {
        Ok(match org(grantee)?.filter(|o| o.role == role) {
            None => Standing::NotInRole,
            Some(o) if !o.active => Standing::Suspended,
            Some(_) if covered(patient, grantee, None, purpose, access) => Standing::Consented,
            Some(_) => Standing::NoConsent,
        })
    }

    pub fn verdict(
        patient: AccountId,
        accessor: AccountId,
        categories: CategorySet,
        purpose: Purpose,
    ) -> Result<AccessVerdict> {
        Ok(match org(accessor)? {
            None => AccessVerdict::Unregistered,
            Some(o) if !o.active => AccessVerdict::Suspended,
            Some(_) => {
                let all = DataCategory::ALL
                    .into_iter()
                    .filter(|c| categories & c.bit() != 0)
                    .all(|c| covered(patient, accessor, Some(c), purpose, Access::Read));
                if all {
                    AccessVerdict::ByConsent
                } else {
                    AccessVerdict::Denied
                }
            }
        })
    }

    pub fn registrar() -> Result<AccountId> {
        up()?;
        REGISTRAR.with(|r| r.borrow().ok_or(Error::ConsentCheckFailed))
    }
}

use scripted_consent as consent;

/// The cast: one account per kind of caller.
const ACTORS: [(&str, u8); 13] = [
    ("registrar", 1),
    ("patient", 2),
    ("delegate", 3),
    ("provider", 4),
    ("provider without consent", 5),
    ("insurer", 6),
    ("insurer without consent", 7),
    ("researcher", 8),
    ("auditor", 9),
    ("app", 10),
    ("suspended provider", 11),
    ("suspended insurer", 12),
    ("stranger", 13),
];

fn id(name: &str) -> AccountId {
    let byte = ACTORS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| *b)
        .unwrap_or_else(|| panic!("no actor {name}"));
    AccountId::from([byte; 32])
}

const LABS: DataCategory = DataCategory::LabResults;
/// The provider's record of the world.
fn the_record() -> Hash {
    Hash::from([0xa1; 32])
}
/// Its first version's commitment.
fn first() -> Hash {
    Hash::from([0xc1; 32])
}
/// Its category salt.
fn salt() -> Hash {
    Hash::from([0x11; 32])
}

/// `blake2b_256("medledger/category/v1" || salt || [category index])`, computed here
/// independently of the contract.
fn category_commitment(salt: Hash, category: DataCategory) -> Hash {
    let mut input = b"medledger/category/v1".to_vec();
    input.extend_from_slice(salt.as_ref());
    input.push(category as u8);
    let mut out = [0u8; 32];
    ink::env::hash_bytes::<Blake2x256>(&input, &mut out);
    Hash::from(out)
}

fn anchor_ref(custodian: &str, commitment: Hash) -> AnchorKey {
    AnchorKey {
        custodian: id(custodian),
        commitment,
    }
}

/// The events of type `E` emitted so far, told apart by their signature topic.
fn emitted<E: ink::env::Event + Decode>() -> Vec<E> {
    let signature = E::SIGNATURE_TOPIC.map(|t| t.to_vec());
    recorded_events()
        .filter(|e| e.topics.first().cloned() == signature)
        .map(|e| E::decode(&mut &e.data[..]).expect("decodes as the shared event type"))
        .collect()
}

fn last<E: ink::env::Event + Decode>() -> E {
    emitted::<E>().pop().expect("the event was emitted")
}

/// A fresh registry on its own contract account, at block time 7 000: every actor registered
/// as named (the suspended ones suspended); the patient consents to the provider and the
/// suspended provider writing and reading lab results for treatment, and to the insurer and
/// the suspended insurer reading them for payment; the provider anchored [`the_record`] as
/// [`first`], a lab result (category salt [`salt`]).
fn world() -> RecordRegistry {
    std::thread_local!(static CONTRACTS: core::cell::Cell<u32> = const { core::cell::Cell::new(0) });
    let n = CONTRACTS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    let mut contract = [0xee; 32];
    contract[..4].copy_from_slice(&n.to_le_bytes());
    set_callee::<Env>(AccountId::from(contract));
    consent::reset(id("registrar"));
    for (name, role, active) in [
        ("provider", Role::Provider, true),
        ("provider without consent", Role::Provider, true),
        ("insurer", Role::Insurer, true),
        ("insurer without consent", Role::Insurer, true),
        ("researcher", Role::Researcher, true),
        ("auditor", Role::Auditor, true),
        ("app", Role::App, true),
        ("suspended provider", Role::Provider, false),
        ("suspended insurer", Role::Insurer, false),
    ] {
        consent::register(id(name), role, active);
    }
    let p = id("patient");
    for writer in ["provider", "suspended provider"] {
        consent::grant(p, id(writer), LABS.bit(), Purpose::Treatment, Access::Write);
        consent::grant(p, id(writer), LABS.bit(), Purpose::Treatment, Access::Read);
    }
    for payer in ["insurer", "suspended insurer"] {
        consent::grant(p, id(payer), LABS.bit(), Purpose::Payment, Access::Read);
    }
    set_block_timestamp::<Env>(7_000);
    set_caller::<Env>(id("registrar"));
    let mut r = RecordRegistry::new(AccountId::from([0xcc; 32]));
    set_caller::<Env>(id("provider"));
    r.anchor(p, the_record(), first(), category_commitment(salt(), LABS))
        .expect("the provider anchors");
    r
}

#[ink::test]
fn the_category_commitment_matches_the_shared_test_vector() {
    // proofs/test-vectors/vectors.json: salt 0x11 * 32, MentalHealth
    let expected = "e4285fbeae09d2a6c98cc5bc9dddd57b5333a1bfa17626bfcf0b4055c766860f";
    let got = category_commitment(salt(), DataCategory::MentalHealth);
    let hex: String = got.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, expected);
}

mod messages {
    use super::*;

    #[ink::test]
    fn a_patient_anchors_their_own_record_and_anyone_can_verify_it() {
        // given
        let mut r = world();
        let p = id("patient");
        set_caller::<Env>(p);
        set_block_timestamp::<Env>(42_000);
        let (record, commitment) = (Hash::from([1; 32]), Hash::from([2; 32]));
        let category = category_commitment(Hash::from([3; 32]), DataCategory::Imaging);
        // when
        r.anchor(p, record, commitment, category)
            .expect("own upload");
        // then
        let event = last::<RecordAnchored>();
        assert_eq!(
            (
                event.patient,
                event.custodian,
                event.commitment,
                event.record_id
            ),
            (p, p, commitment, record)
        );
        assert_eq!((event.category_commitment, event.version), (category, 1));
        set_caller::<Env>(id("stranger"));
        let info = r.verify(p, commitment).expect("anchored");
        assert_eq!(
            (info.record_id, info.patient, info.custodian),
            (record, p, p)
        );
        assert_eq!((info.anchored_at, info.superseded_by), (42_000, None));
        assert_eq!(
            r.verify(id("provider"), commitment),
            None,
            "not the provider's"
        );
        assert_eq!(
            r.record(p, record).map(|x| x.latest_commitment),
            Some(commitment)
        );
    }

    #[ink::test]
    fn record_ids_and_commitments_are_unique_per_custodian() {
        let mut r = world();
        set_caller::<Env>(id("provider"));
        let p = id("patient");
        let cc = category_commitment(salt(), LABS);
        assert_eq!(
            r.anchor(p, the_record(), Hash::from([5; 32]), cc),
            Err(Error::RecordExists)
        );
        assert_eq!(
            r.anchor(p, Hash::from([6; 32]), first(), cc),
            Err(Error::CommitmentExists)
        );
        set_caller::<Env>(p);
        assert_eq!(
            r.anchor(p, the_record(), first(), cc),
            Ok(()),
            "another custodian's key space"
        );
    }

    #[ink::test]
    fn an_amendment_supersedes_the_previous_version() {
        let mut r = world();
        let second = Hash::from([0xc2; 32]);
        r.amend(the_record(), second, AmendReason::Addendum)
            .expect("amend");
        let amended = last::<RecordAmended>();
        assert_eq!(
            (
                amended.custodian,
                amended.version,
                amended.previous,
                amended.reason
            ),
            (id("provider"), 2, first(), AmendReason::Addendum)
        );
        assert_eq!(
            r.verify(id("provider"), first())
                .and_then(|a| a.superseded_by),
            Some(second)
        );
        let new = r.verify(id("provider"), second).expect("anchored");
        assert_eq!((new.version, new.superseded_by), (2, None));
        assert_eq!(new.category_commitment, category_commitment(salt(), LABS));
        assert_eq!(
            r.record(id("provider"), the_record())
                .map(|x| x.latest_version),
            Some(2)
        );
        assert_eq!(
            r.amend(the_record(), second, AmendReason::Other),
            Err(Error::CommitmentExists)
        );
        assert_eq!(
            r.amend(Hash::from([9; 32]), Hash::from([8; 32]), AmendReason::Other),
            Err(Error::UnknownRecord)
        );
    }

    #[ink::test]
    fn a_batch_is_one_event_and_one_entry_whatever_its_size() {
        let mut r = world();
        let root = Hash::from([0xbb; 32]);
        let before = recorded_events().count();
        r.anchor_batch(root, 10_000).expect("batch");
        assert_eq!(recorded_events().count(), before + 1);
        let anchored = last::<BatchAnchored>();
        assert_eq!(
            (anchored.org, anchored.leaf_count),
            (id("provider"), 10_000)
        );
        assert_eq!(
            r.verify_batch(id("provider"), root)
                .map(|b| (b.leaf_count, b.anchored_at)),
            Some((10_000, 7_000))
        );
        assert_eq!(r.anchor_batch(root, 1), Err(Error::BatchExists));
        assert_eq!(
            r.anchor_batch(Hash::from([1; 32]), 0),
            Err(Error::EmptyBatch)
        );
    }

    #[ink::test]
    fn a_claim_on_current_anchors_is_current_and_a_reused_document_is_flagged() {
        let mut r = world();
        let p = id("patient");
        set_caller::<Env>(id("insurer"));
        let (claim1, claim2) = (Hash::from([0x01; 32]), Hash::from([0x02; 32]));
        let docs = || vec![anchor_ref("provider", first())];
        assert_eq!(r.attest_claim(claim1, p, docs()), Ok(true));
        let attested = last::<ClaimAttested>();
        assert_eq!(attested.documents, docs(), "the event names the documents");
        assert!(attested.all_current);
        assert!(emitted::<DuplicateClaimUse>().is_empty());
        // the same document in a second claim
        assert_eq!(r.attest_claim(claim2, p, docs()), Ok(true));
        let duplicate = last::<DuplicateClaimUse>();
        assert_eq!(
            (duplicate.commitment, duplicate.claim_ref),
            (first(), claim2)
        );
        assert_eq!(
            (duplicate.first_insurer, duplicate.first_claim_ref),
            (id("insurer"), claim1)
        );
        assert_eq!(r.claim(id("insurer"), claim2).map(|c| c.patient), Some(p));
        assert_eq!(
            r.first_claim_use(p, first()).map(|k| k.claim_ref),
            Some(claim1)
        );
        assert_eq!(r.attest_claim(claim2, p, docs()), Err(Error::ClaimExists));
    }

    #[ink::test]
    fn a_claim_on_a_superseded_document_is_not_current() {
        let mut r = world();
        r.amend(
            the_record(),
            Hash::from([0xc2; 32]),
            AmendReason::Correction,
        )
        .expect("amend");
        set_caller::<Env>(id("insurer"));
        let old = vec![anchor_ref("provider", first())];
        assert_eq!(
            r.attest_claim(Hash::from([1; 32]), id("patient"), old),
            Ok(false)
        );
        assert!(!last::<ClaimAttested>().all_current);
    }

    #[ink::test]
    fn claims_are_bounded_and_name_each_document_once() {
        let mut r = world();
        let p = id("patient");
        set_caller::<Env>(id("insurer"));
        let claim = Hash::from([1; 32]);
        assert_eq!(r.attest_claim(claim, p, Vec::new()), Err(Error::EmptyClaim));
        let too_many = (0..=MAX_CLAIM_DOCUMENTS as u8)
            .map(|i| anchor_ref("provider", Hash::from([i; 32])))
            .collect();
        assert_eq!(
            r.attest_claim(claim, p, too_many),
            Err(Error::TooManyDocuments)
        );
        let twice = vec![
            anchor_ref("provider", first()),
            anchor_ref("patient", first()),
        ];
        assert_eq!(
            r.attest_claim(claim, p, twice),
            Err(Error::DuplicateDocument)
        );
    }

    #[ink::test]
    fn the_access_log_records_allowed_reads_and_alerts_on_refused_ones() {
        let mut r = world();
        let p = id("patient");
        set_caller::<Env>(id("provider"));
        assert_eq!(
            r.record_access(p, LABS.bit(), Purpose::Treatment, None),
            Ok(true)
        );
        let recorded = last::<AccessRecorded>();
        assert_eq!(
            (recorded.accessor, recorded.record, recorded.emergency),
            (id("provider"), None, false)
        );
        set_caller::<Env>(id("insurer"));
        assert_eq!(
            r.record_access(p, LABS.bit(), Purpose::Research, None),
            Ok(false)
        );
        let denied = last::<AccessDenied>();
        assert_eq!((denied.patient, denied.accessor), (p, id("insurer")));
        assert_eq!(
            r.record_access(p, 0, Purpose::Treatment, None),
            Err(Error::InvalidCategories)
        );
        assert_eq!(
            r.record_access(p, 1 << 14, Purpose::Treatment, None),
            Err(Error::InvalidCategories)
        );
    }

    #[ink::test]
    fn a_named_record_is_logged_when_it_is_the_patients() {
        let mut r = world();
        set_caller::<Env>(id("provider"));
        let key = RecordKey {
            custodian: id("provider"),
            record_id: the_record(),
        };
        assert_eq!(
            r.record_access(id("patient"), LABS.bit(), Purpose::Treatment, Some(key)),
            Ok(true)
        );
        assert_eq!(last::<AccessRecorded>().record, Some(key));
        assert_eq!(
            r.record_access(id("stranger"), LABS.bit(), Purpose::Treatment, Some(key)),
            Err(Error::UnknownRecord),
            "the record is not that patient's"
        );
        let unknown = RecordKey {
            record_id: Hash::from([0x99; 32]),
            ..key
        };
        assert_eq!(
            r.record_access(id("patient"), LABS.bit(), Purpose::Treatment, Some(unknown)),
            Err(Error::UnknownRecord)
        );
    }

    #[ink::test]
    fn an_upgrade_waits_the_consent_registrys_delay_after_its_announcement() {
        let mut r = world();
        consent::set_upgrade_delay(10_000);
        set_caller::<Env>(id("registrar"));
        let code = Hash::from([0xc0; 32]);
        assert_eq!(r.upgrade(code), Err(Error::UpgradeNotAnnounced));
        r.announce_upgrade(code).expect("announce");
        let announced = last::<UpgradeAnnounced>();
        assert_eq!(
            (announced.code_hash, announced.effective_at),
            (code, 17_000)
        );
        assert_eq!(
            r.pending_upgrade(),
            Some(PendingUpgrade {
                code_hash: code,
                effective_at: 17_000
            })
        );
        set_block_timestamp::<Env>(16_999);
        assert_eq!(r.upgrade(code), Err(Error::UpgradeTooEarly));
        set_block_timestamp::<Env>(17_000);
        assert_eq!(
            r.upgrade(Hash::from([0xc1; 32])),
            Err(Error::UpgradeNotAnnounced),
            "only the code announced"
        );
        r.cancel_upgrade().expect("cancel");
        assert_eq!(last::<UpgradeCancelled>().code_hash, code);
        assert_eq!(r.upgrade(code), Err(Error::UpgradeNotAnnounced));
        assert_eq!(r.cancel_upgrade(), Err(Error::UpgradeNotAnnounced));
    }

    #[ink::test]
    fn an_unreachable_consent_registry_fails_the_call_but_not_the_patients_own_upload() {
        let mut r = world();
        consent::go_down();
        let p = id("patient");
        let cc = category_commitment(salt(), LABS);
        set_caller::<Env>(id("provider"));
        assert_eq!(
            r.anchor(p, Hash::from([2; 32]), Hash::from([3; 32]), cc),
            Err(Error::ConsentCheckFailed)
        );
        set_caller::<Env>(p);
        r.anchor(p, Hash::from([2; 32]), Hash::from([3; 32]), cc)
            .expect("the patient's own upload needs no consent check");
    }

    #[ink::test]
    fn migrate_is_a_no_op_at_the_current_version_and_only_for_the_contract_itself() {
        let mut r = world();
        set_caller::<Env>(id("registrar"));
        assert_eq!(r.migrate(), Err(Error::NotUpgrading));
        set_caller::<Env>(ink::env::account_id::<Env>());
        assert_eq!(r.migrate(), Ok(STORAGE_VERSION));
        assert_eq!(r.storage_version(), STORAGE_VERSION);
    }
}

/// Each promise the audit of the hardening issue found broken, as a test that failed on the
/// contract before the fix (commit "Contract tests that state each hole the audit found").
mod audit {
    use super::*;

    #[ink::test]
    fn copying_a_pending_anchor_does_not_block_the_honest_call() {
        // given: the provider's anchor of a new lab report is pending
        let mut r = world();
        let p = id("patient");
        let (record, commitment) = (Hash::from([0x51; 32]), Hash::from([0x52; 32]));
        let cc = category_commitment(salt(), LABS);
        // when: a stranger, the patient and an unauthorized provider copy it first
        set_caller::<Env>(id("stranger"));
        assert_eq!(r.anchor(id("stranger"), record, commitment, cc), Ok(()));
        set_caller::<Env>(p);
        assert_eq!(r.anchor(p, record, commitment, cc), Ok(()));
        set_caller::<Env>(id("provider without consent"));
        assert_eq!(
            r.anchor(p, record, commitment, cc),
            Err(Error::NotAuthorized)
        );
        // then: the honest call still succeeds
        set_caller::<Env>(id("provider"));
        assert_eq!(r.anchor(p, record, commitment, cc), Ok(()));
        // and verify answers the honest anchor under its custodian
        let info = r.verify(id("provider"), commitment).expect("anchored");
        assert_eq!(
            (info.patient, info.custodian, info.record_id),
            (p, id("provider"), record)
        );
        assert_eq!(
            r.verify(id("stranger"), commitment).map(|a| a.patient),
            Some(id("stranger"))
        );
    }

    #[ink::test]
    fn copying_a_pending_amendment_or_batch_changes_nothing_of_the_honest_one() {
        let mut r = world();
        let (next, root) = (Hash::from([0x53; 32]), Hash::from([0x54; 32]));
        set_caller::<Env>(id("stranger"));
        assert_eq!(
            r.amend(the_record(), next, AmendReason::Other),
            Err(Error::UnknownRecord)
        );
        set_caller::<Env>(id("app"));
        r.anchor_batch(root, 5).expect("the copier's own batch");
        set_caller::<Env>(id("provider"));
        assert_eq!(r.amend(the_record(), next, AmendReason::Other), Ok(()));
        assert_eq!(r.anchor_batch(root, 5), Ok(()));
        assert_eq!(r.verify(id("provider"), next).map(|a| a.version), Some(2));
        assert!(r.verify_batch(id("provider"), root).is_some());
    }

    #[ink::test]
    fn amend_checks_authority_again_like_anchor() {
        let next = Hash::from([0x55; 32]);
        // suspended after anchoring
        let mut r = world();
        consent::register(id("provider"), Role::Provider, false);
        assert_eq!(
            r.amend(the_record(), next, AmendReason::Other),
            Err(Error::OrgSuspended)
        );
        // Write consent revoked (or expired) after anchoring
        let mut r = world();
        consent::revoke(id("patient"), id("provider"));
        assert_eq!(
            r.amend(the_record(), next, AmendReason::Other),
            Err(Error::NotAuthorized)
        );
        assert_eq!(
            r.record(id("provider"), the_record())
                .map(|x| x.latest_version),
            Some(1)
        );
        // the patient may always amend their own uploads
        let mut r = world();
        let p = id("patient");
        set_caller::<Env>(p);
        r.anchor(p, the_record(), first(), category_commitment(salt(), LABS))
            .expect("own upload");
        consent::reset(id("registrar"));
        assert_eq!(r.amend(the_record(), next, AmendReason::Correction), Ok(()));
    }

    #[ink::test]
    fn a_claim_names_only_documents_anchored_to_its_patient() {
        let mut r = world();
        set_caller::<Env>(id("insurer"));
        let claim = Hash::from([0x56; 32]);
        let unknown = vec![anchor_ref("provider", Hash::from([0x57; 32]))];
        assert_eq!(
            r.attest_claim(claim, id("patient"), unknown),
            Err(Error::DocumentNotAnchored)
        );
        let wrong_custodian = vec![anchor_ref("app", first())];
        assert_eq!(
            r.attest_claim(claim, id("patient"), wrong_custodian),
            Err(Error::DocumentNotAnchored)
        );
        // an insurer without this patient's consent cannot attest at all
        set_caller::<Env>(id("insurer without consent"));
        assert_eq!(
            r.attest_claim(claim, id("patient"), vec![anchor_ref("provider", first())]),
            Err(Error::NotAuthorized)
        );
    }

    #[ink::test]
    fn nobody_can_pre_poison_another_patients_document() {
        // given: the insurer is also trusted by another patient, the stranger
        let mut r = world();
        consent::grant(
            id("stranger"),
            id("insurer"),
            LABS.bit(),
            Purpose::Payment,
            Access::Read,
        );
        set_caller::<Env>(id("insurer"));
        // when: it attests a claim of the stranger naming the patient's document
        assert_eq!(
            r.attest_claim(
                Hash::from([0x58; 32]),
                id("stranger"),
                vec![anchor_ref("provider", first())]
            ),
            Err(Error::DocumentNotAnchored)
        );
        // then: the patient's first honest claim on it raises no fraud signal
        r.attest_claim(
            Hash::from([0x59; 32]),
            id("patient"),
            vec![anchor_ref("provider", first())],
        )
        .expect("honest claim");
        assert!(emitted::<DuplicateClaimUse>().is_empty());
    }

    #[ink::test]
    fn claim_references_are_per_insurer() {
        let mut r = world();
        consent::register(id("researcher"), Role::Insurer, true);
        consent::grant(
            id("patient"),
            id("researcher"),
            LABS.bit(),
            Purpose::Payment,
            Access::Read,
        );
        let claim = Hash::from([0x5a; 32]);
        let docs = || vec![anchor_ref("provider", first())];
        set_caller::<Env>(id("researcher"));
        r.attest_claim(claim, id("patient"), docs())
            .expect("first insurer");
        set_caller::<Env>(id("insurer"));
        assert_eq!(r.attest_claim(claim, id("patient"), docs()), Ok(true));
        assert!(r.claim(id("researcher"), claim).is_some());
        assert!(r.claim(id("insurer"), claim).is_some());
    }

    #[ink::test]
    fn only_registered_organizations_write_the_access_log() {
        let mut r = world();
        let before = recorded_events().count();
        for caller in ["stranger", "patient", "delegate"] {
            set_caller::<Env>(id(caller));
            assert_eq!(
                r.record_access(
                    id("patient"),
                    DataCategory::MentalHealth.bit(),
                    Purpose::Research,
                    None
                ),
                Err(Error::NotRegistered),
                "{caller}"
            );
        }
        assert_eq!(recorded_events().count(), before, "nothing logged");
    }

    #[ink::test]
    fn what_the_chain_holds_about_a_record_does_not_say_its_category() {
        let r = world();
        let event = last::<RecordAnchored>();
        let info = r.verify(id("provider"), first()).expect("anchored");
        assert_eq!(info.category_commitment, event.category_commitment);
        // without the salt, no category matches the commitment
        let guess = Hash::from([0; 32]);
        for c in DataCategory::ALL {
            assert_ne!(
                category_commitment(guess, c),
                event.category_commitment,
                "{c:?}"
            );
        }
        // the public event has no other field that depends on the category
        let event2 = {
            let mut r = world();
            let mh = category_commitment(salt(), DataCategory::SubstanceUse);
            let p = id("patient");
            r.anchor(p, Hash::from([0x5e; 32]), Hash::from([0x5f; 32]), mh)
                .expect("anchor");
            last::<RecordAnchored>()
        };
        assert_eq!(
            (event2.patient, event2.custodian, event2.version),
            (event.patient, event.custodian, event.version)
        );
    }
}

/// Exactly who may do what: every state-changing message against every kind of caller, each
/// on a fresh world, judged by its effect.
mod authorization_matrix {
    use super::*;

    fn who(call: impl Fn(&mut RecordRegistry) -> bool) -> Vec<&'static str> {
        let mut ok = Vec::new();
        for (name, byte) in ACTORS {
            let mut r = world();
            set_caller::<Env>(AccountId::from([byte; 32]));
            if call(&mut r) {
                ok.push(name);
            }
        }
        ok
    }

    fn caller() -> AccountId {
        ink::env::caller::<Env>()
    }

    #[ink::test]
    fn who_may_anchor_and_amend_the_patients_records() {
        let (record, commitment) = (Hash::from([2; 32]), Hash::from([3; 32]));
        let cc = category_commitment(salt(), LABS);
        assert_eq!(
            who(|r| {
                let _ = r.anchor(id("patient"), record, commitment, cc);
                r.verify(caller(), commitment).is_some()
            }),
            ["patient", "provider"],
            "the patient, or an active provider with write consent"
        );
        assert_eq!(
            who(|r| {
                let _ = r.amend(the_record(), Hash::from([4; 32]), AmendReason::Correction);
                r.record(id("provider"), the_record())
                    .is_some_and(|x| x.latest_version == 2)
            }),
            ["provider"],
            "only the custodian, still authorized"
        );
    }

    #[ink::test]
    fn who_may_anchor_batches() {
        let root = Hash::from([5; 32]);
        assert_eq!(
            who(|r| {
                let _ = r.anchor_batch(root, 100);
                r.verify_batch(caller(), root).is_some()
            }),
            [
                "provider",
                "provider without consent",
                "insurer",
                "insurer without consent",
                "researcher",
                "auditor",
                "app"
            ],
            "any active organization"
        );
    }

    #[ink::test]
    fn who_may_attest_claims() {
        let claim = Hash::from([6; 32]);
        assert_eq!(
            who(|r| {
                let _ = r.attest_claim(claim, id("patient"), vec![anchor_ref("provider", first())]);
                r.claim(caller(), claim).is_some()
            }),
            ["insurer"],
            "only an active insurer with read + payment consent"
        );
    }

    #[ink::test]
    fn who_may_write_the_access_log_and_whose_reads_are_allowed() {
        let read = |r: &mut RecordRegistry| {
            r.record_access(id("patient"), LABS.bit(), Purpose::Treatment, None)
        };
        assert_eq!(
            who(|r| read(r).is_ok()),
            [
                "provider",
                "provider without consent",
                "insurer",
                "insurer without consent",
                "researcher",
                "auditor",
                "app"
            ],
            "active registered organizations: a suspended one alerts no one"
        );
        assert_eq!(who(|r| read(r) == Ok(true)), ["provider"]);
    }

    #[ink::test]
    fn upgrades_are_the_consent_registrars_alone() {
        let code = Hash::from([0xc0; 32]);
        assert_eq!(
            who(|r| {
                let _ = r.announce_upgrade(code);
                r.pending_upgrade().is_some()
            }),
            ["registrar"]
        );
        assert_eq!(
            who(|r| {
                let caller = caller();
                set_caller::<Env>(id("registrar"));
                r.announce_upgrade(code).expect("announce");
                set_caller::<Env>(caller);
                let _ = r.cancel_upgrade();
                r.pending_upgrade().is_none()
            }),
            ["registrar"]
        );
        // `upgrade` needs a real chain to succeed (see the e2e tests); here: who is refused
        // before anything happens, even once an upgrade is announced and due.
        let refused = who(|r| {
            let caller = caller();
            set_caller::<Env>(id("registrar"));
            r.announce_upgrade(code).expect("announce");
            set_caller::<Env>(caller);
            caller != id("registrar") && r.upgrade(code) == Err(Error::NotRegistrar)
        });
        assert_eq!(refused.len(), ACTORS.len() - 1);
        assert!(!refused.contains(&"registrar"));
        assert!(
            who(|r| r.migrate().is_ok()).is_empty(),
            "migrate runs only inside an upgrade"
        );
    }
}

/// One test per hole the outside run of the second version found (contracts v3 issue), each
/// first committed against that version, where it failed.
mod outsider {
    use super::*;

    fn second() -> Hash {
        Hash::from([0xc2; 32])
    }

    /// A second insurer the patient consented to, for payment.
    fn rival() -> AccountId {
        AccountId::from([0x77; 32])
    }

    fn with_rival() -> RecordRegistry {
        let r = world();
        consent::register(rival(), Role::Insurer, true);
        consent::grant(
            id("patient"),
            rival(),
            LABS.bit(),
            Purpose::Payment,
            Access::Read,
        );
        r
    }

    #[ink::test]
    fn a_record_claimed_again_through_its_amended_version_is_flagged() {
        // given: the insurer claimed version 1 of the record
        let mut r = world();
        let p = id("patient");
        set_caller::<Env>(id("insurer"));
        r.attest_claim(
            Hash::from([1; 32]),
            p,
            vec![anchor_ref("provider", first())],
        )
        .expect("first claim");
        // when: the provider amends the record and the insurer is sent version 2
        set_caller::<Env>(id("provider"));
        r.amend(the_record(), second(), AmendReason::Other)
            .expect("amend");
        set_caller::<Env>(id("insurer"));
        r.attest_claim(
            Hash::from([2; 32]),
            p,
            vec![anchor_ref("provider", second())],
        )
        .expect("second claim");
        // then: the second claim is flagged, naming the first
        let flagged = emitted::<DuplicateClaimUse>();
        assert_eq!(flagged.len(), 1, "{flagged:?}");
        assert_eq!(
            (flagged[0].commitment, flagged[0].first_claim_ref),
            (second(), Hash::from([1; 32]))
        );
        assert_eq!(
            (flagged[0].reuse, flagged[0].overlap),
            (ClaimReuse::SameInsurer, ClaimOverlap::SameRecord)
        );
        assert_eq!(
            r.first_record_claim(p, id("provider"), the_record())
                .map(|k| k.claim_ref),
            Some(Hash::from([1; 32]))
        );
    }

    #[ink::test]
    fn an_insurer_that_claims_a_document_first_cannot_hide_a_rivals_own_reuse() {
        // given: a rival insurer claims the document first
        let mut r = with_rival();
        let p = id("patient");
        let docs = || vec![anchor_ref("provider", first())];
        set_caller::<Env>(rival());
        r.attest_claim(Hash::from([0xa0; 32]), p, docs())
            .expect("the rival's claim");
        // when: the insurer claims it: a document shared by two payers, said so
        set_caller::<Env>(id("insurer"));
        r.attest_claim(Hash::from([1; 32]), p, docs())
            .expect("the insurer's claim");
        let shared = last::<DuplicateClaimUse>();
        assert_eq!(
            (shared.reuse, shared.first_insurer, shared.overlap),
            (
                ClaimReuse::OtherInsurer,
                rival(),
                ClaimOverlap::SameDocument
            )
        );
        // and claims it again
        r.attest_claim(Hash::from([2; 32]), p, docs())
            .expect("the insurer's second claim");
        // then: the second claim is reported as the insurer's own reuse of its first claim,
        // not as the rival's document
        let reuse = last::<DuplicateClaimUse>();
        assert_eq!(
            (reuse.claim_ref, reuse.first_insurer, reuse.first_claim_ref),
            (Hash::from([2; 32]), id("insurer"), Hash::from([1; 32]))
        );
        assert_eq!(reuse.reuse, ClaimReuse::SameInsurer);
    }

    #[ink::test]
    fn one_claim_naming_two_versions_of_a_record_is_no_reuse() {
        // given: the provider amended the record, and an insurer's claim names both versions
        // (the original report and its addendum)
        let mut r = world();
        let p = id("patient");
        set_caller::<Env>(id("provider"));
        r.amend(the_record(), second(), AmendReason::Other)
            .expect("amend");
        set_caller::<Env>(id("insurer"));
        let both = || {
            vec![
                anchor_ref("provider", first()),
                anchor_ref("provider", second()),
            ]
        };
        r.attest_claim(Hash::from([1; 32]), p, both())
            .expect("one claim, both versions");
        // then: the claim is not flagged against itself
        assert!(emitted::<DuplicateClaimUse>().is_empty());
        // but a later claim naming them again is, once per document
        r.attest_claim(Hash::from([2; 32]), p, both())
            .expect("a second claim");
        let flagged = emitted::<DuplicateClaimUse>();
        assert_eq!(flagged.len(), 2, "{flagged:?}");
        assert!(flagged
            .iter()
            .all(|f| f.first_claim_ref == Hash::from([1; 32])
                && f.reuse == ClaimReuse::SameInsurer
                && f.overlap == ClaimOverlap::SameDocument));
    }

    #[ink::test]
    fn a_commitment_chosen_to_look_like_a_record_signals_nothing() {
        // given: the patient anchors, as their own upload, a "document" whose commitment is
        // the key the contract remembers the provider's record under when claims use it
        // (anyone can compute it from the public RecordAnchored), and a rival insurer claims
        // that fake document
        let mut r = with_rival();
        let p = id("patient");
        let mut lookalike = [0u8; 32];
        ink::env::hash_encoded::<Blake2x256, _>(&(id("provider"), the_record()), &mut lookalike);
        let lookalike = Hash::from(lookalike);
        set_caller::<Env>(p);
        r.anchor(p, Hash::from([0xf0; 32]), lookalike, Hash::from([0xf1; 32]))
            .expect("the patient's own upload");
        set_caller::<Env>(rival());
        r.attest_claim(
            Hash::from([0xa0; 32]),
            p,
            vec![AnchorKey {
                custodian: p,
                commitment: lookalike,
            }],
        )
        .expect("the rival claims the fake document");
        // when: the insurer claims the provider's real record for the first time
        set_caller::<Env>(id("insurer"));
        r.attest_claim(
            Hash::from([1; 32]),
            p,
            vec![anchor_ref("provider", first())],
        )
        .expect("the insurer's claim");
        // then: nothing is flagged: a document's commitment never stands for a record
        assert!(emitted::<DuplicateClaimUse>().is_empty());
    }

    #[ink::test]
    fn a_suspended_organization_cannot_alert_a_patient() {
        let mut r = world();
        set_caller::<Env>(id("suspended provider"));
        let before = recorded_events().count();
        assert_eq!(
            r.record_access(id("patient"), LABS.bit(), Purpose::Treatment, None),
            Err(Error::OrgSuspended)
        );
        assert_eq!(recorded_events().count(), before, "no alert was emitted");
    }
}
