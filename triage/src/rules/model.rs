//! The compiled form of a rule file: what the engine evaluates.

use crate::input::{AttachmentKind, Channel};
use crate::verdict::{Escalation, MissingField, Priority};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Fr,
    En,
    De,
    Es,
    It,
    /// Language-neutral phrases (codes, brand names).
    Any,
}

impl Lang {
    pub const SPOKEN: [Lang; 5] = [Lang::Fr, Lang::En, Lang::De, Lang::Es, Lang::It];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
            Lang::De => "de",
            Lang::Es => "es",
            Lang::It => "it",
            Lang::Any => "any",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.get(..2).unwrap_or(s).to_ascii_lowercase().as_str() {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            "de" => Some(Lang::De),
            "es" => Some(Lang::Es),
            "it" => Some(Lang::It),
            _ => None,
        }
    }

    pub fn index(self) -> usize {
        match self {
            Lang::Fr => 0,
            Lang::En => 1,
            Lang::De => 2,
            Lang::Es => 3,
            Lang::It => 4,
            Lang::Any => 5,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    FaultCode,
    Serial,
    Model,
    /// A serial number or a model.
    Machine,
    Firmware,
    Phone,
    Photo,
}

impl FieldKind {
    pub(crate) fn parse(s: &str) -> Option<FieldKind> {
        Some(match s {
            "fault_code" => FieldKind::FaultCode,
            "serial" => FieldKind::Serial,
            "model" => FieldKind::Model,
            "machine" => FieldKind::Machine,
            "firmware" => FieldKind::Firmware,
            "phone" => FieldKind::Phone,
            "photo" => FieldKind::Photo,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistorySame {
    FaultCode,
    Machine,
    Any,
}

/// A compiled condition. Keyword sets and regexes are indices into the scanner.
#[derive(Debug, Clone)]
pub enum Cond {
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not(Box<Cond>),
    Keywords(Vec<usize>),
    Near {
        a: usize,
        b: usize,
        within: usize,
    },
    Regex(usize),
    /// A hit of a set in `later` comes after every hit of the sets in `earlier`.
    Follows {
        earlier: Vec<usize>,
        later: Vec<usize>,
    },
    Channel(Vec<Channel>),
    Language(Vec<Lang>),
    /// Lower-case addresses/numbers and domains.
    Sender {
        exact: Vec<String>,
        domains: Vec<String>,
    },
    Tier(Vec<String>),
    /// `None`: any attachment.
    Attachment(Option<AttachmentKind>),
    HasField(FieldKind),
    MissingField(FieldKind),
    History {
        days: u32,
        same: HistorySame,
        at_least: u32,
    },
    OpenConversations(u32),
    UnansweredMessages(u32),
    Exchanges(u32),
    WaitingMinutes(u32),
    BusinessHours(bool),
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub priority: Priority,
    pub queue: String,
    pub escalation: Escalation,
    pub ack: String,
    pub ask_for: Vec<MissingField>,
    pub tags: Vec<String>,
    pub when: Cond,
}
