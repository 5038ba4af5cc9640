//! A report as a sequence of blocks in its language, so the Markdown and the
//! PDF say the same thing in the same order.

use chrono_tz::Tz;

use super::content::{ReportContent, labels};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Title(String),
    /// A line under the title: the status (draft, validated by whom and when).
    Status(String),
    /// A short fact: label, value, and what goes between them in the language.
    Fact(&'static str, String, &'static str),
    /// A section with its text (several lines).
    Section(&'static str, String),
    /// A section listing items.
    List(&'static str, Vec<String>),
}

/// Who validated the report and when, if it is.
pub struct Validation<'a> {
    pub by: &'a str,
    pub at: i64,
}

pub fn local(tz: Tz, at: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// The blocks of a report; empty facts and sections are left out.
pub fn blocks(c: &ReportContent, validation: Option<&Validation<'_>>, tz: Tz) -> Vec<Block> {
    let l = labels(&c.language);
    let mut out = vec![Block::Title(format!("{} — {}", l.heading, c.title))];
    out.push(Block::Status(match validation {
        Some(v) => format!("{} {}, {} ({})", l.validated, v.by, local(tz, v.at), tz.name()),
        None => l.draft.to_string(),
    }));
    let facts = [
        (l.customer, c.customer.clone()),
        (l.machine, c.machine.clone()),
        (l.serial, c.serial.clone()),
        (l.fault_codes, c.fault_codes.join(", ")),
        (l.impact, c.impact.clone()),
    ];
    out.extend(
        facts
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(label, v)| Block::Fact(label, v, l.colon)),
    );
    for (label, text) in [
        (l.symptom, &c.symptom),
        (l.diagnosis, &c.diagnosis),
        (l.actions, &c.actions),
        (l.result, &c.result),
        (l.recommendations, &c.recommendations),
    ] {
        if !text.trim().is_empty() {
            out.push(Block::Section(label, text.trim().to_string()));
        }
    }
    let stamp = |label: &str, at: Option<i64>| at.map(|at| format!("{label}{}{}", l.colon, local(tz, at)));
    let mut times: Vec<String> = [
        stamp(l.opened, c.times.opened),
        stamp(l.first_response, c.times.first_response),
    ]
    .into_iter()
    .flatten()
    .collect();
    for e in &c.times.escalations {
        let kind = if e.kind == "callback" { l.callback } else { l.video };
        let outcome = e.outcome.as_deref().map(|o| format!(" ({o})")).unwrap_or_default();
        times.push(format!("{kind}{}{}{outcome}", l.colon, local(tz, e.at)));
    }
    times.extend(stamp(l.resolved, c.times.resolved));
    if !times.is_empty() {
        out.push(Block::List(l.times, times));
    }
    if !c.people.is_empty() {
        out.push(Block::List(l.people, c.people.clone()));
    }
    if !c.photos.is_empty() {
        out.push(Block::List(l.photos, c.photos.iter().map(|p| p.name.clone()).collect()));
    }
    out
}
