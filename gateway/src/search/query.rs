//! What an agent typed, as terms both stores understand: a word is found in
//! any of its forms (its stems in the five languages, used as prefixes), a
//! code however it was written, a phone number by its trailing digits. The
//! same terms build SQLite's FTS5 expression, PostgreSQL's `tsquery` and the
//! highlighter, so both backends find the same messages and the snippet marks
//! what made them match.

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::code;

/// More terms narrow nothing an agent means and cost every backend.
const MAX_TERMS: usize = 8;
/// A stem shorter than this finds too much (`van*` for `vanne`): the word itself is used.
const MIN_STEM: usize = 4;
/// Words this short are matched whole; as prefixes they would match everything.
const MAX_EXACT: usize = 3;

const LANGUAGES: [Algorithm; 5] = [
    Algorithm::French,
    Algorithm::English,
    Algorithm::German,
    Algorithm::Spanish,
    Algorithm::Italian,
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A word: a text word matches when it starts with one of `prefixes`
    /// (folded, no two of them prefixes of each other), or equals it when `exact`.
    Word {
        typed: String,
        prefixes: Vec<String>,
        exact: bool,
    },
    /// A code: its `parts` in a row, or all of them as one word (`joined`).
    Code {
        typed: String,
        norm: String,
        parts: Vec<String>,
        joined: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub terms: Vec<Term>,
    /// Set when the whole query is a phone number.
    pub phone: Option<String>,
}

/// Lower case without accents, as SQLite's `unicode61 remove_diacritics 2`
/// and PostgreSQL's `unaccent` read a word.
pub fn fold(word: &str) -> String {
    word.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

impl Query {
    pub fn parse(text: &str) -> Query {
        let text = text.trim();
        let phone_shaped = text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '.' | '-' | '(' | ')'));
        if phone_shaped && let Some(key) = code::phone_key(text) {
            return Query {
                terms: Vec::new(),
                phone: Some(key),
            };
        }
        let tokens: Vec<&str> = text.split_whitespace().collect();
        let mut terms = Vec::new();
        let mut i = 0;
        while i < tokens.len() && terms.len() < MAX_TERMS {
            let token = tokens[i];
            // "E 301", "AL 12": a code typed with a space.
            if let Some(next) = tokens.get(i + 1)
                && is_code_prefix(token)
                && next.chars().next().is_some_and(|c| c.is_ascii_digit())
                && next.chars().all(|c| c.is_ascii_digit() || c == '-')
            {
                terms.push(code_term(&format!("{token} {next}")));
                i += 2;
                continue;
            }
            if code::looks_like_code(token) {
                let trimmed = token.trim_matches(|c: char| !c.is_alphanumeric());
                terms.push(code_term(trimmed));
            } else {
                for word in token.split(|c: char| !c.is_alphanumeric()) {
                    if word.chars().count() >= 2 && terms.len() < MAX_TERMS {
                        terms.push(word_term(word));
                    }
                }
            }
            i += 1;
        }
        terms.dedup();
        Query { terms, phone: None }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.phone.is_none()
    }

    /// The codes of the query, normalised, for the facts table.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().filter_map(|t| match t {
            Term::Code { norm, .. } => Some(norm.as_str()),
            Term::Word { .. } => None,
        })
    }

    /// An FTS5 expression: every term, each in any of its forms.
    pub fn fts5(&self) -> Option<String> {
        let parts: Vec<String> = self
            .terms
            .iter()
            .map(|t| match t {
                Term::Word { prefixes, exact, .. } => {
                    let star = if *exact { "" } else { "*" };
                    any(prefixes.iter().map(|p| format!("\"{p}\"{star}")), " OR ")
                }
                Term::Code { parts, joined, .. } if parts.len() > 1 => {
                    format!("(\"{}\" OR \"{joined}\")", parts.join(" "))
                }
                Term::Code { joined, .. } => format!("\"{joined}\""),
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join(" AND "))
    }

    /// The same expression as a PostgreSQL `tsquery` (for `to_tsquery('sy_search', …)`).
    pub fn tsquery(&self) -> Option<String> {
        let parts: Vec<String> = self
            .terms
            .iter()
            .map(|t| match t {
                Term::Word { prefixes, exact, .. } => {
                    let star = if *exact { "" } else { ":*" };
                    any(prefixes.iter().map(|p| format!("'{p}'{star}")), " | ")
                }
                Term::Code { parts, joined, .. } if parts.len() > 1 => {
                    let phrase: Vec<String> = parts.iter().map(|p| format!("'{p}'")).collect();
                    format!("(({}) | '{joined}')", phrase.join(" <-> "))
                }
                Term::Code { joined, .. } => format!("'{joined}'"),
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join(" & "))
    }
}

fn any(alternatives: impl Iterator<Item = String>, or: &str) -> String {
    let alternatives: Vec<String> = alternatives.collect();
    if alternatives.len() == 1 {
        alternatives.into_iter().collect()
    } else {
        format!("({})", alternatives.join(or))
    }
}

/// One or two letters that, before a number, start a code ("E", "AL"); two
/// lower-case letters are more likely a word ("de 2019").
fn is_code_prefix(token: &str) -> bool {
    let n = token.chars().count();
    token.chars().all(|c| c.is_ascii_alphabetic())
        && (n == 1 || n == 2 && token.chars().all(|c| c.is_ascii_uppercase()))
}

fn code_term(typed: &str) -> Term {
    let parts = code::parts(typed);
    Term::Code {
        typed: typed.to_string(),
        norm: code::normalise(typed),
        joined: parts.concat(),
        parts,
    }
}

fn word_term(word: &str) -> Term {
    let lower = word.to_lowercase();
    let folded = fold(&lower);
    if folded.chars().count() <= MAX_EXACT || folded.chars().all(|c| c.is_ascii_digit()) {
        return Term::Word {
            typed: word.to_string(),
            prefixes: vec![folded],
            exact: true,
        };
    }
    let mut candidates = vec![folded];
    for language in LANGUAGES {
        let stem = fold(&Stemmer::create(language).stem(&lower));
        if stem.chars().count() >= MIN_STEM {
            candidates.push(stem);
        }
    }
    candidates.sort_by_key(|c| (c.len(), c.clone()));
    candidates.dedup();
    let mut prefixes: Vec<String> = Vec::new();
    for c in candidates {
        if !prefixes.iter().any(|p| c.starts_with(p.as_str())) {
            prefixes.push(c);
        }
    }
    Term::Word {
        typed: word.to_string(),
        prefixes,
        exact: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefixes(q: &str) -> Vec<Vec<String>> {
        Query::parse(q)
            .terms
            .into_iter()
            .map(|t| match t {
                Term::Word { prefixes, .. } => prefixes,
                Term::Code { norm, .. } => vec![norm],
            })
            .collect()
    }

    #[test]
    fn a_word_is_found_by_its_stem_whatever_its_accents() {
        assert_eq!(prefixes("arrêtées"), [["arret"]]);
        assert_eq!(prefixes("ARRETEES"), [["arret"]]);
        assert_eq!(prefixes("Pumpen"), [["pump"]]);
        assert_eq!(prefixes("stopped"), [["stop"]]);
        assert_eq!(prefixes("bloccata"), [["blocc"]]);
    }

    #[test]
    fn short_words_and_numbers_are_matched_whole() {
        let q = Query::parse("vis 301");
        assert!(
            q.terms.iter().all(|t| matches!(t, Term::Word { exact: true, .. })),
            "{q:?}"
        );
    }

    #[test]
    fn codes_are_one_term_however_typed() {
        for typed in ["E-301", "E301", "E 301", "e 301"] {
            let q = Query::parse(typed);
            assert_eq!(q.codes().collect::<Vec<_>>(), ["E301"], "{typed}");
            assert_eq!(q.terms.len(), 1, "{typed}");
        }
        assert_eq!(Query::parse("panne de 2019").codes().count(), 0, "\"de 2019\" is words");
    }

    #[test]
    fn a_phone_number_is_searched_by_its_trailing_digits() {
        assert_eq!(Query::parse("+33 6 12 34 56 78").phone.as_deref(), Some("612345678"));
        assert_eq!(Query::parse("06 12 34 56 78").phone.as_deref(), Some("612345678"));
    }

    #[test]
    fn both_expressions_say_the_same_and_carry_nothing_but_words() {
        let q = Query::parse("pompe \"E-301\" ; DROP TABLE messages --");
        let fts = q.fts5().unwrap_or_default();
        assert_eq!(
            fts,
            "\"pomp\"* AND (\"e 301\" OR \"e301\") AND \"drop\"* AND \"tabl\"* AND \"messag\"*"
        );
        let ts = q.tsquery().unwrap_or_default();
        assert_eq!(
            ts,
            "'pomp':* & (('e' <-> '301') | 'e301') & 'drop':* & 'tabl':* & 'messag':*"
        );
    }

    #[test]
    fn nothing_to_search_is_an_empty_query() {
        assert!(Query::parse("  ; - ").is_empty());
        assert_eq!(Query::parse("").fts5(), None);
    }
}
