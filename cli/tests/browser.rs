//! The patient's page in a real browser (grant, live use, revoke, emergency window ended and
//! provider blocked, a delegate, verify): `medledger dev` (node, contracts, indexer, API and
//! page), Debian's headless Chromium driven through chromedriver, and a test wallet injected
//! into `window.injectedWeb3` that signs with dev keys as an extension does. The page is
//! built by `cargo xtask web`; a failing run saves a screenshot and says where.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_medledger");
const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
const DAVE: &str = "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy";
const EVE: &str = "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw";
const SETUP: &str =
    "run `cargo xtask setup` (Debian's chromium and chromium-driver) and `cargo xtask web`";

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        // SIGINT first, so that `medledger dev` stops its node too.
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn web_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../web"))
}

/// `medledger dev` on a free port in `dir`; returns it with the page's URL.
fn start_dev(dir: &Path) -> Result<(Running, String)> {
    let port = free_port()?;
    let contracts = concat!(env!("CARGO_MANIFEST_DIR"), "/../artifacts/contracts");
    let mut child = Command::new(BIN)
        .args([
            "dev",
            "--contracts",
            contracts,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting medledger dev")?;
    let stdout = child.stdout.take().context("stdout")?;
    let dev = Running(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .context("medledger dev printed no page URL")?;
        if let Some(url) = line.strip_prefix("patient's page: ") {
            return Ok((dev, url.to_string()));
        }
    }
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

async fn click(c: &Client, css: &str) -> Result<()> {
    c.find(Locator::Css(css))
        .await
        .with_context(|| format!("no {css}"))?
        .click()
        .await
        .with_context(|| format!("clicking {css}"))?;
    Ok(())
}

/// Confirms the signing dialog after checking it says what and how much.
async fn confirm(c: &Client, what: &str) -> Result<()> {
    wait_text(c, "#confirm-what", what).await?;
    wait_text(c, "#confirm-fee", "Fee: about").await?;
    click(c, "#confirm-sign").await
}

fn cli(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "off")
        .env_remove("MEDLEDGER_SURI")
        .output()?;
    if !out.status.success() {
        bail!(
            "`medledger {}`: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn story(c: &Client, page: &str, dir: &Path) -> Result<()> {
    c.goto(page).await?;
    wait_ready(c).await?;

    // No wallet yet: the page says so, and how to get one.
    click(c, "#connect").await?;
    wait_text(c, "#no-wallet", "No wallet extension was found").await?;
    if c.find(Locator::Id("signed-in"))
        .await?
        .is_displayed()
        .await?
    {
        bail!("without a wallet the patient's views are shown");
    }

    // The test wallet, injected as an extension injects itself.
    let wallet = std::fs::read_to_string(web_dir().join("dist-test/test-wallet.js"))
        .with_context(|| format!("the test wallet is not built: {SETUP}"))?;
    c.execute(&wallet, vec![]).await?;
    click(c, "#connect").await?;
    wait_text(c, "#account", "Dave (test)").await?;
    if c.find(Locator::Id("no-wallet"))
        .await?
        .is_displayed()
        .await?
    {
        bail!("the no-wallet message stays after connecting");
    }
    wait_live(c).await?;

    // Grant Bob's clinic read and write of lab results for treatment.
    wait_text(c, "#grantee", BOB).await?;
    c.find(Locator::Css(&format!("#grantee option[value='{BOB}']")))
        .await?
        .click()
        .await?;
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
        &format!("Let {BOB} read and write your Lab results for Treatment"),
    )
    .await?;
    wait_text(c, "#status", "Done:").await?;
    wait_text(c, "#consents tbody", "ACTIVE").await?;
    wait_text(c, "#consents tbody", BOB).await?;
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
    if check.trim() != "authorized" {
        bail!("the chain does not authorize what the page granted: {check}");
    }

    // The clinic reads the lab results: the page shows it live.
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
        &format!("Access {BOB}: LabResults for Treatment"),
    )
    .await?;
    // The picture in the README (docs/patient-page.png) is this moment.
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("patient-page.png");
    std::fs::write(&shot, c.screenshot().await?)?;

    // A document the clinic anchors, for the verify view below.
    std::fs::write(dir.join("lab.txt"), "Dave, HbA1c 5.4 %")?;
    cli(
        dir,
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
        ],
    )?;

    // Revoke; the chain agrees.
    click(
        c,
        &format!("button[aria-label='Revoke the consent of {BOB}']"),
    )
    .await?;
    confirm(c, &format!("Revoke the consent of {BOB}")).await?;
    wait_text(c, "#consents tbody", "REVOKED").await?;
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
    if check.trim() != "not authorized" {
        bail!("the chain still authorizes Bob: {check}");
    }

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
    wait_text(c, "#activity", &format!("EMERGENCY {BOB} broke glass")).await?;
    click(
        c,
        &format!("button[aria-label='End the emergency window of {BOB}']"),
    )
    .await?;
    confirm(c, &format!("End the emergency window of {BOB} now")).await?;
    wait_text(c, "#windows", "ended").await?;

    // Blocked from the page, Bob cannot break glass again: the chain refuses him.
    c.find(Locator::Id("block-address"))
        .await?
        .send_keys(BOB)
        .await?;
    click(c, "#block button[type=submit]").await?;
    confirm(c, &format!("Forbid {BOB} to break glass on your data")).await?;
    wait_text(c, "#status", "Done: Forbid").await?;
    let again = Command::new(BIN)
        .args([
            "emergency",
            "open",
            "--suri",
            "bob",
            "--patient",
            DAVE,
            "--reason",
            "other",
        ])
        .current_dir(dir)
        .env("RUST_LOG", "off")
        .output()?;
    let refusal = String::from_utf8_lossy(&again.stderr);
    if again.status.success() || !refusal.contains("(EmergencyBlocked)") {
        bail!("Bob broke glass again after the block: {refusal}");
    }

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

    // What the wallet signed is what the page showed: five transactions.
    let signed = c
        .execute("return window.medledgerTestWallet.signed.length", vec![])
        .await?;
    if signed != json!(5) {
        bail!("the wallet signed {signed} payloads, not 5");
    }

    // Verify the anchored document in the browser, recording everything the page sends.
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
    c.find(Locator::Id("verify-document"))
        .await?
        .send_keys(&file("lab.txt"))
        .await?;
    c.find(Locator::Id("verify-evidence"))
        .await?
        .send_keys(&file("lab.txt.medledger.json"))
        .await?;
    click(c, "#verify-form button[type=submit]").await?;
    wait_text(c, "#verdict", "MATCH: version 1 of record").await?;
    wait_text(c, "#verdict", "The chain agrees.").await?;
    // and a changed copy does not match
    std::fs::write(dir.join("forged.txt"), "Dave, HbA1c 4.4 %")?;
    c.find(Locator::Id("verify-document"))
        .await?
        .send_keys(&file("forged.txt"))
        .await?;
    click(c, "#verify-form button[type=submit]").await?;
    wait_text(c, "#verdict", "NO MATCH").await?;
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
    let (_dev, page) = start_dev(dir.path())?;
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
