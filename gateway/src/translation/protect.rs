//! What a translation must not change: fault codes, serial numbers, part
//! references, URLs, addresses and numbers, and the glossary's terms. They
//! are replaced by numbered placeholders before the text goes to the
//! provider and put back after; a placeholder the provider lost or altered
//! is reported, so the agent sees it before the reply leaves. Pure.

use std::sync::LazyLock;

use regex::Regex;

/// URLs, email addresses, then words joined by `-_./:` (a code, a serial, a
/// reference, a number) — kept when they hold a digit.
static PROTECTED: LazyLock<Regex> = LazyLock::new(|| {
    match Regex::new(r"https?://[^\s<>]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\b[\p{L}\d]+(?:[-_./:][\p{L}\d]+)*\b") {
        Ok(re) => re,
        // A literal covered by the tests below: a failure is a bug, not input.
        Err(e) => panic!("protected-terms pattern: {e}"),
    }
});

/// A preferred translation of a trade term between two languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub source_language: String,
    pub target_language: String,
    pub source: String,
    pub target: String,
}

/// The text with its protected spans replaced, and what each placeholder stands for in the translation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked {
    pub text: String,
    /// Placeholder n (from 1) → what it becomes in the translation.
    pub replacements: Vec<String>,
}

fn placeholder(n: usize) -> String {
    format!("{{{{{n}}}}}")
}

/// Masks `text` (in `source`) for a translation into `target`: the terms to
/// keep verbatim, the glossary's preferred translations, then codes,
/// numbers, links and addresses, each where it first matches; the same
/// original twice gets the same placeholder.
pub fn mask(text: &str, keep: &[String], terms: &[Term], source: &str, target: &str) -> Masked {
    // (start, end, what it becomes), never overlapping.
    let mut spans: Vec<(usize, usize, String)> = Vec::new();
    let mut add = |start: usize, end: usize, becomes: String| {
        if !spans.iter().any(|(a, b, _)| start < *b && *a < end) {
            spans.push((start, end, becomes));
        }
    };
    for k in keep.iter().filter(|k| !k.is_empty()) {
        for (i, found) in text.match_indices(k.as_str()) {
            add(i, i + found.len(), k.clone());
        }
    }
    for t in terms
        .iter()
        .filter(|t| t.source_language == source && t.target_language == target && !t.source.is_empty())
    {
        for (i, found) in text.match_indices(t.source.as_str()) {
            add(i, i + found.len(), t.target.clone());
        }
    }
    for m in PROTECTED.find_iter(text) {
        let found = m.as_str();
        if found.contains("://") || found.contains('@') || found.chars().any(|c| c.is_ascii_digit()) {
            add(m.start(), m.end(), found.to_string());
        }
    }
    spans.sort_by_key(|(start, _, _)| *start);
    let mut out = String::with_capacity(text.len());
    let mut replacements: Vec<String> = Vec::new();
    let mut at = 0;
    for (start, end, becomes) in spans {
        out.push_str(&text[at..start]);
        let n = match replacements.iter().position(|r| *r == becomes) {
            Some(i) => i + 1,
            None => {
                replacements.push(becomes);
                replacements.len()
            }
        };
        out.push_str(&placeholder(n));
        at = end;
    }
    out.push_str(&text[at..]);
    Masked {
        text: out,
        replacements,
    }
}

/// The translation with the placeholders put back; the originals of those
/// the provider lost or changed, if any.
pub fn unmask(translated: &str, masked: &Masked) -> (String, Vec<String>) {
    let mut out = translated.to_string();
    let mut lost = Vec::new();
    // The highest first, so {{1}} is not taken for the start of {{12}}.
    for (i, becomes) in masked.replacements.iter().enumerate().rev() {
        let p = placeholder(i + 1);
        if out.contains(&p) {
            out = out.replace(&p, becomes);
        } else {
            lost.push(becomes.clone());
        }
    }
    lost.reverse();
    (out, lost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serials_links_and_numbers_survive_a_round_trip() {
        let text = "La presse P200 (SN-4711-B) affiche E-217 : changez le capteur 3 fois, voir https://maker.example/doc?id=7 ou sav@maker.example.";
        let m = mask(text, &[], &[], "fr", "de");
        for kept in [
            "P200",
            "SN-4711-B",
            "E-217",
            "https://maker.example/doc?id=7",
            "sav@maker.example",
        ] {
            assert!(!m.text.contains(kept), "{kept} is masked: {}", m.text);
            assert!(m.replacements.contains(&kept.to_string()), "{:?}", m.replacements);
        }
        assert!(m.text.contains("La presse"), "{}", m.text);
        let (back, lost) = unmask(&m.text, &m);
        assert_eq!(back, text);
        assert!(lost.is_empty());
    }

    #[test]
    fn glossary_terms_are_kept_or_translated_as_told() {
        let keep = vec!["Flexopack".to_string()];
        let terms = vec![Term {
            source_language: "fr".into(),
            target_language: "de".into(),
            source: "plieuse".into(),
            target: "Faltmaschine".into(),
        }];
        let m = mask("La plieuse Flexopack est arrêtée", &keep, &terms, "fr", "de");
        let (back, lost) = unmask(&m.text.replace("La", "Die").replace("est arrêtée", "steht still"), &m);
        assert_eq!(back, "Die Faltmaschine Flexopack steht still");
        assert!(lost.is_empty());
        let other = mask("La plieuse", &keep, &terms, "fr", "it");
        assert_eq!(other.text, "La plieuse", "a pair's terms only for that pair");
    }

    #[test]
    fn a_placeholder_the_provider_lost_is_reported() {
        let m = mask("Code E-217 et 12 pièces", &[], &[], "fr", "de");
        let dropped = m.text.replace("{{1}}", "");
        let (_, lost) = unmask(&dropped, &m);
        assert_eq!(lost, ["E-217"]);
    }
}
