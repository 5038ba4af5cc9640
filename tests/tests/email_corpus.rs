//! The real-world mail corpus beside the project (`../shared/corpus/mail`,
//! another helpdesk's test suite), run through `switchyard email inspect`:
//! every message parses without panic or hang, and sender and subject are
//! what that helpdesk expects. Runs when the corpus is present; the project's
//! own fixtures (channels/tests/fixtures/mail) cover the rest everywhere.

use std::path::{Path, PathBuf};
use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_e2e-switchyard");

/// Files the corpus README says were not stored byte-exact: a mismatch there is a note.
const NOT_EXACT: &[&str] = &[
    "mail015", "mail031", "mail032", "mail044", "mail046", "mail068", "mail069", "mail093", "mail098", "mail099",
    "mail116",
];

/// The corpus when it is beside the project; in CI (`CI=true`) its absence is
/// a failure, elsewhere a note.
fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/mail");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").is_err(),
        "{} is missing: CI must have ../shared beside the project",
        dir.display()
    );
    println!(
        "note: {} not found; the corpus check does not apply here",
        dir.display()
    );
    None
}

/// A top-level scalar of the expected YAML (single- or double-quoted or plain, one line).
fn yaml_scalar(yaml: &str, key: &str) -> Option<String> {
    let line = yaml.lines().find(|l| l.starts_with(&format!("{key}:")))?;
    let v = line[key.len() + 1..].trim();
    if let Some(inner) = v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        return Some(inner.replace("''", "'"));
    }
    if v.starts_with('"') {
        return serde_json::from_str::<String>(v).ok();
    }
    Some(v.to_string())
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_shared_corpus_goes_through_inspect() {
    let Some(dir) = corpus() else { return };
    let mut boxes: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "box"))
                .collect()
        })
        .unwrap_or_default();
    boxes.sort();
    assert!(!boxes.is_empty());
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    let mut checked = 0;
    let mut without_expected = Vec::new();
    for path in &boxes {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let output = Command::new(BINARY).args(["email", "inspect"]).arg(path).output();
        let Ok(output) = output else {
            failures.push(format!("{stem}: could not run inspect"));
            continue;
        };
        if !output.status.success() {
            failures.push(format!(
                "{stem}: inspect failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
            continue;
        }
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(&output.stdout) else {
            failures.push(format!("{stem}: inspect printed no JSON"));
            continue;
        };
        let short = stem.split('-').next().unwrap_or(&stem).to_string();
        let expected = dir.join("expected");
        let yaml = std::fs::read_to_string(expected.join(format!("{stem}.yml")))
            .or_else(|_| std::fs::read_to_string(expected.join(format!("{short}.yml"))));
        let Ok(yaml) = yaml else {
            // Parsed (above) but with nothing to compare against.
            without_expected.push(stem);
            continue;
        };
        checked += 1;
        let mut problems = Vec::new();
        if let Some(from) = yaml_scalar(&yaml, "from_email") {
            let got = json["from"]["address"].as_str().unwrap_or_default();
            if !got.eq_ignore_ascii_case(from.trim()) {
                problems.push(format!("from {got:?}, expected {from:?}"));
            }
        }
        if let Some(subject) = yaml_scalar(&yaml, "subject") {
            let got = json["subject"].as_str().unwrap_or_default();
            if squash(got) != squash(&subject) {
                problems.push(format!("subject {got:?}, expected {subject:?}"));
            }
        }
        // "no visible content" is that helpdesk's placeholder for an empty body.
        let expects_body =
            yaml_scalar(&yaml, "body").is_some_and(|b| !b.trim().is_empty() && b != "|-" && b != "no visible content");
        let has_body = !json["text"].as_str().unwrap_or_default().trim().is_empty()
            || json["html"].as_str().is_some_and(|h| !h.trim().is_empty());
        if expects_body && !has_body {
            problems.push("no body found".into());
        }
        for p in problems {
            if NOT_EXACT.contains(&short.as_str()) {
                notes.push(format!("{stem}: {p} (stored copy not byte-exact)"));
            } else {
                failures.push(format!("{stem}: {p}"));
            }
        }
    }
    for n in &notes {
        eprintln!("note: {n}");
    }
    eprintln!(
        "{} messages inspected, {checked} compared with expected/; no expected file: {without_expected:?}",
        boxes.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The corpus ships an expected file for all but a few messages: a lookup
    // that silently finds none must not pass as a check.
    assert!(
        checked * 10 >= boxes.len() * 9,
        "only {checked} of {} messages had an expected file: {without_expected:?}",
        boxes.len()
    );
}
