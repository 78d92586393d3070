//! The API's `authorization` agrees with the contract's own `is_authorized` over a randomized
//! history on a real node: grants of random scope and validity (some by a delegate),
//! revocations, delegations set and removed, suspensions and reinstatements, emergency windows
//! opened, ended, run out and blocked. After each change the contract is asked at that block
//! and the API at that block; at the end the API is asked again about every earlier block,
//! now that later history exists. The seed is printed; `MEDLEDGER_TEST_SEED=<n>` replays it.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use medledger_client::{
    AccountId32, CallError, Keypair, Message, account_of, consent, signer_from_suri,
};
use medledger_e2e::{TestSystem, patient, provider, registrar, spawn_system};
use medledger_events::{
    Access, DataCategory, EmergencyReason, FLAG_EMERGENCY, Policy, Purpose, Role,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const STEPS: usize = 30;
const QUESTIONS_PER_GRANTEE: usize = 4;

/// A change to the patient's standing towards a grantee.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// `lasting`: valid from the start, without end; otherwise a random validity around now.
    Grant {
        lasting: bool,
    },
    GrantByDelegate,
    Revoke,
    SetDelegate,
    RemoveDelegate,
    Suspend,
    Reinstate,
    BreakGlass,
    EndWindow,
    BlockWindows(bool),
}

/// A random one of `all` that `keep` holds for (there is one: a grant's sets are non-empty).
fn pick<T: Copy>(rng: &mut StdRng, all: &[T], keep: impl Fn(T) -> bool) -> T {
    let kept: Vec<T> = all.iter().copied().filter(|&x| keep(x)).collect();
    kept[rng.random_range(0..kept.len())]
}

/// One question asked at one block, and the contract's answer.
struct Asked {
    block: u64,
    grantee: AccountId32,
    category: DataCategory,
    purpose: Purpose,
    access: Access,
    contract: bool,
}

fn graphql_name<T: std::fmt::Debug>(v: T) -> String {
    // LabResults -> LAB_RESULTS
    let mut out = String::new();
    for (i, c) in format!("{v:?}").chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

async fn api_answer(
    system: &TestSystem,
    patient: &AccountId32,
    q: &Asked,
) -> Result<(bool, String)> {
    let data = system
        .query(&format!(
            r#"{{ authorization(patient: "{}", grantee: "{}", category: {}, purpose: {},
                  access: {}, atBlock: {}) {{ allowed reason }} }}"#,
            medledger_store::AccountId(patient.0),
            medledger_store::AccountId(q.grantee.0),
            graphql_name(q.category),
            graphql_name(q.purpose),
            graphql_name(q.access),
            q.block
        ))
        .await?;
    let a = &data["authorization"];
    Ok((
        a["allowed"].as_bool().context("allowed")?,
        a["reason"].as_str().unwrap_or("").to_string(),
    ))
}

/// The time of the last block, as the mirror knows it, once it has indexed `block`.
async fn block_time(system: &TestSystem, block: u64) -> Result<u64> {
    let data = system
        .wait_for(
            "{ indexerStatus { indexedBlock indexedTime } }",
            Duration::from_secs(30),
            |d| d["indexerStatus"]["indexedBlock"].as_u64() >= Some(block),
        )
        .await?;
    let time = data["indexerStatus"]["indexedTime"]
        .as_str()
        .context("indexedTime")?;
    let t = chrono_millis(time)?;
    Ok(t)
}

fn chrono_millis(rfc3339: &str) -> Result<u64> {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339)?;
    Ok(u64::try_from(t.timestamp_millis())?)
}

/// Submits `message` signed by `signer`; `None` when the contract refuses it (the random
/// history asked for something the rules forbid, e.g. a second window while one is open),
/// in the dry run or, when time moved on between the dry run and the block (a window ran
/// out before the patient's end reached the chain), in the block.
async fn submit(
    system: &TestSystem,
    signer: &Keypair,
    message: &Message<Result<(), medledger_consent::consent_registry::Error>>,
) -> Result<Result<u64, String>> {
    match system
        .chain
        .submit(signer, &system.consent_registry, message)
        .await
    {
        Ok(outcome) => Ok(Ok(outcome.block_number)),
        Err(CallError::Rejected { error, .. }) => Ok(Err(error)),
        Err(CallError::Dispatch(e)) if e.contains("ContractReverted") => Ok(Err(e)),
        Err(e) => Err(e.into()),
    }
}

#[tokio::test]
async fn the_apis_authorization_agrees_with_the_contracts_is_authorized_over_a_random_history()
-> Result<()> {
    let seed = match std::env::var("MEDLEDGER_TEST_SEED") {
        Ok(s) => s.parse().context("MEDLEDGER_TEST_SEED is not a number")?,
        Err(_) => rand::rng().random(),
    };
    eprintln!("seed: {seed} (MEDLEDGER_TEST_SEED={seed} replays this history)");
    let mut rng = StdRng::seed_from_u64(seed);

    // given: //Bob a provider (registered by spawn_system), //Eve a provider who may break
    // glass, //Charlie an insurer, //Ferdie //Dave's delegate-to-be and no organization;
    // windows last 4 s with no cool-down, so they open, end and run out within the test
    let system = spawn_system().await?;
    let registry = system.consent_registry;
    let (alice, dave) = (registrar()?, patient()?);
    let (bob, charlie, eve, ferdie) = (
        account_of(&provider()?),
        account_of(&signer_from_suri("//Charlie")?),
        signer_from_suri("//Eve")?,
        signer_from_suri("//Ferdie")?,
    );
    let (eve_id, ferdie_id, dave_id) = (account_of(&eve), account_of(&ferdie), account_of(&dave));
    for (org, role, flags) in [
        (charlie, Role::Insurer, 0),
        (eve_id, Role::Provider, FLAG_EMERGENCY),
    ] {
        submit(
            &system,
            &alice,
            &consent::register_org(
                &registry,
                &org,
                role,
                flags,
                medledger_e2e::walk::profile(
                    "Test Organization",
                    medledger_events::OrgKind::Clinic,
                ),
            ),
        )
        .await?
        .map_err(anyhow::Error::msg)
        .context("registering")?;
    }
    let policy = Policy {
        emergency_window_ms: 4_000,
        emergency_cooldown_ms: 0,
        max_delegation_ms: 3_600_000,
    };
    let mut last = submit(&system, &alice, &consent::set_policy(&registry, policy))
        .await?
        .map_err(anyhow::Error::msg)
        .context("setting the policy")?;
    let grantees = [bob, charlie, eve_id, ferdie_id];
    let mut asked: Vec<Asked> = Vec::new();
    let mut kinds_done = std::collections::BTreeMap::<String, usize>::new();
    // The last scope granted to each grantee, to ask about what a grant covers.
    let mut scopes = std::collections::BTreeMap::<[u8; 32], (u16, u8, u8)>::new();

    // Every kind of change first, in an order where each takes effect (so that every path
    // of the rule is crossed whatever the seed), then random ones.
    let prologue = [
        (Step::Grant { lasting: true }, bob),
        (Step::SetDelegate, ferdie_id),
        (Step::GrantByDelegate, eve_id),
        // the delegate's grant lapses, and stays lapsed under a new delegation
        (Step::RemoveDelegate, ferdie_id),
        (Step::SetDelegate, ferdie_id),
        (Step::Suspend, bob),
        (Step::Reinstate, bob),
        (Step::BreakGlass, eve_id),
        (Step::EndWindow, eve_id),
        (Step::BreakGlass, eve_id),
        (Step::BlockWindows(true), eve_id),
        (Step::BlockWindows(false), eve_id),
        (Step::Revoke, bob),
    ];
    let random = (0..STEPS).map(|_| {
        let grantee = grantees[rng.random_range(0..grantees.len())];
        let step = match rng.random_range(0..12) {
            0..=3 => Step::Grant {
                lasting: rng.random_bool(0.4),
            },
            4 => Step::GrantByDelegate,
            5 => Step::Revoke,
            6 => Step::SetDelegate,
            7 => Step::RemoveDelegate,
            8 => Step::Suspend,
            9 => Step::Reinstate,
            10 => Step::BreakGlass,
            _ => {
                if rng.random_bool(0.6) {
                    Step::EndWindow
                } else {
                    Step::BlockWindows(rng.random_bool(0.5))
                }
            }
        };
        (step, grantee)
    });
    let scripted = prologue.len();
    let steps: Vec<(Step, AccountId32)> = prologue.into_iter().chain(random).collect();

    // When //Ferdie's delegation ends, as last set (a delegate's grant may not outlive it).
    let mut delegation_until: Option<u64> = None;
    for (n, (step, grantee)) in steps.into_iter().enumerate() {
        let now = block_time(&system, last).await?;
        let mut grant = |lasting: bool| consent::GrantArgs {
            grantee,
            categories: rng.random_range(1..(1u16 << DataCategory::ALL.len())),
            purposes: rng.random_range(1..(1u8 << Purpose::ALL.len())),
            access: rng.random_range(1..4),
            // from a few seconds ago to a few seconds ahead; some end within seconds
            valid_from: if lasting {
                0
            } else {
                now.saturating_sub(3_000) + rng.random_range(0..6_000)
            },
            expires_at: (!lasting && rng.random_bool(0.5))
                .then(|| now + rng.random_range(4_000..12_000)),
            terms_hash: [7; 32],
        };
        let (signer, message, scope) = match step {
            Step::Grant { lasting } => {
                let g = grant(lasting);
                (&dave, consent::grant(&registry, &dave_id, &g), Some(g))
            }
            Step::GrantByDelegate => {
                let mut g = grant(true);
                g.expires_at = delegation_until;
                (&ferdie, consent::grant(&registry, &dave_id, &g), Some(g))
            }
            Step::Revoke => (&dave, consent::revoke(&registry, &dave_id, &grantee), None),
            Step::SetDelegate => {
                let until = now + rng.random_range(20_000..60_000);
                delegation_until = Some(until);
                (
                    &dave,
                    consent::set_delegate(&registry, &ferdie_id, until),
                    None,
                )
            }
            Step::RemoveDelegate => (&dave, consent::remove_delegate(&registry, &ferdie_id), None),
            Step::Suspend => (&alice, consent::suspend_org(&registry, &grantee), None),
            Step::Reinstate => (&alice, consent::reinstate_org(&registry, &grantee), None),
            Step::BreakGlass => {
                let reason = EmergencyReason::PatientIncapacitated;
                (
                    &eve,
                    consent::break_glass(&registry, &dave_id, reason, [9; 32]),
                    None,
                )
            }
            Step::EndWindow => (
                &dave,
                consent::end_emergency(&registry, &dave_id, &eve_id),
                None,
            ),
            Step::BlockWindows(blocked) => (
                &dave,
                consent::set_emergency_block(&registry, &dave_id, &eve_id, blocked),
                None,
            ),
        };
        let block = match submit(&system, signer, &message).await? {
            Ok(block) => block,
            Err(refused) if n < scripted => bail!("scripted step {step:?} refused: {refused}"),
            Err(_) => continue,
        };
        if let Some(g) = scope {
            scopes.insert(g.grantee.0, (g.categories, g.purposes, g.access));
        }
        *kinds_done.entry(format!("{step:?}")).or_default() += 1;
        last = block;
        block_time(&system, block).await?;
        // then: the contract at this block and the API at this block agree
        for g in grantees {
            for i in 0..QUESTIONS_PER_GRANTEE {
                let (category, purpose, access) = match (i, scopes.get(&g.0)) {
                    // what an emergency window covers
                    (0, _) => (DataCategory::LabResults, Purpose::Treatment, Access::Read),
                    // something the last grant covers
                    (1, Some(&(c, p, a))) => (
                        pick(&mut rng, &DataCategory::ALL, |x| c & x.bit() != 0),
                        pick(&mut rng, &Purpose::ALL, |x| p & x.bit() != 0),
                        pick(&mut rng, &[Access::Read, Access::Write], |x| {
                            a & x.bit() != 0
                        }),
                    ),
                    _ => (
                        DataCategory::ALL[rng.random_range(0..DataCategory::ALL.len())],
                        Purpose::ALL[rng.random_range(0..Purpose::ALL.len())],
                        if rng.random_bool(0.5) {
                            Access::Read
                        } else {
                            Access::Write
                        },
                    ),
                };
                let check =
                    consent::is_authorized(&registry, &dave_id, &g, category, purpose, access);
                let contract = system.chain.query(&dave_id, &registry, &check).await?;
                let q = Asked {
                    block,
                    grantee: g,
                    category,
                    purpose,
                    access,
                    contract,
                };
                let (api, reason) = api_answer(&system, &dave_id, &q).await?;
                if api != contract {
                    bail!(
                        "seed {seed}, after {step:?} in block {block}: the contract says \
                         {contract}, the API {api} ({reason}) for {g} {category:?} {purpose:?} \
                         {access:?}"
                    );
                }
                asked.push(q);
            }
        }
    }

    // then: asked again later, about every block, the API still gives the contract's answer
    for q in &asked {
        let (api, reason) = api_answer(&system, &dave_id, q).await?;
        if api != q.contract {
            bail!(
                "seed {seed}, asked again about block {}: the contract said {}, the API now \
                 says {api} ({reason})",
                q.block,
                q.contract
            );
        }
    }
    let allowed = asked.iter().filter(|q| q.contract).count();
    eprintln!(
        "{} questions over {} changes {kinds_done:?}; {allowed} allowed",
        asked.len(),
        kinds_done.values().sum::<usize>()
    );
    assert!(
        allowed > 0 && allowed < asked.len(),
        "a history that allows everything or nothing proves little"
    );
    system.shutdown().await;
    Ok(())
}
