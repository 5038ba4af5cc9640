//! Validation and compilation of a rule file.

use std::collections::HashMap;

use regex::Regex;
use toml::Spanned;

use super::error::{Positions, RuleError, RuleErrors};
use super::file::{Condition, RuleDef, RuleFile};
use super::model::{Cond, FieldKind, HistorySame, Lang, Rule};
use crate::fold::fold_phrase;
use crate::input::{AttachmentKind, Channel};
use crate::matcher::{NegationWords, Phrase, Scanner};
use crate::verdict::{Escalation, MissingField, Priority};

/// A validated, compiled rule file: the only thing the engine evaluates.
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub scanner: Scanner,
    pub default_priority: Priority,
    pub default_queue: String,
    pub default_ack: String,
    pub queues_by_priority: HashMap<Priority, String>,
    pub models: Vec<Regex>,
}

impl RuleSet {
    /// Parses and validates; every mistake is reported, with line and column.
    pub fn parse(source: &str) -> Result<RuleSet, RuleErrors> {
        let pos = Positions::new(source);
        let file: RuleFile = toml::from_str(source).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            RuleErrors(vec![pos.error(
                offset,
                e.message().trim().to_string(),
                Some("check the TOML syntax; the keys are described in docs/triage-rules.md".into()),
            )])
        })?;
        Compiler {
            pos,
            errors: Vec::new(),
            set_ids: HashMap::new(),
        }
        .compile(file)
    }

    /// The rules that ship with the binary.
    pub fn builtin() -> RuleSet {
        match RuleSet::parse(super::DEFAULT_RULES) {
            Ok(set) => set,
            // The shipped file is tested; failing here is a build defect, not input.
            Err(e) => panic!("the built-in rule file is invalid:\n{e}"),
        }
    }

    pub fn phrase_count(&self) -> usize {
        self.scanner.phrase_count()
    }

    pub fn regex_count(&self) -> usize {
        self.scanner.regex_count()
    }
}

struct Compiler<'a> {
    pos: Positions<'a>,
    errors: Vec<RuleError>,
    set_ids: HashMap<String, usize>,
}

const ESCALATIONS: &str = "none, callback, visio or callback+visio";

impl Compiler<'_> {
    fn err<T>(&mut self, span: std::ops::Range<usize>, message: impl Into<String>, hint: Option<String>) -> Option<T> {
        self.errors.push(self.pos.error(span.start, message, hint));
        None
    }

    fn compile(mut self, file: RuleFile) -> Result<RuleSet, RuleErrors> {
        if *file.version.get_ref() != 1 {
            self.err::<()>(
                file.version.span(),
                "unsupported rule file version",
                Some("use version = 1".into()),
            );
        }
        let default_priority = self.priority(&file.defaults.priority).unwrap_or(Priority::Faq);

        // Keyword sets become phrases of one automaton.
        let mut phrases = Vec::new();
        let mut negatable = Vec::new();
        let mut set_names = Vec::new();
        for (id, (name, set)) in file.keywords.iter().enumerate() {
            self.set_ids.insert(name.clone(), id);
            set_names.push(name.clone());
            let set_span = set.span();
            let set = set.get_ref();
            negatable.push(set.negatable);
            let langs = [
                (Lang::Fr, &set.fr),
                (Lang::En, &set.en),
                (Lang::De, &set.de),
                (Lang::Es, &set.es),
                (Lang::It, &set.it),
                (Lang::Any, &set.any),
            ];
            let mut count = 0;
            for (lang, list) in langs {
                for phrase in list {
                    let folded = fold_phrase(phrase.get_ref());
                    if folded.is_empty() {
                        self.err::<()>(phrase.span(), "empty keyword phrase", Some("remove it".into()));
                        continue;
                    }
                    count += 1;
                    phrases.push(Phrase {
                        text: folded,
                        set: id,
                        lang,
                    });
                }
            }
            if count == 0 {
                self.err::<()>(
                    set_span,
                    format!("keyword set {name:?} has no phrase"),
                    Some("add phrases under fr, en, de, es, it or any".into()),
                );
            }
        }

        let mut regexes: Vec<String> = Vec::new();
        let mut rules = Vec::new();
        let mut seen = HashMap::new();
        for def in &file.rules {
            if let Some(previous) = seen.insert(def.name.get_ref().clone(), def.name.span().start) {
                let (line, _) = self.pos.at(previous);
                self.err::<()>(
                    def.name.span(),
                    format!("rule {:?} is defined twice", def.name.get_ref()),
                    Some(format!("the first one is on line {line}")),
                );
            }
            if let Some(rule) = self.rule(def, &file, &mut regexes) {
                rules.push(rule);
            }
        }

        let mut models = Vec::new();
        for m in &file.models {
            match Regex::new(m.get_ref()) {
                Ok(re) => models.push(re),
                Err(e) => {
                    self.err::<()>(
                        m.span(),
                        "model pattern does not compile",
                        Some(first_line(&e.to_string())),
                    );
                }
            }
        }

        let mut queues_by_priority = HashMap::new();
        for (p, q) in &file.defaults.queues {
            match Priority::parse(p) {
                Some(p) => {
                    queues_by_priority.insert(p, q.clone());
                }
                None => {
                    self.err::<()>(
                        0..0,
                        format!("defaults.queues has unknown priority {p:?}"),
                        Some("use critical, important or faq".into()),
                    );
                }
            }
        }

        if !self.errors.is_empty() {
            return Err(RuleErrors(self.errors));
        }
        let n = &file.negation;
        let cancellers =
            [&n.fr, &n.en, &n.de, &n.es, &n.it].map(|l| l.iter().map(|w| fold_phrase(w)).collect::<Vec<_>>());
        let fold_all = |words: &[String]| words.iter().map(|w| fold_phrase(w)).collect();
        let negation = NegationWords {
            before: cancellers,
            after: fold_all(&n.after),
            stop_at: fold_all(&n.stop_at),
            window: n.window,
        };
        let scanner = Scanner::new(phrases, negatable, set_names, &regexes, negation).map_err(|e| {
            RuleErrors(vec![RuleError {
                line: 1,
                column: 1,
                message: e,
                hint: Some("simplify the keyword sets or regexes".into()),
            }])
        })?;
        Ok(RuleSet {
            rules,
            scanner,
            default_priority,
            default_queue: file.defaults.queue.clone(),
            default_ack: file.defaults.ack.clone(),
            queues_by_priority,
            models,
        })
    }

    fn priority(&mut self, p: &Spanned<String>) -> Option<Priority> {
        match Priority::parse(p.get_ref()) {
            Some(p) => Some(p),
            None => self.err(
                p.span(),
                format!("unknown priority {:?}", p.get_ref()),
                Some("use critical, important or faq".into()),
            ),
        }
    }

    fn rule(&mut self, def: &RuleDef, file: &RuleFile, regexes: &mut Vec<String>) -> Option<Rule> {
        let priority = self.priority(&def.priority);
        let escalation = match &def.escalation {
            None => Some(Escalation::None),
            Some(e) => match e.get_ref().as_str() {
                "none" => Some(Escalation::None),
                "callback" => Some(Escalation::Callback),
                "visio" => Some(Escalation::Visio),
                "callback+visio" => Some(Escalation::CallbackVisio),
                other => self.err(
                    e.span(),
                    format!("unknown escalation {other:?}"),
                    Some(format!("use {ESCALATIONS}")),
                ),
            },
        };
        let mut ask_for = Vec::new();
        for a in &def.ask_for {
            match a.get_ref().as_str() {
                "machine" => ask_for.push(MissingField::Machine),
                "fault_code" => ask_for.push(MissingField::FaultCode),
                "impact" => ask_for.push(MissingField::Impact),
                "photo" => ask_for.push(MissingField::Photo),
                other => {
                    self.err::<()>(
                        a.span(),
                        format!("unknown field to ask for {other:?}"),
                        Some("use machine, fault_code, impact or photo".into()),
                    );
                }
            }
        }
        let when = self.condition(&def.when, file, regexes);
        let priority = priority?;
        Some(Rule {
            name: def.name.get_ref().clone(),
            priority,
            queue: def.queue.clone().unwrap_or_else(|| {
                file.defaults
                    .queues
                    .get(priority.as_str())
                    .cloned()
                    .unwrap_or_else(|| default_queue(priority).to_string())
            }),
            escalation: escalation?,
            ack: def.ack.clone().unwrap_or_else(|| format!("ack_{}", priority.as_str())),
            ask_for,
            tags: def.tags.clone(),
            when: when?,
        })
    }

    fn condition(&mut self, c: &Spanned<Condition>, file: &RuleFile, regexes: &mut Vec<String>) -> Option<Cond> {
        let span = c.span();
        Some(match c.get_ref() {
            Condition::All(list) | Condition::Any(list) if list.is_empty() => {
                return self.err(span, "empty all/any list", Some("give at least one condition".into()));
            }
            Condition::All(list) => {
                let items: Vec<Option<Cond>> = list.iter().map(|c| self.condition(c, file, regexes)).collect();
                Cond::All(items.into_iter().collect::<Option<Vec<_>>>()?)
            }
            Condition::Any(list) => {
                let items: Vec<Option<Cond>> = list.iter().map(|c| self.condition(c, file, regexes)).collect();
                Cond::Any(items.into_iter().collect::<Option<Vec<_>>>()?)
            }
            Condition::Not(inner) => Cond::Not(Box::new(self.condition(inner, file, regexes)?)),
            Condition::Keywords(names) => {
                let mut ids = Vec::new();
                for name in names.get_ref().items() {
                    match self.set_ids.get(name) {
                        Some(id) => ids.push(*id),
                        None => {
                            let known: Vec<&str> = file.keywords.keys().map(String::as_str).collect();
                            let hint = closest(name, &known)
                                .map(|k| format!("did you mean {k:?}?"))
                                .unwrap_or_else(|| "define it under [keywords.NAME]".into());
                            self.err::<()>(names.span(), format!("unknown keyword set {name:?}"), Some(hint));
                        }
                    }
                }
                if ids.is_empty() {
                    return None;
                }
                Cond::Keywords(ids)
            }
            Condition::Near(near) => {
                let mut ids = [0usize; 2];
                for (slot, name) in ids.iter_mut().zip([&near.a, &near.b]) {
                    match self.set_ids.get(name.get_ref()) {
                        Some(id) => *slot = *id,
                        None => {
                            let known: Vec<&str> = file.keywords.keys().map(String::as_str).collect();
                            let hint = closest(name.get_ref(), &known)
                                .map(|k| format!("did you mean {k:?}?"))
                                .unwrap_or_else(|| "define it under [keywords.NAME]".into());
                            return self.err(
                                name.span(),
                                format!("unknown keyword set {:?}", name.get_ref()),
                                Some(hint),
                            );
                        }
                    }
                }
                Cond::Near {
                    a: ids[0],
                    b: ids[1],
                    within: near.within,
                }
            }
            Condition::Regex(re) => match Regex::new(re.get_ref()) {
                Ok(_) => {
                    regexes.push(re.get_ref().clone());
                    Cond::Regex(regexes.len() - 1)
                }
                Err(e) => return self.err(re.span(), "regex does not compile", Some(first_line(&e.to_string()))),
            },
            Condition::Channel(list) => {
                let mut out = Vec::new();
                for ch in list.get_ref().items() {
                    match Channel::parse(ch) {
                        Some(c) => out.push(c),
                        None => {
                            return self.err(
                                list.span(),
                                format!("unknown channel {ch:?}"),
                                Some("use email, webchat or whatsapp".into()),
                            );
                        }
                    }
                }
                Cond::Channel(out)
            }
            Condition::Language(list) => {
                let mut out = Vec::new();
                for l in list.get_ref().items() {
                    match Lang::parse(l).filter(|_| l.len() == 2) {
                        Some(l) => out.push(l),
                        None => {
                            return self.err(
                                list.span(),
                                format!("unknown language {l:?}"),
                                Some("use fr, en, de, es or it".into()),
                            );
                        }
                    }
                }
                Cond::Language(out)
            }
            Condition::Sender(list) => sender(list),
            Condition::SenderDomain(list) => Cond::Sender {
                exact: Vec::new(),
                domains: list.iter().map(|d| d.trim_start_matches('@').to_lowercase()).collect(),
            },
            Condition::SenderList(name) => match file.lists.get(name.get_ref()) {
                Some(list) => sender(list),
                None => {
                    let known: Vec<&str> = file.lists.keys().map(String::as_str).collect();
                    let hint = closest(name.get_ref(), &known)
                        .map(|k| format!("did you mean {k:?}?"))
                        .unwrap_or_else(|| "define it under [lists]".into());
                    return self.err(name.span(), format!("unknown list {:?}", name.get_ref()), Some(hint));
                }
            },
            Condition::Tier(t) => Cond::Tier(t.items().iter().map(|s| s.to_lowercase()).collect()),
            Condition::Attachment(kind) => match kind.get_ref().as_str() {
                "any" => Cond::Attachment(None),
                "image" => Cond::Attachment(Some(AttachmentKind::Image)),
                "video" => Cond::Attachment(Some(AttachmentKind::Video)),
                "audio" => Cond::Attachment(Some(AttachmentKind::Audio)),
                "document" => Cond::Attachment(Some(AttachmentKind::Document)),
                "other" => Cond::Attachment(Some(AttachmentKind::Other)),
                other => {
                    return self.err(
                        kind.span(),
                        format!("unknown attachment kind {other:?}"),
                        Some("use any, image, video, audio, document or other".into()),
                    );
                }
            },
            Condition::HasField(f) | Condition::MissingField(f) => {
                let Some(kind) = FieldKind::parse(f.get_ref()) else {
                    return self.err(
                        f.span(),
                        format!("unknown field {:?}", f.get_ref()),
                        Some("use fault_code, serial, model, machine, firmware, phone or photo".into()),
                    );
                };
                if matches!(c.get_ref(), Condition::HasField(_)) {
                    Cond::HasField(kind)
                } else {
                    Cond::MissingField(kind)
                }
            }
            Condition::History(h) => {
                let same = match h.same.get_ref().as_str() {
                    "fault_code" => HistorySame::FaultCode,
                    "machine" => HistorySame::Machine,
                    "any" => HistorySame::Any,
                    other => {
                        return self.err(
                            h.same.span(),
                            format!("unknown history match {other:?}"),
                            Some("use fault_code, machine or any".into()),
                        );
                    }
                };
                Cond::History {
                    days: h.days,
                    same,
                    at_least: h.at_least,
                }
            }
            Condition::OpenConversations(n) => Cond::OpenConversations(*n),
            Condition::UnansweredMessages(n) => Cond::UnansweredMessages(*n),
            Condition::Exchanges(n) => Cond::Exchanges(*n),
            Condition::WaitingMinutes(n) => Cond::WaitingMinutes(*n),
            Condition::BusinessHours(b) => Cond::BusinessHours(*b),
        })
    }
}

fn sender(list: &[String]) -> Cond {
    let (domains, exact): (Vec<String>, Vec<String>) = list
        .iter()
        .map(|s| s.trim().to_lowercase())
        .partition(|s| s.starts_with('@') || (!s.contains('@') && s.chars().any(|c| c.is_ascii_alphabetic())));
    Cond::Sender {
        exact: exact.iter().map(|s| normalise_sender(s)).collect(),
        domains: domains
            .into_iter()
            .map(|d| d.trim_start_matches('@').to_string())
            .collect(),
    }
}

/// Email addresses in lower case; phone numbers and wa_ids as digits only.
pub fn normalise_sender(s: &str) -> String {
    let s = s.trim().to_lowercase();
    if s.contains('@') {
        s
    } else {
        s.chars().filter(char::is_ascii_digit).collect()
    }
}

fn default_queue(p: Priority) -> &'static str {
    match p {
        Priority::Critical => "critical",
        Priority::Important => "experts",
        Priority::Faq => "n1",
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_string()
}

/// The known name nearest to a misspelt one, when it is near enough.
fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (levenshtein(name, k), *k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
