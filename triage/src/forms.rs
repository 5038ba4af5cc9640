//! Word forms: "arrêt", "arrêtée", "arrêtés" are one word to a rule.
//!
//! When rules compile, every keyword word is stemmed with the Snowball
//! algorithm of its language (`rust-stemmers`, on the accented word, then
//! folded). At scan time a text word is replaced by a known stem when it starts
//! with that stem and what follows is an inflection ending of the stem's
//! language. Phrases, negation words and text all go through the same
//! [`Forms::canonical`], so a phrase matches every form of its words.
//!
//! Why not stem every text word: Snowball costs 400–600 ns a word here, 80 µs
//! for a 1 KB message, against a budget of 10 µs for the whole classification;
//! and French Snowball run on unaccented text (which customers type) splits
//! "arretee" from "arret". One automaton over the stems finds the candidates in
//! one pass, and an ending list decides; Snowball runs only when rules compile.
//!
//! German: a stem of six letters or more also matches as the last part of a
//! compound ("Produktionsstillstand" → "produktions stillstand").
//!
//! When the text's language is known, only its own stems take inflections: in
//! an English message "gripper" is not the French "grippée" + "er".

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use rust_stemmers::{Algorithm, Stemmer};

use crate::fold::Folded;
use crate::rules::Lang;

/// Stems shorter than this stay literal words: "par" (Spanish "parada") would
/// swallow "para", "feu" would swallow "feux" and "feur".
const MIN_STEM: usize = 4;
/// German compound heads must be at least this long.
const MIN_COMPOUND_HEAD: usize = 6;

const FR: &[&str] = &[
    "s", "x", "e", "es", "ee", "ees", "er", "ez", "ent", "ant", "ai", "ais", "ait", "aient", "ions", "iez", "ons", "a",
    "as", "era", "erait", "eront", "i", "ie", "is", "ies", "it", "ir", "issent", "issait",
];
const EN: &[&str] = &[
    "s", "es", "e", "ed", "d", "ing", "er", "ers", "ly", "y", "ies", "ied", "ion", "ions", "ation", "ations",
];
/// English doubles a final consonant before these: "stop" → "stopped", "stopping".
const EN_DOUBLED: &[&str] = &["ed", "ing", "er", "ers"];
const DE: &[&str] = &[
    "e", "en", "er", "es", "n", "s", "em", "ern", "ens", "st", "t", "et", "te", "ten", "tes", "ter", "test", "tet",
];
const ES: &[&str] = &[
    "s", "es", "a", "as", "o", "os", "e", "ado", "ada", "ados", "adas", "ido", "ida", "idos", "idas", "ando", "iendo",
    "ar", "er", "ir", "an", "en", "aba", "aban", "ia", "ian", "amos", "emos", "imos", "io", "ion", "iones",
];
const IT: &[&str] = &[
    "a", "e", "i", "o", "ata", "ate", "ato", "ati", "ita", "ite", "ito", "iti", "uta", "ute", "uto", "uti", "are",
    "ere", "ire", "ando", "endo", "ano", "ono", "ava", "avano", "iva", "eva", "ra", "era", "ione", "ioni",
];

fn endings(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Fr => FR,
        Lang::En => EN,
        Lang::De => DE,
        Lang::Es => ES,
        Lang::It => IT,
        Lang::Any => &[],
    }
}

fn algorithm(lang: Lang) -> Option<Algorithm> {
    Some(match lang {
        Lang::Fr => Algorithm::French,
        Lang::En => Algorithm::English,
        Lang::De => Algorithm::German,
        Lang::Es => Algorithm::Spanish,
        Lang::It => Algorithm::Italian,
        Lang::Any => return None,
    })
}

/// Whether `rest` (what follows a stem in a word) is an inflection in `lang`.
fn is_inflection(lang: Lang, stem: &str, rest: &str) -> bool {
    if rest.is_empty() || endings(lang).contains(&rest) {
        return true;
    }
    if lang == Lang::En {
        let last = stem.as_bytes().last().copied();
        let doubled = rest.as_bytes().first().copied();
        if last.is_some_and(|c| !b"aeiouy".contains(&c)) && last == doubled {
            return EN_DOUBLED.contains(&&rest[1..]);
        }
    }
    false
}

struct Key {
    stem: String,
    lang: Lang,
}

/// The stems of every keyword word, and the automaton that finds them.
pub struct Forms {
    automaton: Option<AhoCorasick>,
    keys: Vec<Key>,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

impl Forms {
    /// `words`: each keyword word as written (accents kept), with its language.
    pub fn build<'a>(words: impl IntoIterator<Item = (Lang, &'a str)>) -> Result<Forms, String> {
        let stemmers: Vec<Option<Stemmer>> = Lang::SPOKEN
            .iter()
            .map(|&l| algorithm(l).map(Stemmer::create))
            .chain(std::iter::once(None))
            .collect();
        let mut keys: Vec<Key> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (lang, word) in words {
            let Some(stemmer) = &stemmers[lang.index()] else {
                continue;
            };
            let lower = word.to_lowercase();
            let folded_word = Folded::new(&lower).text;
            if !folded_word.bytes().all(|b| b.is_ascii_lowercase()) {
                continue;
            }
            let stem = Folded::new(&stemmer.stem(&lower)).text;
            // Only a stem that is a prefix of the word can be found by scanning for it.
            if stem.len() < MIN_STEM || !folded_word.starts_with(&stem) {
                continue;
            }
            if seen.insert((lang, stem.clone())) {
                keys.push(Key { stem, lang });
            }
        }
        let automaton = if keys.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(keys.iter().map(|k| k.stem.as_bytes()))
                    .map_err(|e| format!("word-form automaton: {e}"))?,
            )
        };
        Ok(Forms { automaton, keys })
    }

    pub fn stem_count(&self) -> usize {
        self.keys.len()
    }

    /// Folded text with every word that is a form of a known stem replaced by
    /// that stem; byte origins still point at the original text, and a stem's
    /// last byte at its word's last char, so explanations show whole words.
    pub fn canonical(&self, folded: &Folded, lang: Option<Lang>) -> Folded {
        let Some(ac) = &self.automaton else {
            return folded.clone();
        };
        let text = folded.text.as_bytes();
        // (replace from, word end, key): the longest valid key per word.
        let mut chosen: Vec<(usize, usize, usize)> = Vec::new();
        for m in ac.find_overlapping_iter(text) {
            let (start, end) = (m.start(), m.end());
            let key = &self.keys[m.pattern().as_usize()];
            let at_word_start = start == 0 || !is_word_byte(text[start - 1]);
            let compound = !at_word_start && key.lang == Lang::De && key.stem.len() >= MIN_COMPOUND_HEAD;
            if !at_word_start && !compound {
                continue;
            }
            let mut word_end = end;
            while word_end < text.len() && is_word_byte(text[word_end]) {
                word_end += 1;
            }
            let Some(rest) = folded.text.get(end..word_end) else {
                continue;
            };
            let foreign = lang.is_some_and(|l| l != key.lang);
            if (foreign && !rest.is_empty()) || !is_inflection(key.lang, &key.stem, rest) {
                continue;
            }
            let candidate = (start, word_end, m.pattern().as_usize());
            match chosen.last_mut() {
                // Same word: keep the earliest start (longest key).
                Some(last) if last.1 == word_end => {
                    if start < last.0 {
                        *last = candidate;
                    }
                }
                _ => chosen.push(candidate),
            }
        }
        if chosen.is_empty() {
            return folded.clone();
        }
        chosen.sort_unstable();
        let mut out = Folded::with_capacity(folded.text.len(), folded.original_len());
        let mut copied = 0;
        for (start, word_end, key) in chosen {
            if start < copied {
                continue;
            }
            out.copy_from(folded, copied, start);
            if start > 0 && is_word_byte(text[start - 1]) {
                // A German compound: its head becomes a word of its own.
                out.push_mapped(b' ', folded, start);
            }
            let stem = self.keys[key].stem.as_bytes();
            for (j, &b) in stem.iter().enumerate() {
                let from = if j + 1 == stem.len() { word_end - 1 } else { start + j };
                out.push_mapped(b, folded, from);
            }
            copied = word_end;
        }
        out.copy_from(folded, copied, folded.text.len());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forms(words: &[(Lang, &str)]) -> Forms {
        match Forms::build(words.iter().copied()) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        }
    }

    fn canon(f: &Forms, text: &str) -> String {
        f.canonical(&Folded::new(text), None).text
    }

    #[test]
    fn inflections_become_one_stem() {
        let f = forms(&[(Lang::Fr, "arrêtée"), (Lang::En, "stopped"), (Lang::Fr, "ligne")]);
        assert_eq!(canon(&f, "Ligne ARRÊTÉE"), canon(&f, "lignes arrêtés"));
        assert_eq!(
            canon(&f, "ligne arretee"),
            canon(&f, "la ligne est à l'arrêt")
                .replace("la ", "")
                .replace("est a l'", "")
        );
        assert_eq!(canon(&f, "stopping"), canon(&f, "stopped"));
        assert_eq!(canon(&f, "stops"), canon(&f, "stop"));
        // Not an inflection: a different word.
        assert_eq!(canon(&f, "lignite"), "lignite");
        assert_eq!(canon(&f, "stopwatch"), "stopwatch");
    }

    #[test]
    fn german_compounds_split_at_a_known_head() {
        let f = forms(&[(Lang::De, "Stillstand")]);
        assert_eq!(
            canon(&f, "Produktionsstillstand seit 5 Uhr"),
            "produktions stillstand seit 5 uhr"
        );
    }

    #[test]
    fn only_the_texts_language_inflects() {
        let f = forms(&[(Lang::Fr, "grippée")]);
        assert_eq!(
            f.canonical(&Folded::new("robot gripper"), Some(Lang::En)).text,
            "robot gripper"
        );
        assert_eq!(
            f.canonical(&Folded::new("moteur grippé"), Some(Lang::Fr)).text,
            "moteur gripp"
        );
    }

    #[test]
    fn short_stems_stay_literal() {
        // Spanish "parada" stems to "par": kept literal, "para" is not a stop.
        let f = forms(&[(Lang::Es, "parada")]);
        assert_eq!(canon(&f, "para la linea"), "para la linea");
    }

    #[test]
    fn spans_cover_the_whole_original_word() {
        let f = forms(&[(Lang::Fr, "arrêtée")]);
        let original = "Ligne arrêtées hier";
        let c = f.canonical(&Folded::new(original), None);
        let at = c.text.find("arret").unwrap_or(0);
        let (s, e) = c.original_range(at, at + "arret".len(), original);
        assert_eq!(&original[s..e], "arrêtées");
    }
}
