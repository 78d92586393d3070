//! The `medledger` binary as a user runs it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{BIN, Running, graphql};
const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

fn medledger(args: &[&str], dir: &Path) -> Output {
    medledger_env(args, dir, &[])
}

/// The command failed with exit status 1 (bad input or a local failure) and exactly one line
/// on stderr containing `needle`, and no panic.
fn assert_one_line_error(out: &Output, needle: &str) {
    assert_one_line_failure(out, 1, needle);
}

/// The command failed with `status` and exactly one line on stderr containing `needle`.
fn assert_one_line_failure(out: &Output, status: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(status), "exit status: {stderr}");
    assert!(
        !out.status.success(),
        "expected failure, got success: {stderr}"
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr}"
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains(needle), "missing {needle:?} in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn deployment_file(dir: &Path, node_url: &str) -> PathBuf {
    let path = dir.join("deployment.json");
    let alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    std::fs::write(
        &path,
        format!(
            r#"{{"network":"t","node_url":"{node_url}","registrar":"{alice}","block_number":1,
            "consent_registry":{{"address":"{alice}","code_hash":"0x00"}},
            "record_registry":{{"address":"{alice}","code_hash":"0x00"}}}}"#
        ),
    )
    .expect("write deployment");
    path
}

#[test]
fn a_node_that_is_down_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("dir");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let dep = deployment_file(dir.path(), &format!("ws://127.0.0.1:{port}"));
    let out = medledger(
        &[
            "consent",
            "revoke",
            "--suri",
            "//Dave",
            "--grantee",
            BOB,
            "--deployment",
            dep.to_str().expect("utf8"),
        ],
        dir.path(),
    );
    assert_one_line_failure(
        &out,
        4,
        &format!("cannot reach the node at ws://127.0.0.1:{port}"),
    );
}

#[test]
fn a_malformed_node_url_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("dir");
    let dep = deployment_file(dir.path(), "ws://127.0.0.1:1");
    let out = medledger(
        &[
            "consent",
            "revoke",
            "--suri",
            "//Dave",
            "--grantee",
            BOB,
            "--deployment",
            dep.to_str().expect("utf8"),
            "--node-url",
            "http//nonsense",
        ],
        dir.path(),
    );
    assert_one_line_error(&out, "is not a ws:// or wss:// URL");
}

#[test]
fn a_bad_suri_is_one_clear_line_that_does_not_echo_it() {
    let dir = tempfile::tempdir().expect("dir");
    let secret = "correct horse battery staple";
    let out = medledger(
        &[
            "consent",
            "grant",
            "--suri",
            secret,
            "--grantee",
            BOB,
            "--categories",
            "lab-results",
        ],
        dir.path(),
    );
    assert_one_line_error(&out, "invalid secret URI");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("horse"));
}

#[test]
fn bad_names_and_addresses_are_one_clear_line() {
    let dir = tempfile::tempdir().expect("dir");
    let out = medledger(
        &[
            "consent",
            "grant",
            "--suri",
            "//Dave",
            "--grantee",
            BOB,
            "--categories",
            "xrays",
        ],
        dir.path(),
    );
    assert_one_line_error(&out, "unknown category \"xrays\"");
    let out = medledger(
        &[
            "consent",
            "grant",
            "--suri",
            "//Dave",
            "--grantee",
            "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694tX",
            "--categories",
            "imaging",
        ],
        dir.path(),
    );
    // An address with a typo is said to be one, not looked up as a name.
    assert_one_line_error(
        &out,
        "--grantee \"5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694tX\" is neither an SS58 address nor a dev account (alice, bob",
    );
    // A name needs the API to be found: when it is down, the line says so (exit 4).
    let out = medledger(
        &[
            "consent",
            "grant",
            "--suri",
            "//Dave",
            "--grantee",
            "Nowhere Clinic",
            "--api",
            "http://127.0.0.1:1/graphql",
            "--categories",
            "imaging",
        ],
        dir.path(),
    );
    assert_one_line_failure(
        &out,
        4,
        "--grantee \"Nowhere Clinic\" is not an address or a dev account, and looking it up as an organization's name needs the API: cannot reach the API at http://127.0.0.1:1/graphql",
    );
    let out = medledger(
        &[
            "consent",
            "grant",
            "--suri",
            "//Dave",
            "--grantee",
            BOB,
            "--categories",
            "imaging",
            "--expires-at",
            "next tuesday",
        ],
        dir.path(),
    );
    assert_one_line_error(
        &out,
        "--expires-at \"next tuesday\" is not an RFC 3339 time",
    );
}

/// The wallet export of //Ferdie in `tests/fixtures` (see its README) and its password.
const KEY_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/ferdie.wallet.json"
);
const KEY_PASSWORD: &str = "correct horse battery staple";

fn medledger_env(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(dir)
        .env_remove("MEDLEDGER_SURI")
        .env_remove("MEDLEDGER_NODE_URL")
        .env_remove("MEDLEDGER_DEPLOYMENT")
        .env_remove("MEDLEDGER_KEY_FILE")
        .env_remove("MEDLEDGER_KEY_PASSWORD")
        .env_remove("MEDLEDGER_API")
        .env("RUST_LOG", "off");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run medledger")
}

/// A deployment whose node is down: commands get as far as connecting.
fn unreachable_deployment(dir: &Path) -> (PathBuf, u16) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    (
        deployment_file(dir, &format!("ws://127.0.0.1:{port}")),
        port,
    )
}

#[test]
fn a_wallet_export_signs_with_its_password_and_a_wrong_one_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("dir");
    let (dep, port) = unreachable_deployment(dir.path());
    let dep = dep.to_str().expect("utf8");
    let register = [
        "org",
        "register",
        "--key-file",
        KEY_FILE,
        "--account",
        "bob",
        "--role",
        "provider",
        "--name",
        "Riverside Clinic",
        "--kind",
        "clinic",
        "--deployment",
        dep,
    ];
    // The right password: the key opens, and the command goes on to the (down) node.
    let out = medledger_env(
        &register,
        dir.path(),
        &[("MEDLEDGER_KEY_PASSWORD", KEY_PASSWORD)],
    );
    assert_one_line_failure(
        &out,
        4,
        &format!("cannot reach the node at ws://127.0.0.1:{port}"),
    );
    // A wrong one: one line, naming the file, never the password.
    let out = medledger_env(
        &register,
        dir.path(),
        &[("MEDLEDGER_KEY_PASSWORD", "hunter2")],
    );
    assert_one_line_error(&out, "wrong password for the key file");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2"));
    assert_eq!(out.status.code(), Some(1));
    // No password and no terminal to ask on.
    let out = medledger_env(&register, dir.path(), &[]);
    assert_one_line_error(&out, "set MEDLEDGER_KEY_PASSWORD, or run on a terminal");
    // Not a wallet export at all.
    std::fs::write(dir.path().join("notes.json"), "{\"hello\": 1}").expect("write");
    let mut not_a_key = register;
    not_a_key[3] = "notes.json";
    let out = medledger_env(&not_a_key, dir.path(), &[("MEDLEDGER_KEY_PASSWORD", "x")]);
    assert_one_line_error(&out, "notes.json is not a wallet's JSON account export");
    // A missing one.
    not_a_key[3] = "gone.json";
    let out = medledger_env(&not_a_key, dir.path(), &[("MEDLEDGER_KEY_PASSWORD", "x")]);
    assert_one_line_error(&out, "cannot read the key file gone.json");
}

#[test]
fn without_a_signer_the_line_says_how_to_give_one() {
    let dir = tempfile::tempdir().expect("dir");
    let out = medledger(&["consent", "revoke", "--grantee", "bob"], dir.path());
    assert_one_line_error(&out, "no signer: pass --key-file FILE");
}

#[test]
fn a_secret_on_the_command_line_is_warned_about_and_never_echoed() {
    let dir = tempfile::tempdir().expect("dir");
    let (dep, _) = unreachable_deployment(dir.path());
    let phrase = "bottom drive obey lake curtain smoke basket hold race lonely fit walk//Nobody";
    let out = medledger(
        &[
            "consent",
            "revoke",
            "--suri",
            phrase,
            "--grantee",
            "bob",
            "--deployment",
            dep.to_str().expect("utf8"),
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: a secret given with --suri is visible"),
        "{stderr}"
    );
    assert!(!stderr.contains("curtain"), "{stderr}");
    // From the environment it is not on the command line: no warning.
    let out = medledger_env(
        &[
            "consent",
            "revoke",
            "--grantee",
            "bob",
            "--deployment",
            dep.to_str().expect("utf8"),
        ],
        dir.path(),
        &[("MEDLEDGER_SURI", phrase)],
    );
    assert_one_line_failure(&out, 4, "cannot reach the node");
    // An invalid secret in the environment is not echoed either.
    let out = medledger_env(
        &["consent", "revoke", "--grantee", "bob"],
        dir.path(),
        &[("MEDLEDGER_SURI", "curtain smoke basket")],
    );
    assert_one_line_error(&out, "MEDLEDGER_SURI: invalid secret URI");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("curtain"));
}

#[test]
fn missing_files_malformed_hashes_and_unknown_accounts_are_one_clear_line() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let anchor = |file: &str, patient: &str| {
        medledger(
            &[
                "record",
                "anchor",
                "--suri",
                "bob",
                "--patient",
                patient,
                "--category",
                "lab-results",
                file,
            ],
            d,
        )
    };
    assert_one_line_error(&anchor("lab.pdf", "dave"), "cannot read lab.pdf");
    std::fs::write(d.join("lab.pdf"), "HbA1c 5.4 %").expect("write");
    assert_one_line_error(
        &anchor("lab.pdf", "mallory"),
        "--patient \"mallory\" is neither an SS58 address nor a dev account",
    );
    let out = medledger(
        &[
            "record",
            "amend",
            "--suri",
            "bob",
            "--record-id",
            "0x12",
            "lab.pdf",
            "--previous",
            "lab.pdf.medledger.json",
        ],
        d,
    );
    assert_one_line_error(
        &out,
        "--record-id \"0x12\" is not a 0x-prefixed 32-byte hex hash",
    );
    let out = medledger(
        &[
            "claim",
            "attest",
            "--suri",
            "eve",
            "--claim-ref",
            "C-1",
            "--patient",
            "dave",
            "lab.pdf",
        ],
        d,
    );
    assert_one_line_error(&out, "cannot read the receipt lab.pdf.medledger.json");
    let out = medledger(&["batch", "anchor", "--suri", "bob", "no-such-dir"], d);
    assert_one_line_error(&out, "cannot read the folder no-such-dir");
    std::fs::create_dir(d.join("empty")).expect("mkdir");
    let out = medledger(&["batch", "anchor", "--suri", "bob", "empty"], d);
    assert_one_line_error(&out, "empty holds no documents to anchor");
    let out = medledger(
        &[
            "emergency",
            "open",
            "--suri",
            "bob",
            "--patient",
            "dave",
            "--reason",
            "boredom",
        ],
        d,
    );
    assert_one_line_error(&out, "unknown emergency reason \"boredom\"");
    let out = medledger(
        &[
            "claim",
            "attest",
            "--suri",
            "eve",
            "--claim-ref",
            "0x12",
            "--patient",
            "dave",
            "lab.pdf",
        ],
        d,
    );
    assert_one_line_error(
        &out,
        "--claim-ref \"0x12\" is not a 0x-prefixed 32-byte hex hash",
    );
    // A proof that would be overwritten once the batch landed is refused before sending.
    std::fs::create_dir(d.join("scans")).expect("mkdir");
    std::fs::write(d.join("scans/a.txt"), "A").expect("write");
    std::fs::write(d.join("scans/a.txt.medledger-proof.json"), "{}").expect("write");
    let out = medledger(&["batch", "anchor", "--suri", "bob", "scans"], d);
    assert_one_line_error(
        &out,
        "a.txt.medledger-proof.json exists already; move it away first",
    );
    // clap's own usage errors exit 2
    let out = medledger(&["record", "anchor", "--suri", "bob"], d);
    assert_eq!(out.status.code(), Some(2));
}

/// A receipt for `document` as `record anchor` writes it (not anchored anywhere).
fn receipt_for(document: &[u8]) -> medledger_proofs::Receipt {
    let salt = [7; 32];
    medledger_proofs::Receipt {
        format: medledger_proofs::RECEIPT_FORMAT.into(),
        document: "lab.pdf".into(),
        salt,
        commitment: medledger_proofs::commitment(&salt, document),
        category: "LabResults".into(),
        category_index: 4,
        category_salt: [8; 32],
        record_id: [9; 32],
        version: 1,
        patient: "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy".into(),
        custodian: BOB.into(),
        contract: BOB.into(),
        chain: [1; 32],
        anchored: None,
    }
}

#[test]
fn verify_says_no_match_for_a_changed_document_without_asking_anyone() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    std::fs::write(d.join("lab.pdf"), "HbA1c 5.5 %").expect("write");
    let receipt = serde_json::to_string(&receipt_for(b"HbA1c 5.4 %")).expect("json");
    std::fs::write(d.join("lab.pdf.medledger.json"), receipt).expect("write");
    // No node and no API are reachable: the verdict comes from the file and receipt alone.
    let out = medledger(
        &["verify", "lab.pdf", "--api", "http://127.0.0.1:1/graphql"],
        d,
    );
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("NO MATCH: lab.pdf is not the document its receipt was made for"),
        "{stdout}"
    );
    let out = medledger(&["--json", "verify", "lab.pdf"], d);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(json["verified"], false);
    // The right document gets as far as the API, which is down: exit 4, one line.
    std::fs::write(d.join("lab.pdf"), "HbA1c 5.4 %").expect("write");
    let out = medledger(
        &["verify", "lab.pdf", "--api", "http://127.0.0.1:1/graphql"],
        d,
    );
    assert_one_line_failure(
        &out,
        4,
        "cannot reach the API at http://127.0.0.1:1/graphql",
    );
    // No receipt, a malformed one.
    std::fs::write(d.join("x.pdf"), "x").expect("write");
    assert_one_line_error(
        &medledger(&["verify", "x.pdf"], d),
        "no receipt or proof for x.pdf",
    );
    std::fs::write(d.join("x.pdf.medledger.json"), "{}").expect("write");
    assert_one_line_error(
        &medledger(&["verify", "x.pdf"], d),
        "x.pdf.medledger.json is not a medledger receipt",
    );
}

/// A one-shot GraphQL "API" on a free port: answers `answer` to the first request and hands
/// back what was sent to it.
fn fake_api(answer: serde_json::Value) -> (String, std::thread::JoinHandle<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        answer_one(&mut conn, &answer)
    });
    (url, handle)
}

/// The same one-shot "API" over TLS, with a self-signed certificate for 127.0.0.1 written to
/// `cert_file` (a client trusts it through `SSL_CERT_FILE`).
fn fake_https_api(
    answer: serde_json::Value,
    cert_file: &Path,
) -> (String, std::thread::JoinHandle<String>) {
    let signed = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("cert");
    std::fs::write(cert_file, signed.cert.pem()).expect("write cert");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(signed.key_pair.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(vec![signed.cert.der().clone()], key)
    .expect("TLS config");
    let config = std::sync::Arc::new(config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("https://{}/graphql", listener.local_addr().expect("addr"));
    let handle = std::thread::spawn(move || {
        let (conn, _) = listener.accept().expect("accept");
        let tls = rustls::ServerConnection::new(config).expect("TLS session");
        let mut stream = rustls::StreamOwned::new(tls, conn);
        let request = answer_one(&mut stream, &answer);
        stream.conn.send_close_notify();
        let _ = std::io::Write::flush(&mut stream);
        request
    });
    (url, handle)
}

/// Reads one HTTP request from `conn`, answers `answer` as JSON, and returns the request.
fn answer_one(
    conn: &mut (impl std::io::Read + std::io::Write),
    answer: &serde_json::Value,
) -> String {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    // read headers, then the body by Content-Length
    loop {
        let n = conn.read(&mut buf).expect("read");
        request.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&request).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if request.len() >= end + 4 + length || n == 0 {
                break;
            }
        }
        if n == 0 {
            break;
        }
    }
    let body = answer.to_string();
    let _ = write!(
        conn,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    String::from_utf8_lossy(&request).to_string()
}

#[test]
fn the_api_is_reached_over_https() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let document = b"HbA1c 5.4 %";
    std::fs::write(d.join("lab.pdf"), document).expect("write");
    let receipt = receipt_for(document);
    std::fs::write(
        d.join("lab.pdf.medledger.json"),
        serde_json::to_string(&receipt).expect("json"),
    )
    .expect("write");
    let cert = d.join("api-cert.pem");
    let (url, sent) = fake_https_api(
        serde_json::json!({"data": {
            "indexerStatus": {"genesisHash": format!("0x{}", "ee".repeat(32)), "contracts": []},
            "verifyCommitment": []
        }}),
        &cert,
    );
    let cert = cert.to_string_lossy().to_string();
    let out = medledger_env(
        &["verify", "lab.pdf", "--api", &url],
        d,
        &[("SSL_CERT_FILE", cert.as_str())],
    );
    // The question went over TLS and was answered: the verdict is about the API's chain.
    assert_one_line_error(&out, &format!("the API at {url} mirrors none yet"));
    let sent = sent.join().expect("the request");
    assert!(sent.starts_with("POST /graphql"), "{sent}");
}

#[test]
fn with_json_a_failure_is_one_json_object_on_stdout_too() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    std::fs::write(d.join("x.pdf"), "x").expect("write");
    // a failure of the command: the same line on stderr, and a JSON object on stdout
    let out = medledger(&["--json", "verify", "x.pdf"], d);
    assert_one_line_error(&out, "no receipt or proof for x.pdf");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(json["exit"], 1, "{json}");
    assert!(
        json["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("no receipt or proof for x.pdf")),
        "{json}"
    );
    // a command line clap refuses: its status 2, and JSON as well
    let out = medledger(&["consent", "grant", "--json", "--suri", "dave"], d);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(json["exit"], 2, "{json}");
    assert!(
        json["error"]
            .as_str()
            .is_some_and(|e| e.contains("--grantee")),
        "{json}"
    );
    // without --json, stdout stays empty
    let out = medledger(&["verify", "x.pdf"], d);
    assert!(out.stdout.is_empty(), "{out:?}");
}

#[test]
fn an_api_address_that_is_not_a_url_is_bad_input() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let document = b"HbA1c 5.4 %";
    std::fs::write(d.join("lab.pdf"), document).expect("write");
    std::fs::write(
        d.join("lab.pdf.medledger.json"),
        serde_json::to_string(&receipt_for(document)).expect("json"),
    )
    .expect("write");
    let out = medledger(&["verify", "lab.pdf", "--api", "not-a-url"], d);
    assert_one_line_error(
        &out,
        "--api \"not-a-url\" is not an http:// or https:// URL",
    );
}

#[test]
fn verify_through_the_api_sends_commitments_never_the_document_or_its_salt() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let document = b"HbA1c 5.4 %";
    std::fs::write(d.join("lab.pdf"), document).expect("write");
    let receipt = receipt_for(document);
    std::fs::write(
        d.join("lab.pdf.medledger.json"),
        serde_json::to_string(&receipt).expect("json"),
    )
    .expect("write");
    // An API mirroring another chain: the receipt is refused, after one question.
    let (url, sent) = fake_api(serde_json::json!({"data": {
        "indexerStatus": {"genesisHash": format!("0x{}", "ee".repeat(32)), "contracts": []},
        "verifyCommitment": []
    }}));
    let out = medledger(&["verify", "lab.pdf", "--api", &url], d);
    assert_one_line_error(&out, &format!("the API at {url} mirrors none yet"));
    let sent = sent.join().expect("the request");
    assert!(
        sent.contains(&format!("0x{}", hex::encode(receipt.commitment))),
        "{sent}"
    );
    assert!(
        !sent.contains(&hex::encode(receipt.salt)),
        "the salt was sent: {sent}"
    );
    assert!(!sent.contains("HbA1c"), "the document was sent: {sent}");

    // A document of a batch: the bundle goes, its salt does not.
    let salt = [5u8; 32];
    let leaf = medledger_proofs::commitment(&salt, document);
    let tree = medledger_proofs::MerkleTree::new(&[leaf, [1; 32]]).expect("tree");
    let proof = medledger_proofs::DocumentProof {
        format: medledger_proofs::PROOF_FORMAT.into(),
        document: "lab.pdf".into(),
        salt,
        org: BOB.into(),
        contract: BOB.into(),
        chain: [1; 32],
        bundle: medledger_proofs::ProofBundle {
            proof: tree.proof(0).expect("proof"),
            root: tree.root(),
            block_number: 3,
            block_hash: [2; 32],
        },
    };
    std::fs::write(
        d.join("lab.proof.json"),
        serde_json::to_string(&proof).expect("json"),
    )
    .expect("write");
    let (url, sent) = fake_api(serde_json::json!({"data": {
        "indexerStatus": {"genesisHash": format!("0x{}", "01".repeat(32)),
                          "contracts": [{"name": "RecordRegistry", "address": BOB}]},
        "verifyInclusion": {"valid": true, "explanation": "valid", "batch": {
            "org": BOB, "leafCount": 2, "block": 3, "anchoredAt": "2026-12-02T00:00:00Z"}}
    }}));
    let out = medledger(
        &[
            "verify",
            "lab.pdf",
            "--bundle",
            "lab.proof.json",
            "--api",
            &url,
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("MATCH: lab.pdf is one of the 2 documents")
    );
    let sent = sent.join().expect("the request");
    assert!(
        sent.contains(&format!("0x{}", hex::encode(tree.root()))),
        "{sent}"
    );
    assert!(
        !sent.contains(&hex::encode(salt)),
        "the salt was sent: {sent}"
    );
    assert!(
        !sent.contains("HbA1c") && !sent.contains("lab.pdf"),
        "{sent}"
    );
}

#[test]
fn a_missing_deployment_file_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("dir");
    let out = medledger(
        &["consent", "revoke", "--suri", "//Dave", "--grantee", BOB],
        dir.path(),
    );
    assert_one_line_error(&out, "start `medledger dev`, or pass --deployment");
}

#[test]
fn a_missing_contract_bundle_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("dir");
    let out = medledger(
        &[
            "dev",
            "--contracts",
            "no-such-dir",
            "--listen",
            "127.0.0.1:0",
        ],
        dir.path(),
    );
    assert_one_line_error(&out, "build it with `cargo xtask contracts`");
}

#[test]
fn a_port_in_use_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("dir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let db = format!("sqlite:{}", dir.path().join("x.db").display());
    let out = medledger(&["serve", "--db", &db, "--listen", &addr], dir.path());
    assert_one_line_error(&out, "the port is in use");
}

/// Sends Ctrl-C (SIGINT) to `child`.
fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

fn wait_for_status(url: &str, query: &str, want: &str) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let v = graphql(url, query);
        if v["data"]["consents"]["nodes"][0]["status"] == want {
            return v;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no {want} consent; last: {v}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The README's flow: `medledger dev`, grant with the CLI, see it in GraphQL, revoke, see it
/// revoked, Ctrl-C.
#[test]
fn dev_serves_graphql_and_consents_granted_with_the_cli_show_up() {
    let dir = tempfile::tempdir().expect("dir");
    let common::Dev {
        process: dev,
        graphql: url,
        lines: rx,
    } = common::spawn_dev(dir.path());
    let listen = url
        .trim_start_matches("http://")
        .trim_end_matches("/graphql")
        .to_string();

    let dave = "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy";
    // dev says where the API is once the mirror has its organizations: the clinic is found
    // by its name from the first command on.
    let terms = "I let Bob's clinic read my lab results and imaging for my treatment.";
    std::fs::write(dir.path().join("terms.txt"), terms).expect("write the consent document");
    let out = medledger(
        &[
            "consent",
            "grant",
            "--suri",
            "//Dave",
            "--grantee",
            "riverside clinic",
            "--api",
            &url,
            "--categories",
            "lab-results,imaging",
            "--purposes",
            "treatment",
            "--access",
            "read",
            "--terms",
            "terms.txt",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "grant failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The clinic was found by its name (ignoring case), and is shown by it.
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("granted consent v1 to Riverside Clinic (5FHneW…94ty)"),
        "{out:?}"
    );
    // the terms hash is the document's salted commitment; the salt stays with the patient
    let receipt: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("terms.txt.terms.json")).expect("the terms receipt"),
    )
    .expect("receipt json");
    let salt: [u8; 32] = receipt["salt"]
        .as_str()
        .and_then(|s| s.strip_prefix("0x"))
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| b.try_into().ok())
        .expect("a 32-byte salt");
    let expected = format!(
        "0x{}",
        hex::encode(medledger_proofs::terms_commitment(&salt, terms.as_bytes()))
    );
    assert_eq!(receipt["terms_hash"], expected);

    let query = format!(
        r#"{{ consents(patient: "{dave}") {{ nodes {{ grantee categories status termsHash }} }} }}"#
    );
    let v = wait_for_status(&url, &query, "ACTIVE");
    assert_eq!(v["data"]["consents"]["nodes"][0]["grantee"], BOB);
    assert_eq!(
        v["data"]["consents"]["nodes"][0]["categories"],
        serde_json::json!(["LabResults", "Imaging"])
    );
    assert_eq!(v["data"]["consents"]["nodes"][0]["termsHash"], expected);

    let out = medledger(
        &[
            "consent",
            "check",
            "--patient",
            dave,
            "--grantee",
            BOB,
            "--category",
            "imaging",
        ],
        dir.path(),
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with(
            "authorized: Riverside Clinic (5FHneW…94ty) may use Imaging for Treatment (Read)"
        ),
        "{out:?}"
    );
    // A name that is no organization's is one line, naming what was typed.
    let out = medledger(
        &[
            "consent",
            "revoke",
            "--suri",
            "//Dave",
            "--grantee",
            "Lakeside",
            "--api",
            &url,
        ],
        dir.path(),
    );
    assert_one_line_error(
        &out,
        "--grantee \"Lakeside\" is neither an address, a dev account",
    );
    // Part of a name is not taken as a choice: the line names what it matches.
    let out = medledger(
        &[
            "consent",
            "revoke",
            "--suri",
            "//Dave",
            "--grantee",
            "Riverside",
            "--api",
            &url,
        ],
        dir.path(),
    );
    assert_one_line_error(
        &out,
        "--grantee \"Riverside\" is part of the name of Riverside Clinic (5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty): give the whole name",
    );

    let out = medledger(
        &["consent", "revoke", "--suri", "//Dave", "--grantee", BOB],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "revoke failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for_status(&url, &query, "REVOKED");
    let out = medledger(
        &[
            "consent",
            "check",
            "--patient",
            dave,
            "--grantee",
            BOB,
            "--category",
            "imaging",
        ],
        dir.path(),
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("not authorized: "),
        "{out:?}"
    );

    // Ctrl-C stops everything cleanly.
    let mut dev = dev;
    let child = &mut dev.0;
    interrupt(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "medledger dev did not stop on Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "medledger dev exited with {status}");
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(rest.iter().any(|l| l == "stopped."), "{rest:?}");
    assert!(
        std::net::TcpStream::connect(&listen).is_err(),
        "the API still listens"
    );
}

/// A service manager stops processes with SIGTERM: `serve` (like `index` and `dev`, which
/// share the signal handling) stops cleanly and at once.
#[test]
fn sigterm_stops_the_server_cleanly_within_a_second() {
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite:{}", dir.path().join("x.db").display());
    let mut child = Command::new(BIN)
        .args(["serve", "--db", &db, "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start medledger serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a line").expect("read");
    assert!(first.starts_with("GraphQL API: "), "{first}");
    let server = Running(child);
    let status = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let mut server = server;
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = server.0.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "still running a second after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
}

/// `medledger serve` gives the page what it needs to sign from the deployment it is given:
/// the node URL and both contracts with their metadata (without their code); without a
/// deployment, /config.json says how to start it.
#[test]
fn serve_tells_the_page_where_the_chain_is() {
    let dir = tempfile::tempdir().expect("dir");
    let dep = deployment_file(dir.path(), "ws://127.0.0.1:9944");
    let contracts = concat!(env!("CARGO_MANIFEST_DIR"), "/../artifacts/contracts");
    let start = |extra: &[&str]| {
        let db = format!("sqlite:{}", dir.path().join("x.db").display());
        let mut args = vec![
            "serve",
            "--db",
            &db,
            "--listen",
            "127.0.0.1:0",
            "--contracts",
            contracts,
        ];
        args.extend(extra);
        let mut child = Command::new(BIN)
            .args(&args)
            .current_dir(dir.path())
            .env_remove("MEDLEDGER_DEPLOYMENT")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start medledger serve");
        // Both lines it prints are read, and the pipe kept open: a server whose stdout is
        // closed under it cannot print.
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines.next().expect("a line").expect("read");
        let second = lines.next().expect("a second line").expect("read");
        assert!(second.starts_with("patient's page: "), "{second}");
        let base = first
            .strip_prefix("GraphQL API: ")
            .and_then(|u| u.strip_suffix("/graphql"))
            .expect("the API's URL")
            .to_string();
        (Running(child), base, lines)
    };
    let get = |url: &str| {
        let out = Command::new("curl")
            .args(["-sS", "-w", "\n%{http_code}", url])
            .output()
            .expect("curl");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (body, code) = text.rsplit_once('\n').expect("a status code");
        (code.to_string(), body.to_string())
    };

    let (_server, base, _out) = start(&["--deployment", dep.to_str().expect("utf8")]);
    let (code, body) = get(&format!("{base}/config.json"));
    assert_eq!(code, "200", "{body}");
    let config: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(config["nodeUrl"], "ws://127.0.0.1:9944");
    assert_eq!(config["graphql"], "/graphql");
    for contract in ["consentRegistry", "recordRegistry"] {
        assert_eq!(
            config[contract]["address"],
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        );
        assert!(
            config[contract]["metadata"]["spec"]["messages"].is_array(),
            "{contract} metadata"
        );
        assert!(
            config[contract]["metadata"]["source"]["wasm"].is_null(),
            "no code sent to browsers"
        );
    }
    let (code, page) = get(&format!("{base}/"));
    assert_eq!(code, "200");
    assert!(
        page.contains("id=\"connect\""),
        "the built page, not the how-to-build one: {page}"
    );
    // GraphiQL comes from this server alone: its page names no other host, and its code and
    // style are served here.
    let (code, graphiql) = get(&format!("{base}/graphql"));
    assert_eq!(code, "200");
    assert!(graphiql.contains("src=\"/graphiql.js\""), "{graphiql}");
    assert!(
        !graphiql.contains("http://") && !graphiql.contains("https://"),
        "GraphiQL loads something from elsewhere: {graphiql}"
    );
    for asset in ["graphiql.js", "graphiql.css"] {
        let (code, body) = get(&format!("{base}/{asset}"));
        assert_eq!(code, "200", "{asset}");
        assert!(body.len() > 10_000, "{asset} is GraphiQL's, not a stub");
        assert!(
            !body.contains("unpkg.com") && !body.contains("cdn.jsdelivr"),
            "{asset}"
        );
    }

    let (_bare, base, _out2) = start(&[]);
    let (code, body) = get(&format!("{base}/config.json"));
    assert_eq!(code, "404");
    assert!(body.contains("medledger serve --deployment FILE"), "{body}");
}

#[test]
fn a_token_for_a_gateway_is_signed_by_the_organization_and_accepted_once() {
    let dir = tempfile::tempdir().expect("dir");
    let gateway = "https://fhir.riverside.example/gateway";
    let out = medledger(
        &[
            "token",
            "--suri",
            "bob",
            "--audience",
            gateway,
            "--purpose",
            "treatment",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{out:?}");
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let verifier = medledger_gateway::token::Verifier::new(gateway, 300);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let claims = verifier
        .verify(&token, now)
        .expect("the gateway accepts it");
    assert_eq!(claims.iss, BOB);
    assert_eq!(claims.pou, "TREAT");
    assert!(claims.exp > now && claims.exp <= now + 61, "{claims:?}");
    assert!(verifier.verify(&token, now).is_err(), "accepted twice");
    assert_one_line_error(
        &medledger(
            &[
                "token",
                "--suri",
                "bob",
                "--audience",
                gateway,
                "--purpose",
                "shopping",
            ],
            dir.path(),
        ),
        "unknown purpose \"shopping\"",
    );
}
