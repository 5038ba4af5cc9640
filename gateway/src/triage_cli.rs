//! `switchyard triage check FILE`, `switchyard triage classify` and `switchyard triage eval FILE`.

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;
use serde_json::json;
use triage::{Channel, Engine, Input, RuleSet};

use crate::config::TriageConfig;

/// Validates a rule file; prints every mistake with line and column.
pub fn check(file: &Path, out: &mut impl Write) -> anyhow::Result<bool> {
    let source = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    match RuleSet::parse(&source) {
        Ok(rules) => {
            writeln!(
                out,
                "{}: ok ({} rules, {} keyword phrases, {} regexes)",
                file.display(),
                rules.rules.len(),
                rules.phrase_count(),
                rules.regex_count()
            )?;
            Ok(true)
        }
        Err(errors) => {
            for e in &errors.0 {
                writeln!(out, "{}:{}:{}: {}", file.display(), e.line, e.column, e.message)?;
                if let Some(hint) = &e.hint {
                    writeln!(out, "  hint: {hint}")?;
                }
            }
            Ok(false)
        }
    }
}

#[derive(Deserialize)]
struct Line {
    id: serde_json::Value,
    channel: String,
    #[serde(default)]
    from: String,
    subject: Option<String>,
    text: String,
}

fn engine(rules: Option<&Path>, kb: Option<&Path>) -> anyhow::Result<Engine> {
    let config = TriageConfig {
        rules: rules.map(Path::to_path_buf).unwrap_or_default(),
        knowledge_base: kb.map(Path::to_path_buf).unwrap_or_default(),
        ..TriageConfig::default()
    };
    // The files only: entries published from the inbox live in the gateway's store.
    crate::triage_service::load_engine(&config, &[]).map_err(anyhow::Error::msg)
}

/// Scores the rules on a labelled JSON Lines file. False when a line could not be read
/// (each is reported with its number; the others are still scored).
pub fn eval(file: &Path, rules: Option<&Path>, kb: Option<&Path>, out: &mut impl Write) -> anyhow::Result<bool> {
    let source = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let engine = engine(rules, kb)?;
    let (cases, errors) = triage::eval::parse_jsonl(&source);
    for e in &errors {
        writeln!(out, "{}:{e}", file.display())?;
    }
    if cases.is_empty() {
        writeln!(out, "{}: no labelled message to score", file.display())?;
        return Ok(false);
    }
    write!(out, "{}", triage::eval::Scorecard::evaluate(&engine, &cases))?;
    out.flush()?;
    Ok(errors.is_empty())
}

/// JSON Lines in, one verdict per line out. A bad line gets an error line, never a stop.
pub fn classify(
    rules: Option<&Path>,
    kb: Option<&Path>,
    input: impl BufRead,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let engine = engine(rules, kb)?;
    for (n, line) in input.lines().enumerate() {
        let line = line.context("reading standard input")?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = match serde_json::from_str::<Line>(&line) {
            Err(e) => json!({"line": n + 1, "error": format!("not a message: {e}")}),
            Ok(m) => match Channel::parse(&m.channel) {
                None => {
                    json!({"id": m.id, "line": n + 1, "error": format!("unknown channel {:?}: use email, webchat or whatsapp", m.channel)})
                }
                Some(channel) => {
                    let mut input = Input::text(channel, &m.from, &m.text);
                    input.subject = m.subject.as_deref();
                    let v = engine.classify(&input);
                    json!({
                        "id": m.id,
                        "priority": v.priority,
                        "queue": v.queue,
                        "escalation": v.escalation,
                        "rules": v.rules,
                        "fields": v.fields,
                        "ask_for": v.ask_for,
                        "faq": v.faq,
                        "language": v.language,
                        "tags": v.tags,
                        "ack_template": v.ack_template,
                    })
                }
            },
        };
        writeln!(out, "{answer}")?;
    }
    out.flush()?;
    Ok(())
}
