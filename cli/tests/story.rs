//! The whole story, as people and scripts live it: `medledger` processes against a real dev
//! node with the contracts deployed, the indexer and the GraphQL API (the README's
//! walk-through). And the ways a command can fail on a live chain, each one clear line.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use medledger_e2e::{TestSystem, spawn_system};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_medledger");
/// //Ferdie's wallet export (tests/fixtures/README.md): the patient signs with it.
const KEY_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/ferdie.wallet.json"
);
const KEY_PASSWORD: &str = "correct horse battery staple";
/// The registrar registers the clinic (charlie) as a provider that may break glass.
const REGISTER_CLINIC: &[&str] = &[
    "org",
    "register",
    "--suri",
    "alice",
    "--account",
    "charlie",
    "--role",
    "provider",
    "--emergency",
];
const FERDIE: &str = "5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL";
const CHARLIE: &str = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y";
const EVE: &str = "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw";

/// Runs `medledger` in one folder against one deployment.
struct Shell {
    dir: PathBuf,
    deployment: PathBuf,
}

impl Shell {
    fn new(system: &TestSystem, dir: &Path) -> Result<Shell> {
        let deployment = dir.join("deployment.json");
        std::fs::write(&deployment, serde_json::to_string(&system.deployment)?)?;
        Ok(Shell {
            dir: dir.to_path_buf(),
            deployment,
        })
    }

    async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Result<Output> {
        let mut command = tokio::process::Command::new(BIN);
        command
            .args(args)
            .current_dir(&self.dir)
            .env("MEDLEDGER_DEPLOYMENT", &self.deployment)
            .env_remove("MEDLEDGER_SURI")
            .env_remove("MEDLEDGER_KEY_FILE")
            .env_remove("MEDLEDGER_KEY_PASSWORD")
            .env_remove("MEDLEDGER_API")
            .env("RUST_LOG", "off");
        for (k, v) in env {
            command.env(k, v);
        }
        Ok(command.output().await?)
    }

    /// Runs a command that must succeed; returns its stdout.
    async fn ok(&self, args: &[&str]) -> Result<String> {
        self.ok_with(args, &[]).await
    }

    async fn ok_with(&self, args: &[&str], env: &[(&str, &str)]) -> Result<String> {
        let out = self.run(args, env).await?;
        if !out.status.success() {
            bail!(
                "`medledger {}` failed ({}): {}{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Signed by the patient, with the wallet export and its password from the environment.
    async fn as_patient(&self, args: &[&str]) -> Result<String> {
        let mut all = args.to_vec();
        all.extend(["--key-file", KEY_FILE]);
        self.ok_with(&all, &[("MEDLEDGER_KEY_PASSWORD", KEY_PASSWORD)])
            .await
    }

    /// A command that must exit with `code` (stdout holds the verdict); returns stdout.
    async fn verdict(&self, args: &[&str], code: i32) -> Result<String> {
        let out = self.run(args, &[]).await?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.code() != Some(code) {
            bail!(
                "`medledger {}` exited {} instead of {code}: {stdout}{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(stdout)
    }

    /// A command that must fail with `code` and one line on stderr containing `needle`.
    async fn fails(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        code: i32,
        needle: &str,
    ) -> Result<()> {
        let out = self.run(args, env).await?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        let line = stderr.trim_end();
        if out.status.code() != Some(code)
            || line.lines().count() != 1
            || !line.starts_with("error: ")
            || !line.contains(needle)
        {
            bail!(
                "`medledger {}`: expected exit {code} and one line with {needle:?}; got {} and {stderr:?}",
                args.join(" "),
                out.status
            );
        }
        Ok(())
    }

    fn write(&self, name: &str, text: &str) -> Result<()> {
        Ok(std::fs::write(self.dir.join(name), text)?)
    }
}

fn has(stdout: &str, needle: &str) -> Result<()> {
    if !stdout.contains(needle) {
        bail!("{needle:?} not in: {stdout}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_story_from_registration_to_a_denied_access() -> Result<()> {
    let system = spawn_system().await?;
    let dir = tempfile::tempdir()?;
    let sh = Shell::new(&system, dir.path())?;
    let api = system.graphql_url.clone();

    // The registrar registers a clinic that may break glass, and an insurer.
    let out = sh.ok(REGISTER_CLINIC).await?;
    has(
        &out,
        &format!("registered {CHARLIE} as Provider (emergency access)"),
    )?;
    sh.ok(&[
        "org",
        "register",
        "--suri",
        "//Alice",
        "--account",
        EVE,
        "--role",
        "insurer",
    ])
    .await?;

    // The patient (signing with a wallet export) lets the clinic write lab results for
    // treatment, and the insurer read them for payment.
    let out = sh
        .as_patient(&[
            "consent",
            "grant",
            "--grantee",
            "charlie",
            "--categories",
            "lab-results",
            "--purposes",
            "treatment",
            "--access",
            "read,write",
        ])
        .await?;
    has(&out, &format!("granted consent v1 to {CHARLIE}"))?;
    sh.as_patient(&[
        "consent",
        "grant",
        "--grantee",
        "eve",
        "--categories",
        "lab-results",
        "--purposes",
        "payment",
        "--access",
        "read",
    ])
    .await?;

    // The clinic anchors a lab report, then amends it.
    sh.write("lab-v1.txt", "Ferdie, HbA1c 5.4 %, 2026-11-30")?;
    sh.write(
        "lab-v2.txt",
        "Ferdie, HbA1c 5.4 %, 2026-11-30; fasting glucose 5.1 mmol/l",
    )?;
    let out = sh
        .ok(&[
            "--json",
            "record",
            "anchor",
            "--suri",
            "charlie",
            "--patient",
            FERDIE,
            "--category",
            "lab-results",
            "lab-v1.txt",
        ])
        .await?;
    let anchored: Value = serde_json::from_str(&out).context("--json prints one object")?;
    assert_eq!(anchored["version"], 1);
    let record_id = anchored["record_id"]
        .as_str()
        .context("a record id")?
        .to_string();
    let receipt: medledger_proofs::Receipt = serde_json::from_slice(&std::fs::read(
        dir.path().join("lab-v1.txt.medledger.json"),
    )?)?;
    assert_eq!(receipt.category, "LabResults");
    assert!(
        receipt.anchored.is_some(),
        "the receipt says where it landed"
    );
    let out = sh
        .ok(&[
            "record",
            "amend",
            "--suri",
            "charlie",
            &record_id,
            "lab-v2.txt",
            "--previous",
            "lab-v1.txt.medledger.json",
            "--reason",
            "addendum",
        ])
        .await?;
    has(&out, "as version 2 of record")?;

    // The insurer verifies both files on the chain: the amended one is current, the old one
    // superseded, and a changed copy matches nothing.
    let out = sh.verdict(&["verify", "lab-v2.txt"], 0).await?;
    has(
        &out,
        &format!(
            "MATCH: lab-v2.txt is version 2 of record {record_id} of patient {FERDIE}, anchored by {CHARLIE}"
        ),
    )?;
    has(&out, ": CURRENT")?;
    has(&out, "category: LabResults (the receipt opens")?;
    let out = sh.verdict(&["verify", "lab-v1.txt"], 6).await?;
    has(&out, "is version 1 of record")?;
    has(&out, "SUPERSEDED by 0x")?;
    sh.write(
        "forged.txt",
        "Ferdie, HbA1c 4.4 %, 2026-11-30; fasting glucose 5.1 mmol/l",
    )?;
    let out = sh
        .verdict(
            &[
                "verify",
                "forged.txt",
                "--receipt",
                "lab-v2.txt.medledger.json",
            ],
            5,
        )
        .await?;
    has(&out, "NO MATCH")?;

    // The insurer attests a claim on the report; a second claim reusing it is signalled.
    let out = sh
        .ok(&[
            "claim",
            "attest",
            "--suri",
            "eve",
            "--claim-ref",
            "CLM-2026-0042",
            "--patient",
            FERDIE,
            "lab-v2.txt",
        ])
        .await?;
    has(&out, "on 1 document(s), all current")?;
    assert!(!out.contains("DUPLICATE"), "{out}");
    let out = sh
        .ok(&[
            "claim",
            "attest",
            "--suri",
            "eve",
            "--claim-ref",
            "CLM-2026-0043",
            "--patient",
            FERDIE,
            "lab-v2.txt",
        ])
        .await?;
    let first_ref = medledger_proofs::claim_reference("CLM-2026-0042");
    has(
        &out,
        &format!(
            "DUPLICATE USE: document 0x{} was already used by claim 0x{} of insurer {EVE}",
            hex::encode(receipt_of(dir.path(), "lab-v2.txt")?.commitment),
            hex::encode(first_ref)
        ),
    )?;

    // The clinic breaks glass; the patient ends the window at once.
    let out = sh
        .ok(&[
            "emergency",
            "open",
            "--suri",
            "charlie",
            "--patient",
            FERDIE,
            "--reason",
            "life-threatening",
        ])
        .await?;
    has(&out, "the patient is alerted")?;
    sh.as_patient(&["emergency", "end", "--provider", "charlie"])
        .await?;

    // The patient revokes the insurer, whose next access is logged as denied (exit 3).
    sh.as_patient(&["consent", "revoke", "--grantee", EVE])
        .await?;
    let out = sh
        .verdict(
            &[
                "access",
                "record",
                "--suri",
                "eve",
                "--patient",
                FERDIE,
                "--categories",
                "lab-results",
                "--purpose",
                "payment",
            ],
            3,
        )
        .await?;
    has(&out, "logged as DENIED")?;

    // A folder anchored in one transaction: each file proves itself with its bundle.
    std::fs::create_dir(dir.path().join("scans"))?;
    for (name, text) in [
        ("a.txt", "scan A"),
        ("b.txt", "scan B"),
        ("c.txt", "scan C"),
    ] {
        sh.write(&format!("scans/{name}"), text)?;
    }
    let out = sh
        .ok(&["batch", "anchor", "--suri", "charlie", "scans"])
        .await?;
    has(&out, "anchored 3 documents of scans under root 0x")?;
    let out = sh.verdict(&["verify", "scans/b.txt"], 0).await?;
    has(
        &out,
        &format!("MATCH: scans/b.txt is one of the 3 documents anchored by {CHARLIE}"),
    )?;
    sh.write("scans/c-copy.txt", "scan C, edited")?;
    sh.verdict(
        &[
            "verify",
            "scans/c-copy.txt",
            "--bundle",
            "scans/c.txt.medledger-proof.json",
        ],
        5,
    )
    .await?;

    // Everything is in the mirror: the same verdicts from the API, all claims listed...
    let audit =
        format!(r#"{{ auditTrail(patient: "{FERDIE}", first: 100) {{ nodes {{ kind }} }} }}"#);
    let want = [
        "ConsentGranted",
        "RecordAnchored",
        "RecordAmended",
        "ClaimAttested",
        "DuplicateClaimUse",
        "EmergencyAccessOpened",
        "EmergencyAccessEnded",
        "ConsentRevoked",
        "AccessDenied",
    ];
    let trail = system
        .wait_for(&audit, Duration::from_secs(30), |d| {
            let kinds = kinds(d);
            want.iter().all(|k| kinds.contains(&k.to_string()))
        })
        .await?;
    let kinds = kinds(&trail);
    // in chain order, as told above
    let first = |k: &str| kinds.iter().position(|x| x == k);
    assert!(first("RecordAnchored") < first("RecordAmended"));
    assert!(first("ClaimAttested") < first("DuplicateClaimUse"));
    assert!(first("EmergencyAccessEnded") < first("ConsentRevoked"));
    assert!(first("ConsentRevoked") < first("AccessDenied"), "{kinds:?}");

    let out = sh
        .verdict(&["verify", "lab-v2.txt", "--api", &api], 0)
        .await?;
    has(&out, ": CURRENT")?;
    has(
        &out,
        &format!("claim: 0x{} of insurer {EVE}", hex::encode(first_ref)),
    )?;
    has(
        &out,
        &format!(
            "claim: 0x{} of insurer {EVE}",
            hex::encode(medledger_proofs::claim_reference("CLM-2026-0043"))
        ),
    )?;
    has(&out, &format!("(from the API at {api})"))?;
    sh.verdict(&["verify", "lab-v1.txt", "--api", &api], 6)
        .await?;
    let out = sh
        .verdict(&["verify", "scans/a.txt", "--api", &api], 0)
        .await?;
    has(&out, "is one of the 3 documents anchored by")?;
    // ...the patient's consents with their status, the duplicate use and the denied access.
    let out = sh
        .ok(&["consent", "list", "--api", &api, "--patient", FERDIE])
        .await?;
    has(&out, &format!("ACTIVE {CHARLIE} v1: LabResults"))?;
    has(&out, &format!("REVOKED {EVE}"))?;
    let dupes = system
        .query(&format!(
            r#"{{ duplicateClaimUses(patient: "{FERDIE}") {{ totalCount }} accessLog(patient: "{FERDIE}", outcome: DENIED) {{ nodes {{ accessor }} }} }}"#
        ))
        .await?;
    assert_eq!(dupes["duplicateClaimUses"]["totalCount"], 1);
    assert_eq!(dupes["accessLog"]["nodes"][0]["accessor"], EVE);
    system.shutdown().await;
    Ok(())
}

fn kinds(data: &Value) -> Vec<String> {
    data["auditTrail"]["nodes"]
        .as_array()
        .map(|n| {
            n.iter()
                .filter_map(|a| a["kind"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn receipt_of(dir: &Path, file: &str) -> Result<medledger_proofs::Receipt> {
    Ok(serde_json::from_slice(&std::fs::read(
        dir.join(format!("{file}.medledger.json")),
    )?)?)
}

/// What goes wrong on a live chain: each refusal one line, a non-zero status, nothing left
/// half-done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_on_a_live_chain_are_one_clear_line_and_leave_nothing_behind() -> Result<()> {
    let system = spawn_system().await?;
    let dir = tempfile::tempdir()?;
    let sh = Shell::new(&system, dir.path())?;

    // Contract errors, in words with their name; exit 3.
    sh.fails(
        &[
            "org",
            "register",
            "--suri",
            "bob",
            "--account",
            "eve",
            "--role",
            "insurer",
        ],
        &[],
        3,
        "the contract refused: only the registrar may do this (NotRegistrar)",
    )
    .await?;
    sh.fails(
        &["consent", "revoke", "--suri", "dave", "--grantee", "bob"],
        &[],
        3,
        "(NoActiveConsent)",
    )
    .await?;
    sh.fails(
        &["registrar", "accept", "--suri", "bob"],
        &[],
        3,
        "no registrar handover was proposed to this account (NotProposedRegistrar)",
    )
    .await?;
    // Bob is a provider without the patient's consent: the anchoring is refused, and the
    // receipt written before sending is gone again.
    sh.write("lab.txt", "HbA1c 5.4 %")?;
    sh.fails(
        &[
            "record",
            "anchor",
            "--suri",
            "bob",
            "--patient",
            "dave",
            "--category",
            "lab-results",
            "lab.txt",
        ],
        &[],
        3,
        "(NotAuthorized)",
    )
    .await?;
    assert!(
        !dir.path().join("lab.txt.medledger.json").exists(),
        "a refused anchoring leaves no receipt"
    );
    sh.fails(
        &[
            "emergency",
            "open",
            "--suri",
            "bob",
            "--patient",
            "dave",
            "--reason",
            "other",
        ],
        &[],
        3,
        "(NotEmergencyProvider)",
    )
    .await?;

    // An account with no funds cannot pay: one line naming the account.
    let broke = medledger_client::account_of(&medledger_client::signer_from_suri("//NoFunds")?);
    sh.fails(
        &[
            "consent",
            "grant",
            "--grantee",
            "bob",
            "--categories",
            "imaging",
        ],
        &[("MEDLEDGER_SURI", "//NoFunds")],
        3,
        &format!("the signer {broke} cannot pay"),
    )
    .await?;

    // A transaction that is not finalized in time: a clear line, exit 4, and the receipt is
    // kept (the anchoring may still land, and its salt must not be lost).
    sh.ok(&[
        "consent",
        "grant",
        "--suri",
        "dave",
        "--grantee",
        "bob",
        "--categories",
        "lab-results",
        "--access",
        "write",
    ])
    .await?;
    sh.fails(
        &[
            "record",
            "anchor",
            "--suri",
            "bob",
            "--patient",
            "dave",
            "--category",
            "lab-results",
            "--finality-timeout",
            "50ms",
            "lab.txt",
        ],
        &[],
        4,
        "the transaction was sent but not finalized within 50ms; it may still land",
    )
    .await?;
    let kept: medledger_proofs::Receipt =
        serde_json::from_slice(&std::fs::read(dir.path().join("lab.txt.medledger.json"))?)?;
    assert!(kept.anchored.is_none(), "kept as pending");
    // ...and it did land: verify finds it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let out = sh.verdict(&["verify", "lab.txt"], 0).await?;
    has(&out, "is version 1 of record")?;

    // A receipt of another deployment is refused, not misread.
    let mut other = kept.clone();
    other.chain = [0xee; 32];
    std::fs::write(
        dir.path().join("other.json"),
        serde_json::to_string(&other)?,
    )?;
    sh.fails(
        &["verify", "lab.txt", "--receipt", "other.json"],
        &[],
        1,
        "the receipt is for the RecordRegistry",
    )
    .await?;
    sh.fails(
        &[
            "verify",
            "lab.txt",
            "--receipt",
            "other.json",
            "--api",
            &system.graphql_url,
        ],
        &[],
        1,
        "the receipt is for the RecordRegistry",
    )
    .await?;
    system.shutdown().await;
    Ok(())
}

/// The commands the story does not need: delegates, emergency blocks, suspension and the
/// registrar handover, each checked by what the chain does next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_other_command_changes_the_chain_as_it_says() -> Result<()> {
    let system = spawn_system().await?;
    let dir = tempfile::tempdir()?;
    let sh = Shell::new(&system, dir.path())?;
    let in_hours = |h: i64| {
        (chrono::Utc::now() + chrono::Duration::hours(h))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let check = [
        "consent",
        "check",
        "--patient",
        "dave",
        "--grantee",
        "bob",
        "--category",
        "imaging",
    ];

    // A delegate grants for the patient; removing the delegate ends that grant.
    sh.ok(&[
        "delegate",
        "set",
        "--suri",
        "dave",
        "--delegate",
        "eve",
        "--expires-at",
        &in_hours(24),
    ])
    .await?;
    let out = sh
        .ok(&[
            "consent",
            "grant",
            "--suri",
            "eve",
            "--for",
            "dave",
            "--grantee",
            "bob",
            "--categories",
            "imaging",
            "--expires-at",
            &in_hours(12),
        ])
        .await?;
    has(
        &out,
        "granted consent v1 to 5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty",
    )?;
    assert_eq!(sh.ok(&check).await?.trim(), "authorized");
    sh.ok(&["delegate", "remove", "--suri", "dave", "--delegate", "eve"])
        .await?;
    assert_eq!(sh.ok(&check).await?.trim(), "not authorized");

    // A blocked provider cannot break glass; unblocked, it can.
    sh.ok(REGISTER_CLINIC).await?;
    sh.ok(&[
        "emergency",
        "block",
        "--suri",
        "dave",
        "--provider",
        "charlie",
    ])
    .await?;
    let open = [
        "emergency",
        "open",
        "--suri",
        "charlie",
        "--patient",
        "dave",
        "--reason",
        "patient-incapacitated",
    ];
    sh.fails(&open, &[], 3, "(EmergencyBlocked)").await?;
    sh.ok(&[
        "emergency",
        "block",
        "--suri",
        "dave",
        "--provider",
        "charlie",
        "--unblock",
    ])
    .await?;
    has(
        &sh.ok(&open).await?,
        "emergency access to 5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy open until",
    )?;

    // Suspended, a provider cannot anchor; reinstated, it can again.
    sh.ok(&[
        "consent",
        "grant",
        "--suri",
        "dave",
        "--grantee",
        "charlie",
        "--categories",
        "lab-results",
        "--access",
        "write",
    ])
    .await?;
    sh.ok(&["org", "suspend", "--suri", "alice", "--account", "charlie"])
        .await?;
    sh.write("a.txt", "A")?;
    let anchor = [
        "record",
        "anchor",
        "--suri",
        "charlie",
        "--patient",
        "dave",
        "--category",
        "lab-results",
        "a.txt",
    ];
    sh.fails(&anchor, &[], 3, "(OrgSuspended)").await?;
    sh.ok(&[
        "org",
        "reinstate",
        "--suri",
        "alice",
        "--account",
        "charlie",
    ])
    .await?;
    has(&sh.ok(&anchor).await?, "as version 1 of record")?;

    // The registrar role handed over in two steps: the old registrar can no longer register.
    sh.ok(&[
        "registrar",
        "propose",
        "--suri",
        "alice",
        "--account",
        "eve",
    ])
    .await?;
    has(
        &sh.ok(&["registrar", "accept", "--suri", "eve"]).await?,
        &format!("{EVE} is the registrar now"),
    )?;
    sh.fails(
        &[
            "org",
            "register",
            "--suri",
            "alice",
            "--account",
            "ferdie",
            "--role",
            "app",
        ],
        &[],
        3,
        "(NotRegistrar)",
    )
    .await?;
    sh.ok(&[
        "org",
        "register",
        "--suri",
        "eve",
        "--account",
        "ferdie",
        "--role",
        "app",
    ])
    .await?;
    system.shutdown().await;
    Ok(())
}
