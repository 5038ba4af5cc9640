//! Triage: decides what the hotline does with a conversation.
//!
//! Pure by design: no I/O, no async, no clock. The gateway builds an [`Input`]
//! (history facts and business hours included) and gets a [`Verdict`] back,
//! with the explanation of every rule that fired and the span of text that
//! fired it. Rules are a TOML file ([`RuleSet::parse`]); the FAQ knowledge base
//! is a folder of Markdown entries ([`KnowledgeBase::from_files`]).

#[doc(hidden)]
pub mod bench_support;
mod endings;
mod engine;
pub mod eval;
mod extract;
mod fold;
mod forms;
mod input;
pub mod kb;
mod language;
mod matcher;
mod phrases;
pub mod rules;
mod suffixes;
mod verdict;
mod word_table;
mod words;

pub use engine::Engine;
pub use extract::Fields;
pub use input::{AttachmentKind, Channel, History, Incident, Input};
pub use kb::KnowledgeBase;
pub use rules::{RuleError, RuleErrors, RuleSet};
pub use verdict::{Escalation, FaqMatch, MissingField, Priority, RuleMatch, Span, Verdict};
