//! README.md's walk-through, run as written: every `sh` block of its "Walk through it"
//! section, command by command and in order, against `medledger dev`, each checked for the
//! exit status the README states (`# …: exit N` at the end of a line; none stated means 0),
//! then its GraphQL block against the API. The README cannot drift from what the commands do.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// One command of the walk-through, and the exit status the README gives it.
#[derive(Debug)]
struct Step {
    command: String,
    status: i32,
}

/// The section of `readme` under `heading`, up to the next `## ` heading.
fn section<'a>(readme: &'a str, heading: &str) -> &'a str {
    let start = readme
        .find(heading)
        .unwrap_or_else(|| panic!("README.md has no {heading:?}"));
    let rest = &readme[start + heading.len()..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

/// The contents of the fenced blocks of `lang` in `text`.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let open = format!("```{lang}\n");
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&open) {
        let body = &rest[start + open.len()..];
        let end = body.find("```").expect("a closed block");
        found.push(body[..end].to_string());
        rest = &body[end + 3..];
    }
    found
}

/// The commands of a shell block: continuation lines joined, comments and the `alias` the
/// README sets up left out (the test defines `medledger` itself).
fn steps(block: &str) -> Vec<Step> {
    let joined = block.replace("\\\n", " ");
    joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("alias "))
        .map(|line| {
            let (command, comment) = match line.split_once(" # ") {
                Some((c, comment)) => (c.trim(), comment),
                None => (line, ""),
            };
            let status = comment
                .rsplit_once("exit ")
                .and_then(|(_, n)| n.trim().parse().ok())
                .unwrap_or(0);
            Step {
                command: command.to_string(),
                status,
            }
        })
        .collect()
}

#[test]
fn the_walk_through_in_the_readme_runs_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let walk = section(&readme, "## Walk through it");
    let steps: Vec<Step> = blocks(walk, "sh").iter().flat_map(|b| steps(b)).collect();
    assert!(steps.len() >= 20, "the walk-through shrank: {steps:?}");
    assert!(
        steps.iter().any(|s| s.status != 0),
        "the statuses stated were not found: {steps:?}"
    );

    let dir = tempfile::tempdir().expect("dir");
    let dev = common::spawn_dev(dir.path());
    let base = dev.graphql.trim_end_matches("/graphql").to_string();
    // A person reads the API a moment after the chain; the test waits until the mirror has
    // the last block a command reported, so that a command reading the API sees it.
    let mut last_block = 0;
    for step in &steps {
        wait_for_block(&dev.graphql, last_block);
        let stdout = run(dir.path(), &base, &dev.graphql, step);
        last_block = last_block.max(reported_block(&stdout));
    }

    // The GraphQL block answers, with what the commands did.
    let query = blocks(walk, "graphql")
        .into_iter()
        .next()
        .expect("a GraphQL block");
    let started = Instant::now();
    loop {
        let answer = common::graphql(&dev.graphql, &query);
        let kinds: Vec<&str> = answer["data"]["auditTrail"]["nodes"]
            .as_array()
            .map(|n| n.iter().filter_map(|e| e["kind"].as_str()).collect())
            .unwrap_or_default();
        if answer["errors"].is_null() && kinds.contains(&"AccessDenied") {
            assert_eq!(
                answer["data"]["consents"]["nodes"].as_array().map(Vec::len),
                Some(2),
                "{answer}"
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the README's query does not show the walk-through: {answer}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    drop(dev);
}

/// Runs `step` in `dir` with `medledger` being the binary under test and the README's API
/// address being this dev's.
fn run(dir: &Path, base: &str, graphql: &str, step: &Step) -> String {
    let command = step.command.replace("http://127.0.0.1:8080", base);
    let script = format!("medledger() {{ \"$MEDLEDGER_BIN\" \"$@\"; }}\n{command}");
    let out = Command::new("bash")
        .args(["-c", &script])
        .current_dir(dir)
        .env("MEDLEDGER_BIN", common::BIN)
        .env("MEDLEDGER_API", graphql)
        .env("RUST_LOG", "off")
        .env_remove("MEDLEDGER_SURI")
        .env_remove("MEDLEDGER_KEY_FILE")
        .env_remove("MEDLEDGER_DEPLOYMENT")
        .output()
        .expect("run bash");
    assert_eq!(
        out.status.code(),
        Some(step.status),
        "README.md: `{}` exited {} where the README says {}\nstdout: {}\nstderr: {}",
        step.command,
        out.status,
        step.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The block a signing command said its transaction landed in (`(block #N)`), or 0.
fn reported_block(stdout: &str) -> u64 {
    stdout
        .rsplit_once("(block #")
        .and_then(|(_, rest)| rest.split(')').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Waits until the API has indexed block `number`.
fn wait_for_block(graphql: &str, number: u64) {
    let started = Instant::now();
    while
        common::graphql(graphql, "{ indexerStatus { indexedBlock } }")["data"]["indexerStatus"]["indexedBlock"]
            .as_u64()
            .is_none_or(|b| b < number)
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the API never indexed block #{number}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
