use regex::Regex;

use crate::builtin::{self, CANCELLERS, RESOLVED};
use crate::extract::Fields;
use crate::fold::Folded;
use crate::input::Input;
use crate::verdict::{Escalation, MissingField, Priority, RuleMatch, Span, Verdict};

struct CompiledRule {
    name: &'static str,
    priority: Priority,
    escalation: Escalation,
    patterns: Vec<Regex>,
}

/// A compiled rule set. Cheap to share: classification takes `&self`.
pub struct Engine {
    rules: Vec<CompiledRule>,
    resolved: Vec<Regex>,
}

impl Engine {
    /// The rule set that ships with the binary.
    pub fn builtin() -> Self {
        let rules = builtin::rules()
            .into_iter()
            .map(|(rule, extra)| CompiledRule {
                name: rule.name,
                priority: rule.priority,
                escalation: rule.escalation,
                patterns: rule
                    .patterns
                    .iter()
                    .map(|p| (*p).to_string())
                    .chain(extra)
                    .map(|p| compile(&p))
                    .collect(),
            })
            .collect();
        Engine {
            rules,
            resolved: RESOLVED.iter().map(|p| compile(p)).collect(),
        }
    }

    pub fn classify(&self, input: &Input<'_>) -> Verdict {
        let mut texts = vec![("text", input.text, Folded::new(input.text))];
        if let Some(subject) = input.subject {
            texts.push(("subject", subject, Folded::new(subject)));
        }

        let resolved = texts.iter().find_map(|(field, original, folded)| {
            self.resolved
                .iter()
                .find_map(|re| first_live_match(re, folded))
                .map(|(s, e)| span(field, original, folded, s, e))
        });

        let mut matches: Vec<RuleMatch> = Vec::new();
        for rule in &self.rules {
            let spans: Vec<Span> = texts
                .iter()
                .flat_map(|(field, original, folded)| {
                    rule.patterns.iter().filter_map(move |re| {
                        first_live_match(re, folded).map(|(s, e)| span(field, original, folded, s, e))
                    })
                })
                .collect();
            if !spans.is_empty() {
                matches.push(RuleMatch {
                    rule: rule.name.to_string(),
                    priority: rule.priority,
                    spans,
                });
            }
        }

        let mut tags = Vec::new();
        if let Some(span) = resolved {
            // A problem the customer says is over is not an emergency any more.
            matches.retain(|m| m.priority == Priority::Faq);
            matches.push(RuleMatch {
                rule: "reported_resolved".to_string(),
                priority: Priority::Faq,
                spans: vec![span],
            });
            tags.push("resolved".to_string());
        }

        // Highest priority wins; ties go to the earlier rule (stable order).
        let winner = self
            .rules
            .iter()
            .filter(|r| matches.iter().any(|m| m.rule == r.name))
            .min_by_key(|r| r.priority.rank());
        let (priority, escalation) = winner
            .map(|r| (r.priority, r.escalation))
            .unwrap_or((Priority::Faq, Escalation::None));

        let mut all_text = String::from(input.text);
        if let Some(subject) = input.subject {
            all_text.push('\n');
            all_text.push_str(subject);
        }
        let fields = Fields::extract(&all_text, input.attachments);
        let ask_for = missing(priority, &fields);

        Verdict {
            priority,
            queue: default_queue(priority).to_string(),
            escalation,
            ack_template: format!("ack_{}", priority.as_str()),
            rules: matches,
            fields,
            ask_for,
            tags,
        }
    }
}

fn default_queue(priority: Priority) -> &'static str {
    match priority {
        Priority::Critical => "critical",
        Priority::Important => "experts",
        Priority::Faq => "n1",
    }
}

fn missing(priority: Priority, fields: &Fields) -> Vec<MissingField> {
    if priority == Priority::Faq {
        return Vec::new();
    }
    let mut ask = Vec::new();
    if fields.serials.is_empty() {
        ask.push(MissingField::Machine);
    }
    if fields.fault_codes.is_empty() {
        ask.push(MissingField::FaultCode);
    }
    if priority == Priority::Important {
        ask.push(MissingField::Impact);
    }
    if fields.photos == 0 {
        ask.push(MissingField::Photo);
    }
    ask
}

fn compile(pattern: &str) -> Regex {
    match Regex::new(pattern) {
        Ok(re) => re,
        // Built-in patterns are literals covered by tests; this is a bug, not input.
        Err(e) => panic!("built-in triage pattern {pattern:?} does not compile: {e}"),
    }
}

/// The first match not cancelled by a negation or hypothetical word just before it.
fn first_live_match(re: &Regex, folded: &Folded) -> Option<(usize, usize)> {
    re.find_iter(&folded.text)
        .find(|m| !cancelled(&folded.text[..m.start()]))
        .map(|m| (m.start(), m.end()))
}

fn cancelled(before: &str) -> bool {
    // Only the current clause counts: "ligne arrêtée, pas de blessé" keeps the first part.
    let clause_start = before
        .rfind(['.', '!', '?', ';', ',', '\n', ':'])
        .map(|i| i + 1)
        .unwrap_or(0);
    before[clause_start..]
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .flat_map(|w| {
            // "d'arret" → "d'", "arret"; "n'est" stays whole as a canceller.
            if CANCELLERS.contains(&w) {
                vec![w]
            } else {
                w.split('\'').collect()
            }
        })
        .rev()
        .take(4)
        .any(|w| CANCELLERS.contains(&w))
}

fn span(field: &str, original: &str, folded: &Folded, start: usize, end: usize) -> Span {
    let (s, e) = folded.original_range(start, end, original);
    Span {
        field: field.to_string(),
        start: s,
        end: e,
        text: original.get(s..e).unwrap_or_default().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Channel, History};

    fn classify(text: &str) -> Verdict {
        let history = History::default();
        Engine::builtin().classify(&Input {
            channel: Channel::Webchat,
            from: "visitor",
            subject: None,
            text,
            attachments: &[],
            history: &history,
        })
    }

    #[test]
    fn table() {
        let cases: &[(&str, Priority)] = &[
            ("Ligne 2 arrêtée, code E17", Priority::Critical),
            ("LIGNE ARRETEE depuis ce matin", Priority::Critical),
            ("ligne arete svp rappel", Priority::Critical),
            ("machine HS", Priority::Critical),
            ("Line 3 is down since 6am", Priority::Critical),
            ("There is smoke coming out of the cabinet", Priority::Critical),
            ("un opérateur s'est électrisé sur la presse", Priority::Critical),
            ("emergency stop is not working", Priority::Critical),
            ("pas d'arrêt de ligne, juste une question", Priority::Faq),
            ("no line down, just a question about the manual", Priority::Faq),
            ("que faire si la ligne est arrêtée ?", Priority::Faq),
            ("hier la ligne était arrêtée, c'est reparti", Priority::Faq),
            ("la machine tourne en mode dégradé", Priority::Important),
            ("Bonjour, où trouver la notice ?", Priority::Faq),
        ];
        for (text, expected) in cases {
            assert_eq!(classify(text).priority, *expected, "{text}");
        }
    }

    #[test]
    fn explanation_points_at_the_original_words() {
        let v = classify("Bonjour, la Ligne 2 ARRÊTÉE depuis 8h");
        assert_eq!(v.escalation, Escalation::CallbackVisio);
        assert_eq!(v.rules[0].rule, "line_stopped");
        assert_eq!(v.rules[0].spans[0].text, "Ligne 2 ARRÊTÉE");
        assert_eq!(v.queue, "critical");
    }

    #[test]
    fn asks_for_what_is_missing() {
        let v = classify("Ligne 2 arrêtée, code E17");
        assert_eq!(v.fields.fault_codes, vec!["E17"]);
        assert_eq!(v.ask_for, vec![MissingField::Machine, MissingField::Photo]);
    }
}
