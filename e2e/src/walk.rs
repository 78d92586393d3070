//! One walk through every contract message, in an order that makes each succeed, so that
//! every event kind the contracts emit lands on a fresh dev chain. `cargo xtask bench
//! contracts` prices each step; `record-events` keeps the events the steps emitted as the
//! decoder's test fixtures.

use std::fmt::Display;

use anyhow::{Context, Result};
use medledger_client::{
    AccountId32, Chain, Estimate, Keypair, Message, account_of, consent, records, signer_from_suri,
};
use medledger_consent::consent_registry::DEFAULT_POLICY;
use medledger_deploy::devnode::DevNode;
use medledger_deploy::{CONSENT_BUNDLE, Deployment, RECORDS_BUNDLE, load_bundle};
use medledger_events::{
    Access, AmendReason, DataCategory, EmergencyReason, NPI_SYSTEM, OrgIdentifier, OrgKind,
    OrgProfile, Policy, Purpose, Role,
};

use crate::contracts_dir;

/// One message of the walk.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    /// The block the transaction landed in; `None` for a query (priced, not submitted).
    pub block: Option<u64>,
    /// The dry run's figures, when the walk was asked to price this step.
    pub estimate: Option<Estimate>,
}

/// A dev chain after the walk.
pub struct Walked {
    pub node: DevNode,
    pub chain: Chain,
    pub deployment: Deployment,
    /// Every step, in chain order.
    pub steps: Vec<Step>,
}

impl Walked {
    /// The ref_time the dry run of step `name` asked for (0 when it was not priced).
    pub fn ref_time(&self, name: &str) -> u64 {
        self.steps
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.estimate.as_ref())
            .map_or(0, |e| e.gas_required.ref_time)
    }
}

struct Walker {
    chain: Chain,
    price: bool,
    steps: Vec<Step>,
}

impl Walker {
    /// Prices `message` (when asked to), then submits it.
    async fn call<T, E>(
        &mut self,
        name: impl Display,
        signer: &Keypair,
        contract: &AccountId32,
        message: &Message<Result<T, E>>,
    ) -> Result<()>
    where
        T: scale::Decode,
        E: medledger_client::ContractError,
    {
        let name = name.to_string();
        let estimate = if self.price {
            Some(
                self.chain
                    .estimate(&account_of(signer), contract, message)
                    .await
                    .with_context(|| format!("estimating {name}"))?,
            )
        } else {
            None
        };
        self.submitted(name, signer, contract, message, estimate)
            .await
    }

    /// Submits `message` without pricing it: a step that only sets the stage.
    async fn submit<T, E>(
        &mut self,
        name: &str,
        signer: &Keypair,
        contract: &AccountId32,
        message: &Message<Result<T, E>>,
    ) -> Result<()>
    where
        T: scale::Decode,
        E: medledger_client::ContractError,
    {
        self.submitted(name.to_string(), signer, contract, message, None)
            .await
    }

    async fn submitted<T, E>(
        &mut self,
        name: String,
        signer: &Keypair,
        contract: &AccountId32,
        message: &Message<Result<T, E>>,
        estimate: Option<Estimate>,
    ) -> Result<()>
    where
        T: scale::Decode,
        E: medledger_client::ContractError,
    {
        let outcome = self
            .chain
            .submit(signer, contract, message)
            .await
            .with_context(|| format!("submitting {name}"))?;
        self.steps.push(Step {
            name,
            block: Some(outcome.block_number),
            estimate,
        });
        Ok(())
    }

    /// Prices a query (nothing is submitted); skipped unless the walk prices.
    async fn query<R>(
        &mut self,
        name: impl Display,
        origin: &AccountId32,
        contract: &AccountId32,
        message: &Message<R>,
    ) -> Result<()> {
        if self.price {
            let estimate = self.chain.estimate(origin, contract, message).await?;
            self.steps.push(Step {
                name: name.to_string(),
                block: None,
                estimate: Some(estimate),
            });
        }
        Ok(())
    }
}

fn key(suri: &str) -> Result<Keypair> {
    Ok(signer_from_suri(suri)?)
}

/// The profile the walk registers an organization with.
pub fn profile(name: &str, kind: OrgKind) -> OrgProfile {
    OrgProfile {
        name: name.into(),
        kind,
        identifiers: vec![OrgIdentifier {
            system: NPI_SYSTEM.into(),
            value: "1234567893".into(),
        }],
    }
}

/// Starts a dev node, deploys both contracts from `artifacts/contracts` and sends every
/// message once, each in its own finalized block; with `price`, each is dry-run first and
/// its estimate kept.
///
/// # Errors
/// When the node does not start (run `cargo xtask setup`), the bundles are missing (run
/// `cargo xtask contracts`) or a step is refused.
pub async fn every_message(price: bool) -> Result<Walked> {
    let node = DevNode::start().await?;
    let chain = Chain::connect(node.url()).await?;
    let dir = contracts_dir();
    let (alice, bob, charlie, dave, eve, ferdie) = (
        key("//Alice")?,
        key("//Bob")?,
        key("//Charlie")?,
        key("//Dave")?,
        key("//Eve")?,
        key("//Ferdie")?,
    );
    // Upgrades that wait nothing, so that the walk can announce and apply them at once.
    let deployment = medledger_deploy::deploy(&chain, &alice, &dir, "walk", Some(0))
        .await
        .context("deploying (build the bundles with `cargo xtask contracts`)")?;
    let (c, r) = deployment.accounts().map_err(anyhow::Error::msg)?;
    let (bob_id, charlie_id, dave_id, eve_id, ferdie_id) = (
        account_of(&bob),
        account_of(&charlie),
        account_of(&dave),
        account_of(&eve),
        account_of(&ferdie),
    );
    let mut b = Walker {
        chain,
        price,
        steps: Vec::new(),
    };

    // ConsentRegistry: registrar
    let emergency = medledger_events::FLAG_EMERGENCY;
    b.call(
        "register_org",
        &alice,
        &c,
        &consent::register_org(
            &c,
            &bob_id,
            Role::Provider,
            emergency,
            profile("Riverside Clinic", OrgKind::Clinic),
        ),
    )
    .await?;
    b.submit(
        "register_org (insurer)",
        &alice,
        &c,
        &consent::register_org(
            &c,
            &charlie_id,
            Role::Insurer,
            0,
            profile("Acme Health Insurance", OrgKind::Insurer),
        ),
    )
    .await?;
    b.submit(
        "register_org (app)",
        &alice,
        &c,
        &consent::register_org(
            &c,
            &ferdie_id,
            Role::App,
            0,
            profile("Ferdie's App", OrgKind::App),
        ),
    )
    .await?;
    b.call(
        "update_org",
        &alice,
        &c,
        &consent::update_org(
            &c,
            &bob_id,
            profile("Riverside Hospital", OrgKind::Hospital),
        ),
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
    b.submit(
        "propose_registrar (back)",
        &ferdie,
        &c,
        &consent::propose_registrar(&c, &account_of(&alice)),
    )
    .await?;
    b.submit(
        "accept_registrar (back)",
        &alice,
        &c,
        &consent::accept_registrar(&c),
    )
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
    b.call("grant", &dave, &c, &consent::grant(&c, &dave_id, &to_bob))
        .await?;
    b.call(
        "set_delegate",
        &dave,
        &c,
        &consent::set_delegate(&c, &eve_id, delegation_ends),
    )
    .await?;
    b.call(
        "grant (by a delegate)",
        &eve,
        &c,
        &consent::grant(&c, &dave_id, &to_charlie),
    )
    .await?;
    b.call(
        "revoke (by a delegate)",
        &eve,
        &c,
        &consent::revoke(&c, &dave_id, &charlie_id),
    )
    .await?;
    b.submit(
        "grant (insurer)",
        &dave,
        &c,
        &consent::grant(&c, &dave_id, &to_charlie),
    )
    .await?;
    b.call(
        "break_glass",
        &bob,
        &c,
        &consent::break_glass(&c, &dave_id, EmergencyReason::LifeThreatening, [3; 32]),
    )
    .await?;
    b.call(
        "end_emergency (by a delegate)",
        &eve,
        &c,
        &consent::end_emergency(&c, &dave_id, &bob_id),
    )
    .await?;
    b.submit(
        "break_glass (again)",
        &bob,
        &c,
        &consent::break_glass(&c, &dave_id, EmergencyReason::Other, [4; 32]),
    )
    .await?;
    b.call(
        "end_emergency",
        &dave,
        &c,
        &consent::end_emergency(&c, &dave_id, &bob_id),
    )
    .await?;
    b.call(
        "set_emergency_block",
        &dave,
        &c,
        &consent::set_emergency_block(&c, &dave_id, &bob_id, true),
    )
    .await?;
    b.call(
        "set_emergency_block (by a delegate)",
        &eve,
        &c,
        &consent::set_emergency_block(&c, &dave_id, &bob_id, false),
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
    b.call(
        "attest_claim (another version of a claimed record)",
        &charlie,
        &r,
        &records::attest_claim(&r, [32; 32], &dave_id, &[(bob_id, [13; 32])]),
    )
    .await?;
    let lab_report = records::NamedRecord {
        custodian: bob_id,
        record_id: [12; 32],
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

    // Last: upgrades (to the same code: the migration step is a no-op), each announced,
    // one withdrawn and announced again, and revoke.
    let consent_code = load_bundle(&dir.join(CONSENT_BUNDLE))?.code_hash;
    let records_code = load_bundle(&dir.join(RECORDS_BUNDLE))?.code_hash;
    b.call(
        "announce_upgrade (ConsentRegistry)",
        &alice,
        &c,
        &consent::announce_upgrade(&c, consent_code),
    )
    .await?;
    b.call(
        "cancel_upgrade (ConsentRegistry)",
        &alice,
        &c,
        &consent::cancel_upgrade(&c),
    )
    .await?;
    b.submit(
        "announce_upgrade (ConsentRegistry, again)",
        &alice,
        &c,
        &consent::announce_upgrade(&c, consent_code),
    )
    .await?;
    b.call(
        "announce_upgrade (RecordRegistry)",
        &alice,
        &r,
        &records::announce_upgrade(&r, records_code),
    )
    .await?;
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
    b.call("revoke", &dave, &c, &consent::revoke(&c, &dave_id, &bob_id))
        .await?;

    Ok(Walked {
        node,
        chain: b.chain,
        deployment,
        steps: b.steps,
    })
}
