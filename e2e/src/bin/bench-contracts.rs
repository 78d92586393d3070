//! `cargo xtask bench contracts`: what every contract message costs on a real node.
//!
//! Starts a dev node, deploys both contracts, then walks every message once in an order
//! that makes each one succeed, printing the dry run's ref_time, proof_size and storage
//! deposit before submitting it. Also prints each contract's wasm size and the cost per record
//! of `anchor` against `anchor_batch` at 1, 100 and 10,000 leaves.

use std::fmt::Display;

use anyhow::{Context, Result};
use medledger_client::{
    AccountId32, Chain, Estimate, Keypair, Message, account_of, consent, records, signer_from_suri,
};
use medledger_consent::consent_registry::DEFAULT_POLICY;
use medledger_deploy::devnode::DevNode;
use medledger_deploy::{CONSENT_BUNDLE, RECORDS_BUNDLE, load_bundle};
use medledger_e2e::contracts_dir;
use medledger_events::{Access, AmendReason, DataCategory, EmergencyReason, Policy, Purpose, Role};

struct Bench {
    chain: Chain,
    rows: Vec<(String, Estimate)>,
}

impl Bench {
    /// Estimates `message`, then submits it.
    async fn call<T, E>(
        &mut self,
        name: impl Display,
        signer: &Keypair,
        contract: &AccountId32,
        message: &Message<Result<T, E>>,
    ) -> Result<()>
    where
        T: scale::Decode,
        E: scale::Decode + std::fmt::Debug,
    {
        let name = name.to_string();
        let estimate = self
            .chain
            .estimate(&account_of(signer), contract, message)
            .await
            .with_context(|| format!("estimating {name}"))?;
        self.rows.push((name.clone(), estimate));
        self.chain
            .submit(signer, contract, message)
            .await
            .with_context(|| format!("submitting {name}"))?;
        Ok(())
    }

    /// Estimates a query (nothing is submitted).
    async fn query<R>(
        &mut self,
        name: impl Display,
        origin: &AccountId32,
        contract: &AccountId32,
        message: &Message<R>,
    ) -> Result<()> {
        let estimate = self.chain.estimate(origin, contract, message).await?;
        self.rows.push((name.to_string(), estimate));
        Ok(())
    }

    fn ref_time(&self, name: &str) -> u64 {
        self.rows
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e.gas_required.ref_time)
            .unwrap_or(0)
    }
}

fn key(suri: &str) -> Result<Keypair> {
    Ok(signer_from_suri(suri)?)
}

#[tokio::main]
async fn main() -> Result<()> {
    let node = DevNode::start().await?;
    let chain = Chain::connect(node.url()).await?;
    let (alice, bob, charlie, dave, eve, ferdie) = (
        key("//Alice")?,
        key("//Bob")?,
        key("//Charlie")?,
        key("//Dave")?,
        key("//Eve")?,
        key("//Ferdie")?,
    );
    let deployment = medledger_deploy::deploy(&chain, &alice, &contracts_dir(), "bench").await?;
    let (c, r) = deployment.accounts().map_err(anyhow::Error::msg)?;
    let (bob_id, charlie_id, dave_id, eve_id, ferdie_id) = (
        account_of(&bob),
        account_of(&charlie),
        account_of(&dave),
        account_of(&eve),
        account_of(&ferdie),
    );
    let mut b = Bench {
        chain,
        rows: Vec::new(),
    };

    // ConsentRegistry: registrar
    let emergency = medledger_events::FLAG_EMERGENCY;
    b.call(
        "register_org",
        &alice,
        &c,
        &consent::register_org(&c, &bob_id, Role::Provider, emergency),
    )
    .await?;
    b.chain
        .submit(
            &alice,
            &c,
            &consent::register_org(&c, &charlie_id, Role::Insurer, 0),
        )
        .await?;
    b.chain
        .submit(
            &alice,
            &c,
            &consent::register_org(&c, &ferdie_id, Role::App, 0),
        )
        .await?;
    b.call(
        "suspend_org",
        &alice,
        &c,
        &consent::suspend_org(&c, &ferdie_id),
    )
    .await?;
    b.call(
        "reinstate_org",
        &alice,
        &c,
        &consent::reinstate_org(&c, &ferdie_id),
    )
    .await?;
    b.call(
        "propose_registrar",
        &alice,
        &c,
        &consent::propose_registrar(&c, &ferdie_id),
    )
    .await?;
    b.call(
        "accept_registrar",
        &ferdie,
        &c,
        &consent::accept_registrar(&c),
    )
    .await?;
    b.chain
        .submit(
            &ferdie,
            &c,
            &consent::propose_registrar(&c, &account_of(&alice)),
        )
        .await?;
    b.chain
        .submit(&alice, &c, &consent::accept_registrar(&c))
        .await?;
    b.call(
        "set_policy",
        &alice,
        &c,
        // no cool-down, so that the walk can break glass twice
        &consent::set_policy(
            &c,
            Policy {
                emergency_cooldown_ms: 0,
                ..DEFAULT_POLICY
            },
        ),
    )
    .await?;

    // ConsentRegistry: patients, delegates, emergencies
    let labs_imaging = DataCategory::LabResults.bit() | DataCategory::Imaging.bit();
    let to_bob = consent::GrantArgs {
        grantee: bob_id,
        categories: labs_imaging,
        purposes: Purpose::Treatment.bit(),
        access: 0b11,
        valid_from: 0,
        expires_at: None,
        terms_hash: [1; 32],
    };
    let now = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis(),
    )?;
    let delegation_ends = now + 30 * 24 * 3_600_000;
    let to_charlie = consent::GrantArgs {
        grantee: charlie_id,
        categories: labs_imaging,
        purposes: Purpose::Payment.bit(),
        access: 0b01,
        valid_from: 0,
        expires_at: Some(delegation_ends),
        terms_hash: [2; 32],
    };
    b.call("grant", &dave, &c, &consent::grant(&c, &to_bob))
        .await?;
    b.call(
        "set_delegate",
        &dave,
        &c,
        &consent::set_delegate(&c, &eve_id, delegation_ends),
    )
    .await?;
    b.call(
        "grant_for",
        &eve,
        &c,
        &consent::grant_for(&c, &dave_id, &to_charlie),
    )
    .await?;
    b.call(
        "revoke_for",
        &eve,
        &c,
        &consent::revoke_for(&c, &dave_id, &charlie_id),
    )
    .await?;
    b.chain
        .submit(&dave, &c, &consent::grant(&c, &to_charlie))
        .await?;
    b.call(
        "break_glass",
        &bob,
        &c,
        &consent::break_glass(&c, &dave_id, EmergencyReason::LifeThreatening, [3; 32]),
    )
    .await?;
    b.call(
        "end_emergency_for",
        &eve,
        &c,
        &consent::end_emergency_for(&c, &dave_id, &bob_id),
    )
    .await?;
    b.chain
        .submit(
            &bob,
            &c,
            &consent::break_glass(&c, &dave_id, EmergencyReason::Other, [4; 32]),
        )
        .await?;
    b.call(
        "end_emergency",
        &dave,
        &c,
        &consent::end_emergency(&c, &bob_id),
    )
    .await?;
    b.call(
        "set_emergency_block",
        &dave,
        &c,
        &consent::set_emergency_block(&c, &bob_id, true),
    )
    .await?;
    b.call(
        "set_emergency_block_for",
        &eve,
        &c,
        &consent::set_emergency_block_for(&c, &dave_id, &bob_id, false),
    )
    .await?;
    b.call(
        "remove_delegate",
        &dave,
        &c,
        &consent::remove_delegate(&c, &eve_id),
    )
    .await?;
    b.query(
        "is_authorized (query)",
        &bob_id,
        &c,
        &consent::is_authorized(
            &c,
            &dave_id,
            &bob_id,
            DataCategory::LabResults,
            Purpose::Treatment,
            Access::Read,
        ),
    )
    .await?;
    b.query(
        "consents_to (query)",
        &bob_id,
        &c,
        &consent::consents_to(
            &c,
            &dave_id,
            &bob_id,
            Role::Provider,
            Purpose::Treatment,
            Access::Write,
        ),
    )
    .await?;

    // RecordRegistry
    let category_salt = [9; 32];
    let labs =
        medledger_proofs::category_commitment(&category_salt, DataCategory::LabResults.index());
    let imaging =
        medledger_proofs::category_commitment(&category_salt, DataCategory::Imaging.index());
    b.call(
        "anchor (patient's own)",
        &dave,
        &r,
        &records::anchor(&r, &dave_id, [10; 32], [11; 32], imaging),
    )
    .await?;
    b.call(
        "anchor (provider, consent checked)",
        &bob,
        &r,
        &records::anchor(&r, &dave_id, [12; 32], [13; 32], labs),
    )
    .await?;
    b.call(
        "amend (provider, consent checked)",
        &bob,
        &r,
        &records::amend(&r, [12; 32], [14; 32], AmendReason::Correction),
    )
    .await?;
    for (i, leaves) in [1u32, 100, 10_000].into_iter().enumerate() {
        let root = [20 + i as u8; 32];
        b.call(
            format!("anchor_batch ({leaves} leaves)"),
            &bob,
            &r,
            &records::anchor_batch(&r, root, leaves),
        )
        .await?;
    }
    b.call(
        "attest_claim (1 document)",
        &charlie,
        &r,
        &records::attest_claim(&r, [30; 32], &dave_id, &[(bob_id, [14; 32])]),
    )
    .await?;
    b.call(
        "attest_claim (reused document)",
        &charlie,
        &r,
        &records::attest_claim(&r, [31; 32], &dave_id, &[(bob_id, [14; 32])]),
    )
    .await?;
    let lab_report = records::NamedRecord {
        custodian: bob_id,
        record_id: [12; 32],
        category_salt,
    };
    let lab_bit = DataCategory::LabResults.bit();
    b.call(
        "record_access (allowed)",
        &bob,
        &r,
        &records::record_access(&r, &dave_id, lab_bit, Purpose::Treatment, None),
    )
    .await?;
    b.call(
        "record_access (allowed, named record)",
        &bob,
        &r,
        &records::record_access(&r, &dave_id, lab_bit, Purpose::Treatment, Some(&lab_report)),
    )
    .await?;
    b.call(
        "record_access (denied)",
        &charlie,
        &r,
        &records::record_access(&r, &dave_id, lab_bit, Purpose::Research, None),
    )
    .await?;
    b.query(
        "verify (query)",
        &charlie_id,
        &r,
        &records::verify(&r, &bob_id, [14; 32]),
    )
    .await?;

    // Last: upgrades (to the same code: the migration step is a no-op) and revoke.
    let consent_code = load_bundle(&contracts_dir().join(CONSENT_BUNDLE))?.code_hash;
    let records_code = load_bundle(&contracts_dir().join(RECORDS_BUNDLE))?.code_hash;
    b.call(
        "upgrade (ConsentRegistry)",
        &alice,
        &c,
        &consent::upgrade(&c, consent_code),
    )
    .await?;
    b.call(
        "upgrade (RecordRegistry)",
        &alice,
        &r,
        &records::upgrade(&r, records_code),
    )
    .await?;
    b.call("revoke", &dave, &c, &consent::revoke(&c, &bob_id))
        .await?;

    println!(
        "
Contract messages on substrate-contracts-node 0.42.0 (dry runs)
"
    );
    println!(
        "{:<38} {:>14} {:>12} {:>16}",
        "message", "ref_time", "proof_size", "storage deposit"
    );
    for (name, e) in &b.rows {
        println!(
            "{:<38} {:>14} {:>12} {:>16}",
            name, e.gas_required.ref_time, e.gas_required.proof_size, e.storage_deposit
        );
    }

    println!("\nWasm size");
    for bundle in [CONSENT_BUNDLE, RECORDS_BUNDLE] {
        let size = load_bundle(&contracts_dir().join(bundle))?.wasm.len();
        println!("{bundle:<38} {size:>8} bytes");
    }

    println!("\nCost per record (ref_time)");
    let single = b.ref_time("anchor (provider, consent checked)");
    for leaves in [1u64, 100, 10_000] {
        let batch = b.ref_time(&format!("anchor_batch ({leaves} leaves)"));
        println!(
            "{leaves:>6} records: anchor each {:>14}   anchor_batch {:>14}",
            single,
            batch / leaves
        );
    }
    node.stop().await;
    Ok(())
}
