//! What anyone watching the chain learns about a patient account, measured: an observer that
//! reads only public chain data (the blocks' extrinsics through the node's JSON-RPC, and the
//! contracts' events decoded with their published types) after a clinic, a laboratory and an
//! insurer dealt with one patient. `docs/privacy.md` describes this view; the test prints it.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use medledger_client::{AccountId32, account_of, consent, records, signer_from_suri};
use medledger_e2e::{patient, provider, registrar, spawn_system};
use medledger_events::{DataCategory, FLAG_EMERGENCY, OrgKind, Purpose, Role};
use medledger_indexer::{BlockSource, SubxtSource, decode_event};
use medledger_store::{AccountId, CATEGORY_NAMES, ChainEvent, RecordRef, names_of_bits};
use serde_json::{Value, json};

/// What the observer holds about one account after reading the chain.
#[derive(Debug, Default)]
struct View {
    /// Grantee -> the categories and access of its consent, as last granted.
    consents: BTreeMap<AccountId, (BTreeSet<&'static str>, u8)>,
    /// (custodian, record id) -> the categories the record can be of: those the custodian's
    /// Write consent covered when it anchored it (all fourteen when the patient did), and of
    /// those, the ones an access naming the record declared.
    records: BTreeMap<(AccountId, String), BTreeSet<&'static str>>,
    /// (accessor, categories, allowed) of each access the log holds.
    accesses: Vec<(AccountId, BTreeSet<&'static str>, bool)>,
}

fn names(bits: u16) -> BTreeSet<&'static str> {
    names_of_bits(u64::from(bits), &CATEGORY_NAMES)
        .into_iter()
        .collect()
}

async fn rpc(url: &str, method: &str, params: Value) -> Result<Value> {
    let http = url.replacen("ws://", "http://", 1);
    let answer: Value = reqwest::Client::new()
        .post(&http)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await?
        .json()
        .await?;
    answer
        .get("result")
        .cloned()
        .with_context(|| format!("{method}: {answer}"))
}

/// Every extrinsic of blocks 1..=head, as the node serves them to anyone.
async fn extrinsics(url: &str, head: u64) -> Result<Vec<Vec<u8>>> {
    let mut all = Vec::new();
    for n in 1..=head {
        let hash = rpc(url, "chain_getBlockHash", json!([n])).await?;
        let block = rpc(url, "chain_getBlock", json!([hash])).await?;
        for ext in block["block"]["extrinsics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let hex = ext.as_str().unwrap_or_default().trim_start_matches("0x");
            all.push(hex::decode(hex)?);
        }
    }
    Ok(all)
}

impl View {
    /// An access that names a record declares categories for it: taking the declaration as
    /// honest, the record's category is among them.
    fn narrow(&mut self, record: Option<RecordRef>, declared: u16) {
        if let Some(r) = record {
            let key = (r.custodian, r.record_id.to_string());
            if let Some(candidates) = self.records.get_mut(&key) {
                candidates.retain(|c| names(declared).contains(c));
            }
        }
    }
}

/// Reads the contracts' events of blocks 1..=head and keeps what concerns `patient`.
async fn observe(url: &str, head: u64, patient: AccountId) -> Result<View> {
    let source = SubxtSource::new(url);
    let mut view = View::default();
    for n in 1..=head {
        for raw in source.block(n).await?.contract_events {
            let Some(event) = decode_event(&raw)? else {
                continue;
            };
            match event {
                ChainEvent::ConsentGranted {
                    patient: p,
                    grantee,
                    categories,
                    access,
                    ..
                } if p == patient => {
                    view.consents.insert(grantee, (names(categories), access));
                }
                ChainEvent::RecordAnchored {
                    patient: p,
                    custodian,
                    record_id,
                    ..
                } if p == patient => {
                    let candidates = match view.consents.get(&custodian) {
                        _ if custodian == patient => names(0x3fff),
                        Some((categories, access)) if access & 0b10 != 0 => categories.clone(),
                        _ => BTreeSet::new(),
                    };
                    view.records
                        .insert((custodian, record_id.to_string()), candidates);
                }
                ChainEvent::AccessRecorded {
                    patient: p,
                    accessor,
                    record,
                    categories,
                    ..
                } if p == patient => {
                    view.narrow(record, categories);
                    view.accesses.push((accessor, names(categories), true));
                }
                ChainEvent::AccessDenied {
                    patient: p,
                    accessor,
                    record,
                    categories,
                    ..
                } if p == patient => {
                    view.narrow(record, categories);
                    view.accesses.push((accessor, names(categories), false));
                }
                _ => {}
            }
        }
    }
    Ok(view)
}

#[tokio::test]
async fn a_chain_observer_learns_consent_scopes_and_access_categories_never_a_salt() -> Result<()> {
    // given: //Dave lets a clinic (//Bob) write lab results only, a laboratory (//Eve) write
    // lab results and imaging, and an insurer (//Charlie) read mental-health data for payment
    let system = spawn_system().await?;
    let (c, r) = (system.consent_registry, system.record_registry);
    let (alice, bob, dave) = (registrar()?, provider()?, patient()?);
    let (charlie, eve) = (signer_from_suri("//Charlie")?, signer_from_suri("//Eve")?);
    let (bob_id, charlie_id, dave_id, eve_id) = (
        account_of(&bob),
        account_of(&charlie),
        account_of(&dave),
        account_of(&eve),
    );
    for (org, role, name, kind) in [
        (
            &charlie_id,
            Role::Insurer,
            "Acme Health Insurance",
            OrgKind::Insurer,
        ),
        (
            &eve_id,
            Role::Provider,
            "Lakeside Laboratory",
            OrgKind::Laboratory,
        ),
    ] {
        let profile = medledger_e2e::walk::profile(name, kind);
        let flags = if role == Role::Provider {
            FLAG_EMERGENCY
        } else {
            0
        };
        system
            .chain
            .submit(
                &alice,
                &c,
                &consent::register_org(&c, org, role, flags, profile),
            )
            .await?;
    }
    let grant =
        |grantee: AccountId32, categories: u16, purpose: Purpose, access: u8| consent::GrantArgs {
            grantee,
            categories,
            purposes: purpose.bit(),
            access,
            valid_from: 0,
            expires_at: None,
            terms_hash: medledger_proofs::terms_commitment(&[3; 32], b"consent form v1"),
        };
    let (labs, imaging, mental) = (
        DataCategory::LabResults,
        DataCategory::Imaging,
        DataCategory::MentalHealth,
    );
    for args in [
        grant(bob_id, labs.bit(), Purpose::Treatment, 0b11),
        grant(eve_id, labs.bit() | imaging.bit(), Purpose::Treatment, 0b10),
        grant(charlie_id, mental.bit(), Purpose::Payment, 0b01),
    ] {
        system
            .chain
            .submit(&dave, &c, &consent::grant(&c, &dave_id, &args))
            .await?;
    }
    // each anchors a record (the clinic a lab report, the laboratory an X-ray), each with
    // its own salts; the clinic logs reading its record; the insurer tries genomics
    let documents: [(&_, &AccountId32, DataCategory, &[u8]); 2] = [
        (&bob, &bob_id, labs, b"HbA1c 5.4 %"),
        (&eve, &eve_id, imaging, b"chest X-ray: no findings"),
    ];
    let mut secrets: Vec<[u8; 32]> = Vec::new();
    for (i, (signer, _, category, document)) in documents.iter().enumerate() {
        let (salt, category_salt) = ([40 + i as u8; 32], [50 + i as u8; 32]);
        let commitment = medledger_proofs::commitment(&salt, document);
        let category_commitment =
            medledger_proofs::category_commitment(&category_salt, category.index());
        system
            .chain
            .submit(
                signer,
                &r,
                &records::anchor(
                    &r,
                    &dave_id,
                    [60 + i as u8; 32],
                    commitment,
                    category_commitment,
                ),
            )
            .await?;
        secrets.extend([salt, category_salt]);
    }
    let lab_report = records::NamedRecord {
        custodian: bob_id,
        record_id: [60; 32],
    };
    system
        .chain
        .submit(
            &bob,
            &r,
            &records::record_access(
                &r,
                &dave_id,
                labs.bit(),
                Purpose::Treatment,
                Some(&lab_report),
            ),
        )
        .await?;
    let genomics = DataCategory::Genomics.bit();
    system
        .chain
        .submit(
            &charlie,
            &r,
            &records::record_access(&r, &dave_id, genomics, Purpose::Payment, None),
        )
        .await?;

    // when: an observer reads the chain
    let url = system.chain.url().to_string();
    let head = SubxtSource::new(&url).finalized_head().await?;
    let dave = AccountId(dave_id.0);
    let view = observe(&url, head, dave).await?;
    println!("what the chain shows about {dave}: {view:#?}");

    // and again after the laboratory logs reading its X-ray, naming it, as Imaging
    let x_ray = records::NamedRecord {
        custodian: eve_id,
        record_id: [61; 32],
    };
    system
        .chain
        .submit(
            &eve,
            &r,
            &records::record_access(
                &r,
                &dave_id,
                imaging.bit(),
                Purpose::Treatment,
                Some(&x_ray),
            ),
        )
        .await?;
    let head = SubxtSource::new(&url).finalized_head().await?;
    let later = observe(&url, head, dave).await?;

    // then: it sees whom the account consented to, for which categories
    let scope = |who: &AccountId32| view.consents.get(&AccountId(who.0)).map(|(c, _)| c.clone());
    assert_eq!(scope(&bob_id), Some(names(labs.bit())));
    assert_eq!(
        scope(&charlie_id),
        Some(names(mental.bit())),
        "a sensitive scope is public"
    );
    // and, from a Write consent naming one category, the category of what was anchored under
    // it; from one naming two, only that it is one of them
    let candidates = |view: &View, who: &AccountId32, id: u8| {
        view.records
            .get(&(
                AccountId(who.0),
                medledger_store::Hash32([id; 32]).to_string(),
            ))
            .cloned()
    };
    assert_eq!(candidates(&view, &bob_id, 60), Some(names(labs.bit())));
    assert_eq!(
        candidates(&view, &eve_id, 61),
        Some(names(labs.bit() | imaging.bit()))
    );
    // until an access names the record with the categories it declares: the X-ray is
    // Imaging, as far as the laboratory's declaration is honest
    assert_eq!(candidates(&later, &eve_id, 61), Some(names(imaging.bit())));
    // and which categories were accessed or refused, by whom
    assert_eq!(
        view.accesses,
        [
            (AccountId(bob_id.0), names(labs.bit()), true),
            (AccountId(charlie_id.0), names(genomics), false)
        ]
    );
    // but no salt reaches the chain: not a document's, not a category's (so no record's
    // category is ever opened, not even by an access naming it), and no document itself
    let public = extrinsics(&url, head).await?;
    assert!(public.len() > 10, "the observer read the extrinsics");
    for secret in &secrets {
        assert!(
            !public.iter().any(|x| x.windows(32).any(|w| w == secret)),
            "a salt is on chain"
        );
    }
    for (_, _, _, document) in &documents {
        assert!(
            !public
                .iter()
                .any(|x| x.windows(document.len()).any(|w| w == *document)),
            "a document is on chain"
        );
    }
    system.shutdown().await;
    Ok(())
}
