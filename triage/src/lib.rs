//! Triage: decides what the hotline does with a conversation.
//!
//! Pure by design: no I/O, no async, no clock. The gateway builds an [`Input`]
//! (history facts and time included) and gets a [`Verdict`] back, with the
//! explanation of every rule that fired and the span of text that fired it.

mod builtin;
mod engine;
mod extract;
mod fold;
mod input;
mod verdict;

pub use engine::Engine;
pub use extract::Fields;
pub use input::{AttachmentKind, Channel, History, Input};
pub use verdict::{Escalation, MissingField, Priority, RuleMatch, Span, Verdict};
