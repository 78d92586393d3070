//! The RecordRegistry on a real node (`ink_e2e`, feature `e2e-tests`), with the real
//! ConsentRegistry answering its cross-contract calls. One test per behaviour.

use crate::record_registry::{Error, RecordRegistry, RecordRegistryRef};
use ink::env::hash::Blake2x256;
use ink::env::Event;
use ink::prelude::vec;
use ink::primitives::{AccountId, Hash};
use ink::scale::Decode;
use ink_e2e::events::{ContractEmitted, EventWithTopics};
use ink_e2e::{AccountKeyring, ContractsBackend};
use medledger_consent::consent_registry::{ConsentRegistry, ConsentRegistryRef, Scope};
use medledger_events::*;

type E2EResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;
type Emitted = EventWithTopics<ContractEmitted<ink::env::DefaultEnvironment>>;

fn account(who: AccountKeyring) -> AccountId {
    ink_e2e::account_id(who)
}

fn events_of<E: Event + Decode>(emitted: &[Emitted]) -> Vec<E> {
    emitted
        .iter()
        .filter(|e| e.topics.first().map(|t| t.0) == E::SIGNATURE_TOPIC)
        .filter_map(|e| E::decode(&mut &e.event.data[..]).ok())
        .collect()
}

/// `blake2b_256("medledger/category/v1" || salt || [category index])`.
fn category_commitment(salt: [u8; 32], category: DataCategory) -> Hash {
    let mut input = CATEGORY_DOMAIN.to_vec();
    input.extend_from_slice(&salt);
    input.push(category.index());
    let mut out = [0u8; 32];
    ink::env::hash_bytes::<Blake2x256>(&input, &mut out);
    Hash::from(out)
}

const LAB_SALT: [u8; 32] = [0x42; 32];

/// Both contracts, //Alice the registrar (upgrades wait no delay after their announcement);
/// //Bob a provider, //Charlie an insurer; //Dave the patient, consenting to Bob writing and
/// reading lab results for treatment and to Charlie reading them for payment. Returns
/// (consent registry, record registry).
async fn deployed<Client>(client: &mut Client) -> (AccountId, AccountId)
where
    Client: ink_e2e::E2EBackend,
    <Client as ContractsBackend<ink::env::DefaultEnvironment>>::Error: std::fmt::Debug,
{
    let mut consent_ctor = ConsentRegistryRef::with_upgrade_delay(0);
    let consent = client
        .instantiate("medledger-consent", &ink_e2e::alice(), &mut consent_ctor)
        .submit()
        .await
        .expect("instantiate the ConsentRegistry");
    let mut c = consent.call_builder::<ConsentRegistry>();
    let mut records_ctor = RecordRegistryRef::new(consent.account_id);
    let records = client
        .instantiate("medledger-records", &ink_e2e::alice(), &mut records_ctor)
        .submit()
        .await
        .expect("instantiate the RecordRegistry");
    let (bob, charlie, dave) = (
        account(AccountKeyring::Bob),
        account(AccountKeyring::Charlie),
        account(AccountKeyring::Dave),
    );
    for (org, role, name, kind) in [
        (bob, Role::Provider, "Riverside Clinic", OrgKind::Clinic),
        (
            charlie,
            Role::Insurer,
            "Acme Health Insurance",
            OrgKind::Insurer,
        ),
    ] {
        let profile = OrgProfile {
            name: name.into(),
            kind,
            identifiers: vec![],
        };
        client
            .call(
                &ink_e2e::alice(),
                &c.register_org(org, role, 0, profile.to_bytes()),
            )
            .submit()
            .await
            .expect("register");
    }
    let labs = DataCategory::LabResults.bit();
    for (grantee, purpose, access) in [
        (bob, Purpose::Treatment, ALL_ACCESS),
        (charlie, Purpose::Payment, Access::Read.bit()),
    ] {
        client
            .call(
                &ink_e2e::dave(),
                &c.grant(
                    dave,
                    grantee,
                    Scope {
                        categories: labs,
                        purposes: purpose.bit(),
                        access,
                        valid_from: 0,
                        expires_at: None,
                    },
                    Hash::default(),
                ),
            )
            .submit()
            .await
            .expect("grant");
    }
    (consent.account_id, records.account_id)
}

#[ink_e2e::test]
async fn a_provider_anchors_only_with_the_patients_write_consent<Client: E2EBackend>(
    mut client: Client,
) -> E2EResult<()> {
    // given
    let (consent, records) = deployed(&mut client).await;
    let mut c = ink_e2e::create_call_builder::<ConsentRegistry>(consent);
    let mut r = ink_e2e::create_call_builder::<RecordRegistry>(records);
    let (bob, dave) = (account(AccountKeyring::Bob), account(AccountKeyring::Dave));
    let cc = category_commitment(LAB_SALT, DataCategory::LabResults);
    let anchor = r.anchor(dave, Hash::from([1; 32]), Hash::from([2; 32]), cc);

    // when: anchored with the consent
    let out = client.call(&ink_e2e::bob(), &anchor).submit().await?;

    // then: the event decodes with the shared type and verify finds the anchor under bob
    let anchored: Vec<RecordAnchored> = events_of(&out.contract_emitted_events()?);
    assert_eq!(
        (
            anchored[0].patient,
            anchored[0].custodian,
            anchored[0].category_commitment
        ),
        (dave, bob, cc)
    );
    let info = client
        .call(&ink_e2e::eve(), &r.verify(bob, Hash::from([2; 32])))
        .dry_run()
        .await?
        .return_value()
        .expect("anchored");
    assert_eq!((info.record_id, info.patient), (Hash::from([1; 32]), dave));

    // when: dave revokes bob's consent, bob can no longer anchor
    client
        .call(&ink_e2e::dave(), &c.revoke(dave, bob))
        .submit()
        .await?;
    let next = r.anchor(dave, Hash::from([3; 32]), Hash::from([4; 32]), cc);
    let refused = client.call(&ink_e2e::bob(), &next).dry_run().await?;
    assert_eq!(refused.return_value(), Err(Error::NotAuthorized));
    // and an unregistered account is no provider at all
    let refused = client.call(&ink_e2e::ferdie(), &next).dry_run().await?;
    assert_eq!(refused.return_value(), Err(Error::NotProvider));
    Ok(())
}

#[ink_e2e::test]
async fn a_copied_anchor_does_not_block_or_replace_the_honest_one<Client: E2EBackend>(
    mut client: Client,
) -> E2EResult<()> {
    // given: bob's anchor of dave's record is about to be submitted
    let (_, records) = deployed(&mut client).await;
    let mut r = ink_e2e::create_call_builder::<RecordRegistry>(records);
    let (bob, dave, eve) = (
        account(AccountKeyring::Bob),
        account(AccountKeyring::Dave),
        account(AccountKeyring::Eve),
    );
    let (record, commitment) = (Hash::from([5; 32]), Hash::from([6; 32]));
    let cc = category_commitment(LAB_SALT, DataCategory::LabResults);

    // when: eve copies its arguments into her own upload first, and so does dave
    client
        .call(&ink_e2e::eve(), &r.anchor(eve, record, commitment, cc))
        .submit()
        .await?;
    client
        .call(&ink_e2e::dave(), &r.anchor(dave, record, commitment, cc))
        .submit()
        .await?;

    // then: bob's call still succeeds, and verify answers bob's anchor under bob
    client
        .call(&ink_e2e::bob(), &r.anchor(dave, record, commitment, cc))
        .submit()
        .await?;
    let info = client
        .call(&ink_e2e::alice(), &r.verify(bob, commitment))
        .dry_run()
        .await?
        .return_value()
        .expect("anchored");
    assert_eq!((info.custodian, info.patient), (bob, dave));
    Ok(())
}

#[ink_e2e::test]
async fn an_amendment_is_refused_once_the_write_consent_is_revoked<Client: E2EBackend>(
    mut client: Client,
) -> E2EResult<()> {
    // given: bob anchored and amended a record of dave
    let (consent, records) = deployed(&mut client).await;
    let mut c = ink_e2e::create_call_builder::<ConsentRegistry>(consent);
    let mut r = ink_e2e::create_call_builder::<RecordRegistry>(records);
    let (bob, dave) = (account(AccountKeyring::Bob), account(AccountKeyring::Dave));
    let record = Hash::from([7; 32]);
    let (v1, v2, v3) = (
        Hash::from([8; 32]),
        Hash::from([9; 32]),
        Hash::from([10; 32]),
    );
    let cc = category_commitment(LAB_SALT, DataCategory::LabResults);
    client
        .call(&ink_e2e::bob(), &r.anchor(dave, record, v1, cc))
        .submit()
        .await?;
    let out = client
        .call(
            &ink_e2e::bob(),
            &r.amend(record, v2, AmendReason::Correction),
        )
        .submit()
        .await?;
    let amended: Vec<RecordAmended> = events_of(&out.contract_emitted_events()?);
    assert_eq!((amended[0].version, amended[0].previous), (2, v1));
    let old = client
        .call(&ink_e2e::eve(), &r.verify(bob, v1))
        .dry_run()
        .await?
        .return_value();
    assert_eq!(old.and_then(|a| a.superseded_by), Some(v2));

    // when: dave revokes bob's consent
    client
        .call(&ink_e2e::dave(), &c.revoke(dave, bob))
        .submit()
        .await?;

    // then: bob can no longer supersede the version insurers rely on
    let refused = client
        .call(&ink_e2e::bob(), &r.amend(record, v3, AmendReason::Other))
        .dry_run()
        .await?;
    assert_eq!(refused.return_value(), Err(Error::NotAuthorized));
    Ok(())
}

#[ink_e2e::test]
async fn a_claim_needs_payment_consent_and_flags_a_reused_document<Client: E2EBackend>(
    mut client: Client,
) -> E2EResult<()> {
    // given: bob anchored a lab report of dave
    let (_, records) = deployed(&mut client).await;
    let mut r = ink_e2e::create_call_builder::<RecordRegistry>(records);
    let (bob, charlie, dave) = (
        account(AccountKeyring::Bob),
        account(AccountKeyring::Charlie),
        account(AccountKeyring::Dave),
    );
    let report = Hash::from([11; 32]);
    let cc = category_commitment(LAB_SALT, DataCategory::LabResults);
    client
        .call(
            &ink_e2e::bob(),
            &r.anchor(dave, Hash::from([12; 32]), report, cc),
        )
        .submit()
        .await?;
    let docs = || {
        vec![AnchorKey {
            custodian: bob,
            commitment: report,
        }]
    };

    // when: charlie (insurer, payment consent) attests a claim
    let out = client
        .call(
            &ink_e2e::charlie(),
            &r.attest_claim(Hash::from([13; 32]), dave, docs()),
        )
        .submit()
        .await?;
    assert_eq!(out.return_value(), Ok(true));

    // then: a second claim on the same report raises the fraud signal
    let out = client
        .call(
            &ink_e2e::charlie(),
            &r.attest_claim(Hash::from([14; 32]), dave, docs()),
        )
        .submit()
        .await?;
    let duplicate: Vec<DuplicateClaimUse> = events_of(&out.contract_emitted_events()?);
    assert_eq!(
        (
            duplicate[0].commitment,
            duplicate[0].first_insurer,
            duplicate[0].first_claim_ref
        ),
        (report, charlie, Hash::from([13; 32]))
    );
    assert_eq!(
        (duplicate[0].reuse, duplicate[0].overlap),
        (ClaimReuse::SameInsurer, ClaimOverlap::SameDocument)
    );
    // and so does a claim on the report's amended version: the signal follows the record
    let amended = Hash::from([0x1b; 32]);
    client
        .call(
            &ink_e2e::bob(),
            &r.amend(Hash::from([12; 32]), amended, AmendReason::Correction),
        )
        .submit()
        .await?;
    let out = client
        .call(
            &ink_e2e::charlie(),
            &r.attest_claim(
                Hash::from([0x1c; 32]),
                dave,
                vec![AnchorKey {
                    custodian: bob,
                    commitment: amended,
                }],
            ),
        )
        .submit()
        .await?;
    let duplicate: Vec<DuplicateClaimUse> = events_of(&out.contract_emitted_events()?);
    assert_eq!(
        (
            duplicate[0].commitment,
            duplicate[0].first_claim_ref,
            duplicate[0].overlap
        ),
        (amended, Hash::from([13; 32]), ClaimOverlap::SameRecord)
    );
    // and bob, a provider, is no insurer
    let refused = client
        .call(
            &ink_e2e::bob(),
            &r.attest_claim(Hash::from([15; 32]), dave, docs()),
        )
        .dry_run()
        .await?;
    assert_eq!(refused.return_value(), Err(Error::NotInsurer));
    Ok(())
}

#[ink_e2e::test]
async fn the_access_log_names_a_record_without_opening_its_category<Client: E2EBackend>(
    mut client: Client,
) -> E2EResult<()> {
    // given: bob anchored a lab report of dave
    let (consent, records) = deployed(&mut client).await;
    let mut c = ink_e2e::create_call_builder::<ConsentRegistry>(consent);
    let mut r = ink_e2e::create_call_builder::<RecordRegistry>(records);
    let (bob, dave) = (account(AccountKeyring::Bob), account(AccountKeyring::Dave));
    let record = Hash::from([16; 32]);
    let cc = category_commitment(LAB_SALT, DataCategory::LabResults);
    client
        .call(
            &ink_e2e::bob(),
            &r.anchor(dave, record, Hash::from([17; 32]), cc),
        )
        .submit()
        .await?;
    let key = RecordKey {
        custodian: bob,
        record_id: record,
    };
    let labs = DataCategory::LabResults.bit();

    // when: bob logs reading it as lab results
    let call = r.record_access(dave, labs, Purpose::Treatment, Some(key));
    let out = client.call(&ink_e2e::bob(), &call).submit().await?;

    // then: recorded, naming the record, and the call carried nothing that opens its
    // category (the salt stays with the receipt holder)
    let recorded: Vec<AccessRecorded> = events_of(&out.contract_emitted_events()?);
    assert_eq!(recorded[0].record, Some(key));
    let call_data = ink::scale::Encode::encode(
        r.record_access(dave, labs, Purpose::Treatment, Some(key))
            .params()
            .exec_input(),
    );
    assert!(!call_data.windows(32).any(|w| w == LAB_SALT));
    // a record that is not dave's cannot be named
    let refused = client
        .call(
            &ink_e2e::bob(),
            &r.record_access(
                account(AccountKeyring::Eve),
                labs,
                Purpose::Treatment,
                Some(key),
            ),
        )
        .dry_run()
        .await?;
    assert_eq!(refused.return_value(), Err(Error::UnknownRecord));
    // a suspended organization alerts no one
    client
        .call(&ink_e2e::alice(), &c.suspend_org(bob))
        .submit()
        .await?;
    let refused = client.call(&ink_e2e::bob(), &call).dry_run().await?;
    assert_eq!(refused.return_value(), Err(Error::OrgSuspended));
    // an unregistered account cannot log at all; a registered one without consent is an alert
    let refused = client
        .call(
            &ink_e2e::ferdie(),
            &r.record_access(dave, labs, Purpose::Research, None),
        )
        .dry_run()
        .await?;
    assert_eq!(refused.return_value(), Err(Error::NotRegistered));
    let out = client
        .call(
            &ink_e2e::charlie(),
            &r.record_access(dave, labs, Purpose::Research, None),
        )
        .submit()
        .await?;
    let denied: Vec<AccessDenied> = events_of(&out.contract_emitted_events()?);
    assert_eq!(denied[0].accessor, account(AccountKeyring::Charlie));
    Ok(())
}

#[ink_e2e::test]
async fn the_consent_registrar_upgrades_the_record_registry<Client: E2EBackend>(
    mut client: Client,
) -> E2EResult<()> {
    // given: a record worth keeping
    let (_, records) = deployed(&mut client).await;
    let mut r = ink_e2e::create_call_builder::<RecordRegistry>(records);
    let (bob, dave) = (account(AccountKeyring::Bob), account(AccountKeyring::Dave));
    let cc = category_commitment(LAB_SALT, DataCategory::LabResults);
    client
        .call(
            &ink_e2e::bob(),
            &r.anchor(dave, Hash::from([18; 32]), Hash::from([19; 32]), cc),
        )
        .submit()
        .await?;
    let code_hash = client
        .upload("medledger-records", &ink_e2e::alice())
        .submit()
        .await
        .expect("upload")
        .code_hash;
    let refused = client
        .call(&ink_e2e::bob(), &r.announce_upgrade(code_hash))
        .dry_run()
        .await?;
    assert_eq!(refused.return_value(), Err(Error::NotRegistrar));
    let refused = client
        .call(&ink_e2e::alice(), &r.upgrade(code_hash))
        .dry_run()
        .await?;
    assert_eq!(refused.return_value(), Err(Error::UpgradeNotAnnounced));

    // when: alice, the ConsentRegistry's registrar, announces and (no delay here) upgrades
    let out = client
        .call(&ink_e2e::alice(), &r.announce_upgrade(code_hash))
        .submit()
        .await?;
    let announced: Vec<UpgradeAnnounced> = events_of(&out.contract_emitted_events()?);
    assert_eq!(announced[0].code_hash, code_hash);
    let out = client
        .call(&ink_e2e::alice(), &r.upgrade(code_hash))
        .submit()
        .await?;

    // then: the migration ran in the same call and the record is still there
    let upgraded: Vec<ContractUpgraded> = events_of(&out.contract_emitted_events()?);
    assert_eq!(
        (upgraded[0].code_hash, upgraded[0].storage_version),
        (code_hash, 2)
    );
    let info = client
        .call(&ink_e2e::eve(), &r.verify(bob, Hash::from([19; 32])))
        .dry_run()
        .await?
        .return_value();
    assert_eq!(info.map(|a| a.patient), Some(dave));
    Ok(())
}
