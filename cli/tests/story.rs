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
    "--name",
    "Riverside Clinic",
    "--kind",
    "clinic",
    "--npi",
    "1234567893",
];
const FERDIE: &str = "5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL";
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
        "registered Riverside Clinic (5FLSig…S59Y) as Provider (emergency access)",
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
        "--name",
        "Acme Health Insurance",
        "--kind",
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
    has(&out, "granted consent v1 to Riverside Clinic (5FLSig…S59Y)")?;
    // The insurer is found by its name, once the mirror has it.
    system
        .wait_for(
            r#"{ organizations(name: "acme") { totalCount } }"#,
            Duration::from_secs(30),
            |d| d["organizations"]["totalCount"] == 1,
        )
        .await?;
    let out = sh
        .as_patient(&[
            "consent",
            "grant",
            "--grantee",
            "Acme Health Insurance",
            "--api",
            &api,
            "--categories",
            "lab-results",
            "--purposes",
            "payment",
            "--access",
            "read",
        ])
        .await?;
    has(
        &out,
        "granted consent v1 to Acme Health Insurance (5HGjWA…UMaw)",
    )?;

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
            "lab-v2.txt",
            "--previous",
            "lab-v1.txt.medledger.json",
            "--reason",
            "addendum",
        ])
        .await?;
    has(&out, "as version 2 of record")?;
    // The same report saved under another name is still the same document: the clinic
    // cannot anchor it a second time as if it were new (a claim could then use it twice).
    sh.write("lab-copy.txt", "Ferdie, HbA1c 5.4 %, 2026-11-30")?;
    sh.fails(
        &[
            "record",
            "anchor",
            "--suri",
            "charlie",
            "--patient",
            FERDIE,
            "--category",
            "lab-results",
            "lab-copy.txt",
        ],
        &[],
        3,
        &format!(
            "lab-copy.txt is already anchored by the signer, as version 1 of record {record_id}"
        ),
    )
    .await?;
    assert!(
        !dir.path().join("lab-copy.txt.medledger.json").exists(),
        "a refused anchoring leaves no receipt"
    );

    // The insurer verifies both files on the chain: the amended one is current, the old one
    // superseded, and a changed copy matches nothing.
    let out = sh.verdict(&["verify", "lab-v2.txt"], 0).await?;
    has(
        &out,
        &format!(
            "MATCH: lab-v2.txt is version 2 of record {record_id} of patient {FERDIE}, anchored by Riverside Clinic (5FLSig…S59Y)"
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
            "DUPLICATE USE: document 0x{} was already claimed by this insurer, in claim 0x{}",
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
        "MATCH: scans/b.txt is one of the 3 documents anchored by Riverside Clinic (5FLSig…S59Y)",
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
        &format!(
            "claim: 0x{} of insurer Acme Health Insurance (5HGjWA…UMaw)",
            hex::encode(first_ref)
        ),
    )?;
    has(
        &out,
        &format!(
            "claim: 0x{} of insurer Acme Health Insurance (5HGjWA…UMaw)",
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
    has(&out, "ACTIVE Riverside Clinic (5FLSig…S59Y) v1: LabResults")?;
    has(&out, "REVOKED Acme Health Insurance (5HGjWA…UMaw)")?;
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
            "--name",
            "Acme Health Insurance",
            "--kind",
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

    // Two commands of one signer at once (two delegations) take two nonces: both land.
    let expires = in_hours(24);
    let delegate = |who: &'static str| {
        [
            "delegate",
            "set",
            "--suri",
            "dave",
            "--delegate",
            who,
            "--expires-at",
            expires.as_str(),
        ]
    };
    let (eve, ferdie) = (delegate("eve"), delegate("ferdie"));
    let (first, second) = tokio::join!(sh.ok(&eve), sh.ok(&ferdie));
    first?;
    second?;
    sh.ok(&[
        "delegate",
        "remove",
        "--suri",
        "dave",
        "--delegate",
        "ferdie",
    ])
    .await?;

    // A delegate grants for the patient; removing the delegate ends that grant.
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
    has(&out, "granted consent v1 to Riverside Clinic (5FHneW…94ty)")?;
    assert!(sh.ok(&check).await?.starts_with("authorized:"));
    sh.ok(&["delegate", "remove", "--suri", "dave", "--delegate", "eve"])
        .await?;
    assert!(sh.ok(&check).await?.starts_with("not authorized:"));

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
    has(
        &sh.ok(&["org", "suspend", "--suri", "alice", "--account", "charlie"])
            .await?,
        "suspended Riverside Clinic (5FLSig…S59Y)",
    )?;
    has(
        &sh.ok(&["org", "show", "--account", "charlie"]).await?,
        "Riverside Clinic (5FLSig…S59Y): Provider that may break glass, SUSPENDED",
    )?;
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

    // The registrar renames the clinic; the chain shows the new name, kind and identifiers.
    has(
        &sh.ok(&[
            "org",
            "update",
            "--suri",
            "alice",
            "--account",
            "charlie",
            "--name",
            "Riverside Hospital",
            "--kind",
            "hospital",
            "--fhir-url",
            "https://fhir.riverside.example/Organization/7",
        ])
        .await?,
        "Riverside Clinic (5FLSig…S59Y) is now Riverside Hospital (5FLSig…S59Y)",
    )?;
    let shown = sh.ok(&["org", "show", "--account", "charlie"]).await?;
    has(&shown, "Riverside Hospital (5FLSig…S59Y): Provider")?;
    has(&shown, "kind: Hospital")?;
    has(
        &shown,
        "identifier: urn:ietf:rfc:3986 https://fhir.riverside.example/Organization/7",
    )?;
    // a name that cannot be registered is one line, and nothing is sent
    sh.fails(
        &[
            "org",
            "update",
            "--suri",
            "alice",
            "--account",
            "charlie",
            "--name",
            &"x".repeat(65),
            "--kind",
            "clinic",
        ],
        &[],
        1,
        "--name must be 1 to 64 bytes long",
    )
    .await?;

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
            "--name",
            "Ferdie's App",
            "--kind",
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
        "--name",
        "Ferdie's App",
        "--kind",
        "app",
    ])
    .await?;
    system.shutdown().await;
    Ok(())
}

/// A receipt written for an anchoring that a crash (here: an edited file), a finality
/// timeout or Ctrl-C left unfinished: `resume` finds out what landed and finishes it, sends
/// it again, or clears it; Ctrl-C itself says whether the transaction was sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_anchorings_are_told_and_finished_by_resume() -> Result<()> {
    let system = spawn_system().await?;
    let dir = tempfile::tempdir()?;
    let sh = Shell::new(&system, dir.path())?;
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
    let anchor = |file: &'static str, extra: &'static [&'static str]| {
        let mut args = vec![
            "record",
            "anchor",
            "--suri",
            "bob",
            "--patient",
            "dave",
            "--category",
            "lab-results",
        ];
        args.extend_from_slice(extra);
        args.push(file);
        args
    };

    // Sent, not finalized in time: the receipt is pending, and resume completes it.
    sh.write("a.txt", "HbA1c 5.4 %")?;
    sh.fails(
        &anchor("a.txt", &["--finality-timeout", "50ms"]),
        &[],
        4,
        "may still land",
    )
    .await?;
    assert!(receipt_of(dir.path(), "a.txt")?.anchored.is_none());
    // Anchoring it again is refused with what to do instead...
    sh.fails(&anchor("a.txt", &[]), &[], 1, "record resume a.txt")
        .await?;
    // ...which finishes it, once it landed (or by sending it again if it had not).
    let out = sh
        .ok(&["record", "resume", "--suri", "bob", "a.txt"])
        .await?;
    has(
        &out,
        "a.txt.medledger.json is complete (version 1 of record 0x",
    )?;
    let done = receipt_of(dir.path(), "a.txt")?;
    let at = done.anchored.context("completed")?;
    let hash = system.chain.block_hash(at.block_number).await?;
    assert_eq!(hash.0, at.block_hash, "the block the receipt names");
    sh.verdict(&["verify", "a.txt"], 0).await?;
    let out = sh
        .ok(&["record", "resume", "--suri", "bob", "a.txt"])
        .await?;
    has(&out, "is complete already")?;

    // A receipt written just before a crash, its anchoring never sent: resume sends it.
    sh.write("b.txt", "LDL 2.9 mmol/l")?;
    let mut never_sent = done.clone();
    never_sent.document = "b.txt".into();
    never_sent.salt = medledger_proofs::random_salt();
    never_sent.commitment = medledger_proofs::commitment(&never_sent.salt, b"LDL 2.9 mmol/l");
    never_sent.record_id = medledger_proofs::random_salt();
    never_sent.anchored = None;
    std::fs::write(
        dir.path().join("b.txt.medledger.json"),
        serde_json::to_string(&never_sent)?,
    )?;
    let out = sh
        .ok(&["record", "resume", "--suri", "bob", "b.txt"])
        .await?;
    has(&out, "the anchoring landed in block #")?;
    sh.verdict(&["verify", "b.txt"], 0).await?;
    // Only its custodian can send it again; --clear removes a receipt that never landed.
    let mut other = never_sent.clone();
    other.document = "c.txt".into();
    other.salt = medledger_proofs::random_salt();
    other.commitment = medledger_proofs::commitment(&other.salt, b"c");
    other.record_id = medledger_proofs::random_salt();
    sh.write("c.txt", "c")?;
    std::fs::write(
        dir.path().join("c.txt.medledger.json"),
        serde_json::to_string(&other)?,
    )?;
    sh.fails(
        &["record", "resume", "--suri", "dave", "c.txt"],
        &[],
        1,
        "only its custodian",
    )
    .await?;
    let out = sh
        .ok(&["record", "resume", "--suri", "dave", "--clear", "c.txt"])
        .await?;
    has(&out, "was removed")?;
    assert!(!dir.path().join("c.txt.medledger.json").exists());

    // A batch not finalized in time: resume writes its proofs.
    std::fs::create_dir(dir.path().join("scans"))?;
    sh.write("scans/x.txt", "scan X")?;
    sh.write("scans/y.txt", "scan Y")?;
    sh.fails(
        &[
            "batch",
            "anchor",
            "--suri",
            "bob",
            "--finality-timeout",
            "50ms",
            "scans",
        ],
        &[],
        4,
        "may still land",
    )
    .await?;
    assert!(!dir.path().join("scans/x.txt.medledger-proof.json").exists());
    let out = sh
        .ok(&["batch", "resume", "--suri", "bob", "scans"])
        .await?;
    has(&out, "a proof beside each of its 2 documents")?;
    sh.verdict(&["verify", "scans/y.txt"], 0).await?;

    // Ctrl-C while anchoring: the line says whether the transaction was sent, and what it
    // says is what happened.
    sh.write("d.txt", "TSH 1.9 mIU/l")?;
    let child = tokio::process::Command::new(BIN)
        .args(anchor("d.txt", &[]))
        .current_dir(dir.path())
        .env("MEDLEDGER_DEPLOYMENT", &sh.deployment)
        .env("RUST_LOG", "off")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let receipt = dir.path().join("d.txt.medledger.json");
    let started = std::time::Instant::now();
    while !receipt.exists() && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let pid = child.id().context("running")?.to_string();
    std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()?;
    let out = child.wait_with_output().await?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(0) {
        // It finished before the signal arrived: nothing to tell.
        sh.verdict(&["verify", "d.txt"], 0).await?;
    } else {
        assert_eq!(out.status.code(), Some(130), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        if stderr.contains("before anything was sent: nothing changed") {
            assert!(!receipt.exists(), "a receipt of nothing sent is removed");
            sh.fails(&["verify", "d.txt"], &[], 1, "no receipt or proof")
                .await?;
        } else {
            assert!(
                stderr
                    .contains("d.txt.medledger.json is kept; run `medledger record resume d.txt`"),
                "{stderr}"
            );
            sh.ok(&["record", "resume", "--suri", "bob", "d.txt"])
                .await?;
            sh.verdict(&["verify", "d.txt"], 0).await?;
        }
    }
    system.shutdown().await;
    Ok(())
}
