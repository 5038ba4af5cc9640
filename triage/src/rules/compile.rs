//! Validation and compilation of a rule file.

use std::collections::HashMap;

use regex::Regex;
use toml::Spanned;

use super::error::{Positions, RuleError, RuleErrors};
use super::file::{ConceptFile, Condition, KeywordSet, OneOrMany, RuleDef, RuleFile, one_name};
use super::model::{Cond, FieldKind, HistorySame, Lang, Rule};
use crate::fold::Folded;
use crate::forms::Forms;
use crate::input::{AttachmentKind, Channel};
use crate::matcher::{NegationWords, Part, Phrase, Scanner};
use crate::verdict::{Escalation, MissingField, Priority};

/// A validated, compiled rule file: the only thing the engine evaluates.
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// Which rules to evaluate for a scan's hits.
    pub(crate) index: super::RuleIndex,
    pub scanner: Scanner,
    pub forms: Forms,
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
        let concepts = builtin_concepts()?;
        Compiler {
            pos,
            errors: Vec::new(),
            set_ids: HashMap::new(),
            concepts: &concepts,
            named: HashMap::new(),
            naming: Vec::new(),
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

    /// Stems that word forms are reduced to.
    pub fn stem_count(&self) -> usize {
        self.forms.stem_count()
    }
}

fn builtin_concepts() -> Result<ConceptFile, RuleErrors> {
    toml::from_str(super::CONCEPTS).map_err(|e| {
        RuleErrors(vec![RuleError {
            line: 1,
            column: 1,
            message: format!("the built-in concepts do not parse: {}", e.message()),
            hint: None,
        }])
    })
}

/// The shipped concepts, by name.
pub fn concept_names() -> Vec<String> {
    builtin_concepts()
        .map(|c| c.concepts.into_keys().collect())
        .unwrap_or_default()
}

/// A keyword set as compiled: the file's own phrases plus those of a concept.
struct SetSource<'f> {
    name: String,
    span: std::ops::Range<usize>,
    phrases: Vec<(Lang, &'f Spanned<String>, bool)>,
    negatable: bool,
    masks: &'f [Spanned<String>],
}

fn phrases_of(set: &KeywordSet, builtin: bool) -> Vec<(Lang, &Spanned<String>, bool)> {
    [
        (Lang::Fr, &set.fr),
        (Lang::En, &set.en),
        (Lang::De, &set.de),
        (Lang::Es, &set.es),
        (Lang::It, &set.it),
        (Lang::Any, &set.any),
    ]
    .into_iter()
    .flat_map(|(lang, list)| list.iter().map(move |p| (lang, p, builtin)))
    .collect()
}

/// A phrase's parts: one, or two around a gap ("steht … still").
fn gap_parts(phrase: &str) -> Vec<&str> {
    phrase.split(['…']).flat_map(|p| p.split("...")).collect()
}

struct Compiler<'a> {
    pos: Positions<'a>,
    errors: Vec<RuleError>,
    set_ids: HashMap<String, usize>,
    concepts: &'a ConceptFile,
    /// Named conditions compiled so far, and the names being compiled (cycles).
    named: HashMap<String, Cond>,
    naming: Vec<String>,
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

        // Keyword sets: the file's own (with the concept they extend), then
        // every shipped concept the file does not redefine.
        let mut sources: Vec<SetSource> = Vec::new();
        for (name, set) in &file.keywords {
            let mut phrases = phrases_of(set.get_ref(), false);
            if let Some(base) = &set.get_ref().extends {
                match self.concepts.concepts.get(base.get_ref()) {
                    Some(concept) => phrases.extend(phrases_of(concept.get_ref(), true)),
                    None => {
                        let hint = self.unknown_set_hint(base.get_ref(), &[]);
                        self.err::<()>(base.span(), format!("unknown concept {:?}", base.get_ref()), Some(hint));
                    }
                }
            }
            sources.push(SetSource {
                name: name.clone(),
                span: set.span(),
                phrases,
                negatable: set.get_ref().negatable,
                masks: &set.get_ref().masks,
            });
        }
        for (name, concept) in &self.concepts.concepts {
            if !file.keywords.contains_key(name) {
                sources.push(SetSource {
                    name: name.clone(),
                    span: 0..0,
                    phrases: phrases_of(concept.get_ref(), true),
                    negatable: concept.get_ref().negatable,
                    masks: &concept.get_ref().masks,
                });
            }
        }

        // Word forms: every keyword word's stem, then phrases in canonical form.
        let words: Vec<(Lang, &str)> = sources
            .iter()
            .flat_map(|s| s.phrases.iter())
            .flat_map(|(lang, p, _)| {
                p.get_ref()
                    .split(|c: char| !c.is_alphabetic())
                    .filter(|w| !w.is_empty())
                    .map(move |w| (*lang, w))
            })
            .collect();
        let mut forms = match Forms::build(words) {
            Ok(f) => f,
            Err(e) => {
                return Err(RuleErrors(vec![RuleError {
                    line: 1,
                    column: 1,
                    message: e,
                    hint: None,
                }]));
            }
        };
        let canon_in = |text: &str, lang: Lang| {
            let lang = (lang != Lang::Any).then_some(lang);
            forms.canonical(&Folded::new(text), lang).text.trim().to_string()
        };
        let canon = |text: &str| canon_in(text, Lang::Any);

        let mut phrases = Vec::new();
        let mut negatable = Vec::new();
        let mut set_names = Vec::new();
        let mut gaps = 0;
        for (id, source) in sources.iter().enumerate() {
            self.set_ids.insert(source.name.clone(), id);
            set_names.push(source.name.clone());
            negatable.push(source.negatable);
            let mut count = 0;
            for (lang, phrase, builtin) in &source.phrases {
                let at = if *builtin { 0..0 } else { phrase.span() };
                let parts: Vec<String> = gap_parts(phrase.get_ref())
                    .into_iter()
                    .map(|p| canon_in(p, *lang))
                    .collect();
                let wordless = |p: &String| !p.bytes().any(crate::fold::is_word_byte);
                if parts.iter().any(wordless) || parts.len() > 2 {
                    let message = if parts.len() > 2 {
                        "a keyword phrase has at most one gap (…)"
                    } else {
                        "a keyword phrase or gap part without a word"
                    };
                    self.err::<()>(at, message, Some("write words on both sides of one …".into()));
                    continue;
                }
                count += 1;
                let mut parts = parts.into_iter();
                match (parts.next(), parts.next()) {
                    (Some(text), None) => phrases.push(Phrase {
                        text,
                        set: id,
                        lang: *lang,
                        part: Part::Whole,
                    }),
                    (Some(head), Some(tail)) => {
                        phrases.push(Phrase {
                            text: head,
                            set: id,
                            lang: *lang,
                            part: Part::Head(gaps),
                        });
                        phrases.push(Phrase {
                            text: tail,
                            set: id,
                            lang: *lang,
                            part: Part::Tail(gaps),
                        });
                        gaps += 1;
                    }
                    _ => {}
                }
            }
            if count == 0 {
                self.err::<()>(
                    source.span.clone(),
                    format!("keyword set {:?} has no phrase", source.name),
                    Some("add phrases under fr, en, de, es, it or any".into()),
                );
            }
        }

        let mut masks = Vec::new();
        for (id, source) in sources.iter().enumerate() {
            for name in source.masks {
                if let Some(masked) = self.set_list(&one_name(name)) {
                    masks.push((id, masked[0]));
                }
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
        let cancellers = [&n.fr, &n.en, &n.de, &n.es, &n.it].map(|l| l.iter().map(|w| canon(w)).collect::<Vec<_>>());
        let fold_all = |words: &[String]| words.iter().map(|w| canon(w)).collect();
        let negation = NegationWords {
            clause: fold_all(&n.clause),
            before: cancellers,
            after: fold_all(&n.after),
            stop_at: fold_all(&n.stop_at),
            window: n.window,
        };
        let scanner =
            Scanner::new(phrases, &mut forms, negatable, set_names, &regexes, negation, masks).map_err(|e| {
                RuleErrors(vec![RuleError {
                    line: 1,
                    column: 1,
                    message: e,
                    hint: Some("simplify the keyword sets or regexes".into()),
                }])
            })?;
        let index = super::RuleIndex::new(&rules, scanner.set_names.len(), scanner.regex_count());
        Ok(RuleSet {
            rules,
            index,
            scanner,
            forms,
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
            Condition::Keywords(names) => Cond::Keywords(self.set_list(names)?),
            Condition::Near(near) => {
                let a = self.set_list(&one_name(&near.a))?;
                let b = self.set_list(&one_name(&near.b))?;
                Cond::Near {
                    a: a[0],
                    b: b[0],
                    within: near.within,
                }
            }
            Condition::Follows(f) => Cond::Follows {
                earlier: self.set_list(&f.a)?,
                later: self.set_list(&f.b)?,
            },
            Condition::Is(name) => self.named_condition(name, file, regexes)?,
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

impl Compiler<'_> {
    /// Keyword sets (the file's or shipped concepts) by name; every unknown one is reported.
    fn set_list(&mut self, names: &Spanned<OneOrMany>) -> Option<Vec<usize>> {
        let mut ids = Vec::new();
        let mut unknown = false;
        for name in names.get_ref().items() {
            match self.set_ids.get(name) {
                Some(id) => ids.push(*id),
                None => {
                    unknown = true;
                    let known: Vec<String> = self.set_ids.keys().cloned().collect();
                    let hint = self.unknown_set_hint(name, &known);
                    self.err::<()>(
                        names.span(),
                        format!("unknown keyword set or concept {name:?}"),
                        Some(hint),
                    );
                }
            }
        }
        (!unknown && !ids.is_empty()).then_some(ids)
    }

    fn unknown_set_hint(&self, name: &str, known: &[String]) -> String {
        let concepts: Vec<&str> = self.concepts.concepts.keys().map(String::as_str).collect();
        let mut all: Vec<&str> = known.iter().map(String::as_str).collect();
        all.extend(&concepts);
        match closest(name, &all) {
            Some(k) => format!("did you mean {k:?}?"),
            None => format!(
                "define it under [keywords.NAME], or use a shipped concept: {}",
                concepts.join(", ")
            ),
        }
    }

    /// `{ is = "name" }`: the condition defined under `[conditions]`, compiled once.
    fn named_condition(&mut self, name: &Spanned<String>, file: &RuleFile, regexes: &mut Vec<String>) -> Option<Cond> {
        let key = name.get_ref();
        if let Some(c) = self.named.get(key) {
            return Some(c.clone());
        }
        let Some(def) = file.conditions.get(key) else {
            let known: Vec<&str> = file.conditions.keys().map(String::as_str).collect();
            let hint = closest(key, &known)
                .map(|k| format!("did you mean {k:?}?"))
                .unwrap_or_else(|| "define it under [conditions]".into());
            return self.err(name.span(), format!("unknown condition {key:?}"), Some(hint));
        };
        if self.naming.contains(key) {
            return self.err(
                name.span(),
                format!("condition {key:?} refers to itself"),
                Some(format!("through {}", self.naming.join(" → "))),
            );
        }
        self.naming.push(key.clone());
        let compiled = self.condition(def, file, regexes);
        self.naming.pop();
        let compiled = compiled?;
        self.named.insert(key.clone(), compiled.clone());
        Some(compiled)
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

pub(crate) fn default_queue(p: Priority) -> &'static str {
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
