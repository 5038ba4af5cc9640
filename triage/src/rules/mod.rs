//! The rule language: a TOML file an admin edits, validated with positions,
//! compiled into one keyword automaton and one regex set.

pub(crate) mod compile;
mod error;
mod file;

pub use compile::{Cond, FieldKind, HistorySame, Lang, Rule, RuleSet};
pub use error::{RuleError, RuleErrors};

/// The rules that ship with the binary.
pub const DEFAULT_RULES: &str = include_str!("../../defaults/rules.toml");
