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

use crate::endings::{Endings, Langs};
use crate::fold::{Folded, Origins, is_word_byte, word_char_at, word_end};
use crate::rules::Lang;
use crate::suffixes::SuffixAutomaton;
use crate::word_table::WordMap;

/// Stems shorter than this stay literal words: "par" (Spanish "parada") would
/// swallow "para", "feu" would swallow "feux" and "feur".
const MIN_STEM: usize = 4;
/// German compound heads must be at least this long.
const MIN_COMPOUND_HEAD: usize = 6;

/// The number of a word no keyword phrase contains.
pub const NO_WORD: u32 = u32::MAX;

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

struct Key {
    stem: String,
    lang: Lang,
}

/// What a word is to the engine: the stems it spells (one per language that
/// has it) and its number when a keyword phrase contains it.
struct Entry {
    keys: Vec<u32>,
    word: u32,
}

impl Default for Entry {
    fn default() -> Self {
        Entry {
            keys: Vec::new(),
            word: NO_WORD,
        }
    }
}

/// The stems of every keyword word, and every word of a keyword phrase.
///
/// A text word is looked up whole and at each place an ending may begin
/// (`endings.rs`): a hash lookup per candidate rather than an automaton walk
/// per word, which the profile showed was most of the scan.
pub struct Forms {
    /// Every stem and phrase word.
    words: WordMap<Entry>,
    keys: Vec<Key>,
    /// German stems long enough to end a compound, found backwards from where
    /// a stem may end; each pattern's key in `compound_keys`.
    compounds: Option<SuffixAutomaton>,
    compound_keys: Vec<usize>,
    endings: Endings,
    vocabulary: u32,
}

/// One word of canonical text: its byte range there and its number among the
/// keyword phrases' words (`NO_WORD` when no phrase has it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub start: usize,
    pub end: usize,
    pub word: u32,
}

/// Folded text with word forms replaced by their stems: what keywords are
/// matched against. Its bytes map to the folded text's.
#[derive(Debug, Clone)]
pub struct Canonical {
    pub text: String,
    /// Its words, in order.
    pub tokens: Vec<Token>,
    origins: Origins,
}

impl Canonical {
    /// Appends `folded.text[start..end]` (cut on ASCII word edges).
    #[inline]
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
        let mut words: WordMap<Entry> = WordMap::default();
        for (i, k) in keys.iter().enumerate() {
            words.entry(k.stem.as_bytes()).keys.push(i as u32);
        }
        let compound_keys: Vec<usize> = (0..keys.len())
            .filter(|&i| keys[i].lang == Lang::De && keys[i].stem.len() >= MIN_COMPOUND_HEAD)
            .collect();
        let compounds = if compound_keys.is_empty() {
            None
        } else {
            let heads: Vec<&str> = compound_keys.iter().map(|&i| keys[i].stem.as_str()).collect();
            Some(SuffixAutomaton::new(&heads).map_err(|e| format!("compound automaton: {e}"))?)
        };
        Ok(Forms {
            words,
            keys,
            compounds,
            compound_keys,
            endings: Endings::new(),
            vocabulary: 0,
        })
    }

    /// The number of a keyword phrase's word (canonical), given on first sight.
    pub fn intern(&mut self, word: &[u8]) -> u32 {
        let entry = self.words.entry(word);
        if entry.word == NO_WORD {
            entry.word = self.vocabulary;
            self.vocabulary += 1;
        }
        entry.word
    }

    /// How many words `intern` has numbered.
    pub fn vocabulary(&self) -> usize {
        self.vocabulary as usize
    }

    pub fn memory_usage(&self) -> usize {
        let map = self.words.memory_usage() + self.words.values().map(|e| e.keys.len() * 4).sum::<usize>();
        map + self.compounds.as_ref().map_or(0, SuffixAutomaton::memory_usage)
    }

    pub fn stem_count(&self) -> usize {
        self.keys.len()
    }

    #[inline(always)]
    fn entry(&self, word: &[u8]) -> Option<&Entry> {
        self.words.get(word)
    }

    fn word_id(&self, word: &[u8]) -> u32 {
        self.entry(word).map_or(NO_WORD, |e| e.word)
    }

    /// Folded text with every word that is a form of a known stem replaced by
    /// that stem; a stem's last byte stands for the rest of its word, so
    /// explanations show whole words.
    pub fn canonical(&self, folded: &Folded, lang: Option<Lang>) -> Canonical {
        let text = folded.text.as_bytes();
        let mut out = Canonical {
            text: String::with_capacity(text.len()),
            tokens: Vec::with_capacity(text.len() / 5),
            origins: Origins::default(),
        };
        // Folded bytes before `copied` are in `out`; after it a folded byte
        // `i` will be at `i + shift` until the next replaced word.
        let mut copied = 0;
        let mut shift: isize = 0;
        let at = |i: usize, shift: isize| i.wrapping_add_signed(shift);
        let ascii = text.is_ascii();
        let mut i = 0;
        while i < text.len() {
            if !is_word_byte(text[i]) {
                i += 1;
                continue;
            }
            // A non-ASCII char is a word's only when alphanumeric (not an emoji, not "…").
            if text[i] >= 0x80
                && let (false, len) = word_char_at(&folded.text, i)
            {
                i += len;
                continue;
            }
            let word_start = i;
            // Folded text is most often all ASCII: then a byte table says it all.
            i = if ascii {
                i + text[i..].iter().take_while(|&&b| is_word_byte(b)).count()
            } else {
                word_end(&folded.text, i)
            };
            let word_end = i;
            let word = &text[word_start..word_end];
            // The shortest stem the word starts with; else, in a German
            // compound, the stem that starts earliest.
            let mut pick: Option<(usize, usize, u32)> = None;
            if word.len() > MIN_STEM {
                self.endings.stem_ends(word, |stem_len, langs| {
                    if pick.is_some() || stem_len < MIN_STEM {
                        return;
                    }
                    let end = word_start + stem_len;
                    if let Some(e) = self.entry(&text[word_start..end])
                        && let Some(&key) = e
                            .keys
                            .iter()
                            .find(|&&k| self.inflects(k as usize, langs, &text[end..word_end], lang))
                    {
                        pick = Some((word_start, key as usize, e.word));
                    }
                });
            }
            // A form of a stem needs no lookup of its own.
            let whole = if pick.is_none() { self.entry(word) } else { None };
            // The word is a stem itself: it stays as it is.
            let is_stem = whole.is_some_and(|e| !e.keys.is_empty());
            if pick.is_none() && !is_stem && word.len() > MIN_COMPOUND_HEAD {
                pick = self.compound(text, word_start, word_end, lang);
            }
            let Some((start, key, id)) = pick else {
                out.tokens.push(Token {
                    start: at(word_start, shift),
                    end: at(word_end, shift),
                    word: whole.map_or(NO_WORD, |e| e.word),
                });
                continue;
            };
            out.push_copy(folded, copied, start);
            if start > word_start {
                // A German compound: its head becomes a word of its own.
                out.tokens.push(Token {
                    start: at(word_start, shift),
                    end: out.text.len(),
                    word: self.word_id(&text[word_start..start]),
                });
                out.origins.map(out.text.len(), start);
                out.text.push(' ');
            }
            // The stem is the word's own first bytes.
            let token_start = out.text.len();
            let stem_end = start + self.keys[key].stem.len();
            out.push_copy(folded, start, stem_end - 1);
            out.origins.map(out.text.len(), word_end - 1);
            out.text
                .push_str(folded.text.get(stem_end - 1..stem_end).unwrap_or_default());
            out.tokens.push(Token {
                start: token_start,
                end: out.text.len(),
                word: id,
            });
            copied = word_end;
            shift = out.text.len() as isize - word_end as isize;
        }
        out.push_copy(folded, copied, text.len());
        out
    }

    /// The German stem that ends `text[word_start..word_end]` (before an
    /// inflection) and starts earliest inside it: `(start, key, word)`.
    fn compound(
        &self,
        text: &[u8],
        word_start: usize,
        word_end: usize,
        lang: Option<Lang>,
    ) -> Option<(usize, usize, u32)> {
        let c = self.compounds.as_ref()?;
        let mut best: Option<(usize, usize, usize)> = None;
        let mut try_end = |end: usize, langs: Option<Langs>| {
            c.ending_at(text, end, word_start + 1, |p, start| {
                let key = self.compound_keys[p];
                let takes = match langs {
                    None => true,
                    Some(langs) => self.inflects(key, langs, &text[end..word_end], lang),
                };
                if takes && best.is_none_or(|(s, e, _)| (start, end) < (s, e)) {
                    best = Some((start, end, key));
                }
            });
        };
        try_end(word_end, None);
        // Only German stems end compounds, and only a German (or unknown) text inflects them.
        if lang.is_none_or(|l| l == Lang::De) {
            self.endings.stem_ends(&text[word_start..word_end], |stem_len, langs| {
                if langs.has(Lang::De) {
                    try_end(word_start + stem_len, Some(langs));
                }
            });
        }
        let (start, end, key) = best?;
        Some((start, key, self.word_id(&text[start..end])))
    }

    /// Whether a word that is `key`'s stem followed by `rest` (not empty) is
    /// one of its forms: `langs` end a word with `rest`, the stem's language
    /// among them, and only the text's own language inflects.
    #[inline]
    fn inflects(&self, key: usize, langs: Langs, rest: &[u8], lang: Option<Lang>) -> bool {
        let key = &self.keys[key];
        if lang.is_some_and(|l| l != key.lang) || !langs.has(key.lang) {
            return false;
        }
        // An English doubled consonant is offered without looking at vowels.
        key.lang != Lang::En || self.endings.is_inflection(Lang::En, key.stem.as_bytes(), rest)
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
    fn every_canonical_word_is_a_token_with_its_number() {
        let mut f = forms(&[(Lang::De, "Stillstand"), (Lang::Fr, "arrêtée"), (Lang::En, "stopped")]);
        let numbered: Vec<(&str, u32)> = ["stillstand", "arret", "stop", "seit", "l"]
            .iter()
            .map(|w| (*w, f.intern(w.as_bytes())))
            .collect();
        let text = "Produktionsstillstand seit 5 Uhr — l’arrêtées, STOPPING… ok";
        let c = f.canonical(&Folded::new(text), None);
        let words: Vec<&str> = c.tokens.iter().map(|t| &c.text[t.start..t.end]).collect();
        let expected: Vec<&str> = c
            .text
            .split(|ch: char| !ch.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        assert_eq!(words, expected, "{:?}", c.text);
        for (t, w) in c.tokens.iter().zip(&words) {
            let number = numbered.iter().find(|(n, _)| n == w).map_or(NO_WORD, |(_, id)| *id);
            assert_eq!(t.word, number, "{w}");
        }
        assert!(
            words.contains(&"produktions") && words.contains(&"stillstand"),
            "{words:?}"
        );
        // A symbol typed against a word does not hide it.
        assert!(words.contains(&"stop"), "{words:?}");
        let glued = f.canonical(&Folded::new("arrêtée😱 stopped🚨"), None);
        let words: Vec<&str> = glued.tokens.iter().map(|t| &glued.text[t.start..t.end]).collect();
        assert_eq!(words, ["arret", "stop"], "{:?}", glued.text);
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
