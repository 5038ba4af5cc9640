//! The email normaliser against the project's own fixture corpus
//! (`tests/fixtures/mail`, each with its expectations in `expected.toml`), plus
//! generated edge cases: a 10 MB attachment, truncated and garbage input.

use std::path::Path;

use channels::email::{Normalised, Options, Own, normalise};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Manifest {
    mail: Vec<Expected>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Expected {
    file: String,
    from: String,
    subject: Option<String>,
    text: Option<String>,
    text_contains: Option<String>,
    quoted_contains: Option<String>,
    html_lacks: Vec<String>,
    html_contains: Vec<String>,
    /// Content-ID of each attachment, in order ("" for none).
    content_ids: Option<Vec<String>>,
    attachments: Option<Vec<String>>,
    auto: Vec<String>,
    bounce_of: Option<String>,
    bounce_status: Option<String>,
    message_id: Option<String>,
    synthesised_id: bool,
    in_reply_to: Option<Vec<String>>,
    references: Option<Vec<String>>,
    ticket_tag: Option<String>,
    cc: Option<Vec<String>>,
    warning_contains: Option<String>,
}

const OWN: &str = "sav@maker.test";

fn run(raw: &[u8], limit: usize) -> Normalised {
    let own = vec![OWN.to_string()];
    normalise(
        raw,
        &Options {
            own: Own {
                addresses: &own,
                loop_value: "test-node",
            },
            max_attachment_bytes: limit,
        },
    )
}

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mail")
}

fn check(e: &Expected, n: &Normalised) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            problems.push(what);
        }
    };
    expect(n.from.address == e.from, format!("from {:?}", n.from.address));
    if e.subject.is_some() {
        expect(n.subject == e.subject, format!("subject {:?}", n.subject));
    }
    if let Some(t) = &e.text {
        expect(&n.text == t, format!("text {:?}", n.text));
    }
    if let Some(t) = &e.text_contains {
        expect(n.text.contains(t.as_str()), format!("text {:?} lacks {t:?}", n.text));
    }
    if let Some(q) = &e.quoted_contains {
        let quoted = n.quoted.as_deref().unwrap_or_default();
        expect(quoted.contains(q.as_str()), format!("quoted {quoted:?} lacks {q:?}"));
        expect(
            !n.text.contains(q.as_str()),
            format!("quoted text {q:?} left in the new text"),
        );
    }
    for bad in &e.html_lacks {
        let html = n.html.as_deref().unwrap_or_default();
        expect(
            !html.contains(bad.as_str()),
            format!("sanitised HTML still has {bad:?}"),
        );
    }
    for wanted in &e.html_contains {
        let html = n.html.as_deref().unwrap_or_default();
        expect(
            html.contains(wanted.as_str()),
            format!("sanitised HTML {html:?} lacks {wanted:?}"),
        );
    }
    if let Some(ids) = &e.content_ids {
        let got: Vec<&str> = n
            .attachments
            .iter()
            .map(|a| a.content_id.as_deref().unwrap_or_default())
            .collect();
        expect(got == *ids, format!("content ids {got:?}"));
    }
    if let Some(names) = &e.attachments {
        let got: Vec<&str> = n.attachments.iter().map(|a| a.name.as_str()).collect();
        expect(got == *names, format!("attachments {got:?}"));
        expect(
            n.attachments.iter().all(|a| a.kept && a.bytes.len() == a.size),
            "attachment bytes not kept".into(),
        );
    }
    let flags = n.auto.flags;
    let got_auto: Vec<&str> = [
        ("auto_reply", flags.auto_reply),
        ("bounce", flags.bounce),
        ("list", flags.list),
        ("own", flags.own),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .map(|(name, _)| name)
    .collect();
    expect(got_auto == e.auto, format!("auto {got_auto:?} ({:?})", n.auto.reasons));
    expect(n.bounce_of == e.bounce_of, format!("bounce_of {:?}", n.bounce_of));
    if let Some(status) = &e.bounce_status {
        let got = n.bounce.as_ref().and_then(|b| b.status.clone());
        expect(
            got.as_deref() == Some(status.as_str()),
            format!("bounce status {got:?}"),
        );
    }
    if let Some(id) = &e.message_id {
        expect(&n.message_id == id, format!("message id {:?}", n.message_id));
    }
    expect(
        n.message_id_synthesised == e.synthesised_id,
        format!("synthesised id {}", n.message_id_synthesised),
    );
    if let Some(ids) = &e.in_reply_to {
        expect(
            n.thread_hints.in_reply_to == *ids,
            format!("in_reply_to {:?}", n.thread_hints.in_reply_to),
        );
    }
    if let Some(ids) = &e.references {
        expect(
            n.thread_hints.references == *ids,
            format!("references {:?}", n.thread_hints.references),
        );
    }
    expect(
        n.thread_hints.ticket_tag == e.ticket_tag,
        format!("ticket tag {:?}", n.thread_hints.ticket_tag),
    );
    if let Some(cc) = &e.cc {
        let got: Vec<&str> = n.cc.iter().map(|p| p.address.as_str()).collect();
        expect(got == *cc, format!("cc {got:?}"));
    }
    if let Some(w) = &e.warning_contains {
        expect(
            n.warnings.iter().any(|x| x.contains(w.as_str())),
            format!("warnings {:?}", n.warnings),
        );
    } else {
        expect(n.warnings.is_empty(), format!("unexpected warnings {:?}", n.warnings));
    }
    problems
}

#[test]
fn every_fixture_normalises_as_expected() {
    let dir = fixtures();
    let manifest = std::fs::read_to_string(dir.join("expected.toml")).unwrap_or_default();
    let manifest: Manifest = match toml::from_str(&manifest) {
        Ok(m) => m,
        Err(e) => panic!("expected.toml: {e}"),
    };
    assert!(manifest.mail.len() >= 25, "the corpus must stay at 25 mails or more");
    let mut listed: Vec<&str> = manifest.mail.iter().map(|m| m.file.as_str()).collect();
    listed.sort_unstable();
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.ends_with(".eml"))
                .collect()
        })
        .unwrap_or_default();
    on_disk.sort_unstable();
    assert_eq!(
        listed, on_disk,
        "every fixture has expectations and every expectation a fixture"
    );

    let mut failures = Vec::new();
    for e in &manifest.mail {
        let raw = std::fs::read(dir.join(&e.file)).unwrap_or_default();
        let n = run(&raw, 25 * 1024 * 1024);
        for p in check(e, &n) {
            failures.push(format!("{}: {p}", e.file));
        }
        // Same bytes, same keys: a redelivery dedupes.
        assert_eq!(run(&raw, 25 * 1024 * 1024).dedupe_key, n.dedupe_key, "{}", e.file);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn with_attachment(size: usize) -> Vec<u8> {
    let mut raw = String::from(
        "From: Big <big@plant.test>\r\nTo: sav@maker.test\r\nSubject: Big log\r\nMessage-ID: <big@plant.test>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain\r\n\r\nLog attached.\r\n--b\r\nContent-Type: application/octet-stream\r\n\
         Content-Disposition: attachment; filename=\"machine.log\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    let payload: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&payload);
    for chunk in encoded.as_bytes().chunks(76) {
        raw.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        raw.push_str("\r\n");
    }
    raw.push_str("--b--\r\n");
    raw.into_bytes()
}

#[test]
fn a_ten_megabyte_attachment_is_kept_whole() {
    let size = 10 * 1024 * 1024;
    let n = run(&with_attachment(size), 25 * 1024 * 1024);
    assert_eq!(n.text, "Log attached.");
    assert_eq!(n.attachments.len(), 1);
    assert_eq!(n.attachments[0].size, size);
    assert_eq!(n.attachments[0].bytes.len(), size);
    assert!(n.warnings.is_empty(), "{:?}", n.warnings);
}

#[test]
fn an_attachment_over_the_limit_is_named_but_not_kept() {
    let n = run(&with_attachment(300_000), 100_000);
    assert_eq!(n.attachments.len(), 1);
    assert!(!n.attachments[0].kept);
    assert!(n.attachments[0].bytes.is_empty());
    assert!(n.warnings.iter().any(|w| w.contains("machine.log")), "{:?}", n.warnings);
}

/// What must hold of any input, however broken: an id to store and dedupe it
/// by, the same on a second reading (a replay stores nothing twice), and
/// either something readable or a warning that says it is not.
fn check_usable(n: &Normalised, again: &Normalised, what: &str) {
    assert!(!n.message_id.is_empty() && !n.dedupe_key.is_empty(), "{what}: no id");
    assert_eq!(n.dedupe_key, again.dedupe_key, "{what}: not deterministic");
    let readable = !n.text.trim().is_empty()
        || n.html.is_some()
        || !n.attachments.is_empty()
        || n.subject.as_deref().is_some_and(|s| !s.is_empty());
    assert!(
        readable || !n.warnings.is_empty(),
        "{what}: nothing readable and no warning"
    );
}

#[test]
fn truncated_and_garbage_input_is_stored_with_an_id_and_a_warning() {
    let dir = fixtures();
    let path = dir.join("06-nested-inline.eml");
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let whole = run(&raw, 1024);
    let header_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("the fixture has no header/body boundary"));
    let mut cuts = 0;
    for cut in (0..raw.len()).step_by(37) {
        let n = run(&raw[..cut], 1024);
        check_usable(&n, &run(&raw[..cut], 1024), &format!("cut at {cut}"));
        // Once the headers are whole, who wrote it survives the cut.
        if cut > header_end + 4 {
            assert_eq!(n.from.address, whole.from.address, "cut at {cut}");
            assert_eq!(n.message_id, whole.message_id, "cut at {cut}");
        }
        cuts += 1;
    }
    assert!(cuts > 10, "the fixture is too short to cut: {} bytes", raw.len());
    for garbage in [
        &b""[..],
        b"\r\n\r\n",
        b":::",
        b"From:\r\n\r\n",
        b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n",
    ] {
        let what = String::from_utf8_lossy(garbage).into_owned();
        check_usable(&run(garbage, 1024), &run(garbage, 1024), &what);
    }
    let empty = run(b"", 1024);
    assert!(
        empty.warnings.iter().any(|w| w.contains("not a readable MIME message")),
        "{:?}",
        empty.warnings
    );
}

/// Every input the fuzzer (`scripts/fuzz.sh`, target `mime`) found crashing
/// is kept in `tests/fixtures/fuzz/mime`; each must now normalise to a
/// usable message.
#[test]
fn inputs_the_fuzzer_found_crashing_are_usable_messages() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz/mime");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let what = path.display().to_string();
        check_usable(&run(&raw, 1024), &run(&raw, 1024), &what);
        checked += 1;
    }
    assert!(checked >= 1, "no fuzz regression inputs in {}", dir.display());
    // mail-parser 0.11 panics inside this one: it is kept, marked unreadable.
    let raw = std::fs::read(dir.join("parser-panic-nested-rfc822.eml")).unwrap_or_else(|e| panic!("{e}"));
    let n = run(&raw, 1024);
    assert!(
        n.warnings.iter().any(|w| w.contains("MIME parser failed")),
        "{:?}",
        n.warnings
    );
    assert!(n.text.contains("could not be read"), "{}", n.text);
}
