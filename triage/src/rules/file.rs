//! The rule file as written by an admin (TOML). Positions are kept so that
//! validation can point at the line and column of a mistake.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub version: Spanned<u32>,
    #[serde(default)]
    pub defaults: Defaults,
    #[serde(default)]
    pub negation: Negation,
    /// Named keyword sets, referenced by rules.
    #[serde(default)]
    pub keywords: BTreeMap<String, Spanned<KeywordSet>>,
    /// Named lists of sender addresses, domains or numbers.
    #[serde(default)]
    pub lists: BTreeMap<String, Vec<String>>,
    /// Patterns that name a machine model in this maker's catalogue.
    #[serde(default)]
    pub models: Vec<Spanned<String>>,
    /// Named conditions, used in rules as `{ is = "name" }`.
    #[serde(default)]
    pub conditions: BTreeMap<String, Spanned<Condition>>,
    #[serde(default, rename = "rules")]
    pub rules: Vec<RuleDef>,
}

/// The shipped concept lexicons (`defaults/concepts.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConceptFile {
    pub concepts: BTreeMap<String, Spanned<KeywordSet>>,
}

/// What an unmatched message gets.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    #[serde(default = "faq")]
    pub priority: Spanned<String>,
    #[serde(default = "n1")]
    pub queue: String,
    #[serde(default = "ack_faq")]
    pub ack: String,
    /// Queue per priority when a rule names none.
    #[serde(default)]
    pub queues: BTreeMap<String, String>,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            priority: faq(),
            queue: n1(),
            ack: ack_faq(),
            queues: BTreeMap::new(),
        }
    }
}

fn faq() -> Spanned<String> {
    Spanned::new(0..0, "faq".to_string())
}
fn n1() -> String {
    "n1".to_string()
}
fn ack_faq() -> String {
    "ack_faq".to_string()
}

/// Words that cancel a keyword found among the `window` words before it, in the same clause.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Negation {
    #[serde(default = "window")]
    pub window: usize,
    #[serde(default)]
    pub fr: Vec<String>,
    #[serde(default)]
    pub en: Vec<String>,
    #[serde(default)]
    pub de: Vec<String>,
    #[serde(default)]
    pub es: Vec<String>,
    #[serde(default)]
    pub it: Vec<String>,
    /// Words that end a negation's reach, whatever the language ("mais", "but").
    #[serde(default)]
    pub stop_at: Vec<String>,
    /// Negations that follow the verb: French "ne s'arrête pas", German "steht nicht".
    #[serde(default)]
    pub after: Vec<String>,
    /// Conditionals that make the rest of their clause hypothetical, however far:
    /// "si notre ligne de remplissage s'arrêtait", "falls die Anlage nachts ausfällt".
    #[serde(default)]
    pub clause: Vec<String>,
}

impl Default for Negation {
    fn default() -> Self {
        Negation {
            stop_at: Vec::new(),
            after: Vec::new(),
            clause: Vec::new(),
            window: window(),
            fr: Vec::new(),
            en: Vec::new(),
            de: Vec::new(),
            es: Vec::new(),
            it: Vec::new(),
        }
    }
}

fn window() -> usize {
    4
}

/// Phrases per language, matched case- and accent-folded on word boundaries.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordSet {
    #[serde(default)]
    pub fr: Vec<Spanned<String>>,
    #[serde(default)]
    pub en: Vec<Spanned<String>>,
    #[serde(default)]
    pub de: Vec<Spanned<String>>,
    #[serde(default)]
    pub es: Vec<Spanned<String>>,
    #[serde(default)]
    pub it: Vec<Spanned<String>>,
    /// Any language (codes, brand names).
    #[serde(default)]
    pub any: Vec<Spanned<String>>,
    /// False: negation words before a hit do not cancel it.
    #[serde(default = "yes")]
    pub negatable: bool,
    /// A shipped concept whose phrases this set also has.
    #[serde(default)]
    pub extends: Option<Spanned<String>>,
    /// Sets whose hits inside a hit of this one do not count: "emergency stop"
    /// is a device, not a machine that stopped.
    #[serde(default)]
    pub masks: Vec<Spanned<String>>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDef {
    pub name: Spanned<String>,
    pub priority: Spanned<String>,
    pub queue: Option<String>,
    #[serde(default)]
    pub escalation: Option<Spanned<String>>,
    pub ack: Option<String>,
    #[serde(default)]
    pub ask_for: Vec<Spanned<String>>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub when: Spanned<Condition>,
}

/// A string or a list of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// One name where a list of names is taken.
pub fn one_name(name: &Spanned<String>) -> Spanned<OneOrMany> {
    Spanned::new(name.span(), OneOrMany::One(name.get_ref().clone()))
}

impl OneOrMany {
    pub fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// Two keyword sets close together: "la chaîne est arrêtée", "the conveyor belt has stopped".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NearDef {
    pub a: Spanned<String>,
    pub b: Spanned<String>,
    /// Most words between the two, in the same clause, either order.
    #[serde(default = "four")]
    pub within: usize,
}

fn four() -> usize {
    4
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowsDef {
    pub a: Spanned<OneOrMany>,
    pub b: Spanned<OneOrMany>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryDef {
    /// Look back this many days.
    pub days: u32,
    /// `fault_code`, `machine` or `any`: what an earlier incident must share.
    #[serde(default = "any_incident")]
    pub same: Spanned<String>,
    #[serde(default = "one")]
    pub at_least: u32,
}

fn any_incident() -> Spanned<String> {
    Spanned::new(0..0, "any".to_string())
}
fn one() -> u32 {
    1
}

/// One condition; tables with a single key, combined with `all`, `any`, `not`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    All(Vec<Spanned<Condition>>),
    Any(Vec<Spanned<Condition>>),
    Not(Box<Spanned<Condition>>),
    /// Keyword set name(s): true when a phrase of one of them occurs, not negated.
    Keywords(Spanned<OneOrMany>),
    /// A named condition from `[conditions]`.
    Is(Spanned<String>),
    /// A phrase of `b` is said after every phrase of `a`: what comes last is the present state.
    Follows(FollowsDef),
    /// A regular expression over the folded text (lower case, no accents).
    Regex(Spanned<String>),
    /// A phrase of one keyword set within a few words of a phrase of another.
    Near(NearDef),
    Channel(Spanned<OneOrMany>),
    Language(Spanned<OneOrMany>),
    /// Exact sender addresses or numbers.
    Sender(Vec<String>),
    SenderDomain(Vec<String>),
    /// A named list from `[lists]` (addresses, domains or numbers).
    SenderList(Spanned<String>),
    /// Account tier from the customer directory, e.g. `strategic`.
    Tier(OneOrMany),
    /// `image`, `video`, `audio`, `document`, `other` or `any`.
    Attachment(Spanned<String>),
    /// An extracted field: `fault_code`, `serial`, `model`, `firmware`, `phone`, `photo`.
    HasField(Spanned<String>),
    MissingField(Spanned<String>),
    /// Earlier incidents of this customer.
    History(HistoryDef),
    /// Other conversations of this customer still open.
    OpenConversations(u32),
    /// The customer already wrote this many times since the last answer (a follow-up without reply).
    UnansweredMessages(u32),
    /// At least this many agent answers in the conversation, and it is still not resolved.
    Exchanges(u32),
    /// The customer's oldest unanswered message is at least this many minutes old.
    WaitingMinutes(u32),
    BusinessHours(bool),
}
