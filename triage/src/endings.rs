//! Inflection endings per language, and where a word may end its stem.
//!
//! A word is a form of a stem when it is the stem followed by one of its
//! language's endings (`forms.rs`). Rather than trying every stem the word
//! starts with, the word's end is read backwards through a small trie of every
//! ending of every language: the places it stops at are the only places a
//! stem can end, usually one to three of them.

use crate::rules::Lang;

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

/// The longest ending, in bytes: a stem ends at most this far from its word's end
/// (one more for an English doubled consonant).
const MAX_ENDING: usize = 7;

/// A short ending as one number, so checking a word's ending against a
/// language's list is a few integer compares, not string compares.
fn pack(s: &[u8]) -> Option<u64> {
    if s.len() > MAX_ENDING {
        return None;
    }
    let mut v = s.len() as u64;
    for &b in s {
        v = v << 8 | u64::from(b);
    }
    Some(v)
}

/// Trie state flags: bits 0–4, an ending of that language (`Lang::index`);
/// then an English ending that may follow a doubled consonant.
const DOUBLES: u8 = 1 << 5;
const NO_STATE: u16 = u16::MAX;

/// The languages whose ending a word has at some place (`Lang::index` bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Langs(u8);

impl Langs {
    pub fn has(self, lang: Lang) -> bool {
        self.0 & (1 << lang.index()) != 0
    }
}

pub struct Endings {
    /// Each language's endings, packed (`Lang::index` order).
    packed: [Vec<u64>; 6],
    /// Every ending of every language, reversed, as a trie over `a..=z`.
    next: Vec<[u16; 26]>,
    flags: Vec<u8>,
}

impl Endings {
    pub fn new() -> Self {
        let packed = |lang: Lang| endings(lang).iter().filter_map(|e| pack(e.as_bytes())).collect();
        let mut trie = Endings {
            packed: [
                packed(Lang::Fr),
                packed(Lang::En),
                packed(Lang::De),
                packed(Lang::Es),
                packed(Lang::It),
                Vec::new(),
            ],
            next: vec![[NO_STATE; 26]],
            flags: vec![0],
        };
        for lang in Lang::SPOKEN {
            for e in endings(lang) {
                trie.insert(e, 1 << lang.index());
            }
        }
        for e in EN_DOUBLED {
            trie.insert(e, DOUBLES);
        }
        trie
    }

    fn insert(&mut self, ending: &str, flag: u8) {
        let mut state = 0;
        for b in ending.bytes().rev() {
            let slot = usize::from(b - b'a');
            if self.next[state][slot] == NO_STATE {
                self.next.push([NO_STATE; 26]);
                self.flags.push(0);
                self.next[state][slot] = (self.next.len() - 1) as u16;
            }
            state = usize::from(self.next[state][slot]);
        }
        self.flags[state] |= flag;
    }

    /// Where a stem may end in `word`, nearest the word's start first (so the
    /// shortest stem is tried first): every length `word.len() - k` where the
    /// last `k ≥ 1` bytes are an ending of some language, or an English
    /// doubled consonant and ending. Calls `found(stem_len, langs)`, `langs`
    /// the languages that end a word so (an English doubled consonant counts
    /// as English, to be checked by [`Endings::is_inflection`]).
    #[inline]
    pub fn stem_ends(&self, word: &[u8], mut found: impl FnMut(usize, Langs)) {
        // At most two places per ending length; kept in a fixed array to stay off the heap.
        let mut at = [(0usize, 0u8); 2 * MAX_ENDING];
        let mut n = 0;
        let mut state = 0;
        let len = word.len();
        let mut k = 0;
        while k < MAX_ENDING && k + 1 < len {
            let b = word[len - 1 - k];
            let slot = b.wrapping_sub(b'a');
            if slot >= 26 {
                break;
            }
            let next = self.next[state][usize::from(slot)];
            if next == NO_STATE {
                break;
            }
            state = usize::from(next);
            k += 1;
            let flags = self.flags[state];
            if flags & !DOUBLES != 0 {
                at[n] = (len - k, flags & !DOUBLES);
                n += 1;
            }
            // "stopped": "ed" after a doubled consonant leaves "stop".
            if flags & DOUBLES != 0 && k + 2 <= len && word[len - k - 1] == word[len - k - 2] {
                at[n] = (len - k - 1, 1 << Lang::En.index());
                n += 1;
            }
        }
        // Found from the word's end: nearest the start last. A doubled place
        // may repeat the next ending's place; then the two meet.
        let mut i = n;
        while i > 0 {
            i -= 1;
            let (place, mut langs) = at[i];
            while i > 0 && at[i - 1].0 == place {
                i -= 1;
                langs |= at[i].1;
            }
            found(place, Langs(langs));
        }
    }

    fn contains(&self, lang: Lang, rest: &[u8]) -> bool {
        pack(rest).is_some_and(|p| self.packed[lang.index()].contains(&p))
    }

    /// Whether `rest` (what follows a stem in a word) is an inflection in `lang`.
    pub fn is_inflection(&self, lang: Lang, stem: &[u8], rest: &[u8]) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(word: &str) -> Vec<usize> {
        let mut out = Vec::new();
        Endings::new().stem_ends(word.as_bytes(), |p, _| out.push(p));
        out
    }

    #[test]
    fn a_stem_ends_where_an_ending_begins() {
        // "arretees": -s, -es, -ees end some language's words.
        assert_eq!(ends("arretees"), vec![5, 6, 7]);
        // "stopped": -d, -ed, and the doubled "p" + "ed".
        assert_eq!(ends("stopped"), vec![4, 5, 6]);
        assert_eq!(ends("xyz"), Vec::<usize>::new());
        // The whole word is never an ending of nothing.
        assert_eq!(ends("s"), Vec::<usize>::new());
    }

    #[test]
    fn every_place_an_ending_list_allows_is_offered_with_its_language() {
        let e = Endings::new();
        let words = [
            "arretaient",
            "stoppings",
            "gestoppten",
            "paradas",
            "fermata",
            "ausfallen",
        ];
        for w in words {
            let mut places = Vec::new();
            e.stem_ends(w.as_bytes(), |p, langs| places.push((p, langs)));
            for lang in Lang::SPOKEN {
                for stem_len in 1..w.len() {
                    let (stem, rest) = w.as_bytes().split_at(stem_len);
                    let offered = places.iter().any(|&(p, langs)| p == stem_len && langs.has(lang));
                    if e.is_inflection(lang, stem, rest) {
                        assert!(offered, "{w}: {stem_len} ({lang:?}) not offered");
                    }
                }
            }
        }
    }
}
