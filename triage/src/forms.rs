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

use rust_stemmers::{Algorithm, Stemmer};

use crate::anchored::PhraseAutomaton;
use crate::fold::{Folded, Origins, is_word_byte};
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

/// A short ending as one number, so checking a word's ending against a
/// language's list is a few integer compares, not string compares.
fn pack(s: &[u8]) -> Option<u64> {
    if s.len() > 7 {
        return None;
    }
    let mut v = s.len() as u64;
    for &b in s {
        v = v << 8 | u64::from(b);
    }
    Some(v)
}

/// Each language's endings, packed (`Lang::index` order).
struct Endings([Vec<u64>; 6]);

impl Endings {
    fn new() -> Self {
        let packed = |lang: Lang| endings(lang).iter().filter_map(|e| pack(e.as_bytes())).collect();
        Endings([
            packed(Lang::Fr),
            packed(Lang::En),
            packed(Lang::De),
            packed(Lang::Es),
            packed(Lang::It),
            Vec::new(),
        ])
    }

    fn contains(&self, lang: Lang, rest: &[u8]) -> bool {
        pack(rest).is_some_and(|p| self.0[lang.index()].contains(&p))
    }

    /// Whether `rest` (what follows a stem in a word) is an inflection in `lang`.
    fn is_inflection(&self, lang: Lang, stem: &[u8], rest: &[u8]) -> bool {
        if rest.is_empty() || self.contains(lang, rest) {
            return true;
        }
        if lang == Lang::En {
            let last = stem.last().copied();
            let doubled = rest.first().copied();
            if last.is_some_and(|c| !b"aeiouy".contains(&c)) && last == doubled {
                return EN_DOUBLED.iter().any(|e| e.as_bytes() == &rest[1..]);
            }
        }
        false
    }
}

struct Key {
    stem: String,
    lang: Lang,
}

/// The stems of every keyword word, and the automata that find them.
pub struct Forms {
    /// Every stem, walked from each word start.
    stems: Option<PhraseAutomaton>,
    /// German stems long enough to end a compound, found inside words; each
    /// pattern's key in `compound_keys`.
    compounds: Option<PhraseAutomaton>,
    compound_keys: Vec<usize>,
    keys: Vec<Key>,
    endings: Endings,
}

/// Folded text with word forms replaced by their stems: what keywords are
/// matched against. Its bytes map to the folded text's.
#[derive(Debug, Clone)]
pub struct Canonical {
    pub text: String,
    origins: Origins,
}

impl Canonical {
    /// Appends `folded.text[start..end]` (cut on ASCII word edges).
    fn push_copy(&mut self, folded: &Folded, start: usize, end: usize) {
        if let Some(piece) = folded.text.get(start..end).filter(|p| !p.is_empty()) {
            self.origins.map(self.text.len(), start);
            self.text.push_str(piece);
        }
    }

    /// The folded byte range a canonical byte range stands for.
    pub fn folded_range(&self, start: usize, end: usize) -> (usize, usize) {
        let s = self.origins.get(start).unwrap_or(start);
        let e = end
            .checked_sub(1)
            .filter(|&last| last >= start)
            .and_then(|last| self.origins.get(last))
            .map_or(s, |last| last + 1);
        (s, e.max(s))
    }
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
        let build = |keys: &[&Key]| -> Result<Option<PhraseAutomaton>, String> {
            if keys.is_empty() {
                return Ok(None);
            }
            let stems: Vec<&[u8]> = keys.iter().map(|k| k.stem.as_bytes()).collect();
            PhraseAutomaton::new(&stems)
                .map(Some)
                .map_err(|e| format!("word-form automaton: {e}"))
        };
        let stems = build(&keys.iter().collect::<Vec<_>>())?;
        let compound_keys: Vec<usize> = (0..keys.len())
            .filter(|&i| keys[i].lang == Lang::De && keys[i].stem.len() >= MIN_COMPOUND_HEAD)
            .collect();
        let compounds = if compound_keys.is_empty() {
            None
        } else {
            let heads: Vec<&[u8]> = compound_keys.iter().map(|&i| keys[i].stem.as_bytes()).collect();
            Some(PhraseAutomaton::new(&heads).map_err(|e| format!("compound automaton: {e}"))?)
        };
        Ok(Forms {
            stems,
            compounds,
            compound_keys,
            keys,
            endings: Endings::new(),
        })
    }

    pub fn memory_usage(&self) -> usize {
        self.stems.as_ref().map_or(0, PhraseAutomaton::memory_usage)
            + self.compounds.as_ref().map_or(0, PhraseAutomaton::memory_usage)
    }

    pub fn stem_count(&self) -> usize {
        self.keys.len()
    }

    /// Folded text with every word that is a form of a known stem replaced by
    /// that stem; a stem's last byte stands for the rest of its word, so
    /// explanations show whole words.
    pub fn canonical(&self, folded: &Folded, lang: Option<Lang>) -> Canonical {
        let text = folded.text.as_bytes();
        let mut out = Canonical {
            text: String::with_capacity(text.len()),
            origins: Origins::default(),
        };
        let Some(stems) = &self.stems else {
            out.push_copy(folded, 0, text.len());
            return out;
        };
        let mut copied = 0;
        let mut i = 0;
        while i < text.len() {
            if !is_word_byte(text[i]) {
                i += 1;
                continue;
            }
            let word_start = i;
            while i < text.len() && is_word_byte(text[i]) {
                i += 1;
            }
            let word_end = i;
            if word_end - word_start < MIN_STEM {
                continue;
            }
            // The shortest stem the word starts with; else, in a German
            // compound, the stem that starts earliest.
            let mut pick: Option<(usize, usize)> = None;
            stems.starting_at(text, word_start, |key, end| {
                if pick.is_none() && self.takes(key, end, word_end, text, lang) {
                    pick = Some((word_start, key));
                }
            });
            if pick.is_none()
                && let Some(c) = &self.compounds
                && word_end - word_start > MIN_COMPOUND_HEAD
            {
                c.within(text, word_start + 1, word_end, |p, start, end| {
                    let key = self.compound_keys[p];
                    if pick.is_none_or(|(s, _)| start < s) && self.takes(key, end, word_end, text, lang) {
                        pick = Some((start, key));
                    }
                });
            }
            let Some((start, key)) = pick else { continue };
            out.push_copy(folded, copied, start);
            if start > word_start {
                // A German compound: its head becomes a word of its own.
                out.origins.map(out.text.len(), start);
                out.text.push(' ');
            }
            // The stem is the word's own first bytes.
            let stem_end = start + self.keys[key].stem.len();
            out.push_copy(folded, start, stem_end - 1);
            out.origins.map(out.text.len(), word_end - 1);
            out.text
                .push_str(folded.text.get(stem_end - 1..stem_end).unwrap_or_default());
            copied = word_end;
        }
        out.push_copy(folded, copied, text.len());
        out
    }

    /// Whether the word ending at `word_end` is a form of `key`'s stem, found
    /// ending at `end`: the rest is an inflection, and only the text's own
    /// language inflects.
    fn takes(&self, key: usize, end: usize, word_end: usize, text: &[u8], lang: Option<Lang>) -> bool {
        let key = &self.keys[key];
        let rest = text.get(end..word_end).unwrap_or_default();
        let foreign = lang.is_some_and(|l| l != key.lang);
        (rest.is_empty() || !foreign) && self.endings.is_inflection(key.lang, key.stem.as_bytes(), rest)
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
        let folded = Folded::new(original);
        let c = f.canonical(&folded, None);
        let at = c.text.find("arret").unwrap_or(0);
        let (fs, fe) = c.folded_range(at, at + "arret".len());
        let (s, e) = folded.original_range(fs, fe, original);
        assert_eq!(&original[s..e], "arrêtées");
    }

    #[test]
    fn text_around_replaced_words_keeps_every_char() {
        // Non-ASCII punctuation and letters sit next to replaced words: the
        // canonical text keeps them whole and spans still land on words.
        let f = forms(&[(Lang::Fr, "arrêtée")]);
        let original = "¿Arrêtées? Линия arrêté — «\u{a0}arrêtée\u{a0}»";
        let folded = Folded::new(original);
        let c = f.canonical(&folded, None);
        assert_eq!(c.text, "?arret? линия arret - \" arret \"");
        let spans: Vec<&str> = c
            .text
            .match_indices("arret")
            .map(|(at, w)| {
                let (fs, fe) = c.folded_range(at, at + w.len());
                let (s, e) = folded.original_range(fs, fe, original);
                &original[s..e]
            })
            .collect();
        assert_eq!(spans, vec!["Arrêtées", "arrêté", "arrêtée"]);
    }
}
