//! Scoring rules on labelled messages: a confusion matrix, precision and
//! recall per class, and every miss with the rules that fired and the words
//! they matched. Used by `switchyard triage eval` and by the tables in tests.

use std::fmt;

use serde::Deserialize;

use crate::engine::Engine;
use crate::input::{Channel, Input};
use crate::verdict::{Priority, RuleMatch};

/// One labelled message.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub id: String,
    pub expected: Priority,
    pub channel: Channel,
    pub from: String,
    pub subject: Option<String>,
    pub text: String,
    /// The language the channel reported, when it did (not the labeller's note).
    pub language: Option<String>,
}

/// A line that is not a labelled message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CaseError {
    pub line: usize,
    pub message: String,
}

#[derive(Deserialize)]
struct JsonCase {
    #[serde(default)]
    id: Option<serde_json::Value>,
    channel: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    subject: Option<String>,
    text: String,
    expected: String,
    /// Only a channel-reported language is a hint; `lang` (a labeller's note) is ignored.
    #[serde(default)]
    language: Option<String>,
}

/// JSON Lines: `{"id", "channel", "from", "subject", "text", "expected"}` per line.
/// Every bad line is reported; the good ones are kept.
pub fn parse_jsonl(source: &str) -> (Vec<Case>, Vec<CaseError>) {
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in source.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let err = |message: String| CaseError { line: line_no, message };
        let parsed: JsonCase = match serde_json::from_str(line) {
            Ok(c) => c,
            Err(e) => {
                errors.push(err(format!("not a labelled message: {e}")));
                continue;
            }
        };
        let Some(expected) = Priority::parse(&parsed.expected) else {
            errors.push(err(format!(
                "unknown label {:?}: use critical, important or faq",
                parsed.expected
            )));
            continue;
        };
        let Some(channel) = Channel::parse(&parsed.channel) else {
            errors.push(err(format!(
                "unknown channel {:?}: use email, webchat or whatsapp",
                parsed.channel
            )));
            continue;
        };
        let id = match parsed.id {
            Some(serde_json::Value::String(s)) => s,
            Some(other) => other.to_string(),
            None => format!("line {line_no}"),
        };
        cases.push(Case {
            id,
            expected,
            channel,
            from: parsed.from,
            subject: parsed.subject,
            text: parsed.text,
            language: parsed.language,
        });
    }
    (cases, errors)
}

/// The project's tables: `expected<TAB>channel<TAB>lang<TAB>text`, `\n` for a
/// line break, `#` for comments. The third column is a note, not a hint.
pub fn parse_tsv(source: &str) -> (Vec<Case>, Vec<CaseError>) {
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in source.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.splitn(4, '\t').collect();
        let (Some(expected), Some(channel), Some(text)) = (
            cols.first().and_then(|c| Priority::parse(c)),
            cols.get(1).and_then(|c| Channel::parse(c)),
            cols.get(3),
        ) else {
            errors.push(CaseError {
                line: line_no,
                message: "expected label, channel, language and text separated by tabs".into(),
            });
            continue;
        };
        cases.push(Case {
            id: format!("line {line_no}"),
            expected,
            channel,
            from: "customer@example.com".into(),
            subject: None,
            text: text.replace("\\n", "\n"),
            language: None,
        });
    }
    (cases, errors)
}

/// A message classified other than its label.
#[derive(Debug, Clone)]
pub struct Miss {
    pub id: String,
    pub expected: Priority,
    pub got: Priority,
    pub rules: Vec<RuleMatch>,
    pub text: String,
}

const CLASSES: [Priority; 3] = [Priority::Critical, Priority::Important, Priority::Faq];

fn slot(p: Priority) -> usize {
    match p {
        Priority::Critical => 0,
        Priority::Important => 1,
        Priority::Faq => 2,
    }
}

/// What a rule set did on a labelled set.
#[derive(Debug, Clone, Default)]
pub struct Scorecard {
    /// `confusion[expected][got]`, critical, important, faq.
    confusion: [[usize; 3]; 3],
    pub misses: Vec<Miss>,
}

impl Scorecard {
    /// Classifies every case with `engine`.
    pub fn evaluate(engine: &Engine, cases: &[Case]) -> Scorecard {
        let mut card = Scorecard::default();
        for case in cases {
            let mut input = Input::text(case.channel, &case.from, &case.text);
            input.subject = case.subject.as_deref();
            input.language = case.language.as_deref();
            let verdict = engine.classify(&input);
            card.confusion[slot(case.expected)][slot(verdict.priority)] += 1;
            if verdict.priority != case.expected {
                card.misses.push(Miss {
                    id: case.id.clone(),
                    expected: case.expected,
                    got: verdict.priority,
                    rules: verdict.rules,
                    text: case.text.clone(),
                });
            }
        }
        card
    }

    pub fn count(&self, expected: Priority, got: Priority) -> usize {
        self.confusion[slot(expected)][slot(got)]
    }

    pub fn total(&self) -> usize {
        self.confusion.iter().flatten().sum()
    }

    pub fn accuracy(&self) -> f64 {
        let right: usize = CLASSES.iter().map(|&c| self.count(c, c)).sum();
        ratio(right, self.total())
    }

    pub fn precision(&self, class: Priority) -> f64 {
        let predicted: usize = CLASSES.iter().map(|&e| self.count(e, class)).sum();
        ratio(self.count(class, class), predicted)
    }

    pub fn recall(&self, class: Priority) -> f64 {
        let actual: usize = CLASSES.iter().map(|&g| self.count(class, g)).sum();
        ratio(self.count(class, class), actual)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

impl fmt::Display for Scorecard {
    /// The matrix, the scores, then every miss with its evidence.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "expected \\ got   critical important   faq")?;
        for e in CLASSES {
            writeln!(
                f,
                "{:<16} {:>8} {:>9} {:>5}",
                e.as_str(),
                self.count(e, Priority::Critical),
                self.count(e, Priority::Important),
                self.count(e, Priority::Faq)
            )?;
        }
        writeln!(f)?;
        writeln!(f, "class      precision recall")?;
        for c in CLASSES {
            writeln!(
                f,
                "{:<10} {:>9.3} {:>6.3}",
                c.as_str(),
                self.precision(c),
                self.recall(c)
            )?;
        }
        writeln!(f, "accuracy {:.3} on {} messages", self.accuracy(), self.total())?;
        if !self.misses.is_empty() {
            writeln!(f, "\n{} misses:", self.misses.len())?;
        }
        for m in &self.misses {
            let fired: Vec<String> = m
                .rules
                .iter()
                .map(|r| {
                    let words: Vec<&str> = r.spans.iter().map(|s| s.text.as_str()).collect();
                    format!("{} {:?}", r.rule, words)
                })
                .collect();
            let fired = if fired.is_empty() {
                "no rule".to_string()
            } else {
                fired.join(", ")
            };
            let text: String = m.text.replace('\n', " ").chars().take(160).collect();
            writeln!(
                f,
                "{}: expected {}, got {} ({fired}): {text}",
                m.id,
                m.expected.as_str(),
                m.got.as_str()
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_lines_and_reports_bad_ones() {
        let src = concat!(
            r#"{"id":"a","channel":"webchat","text":"Ligne 2 arrêtée","expected":"critical","lang":"fr"}"#,
            "\n\n",
            r#"{"id":"b","channel":"fax","text":"x","expected":"faq"}"#,
            "\n",
            r#"{"id":"c","channel":"email","text":"x","expected":"urgent"}"#,
            "\nnot json\n",
        );
        let (cases, errors) = parse_jsonl(src);
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].id, "a");
        assert_eq!(cases[0].language, None, "a labeller's `lang` is not a channel hint");
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        assert!(errors[0].message.contains("fax"), "{}", errors[0]);
    }

    #[test]
    fn scores_a_confusion_matrix() {
        let card = Scorecard {
            confusion: [[8, 1, 1], [0, 5, 5], [0, 0, 10]],
            ..Scorecard::default()
        };
        assert!((card.accuracy() - 23.0 / 30.0).abs() < 1e-9);
        assert!((card.recall(Priority::Critical) - 0.8).abs() < 1e-9);
        assert!((card.precision(Priority::Faq) - 10.0 / 16.0).abs() < 1e-9);
        assert!((card.precision(Priority::Important) - 5.0 / 6.0).abs() < 1e-9);
        let shown = card.to_string();
        assert!(shown.contains("accuracy 0.767 on 30 messages"), "{shown}");
    }
}
