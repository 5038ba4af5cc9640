use serde::{Deserialize, Serialize};

use crate::extract::Fields;

/// How urgent a conversation is. Ordered: `Critical` is the greatest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Faq,
    Important,
    Critical,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::Important => "important",
            Priority::Faq => "faq",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "critical" => Some(Priority::Critical),
            "important" => Some(Priority::Important),
            "faq" => Some(Priority::Faq),
            _ => None,
        }
    }

    /// Sort key where smaller is served first.
    pub fn rank(self) -> i64 {
        match self {
            Priority::Critical => 0,
            Priority::Important => 1,
            Priority::Faq => 2,
        }
    }
}

/// What a human should do beyond a written answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Escalation {
    #[serde(rename = "none")]
    None,
    #[serde(rename = "callback")]
    Callback,
    #[serde(rename = "visio")]
    Visio,
    #[serde(rename = "callback+visio")]
    CallbackVisio,
}

impl Escalation {
    pub fn as_str(self) -> &'static str {
        match self {
            Escalation::None => "none",
            Escalation::Callback => "callback",
            Escalation::Visio => "visio",
            Escalation::CallbackVisio => "callback+visio",
        }
    }
}

/// A fact an expert needs that the message did not give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingField {
    Machine,
    FaultCode,
    Impact,
    Photo,
}

/// Byte range in the text the rule looked at (`field` says which text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub field: String,
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// One rule that fired, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMatch {
    pub rule: String,
    pub priority: Priority,
    pub spans: Vec<Span>,
}

/// A knowledge-base entry that answers the message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaqMatch {
    pub id: String,
    pub score: f32,
    /// Sent without a human when true; otherwise a draft for an agent.
    pub auto_send: bool,
    pub title: Option<String>,
    pub answer: String,
}

/// What triage decided, with the explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub priority: Priority,
    pub queue: String,
    pub escalation: Escalation,
    pub ack_template: String,
    /// Every rule that matched, in rule-file order; the first of the highest priority decided.
    pub rules: Vec<RuleMatch>,
    pub fields: Fields,
    pub ask_for: Vec<MissingField>,
    pub tags: Vec<String>,
    /// `fr`, `en`, `de`, `es` or `it`, from the text (or the channel's hint); `None` when neither tells.
    pub language: Option<String>,
    pub faq: Option<FaqMatch>,
}

impl Verdict {
    /// No rule matched and the knowledge base had no answer: the priority is
    /// the rule file's default. A follow-up judged so says nothing new about
    /// the conversation's urgency.
    pub fn by_default(&self) -> bool {
        self.rules.is_empty() && self.faq.is_none()
    }
}
