//! The rule language: a TOML file an admin edits, validated with positions,
//! compiled into one keyword automaton, the regexes, and an index of which
//! rules each keyword set or regex can make hold.

pub(crate) mod compile;
mod error;
mod file;
mod index;
mod model;

pub use compile::{RuleSet, concept_names};
pub use error::{RuleError, RuleErrors};
pub(crate) use index::RuleIndex;
pub use model::{Cond, FieldKind, HistorySame, Lang, Rule};

/// The rules that ship with the binary.
pub const DEFAULT_RULES: &str = include_str!("../../defaults/rules.toml");

/// The concept lexicons every rule file can name (`keywords = "stop_state"`).
pub const CONCEPTS: &str = include_str!("../../defaults/concepts.toml");
