//! The patient's page in a real browser (grant, live use, revoke, emergency window ended and
//! provider blocked, a delegate, verify): `medledger dev` (node, contracts, indexer, API and
//! page), Debian's headless Chromium driven through chromedriver, and a test wallet injected
//! into `window.injectedWeb3` that signs with dev keys as an extension does. The page is
//! built by `cargo xtask web`; a failing run saves a screenshot and says where.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

mod common;

use common::{BIN, Running};

const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
const DAVE: &str = "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy";
const EVE: &str = "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw";
const SETUP: &str =
    "run `cargo xtask setup` (Debian's chromium and chromium-driver) and `cargo xtask web`";

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn web_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../web"))
}

/// chromedriver on a free port, and a headless Chromium session with a fresh profile.
async fn start_browser(profile: &Path) -> Result<(Running, Client)> {
    for binary in ["chromedriver", "chromium"] {
        if Command::new(binary).arg("--version").output().is_err() {
            bail!("{binary} is missing: {SETUP}");
        }
    }
    let port = free_port()?;
    let driver = Running(
        Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting chromedriver ({SETUP})"))?,
    );
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1200,1600",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let client = loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => break client,
            Err(e) if started.elapsed() > Duration::from_secs(20) => {
                bail!("chromedriver gave no browser session: {e} ({SETUP})")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    Ok((driver, client))
}

/// Waits until the text of `css` contains `needle`; returns that text.
async fn wait_text(c: &Client, css: &str, needle: &str) -> Result<String> {
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < Duration::from_secs(45) {
        if let Ok(element) = c.find(Locator::Css(css)).await {
            last = element.text().await.unwrap_or_default();
            if last.contains(needle) {
                return Ok(last);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let problem = match c.find(Locator::Id("problem")).await {
        Ok(p) => p.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    bail!("{css} never showed {needle:?}; it shows {last:?}; the page's problem line: {problem:?}")
}

/// Clicks `css`, finding it again when the page re-rendered it in between (live updates
/// rebuild the lists while the test works).
async fn click(c: &Client, css: &str) -> Result<()> {
    let mut tries = 0;
    loop {
        tries += 1;
        let element = c
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("no {css}"))?;
        match element.click().await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_stale_element_reference() && tries < 20 => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e).with_context(|| format!("clicking {css}")),
        }
    }
}

/// Confirms the signing dialog after checking it says what and how much.
async fn confirm(c: &Client, what: &str) -> Result<()> {
    wait_text(c, "#confirm-what", what).await?;
    wait_text(c, "#confirm-fee", "Fee: about").await?;
    click(c, "#confirm-sign").await
}

/// Runs `medledger` in `dir`, whatever its outcome.
fn cli_output(dir: &Path, args: &[&str]) -> Result<std::process::Output> {
    Ok(Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "off")
        .env_remove("MEDLEDGER_SURI")
        .output()?)
}

/// Runs `medledger` in `dir`; it must succeed. Returns its stdout.
fn cli(dir: &Path, args: &[&str]) -> Result<String> {
    let out = cli_output(dir, args)?;
    if !out.status.success() {
        bail!(
            "`medledger {}`: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Bob as the page names him.
const CLINIC: &str = "Riverside Clinic (5FHneW…94ty)";

/// Runs axe-core (from the page's npm packages) on what the page shows now: no serious or
/// critical accessibility violation.
async fn accessible(c: &Client, view: &str) -> Result<()> {
    let axe = std::fs::read_to_string(web_dir().join("node_modules/axe-core/axe.min.js"))
        .with_context(|| format!("axe-core is not installed: {SETUP}"))?;
    c.execute(&axe, vec![]).await?;
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] }).then((r) => done(
               r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
                 .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)),
               (e) => done([`axe failed: ${e}`]));",
            vec![],
        )
        .await?;
    match found.as_array() {
        Some(list) if list.is_empty() => Ok(()),
        _ => bail!("accessibility violations in the {view} view: {found}"),
    }
}

/// The page shows no raw ISO times (`2026-12-03T10:00:00Z`): people read their own format.
async fn no_raw_times(c: &Client, css: &str) -> Result<()> {
    let text = c.find(Locator::Css(css)).await?.text().await?;
    let raw = text.char_indices().any(|(i, ch)| {
        ch == 'T'
            && i >= 10
            && text.get(i - 3..i - 2) == Some("-")
            && text.get(i + 3..i + 4) == Some(":")
    });
    if raw {
        bail!("{css} shows a raw ISO time: {text}");
    }
    Ok(())
}

async fn shown(c: &Client, id: &str) -> Result<bool> {
    Ok(c.find(Locator::Id(id)).await?.is_displayed().await?)
}

async fn story(c: &Client, page: &str, dir: &Path) -> Result<()> {
    c.goto(page).await?;
    wait_ready(c).await?;

    // Before anything is connected, the page says what it is for and what a wallet does,
    // and shows nothing that cannot be used yet.
    wait_text(c, "#intro", "holds your key").await?;
    if shown(c, "signed-in").await? || shown(c, "account-label").await? {
        bail!("before a wallet is connected, the patient's views are shown");
    }
    accessible(c, "first").await?;

    // No wallet yet: the page says so, and how to get one.
    click(c, "#connect").await?;
    wait_text(c, "#no-wallet", "No wallet was found").await?;
    if shown(c, "signed-in").await? {
        bail!("without a wallet the patient's views are shown");
    }

    // The test wallet, injected as an extension injects itself.
    let wallet = std::fs::read_to_string(web_dir().join("dist-test/test-wallet.js"))
        .with_context(|| format!("the test wallet is not built: {SETUP}"))?;
    c.execute(&wallet, vec![]).await?;
    click(c, "#connect").await?;
    wait_text(c, "#account", "Dave (test)").await?;
    if shown(c, "no-wallet").await? {
        bail!("the no-wallet message stays after connecting");
    }
    wait_live(c).await?;
    wait_text(c, "#consents-note", "not allowed any organization yet").await?;

    // The clinic is found by its name, and granted lab results to see and add, for treatment.
    c.find(Locator::Id("grantee-search"))
        .await?
        .send_keys("river")
        .await?;
    wait_text(c, "#grantee", "Riverside Clinic — clinic (5FHneW…94ty)").await?;
    let picked = c
        .execute("return document.getElementById('grantee').value", vec![])
        .await?;
    if picked != json!(BOB) {
        bail!("searching \"river\" chose {picked}, not the clinic");
    }
    for input in [
        "input[value='LAB_RESULTS']",
        "#purposes input[value='0']",
        "input[value='read']",
        "input[value='write']",
    ] {
        click(c, input).await?;
    }
    // The four sensitive categories (the contracts' `is_sensitive`) are marked and never
    // preselected; the others are not marked.
    for (value, label) in [
        ("GENOMICS", "Genomics"),
        ("MENTAL_HEALTH", "Mental health"),
        ("SUBSTANCE_USE", "Substance use"),
        ("SEXUAL_HEALTH", "Sexual health"),
    ] {
        let input = c
            .find(Locator::Css(&format!("input[value='{value}']")))
            .await?;
        if input.prop("checked").await?.as_deref() == Some("true") {
            bail!("the sensitive category {label} was preselected");
        }
        wait_text(c, "#categories", &format!("{label} (sensitive)")).await?;
    }
    let categories = c.find(Locator::Id("categories")).await?.text().await?;
    if categories.contains("Billing (sensitive)") || categories.contains("Lab results (sensitive)")
    {
        bail!("a category that is not sensitive is marked: {categories}");
    }
    click(c, "#grant button[type=submit]").await?;
    confirm(
        c,
        &format!("Let {CLINIC} see and add to your Lab results records, for Treatment"),
    )
    .await?;
    wait_text(c, "#status", "Done:").await?;
    wait_text(c, "#consents tbody", "Active").await?;
    wait_text(c, "#consents tbody", CLINIC).await?;
    wait_text(c, "#consents tbody", "Lab results").await?;
    no_raw_times(c, "#consents-note").await?;
    let check = cli(
        dir,
        &[
            "consent",
            "check",
            "--patient",
            DAVE,
            "--grantee",
            BOB,
            "--category",
            "lab-results",
            "--access",
            "write",
        ],
    )?;
    if !check.starts_with("authorized:") {
        bail!("the chain does not authorize what the page granted: {check}");
    }

    // The clinic reads the lab results: the page shows it live, by name, in one spelling.
    cli(
        dir,
        &[
            "access",
            "record",
            "--suri",
            "bob",
            "--patient",
            DAVE,
            "--categories",
            "lab-results",
            "--purpose",
            "treatment",
        ],
    )?;
    wait_text(
        c,
        "#activity",
        &format!("Used: {CLINIC} — Lab results for Treatment"),
    )
    .await?;
    no_raw_times(c, "#activity").await?;
    accessible(c, "consents").await?;
    // The picture in the README (docs/patient-page.png) is this moment.
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("patient-page.png");
    std::fs::write(&shot, c.screenshot().await?)?;

    // A document the clinic anchors and then amends, for the verify view below.
    std::fs::write(dir.join("lab.txt"), "Dave, HbA1c 5.4 %")?;
    std::fs::write(dir.join("lab-v2.txt"), "Dave, HbA1c 5.4 %, LDL 2.9 mmol/l")?;
    for args in [
        &[
            "record",
            "anchor",
            "--suri",
            "bob",
            "--patient",
            DAVE,
            "--category",
            "lab-results",
            "lab.txt",
        ][..],
        &[
            "record",
            "amend",
            "--suri",
            "bob",
            "lab-v2.txt",
            "--previous",
            "lab.txt.medledger.json",
        ][..],
    ] {
        cli(dir, args)?;
    }

    // Revoke; the chain agrees; the clinic's next access is refused, and stands out.
    click(
        c,
        &format!("button[aria-label='Revoke the consent of {CLINIC}']"),
    )
    .await?;
    confirm(c, &format!("Revoke the consent of {CLINIC}")).await?;
    wait_text(c, "#consents tbody", "Revoked").await?;
    let check = cli(
        dir,
        &[
            "consent",
            "check",
            "--patient",
            DAVE,
            "--grantee",
            BOB,
            "--category",
            "lab-results",
        ],
    )?;
    if !check.starts_with("not authorized:") {
        bail!("the chain still authorizes Bob: {check}");
    }
    let denied = cli_output(
        dir,
        &[
            "access",
            "record",
            "--suri",
            "bob",
            "--patient",
            DAVE,
            "--categories",
            "lab-results",
            "--purpose",
            "treatment",
        ],
    )?;
    if denied.status.code() != Some(3) {
        bail!("the clinic's access after the revocation was not denied: {denied:?}");
    }
    wait_text(c, "#activity .alert-item", &format!("Refused: {CLINIC}")).await?;

    // Bob breaks glass: the page alerts the patient, who ends the window at once.
    cli(
        dir,
        &[
            "emergency",
            "open",
            "--suri",
            "bob",
            "--patient",
            DAVE,
            "--reason",
            "life-threatening",
        ],
    )?;
    wait_text(c, "#problem", "Emergency access to your data was opened").await?;
    wait_text(c, "#alerts .alert", "Emergency access is open").await?;
    wait_text(c, "#alerts .alert", CLINIC).await?;
    wait_text(
        c,
        "#activity",
        &format!("Emergency access: {CLINIC} broke glass"),
    )
    .await?;
    accessible(c, "emergency").await?;
    click(
        c,
        &format!("button[aria-label='End the emergency window of {CLINIC}']"),
    )
    .await?;
    confirm(c, &format!("End the emergency window of {CLINIC} now")).await?;
    wait_text(c, "#windows", "ended").await?;
    if !c
        .find(Locator::Id("alerts"))
        .await?
        .text()
        .await?
        .is_empty()
    {
        bail!("the alert stays after the window was ended");
    }

    // Barred from the page (found by name), Bob cannot break glass again: the chain refuses
    // him; the page lists him, and lets the patient allow him again.
    c.find(Locator::Id("block-search"))
        .await?
        .send_keys("riverside")
        .await?;
    wait_text(c, "#block-provider", "Riverside Clinic").await?;
    click(c, "#block button[type=submit]").await?;
    confirm(c, &format!("Bar {CLINIC} from breaking glass on your data")).await?;
    wait_text(c, "#status", "Done: Bar").await?;
    wait_text(c, "#blocked", CLINIC).await?;
    let again = cli_output(
        dir,
        &[
            "emergency",
            "open",
            "--suri",
            "bob",
            "--patient",
            DAVE,
            "--reason",
            "other",
        ],
    )?;
    let refusal = String::from_utf8_lossy(&again.stderr);
    if again.status.success() || !refusal.contains("(EmergencyBlocked)") {
        bail!("Bob broke glass again after the block: {refusal}");
    }
    click(
        c,
        &format!("button[aria-label='Allow {CLINIC} to break glass again']"),
    )
    .await?;
    confirm(
        c,
        &format!("Allow {CLINIC} to break glass on your data again"),
    )
    .await?;
    wait_text(c, "#blocked", "None.").await?;

    // A delegate, until a date the patient picks.
    let until = (chrono::Utc::now() + chrono::Duration::days(90))
        .format("%Y-%m-%d")
        .to_string();
    c.find(Locator::Id("delegate-address"))
        .await?
        .send_keys(EVE)
        .await?;
    c.execute(
        &format!("document.getElementById('delegate-until').value = '{until}'"),
        vec![],
    )
    .await?;
    click(c, "#delegate button[type=submit]").await?;
    confirm(c, &format!("Let {EVE} manage your consents until {until}")).await?;
    wait_text(c, "#delegates", EVE).await?;
    no_raw_times(c, "#delegates").await?;

    // What the wallet signed is what the page showed: six transactions.
    let signed = c
        .execute("return window.medledgerTestWallet.signed.length", vec![])
        .await?;
    if signed != json!(6) {
        bail!("the wallet signed {signed} payloads, not 6");
    }

    // Verify the documents in the browser, recording everything the page sends: the
    // current version, the superseded one and a changed copy each look different.
    c.execute(
        "window.sent = []; const f = window.fetch; \
         window.fetch = (u, o) => { window.sent.push(String(o && o.body)); return f(u, o); }; \
         const s = WebSocket.prototype.send; \
         WebSocket.prototype.send = function (d) { window.sent.push(String(d)); return s.call(this, d); };",
        vec![],
    )
    .await?;
    click(c, "#tab-verify").await?;
    let file = |name: &str| dir.join(name).display().to_string();
    let verify = |document: &'static str, evidence: &'static str| async move {
        c.find(Locator::Id("verify-document"))
            .await?
            .send_keys(&file(document))
            .await?;
        c.find(Locator::Id("verify-evidence"))
            .await?
            .send_keys(&file(evidence))
            .await?;
        click(c, "#verify-form button[type=submit]").await
    };
    verify("lab-v2.txt", "lab-v2.txt.medledger.json").await?;
    wait_text(
        c,
        "#verdict .verdict.current",
        "this is the current version",
    )
    .await?;
    wait_text(c, "#verdict", "anchored by Riverside Clinic").await?;
    wait_text(c, "#verdict", "The chain agrees.").await?;
    accessible(c, "verify").await?;
    verify("lab.txt", "lab.txt.medledger.json").await?;
    wait_text(c, "#verdict .verdict.superseded", "superseded").await?;
    std::fs::write(dir.join("forged.txt"), "Dave, HbA1c 4.4 %")?;
    verify("forged.txt", "lab.txt.medledger.json").await?;
    wait_text(c, "#verdict .verdict.nomatch", "No match").await?;
    // Neither the documents nor the salt left the browser.
    let receipt: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("lab.txt.medledger.json"))?)?;
    let salt = receipt["salt"]
        .as_str()
        .context("a salt")?
        .trim_start_matches("0x")
        .to_string();
    let sent = c.execute("return window.sent.join('\\n')", vec![]).await?;
    let sent = sent.as_str().unwrap_or_default();
    if !sent.contains("verifyCommitment") {
        bail!("the page asked the API nothing: {sent}");
    }
    for secret in [salt.as_str(), "HbA1c"] {
        if sent.contains(secret) {
            bail!("the page sent {secret:?}: {sent}");
        }
    }

    // On a phone-sized screen: nothing wider than the screen, and still accessible.
    click(c, "#tab-patient").await?;
    c.set_window_size(390, 844).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let wide = c
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth + 1",
            vec![],
        )
        .await?;
    let phone = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("patient-page-phone.png");
    std::fs::write(&phone, c.screenshot().await?)?;
    if wide != json!(false) {
        bail!(
            "on a phone-sized screen the page is wider than the screen (see {})",
            phone.display()
        );
    }
    accessible(c, "phone").await?;

    // GraphiQL comes from this server: it renders with no other host reachable.
    let graphiql = page.trim_end_matches('/').to_string() + "/graphql";
    c.goto(&graphiql).await?;
    wait_text(c, ".graphiql-container", "").await?;
    Ok(())
}

/// Waits until the page's live updates are subscribed.
async fn wait_live(c: &Client) -> Result<()> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        let live = c
            .execute("return document.body.dataset.live ?? null", vec![])
            .await?;
        if live == json!("subscribed") {
            return Ok(());
        }
        if live == json!("stopped") {
            bail!("the page's live updates stopped");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the page never subscribed to live updates")
}

async fn wait_ready(c: &Client) -> Result<()> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if c.execute("return document.body.dataset.ready === 'true'", vec![])
            .await?
            == json!(true)
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the page never got ready (is it built? {SETUP})")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_grants_sees_use_revokes_and_verifies_in_a_real_browser() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let dev = common::spawn_dev(dir.path());
    let page = format!("{}/", dev.graphql.trim_end_matches("/graphql"));
    let (_driver, client) = start_browser(&dir.path().join("profile")).await?;
    let outcome = story(&client, &page, dir.path()).await;
    if outcome.is_err() {
        let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-failure.png");
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(&shot, png);
            eprintln!("screenshot of the page: {}", shot.display());
        }
    }
    let _ = client.close().await;
    outcome
}
