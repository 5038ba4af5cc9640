//! One pass over the text finds every keyword of every rule (one trie over
//! word numbers, `phrases.rs`) and which regexes match, so the cost follows
//! the text's length, not the number of rules.
//!
//! Keywords are found in the canonical text (word forms reduced to stems, see
//! `forms.rs`); regexes, written by admins over folded text, in the folded
//! text. A hit says which: fields `TEXT`/`SUBJECT` are canonical,
//! `TEXT + FOLDED`/`SUBJECT + FOLDED` folded.

use std::cell::OnceCell;

use regex::{Regex, RegexSet};

use crate::forms::{Canonical, Forms};
use crate::phrases::{PhraseTrie, split};
use crate::rules::Lang;
use crate::word_table::WordMap;

/// Field numbers of hits.
pub const TEXT: usize = 0;
pub const SUBJECT: usize = 1;
/// Added to a field number for a hit in folded (not canonical) text.
pub const FOLDED: usize = 2;

/// Words a gapped phrase ("steht … still") may have between its two parts.
const GAP_WORDS: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Whole,
    /// The first part of gapped phrase `n`.
    Head(usize),
    /// The second part of gapped phrase `n`.
    Tail(usize),
}

pub struct Phrase {
    pub text: String,
    pub set: usize,
    pub lang: Lang,
    pub part: Part,
}

/// Where a keyword set or regex matched: which text, folded byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub field: usize,
    pub start: usize,
    pub end: usize,
}

pub struct Scanner {
    trie: PhraseTrie,
    phrase_set: Vec<usize>,
    phrase_lang: Vec<Lang>,
    phrase_part: Vec<Part>,
    phrase_single: Vec<bool>,
    gaps: usize,
    set_negatable: Vec<bool>,
    pub set_names: Vec<String>,
    regex_set: RegexSet,
    regexes: Vec<Regex>,
    /// Each negation word, and by its number what it does (`NEG_*` bits).
    negation: WordMap<u8>,
    negation_window: usize,
    /// (masking set, masked set): a masked hit inside a masking one does not count.
    masks: Vec<(usize, usize)>,
}

/// Folded words that cancel a hit.
pub struct NegationWords {
    /// Per spoken language (`Lang::index`): words among the `window` before a hit.
    pub before: [Vec<String>; 5],
    /// Any language: the word right after a hit ("pas", "nicht").
    pub after: Vec<String>,
    /// Words a negation does not reach past ("mais", "but").
    pub stop_at: Vec<String>,
    /// Conditionals anywhere earlier in the clause ("si", "if", "falls").
    pub clause: Vec<String>,
    pub window: usize,
}

/// Negation word roles: bits 0–4 "before a hit" in `Lang::index` languages, then:
const NEG_AFTER: u8 = 1 << 5;
const NEG_STOP: u8 = 1 << 6;
const NEG_CLAUSE: u8 = 1 << 7;
const NEG_BEFORE_ANY: u8 = 0b1_1111;

impl NegationWords {
    fn index(&self) -> WordMap<u8> {
        let mut roles = WordMap::default();
        let mut add = |words: &[String], bit: u8| {
            for w in words {
                *roles.entry(w.as_bytes()) |= bit;
            }
        };
        for (i, words) in self.before.iter().enumerate() {
            add(words, 1 << i);
        }
        add(&self.after, NEG_AFTER);
        add(&self.stop_at, NEG_STOP);
        add(&self.clause, NEG_CLAUSE);
        roles
    }
}

/// Up to this many regexes run one by one (each with its own literal
/// prefilter) rather than after a pass of the set.
const FEW_REGEXES: usize = 16;

/// Hits kept per keyword set for proximity conditions.
const MAX_HITS_PER_SET: usize = 16;

/// What one scan found.
#[derive(Debug, Default)]
pub struct Hits {
    /// The first live hit of each keyword set.
    pub sets: Vec<Option<Hit>>,
    /// Every live hit of each keyword set (up to a cap), in text order per field.
    pub all: Vec<Vec<Hit>>,
    /// Live keyword hits per language, for language detection.
    pub per_lang: [u32; 6],
    /// The last live head of each gapped phrase, in the field being scanned.
    heads: Vec<Option<Hit>>,
}

/// Which regexes matched, found when a rule or the rule index first asks:
/// most rules that name a regex are decided before they need it (another
/// part of an `any` held, a part of an `all` failed), and a regex over the
/// whole text cost more than the keyword scan.
pub struct Regexes<'a> {
    scanner: &'a Scanner,
    /// Folded text and subject.
    texts: [Option<&'a str>; 2],
    /// The text's language as first guessed, whose negation words cancel a hit.
    lang: Option<Lang>,
    /// Per text, which regexes the set says may match (many regexes only).
    sets: [OnceCell<Vec<bool>>; 2],
    hits: Vec<OnceCell<Option<Hit>>>,
}

impl Regexes<'_> {
    /// The first live hit of regex `i`: in the text, else in the subject.
    pub fn hit(&self, i: usize) -> Option<Hit> {
        let cell = self.hits.get(i)?;
        *cell.get_or_init(|| {
            let s = self.scanner;
            [TEXT, SUBJECT].into_iter().find_map(|field| {
                let text = self.texts[field]?;
                if s.regexes.len() > FEW_REGEXES {
                    // Many regexes: one pass of the set tells which to run.
                    let may = self.sets[field].get_or_init(|| {
                        let mut may = vec![false; s.regexes.len()];
                        s.regex_set.matches(text).into_iter().for_each(|m| may[m] = true);
                        may
                    });
                    if !may[i] {
                        return None;
                    }
                }
                s.regexes[i]
                    .find_iter(text)
                    .find(|m| !s.cancelled(text, m.start(), m.end(), self.lang))
                    .map(|m| Hit {
                        field: field + FOLDED,
                        start: m.start(),
                        end: m.end(),
                    })
            })
        })
    }
}

impl Scanner {
    /// `forms` numbers the phrases' words.
    pub fn new(
        phrases: Vec<Phrase>,
        forms: &mut Forms,
        set_negatable: Vec<bool>,
        set_names: Vec<String>,
        regexes: &[String],
        negation: NegationWords,
        masks: Vec<(usize, usize)>,
    ) -> Result<Scanner, String> {
        let words = phrases
            .iter()
            .map(|p| split(&p.text, |w| forms.intern(w)).ok_or_else(|| format!("keyword {:?} has no word", p.text)))
            .collect::<Result<Vec<_>, _>>()?;
        let trie = PhraseTrie::new(&words, forms.vocabulary())?;
        let regex_set = RegexSet::new(regexes).map_err(|e| format!("regex set: {e}"))?;
        let regexes = regexes
            .iter()
            .map(|r| Regex::new(r))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        Ok(Scanner {
            trie,
            phrase_set: phrases.iter().map(|p| p.set).collect(),
            phrase_lang: phrases.iter().map(|p| p.lang).collect(),
            phrase_part: phrases.iter().map(|p| p.part).collect(),
            phrase_single: phrases
                .iter()
                .map(|p| p.part == Part::Whole && !p.text.contains([' ', '\'', '-']))
                .collect(),
            gaps: phrases.iter().filter(|p| matches!(p.part, Part::Head(_))).count(),
            set_negatable,
            set_names,
            regex_set,
            regexes,
            negation: negation.index(),
            negation_window: negation.window,
            masks,
        })
    }

    pub fn phrase_count(&self) -> usize {
        self.phrase_set.len() - self.gaps
    }

    pub fn memory_usage(&self) -> usize {
        self.trie.memory_usage()
    }

    pub fn regex_count(&self) -> usize {
        self.regexes.len()
    }

    pub fn new_hits(&self) -> Hits {
        Hits {
            sets: vec![None; self.set_negatable.len()],
            all: vec![Vec::new(); self.set_negatable.len()],
            per_lang: [0; 6],
            heads: vec![None; self.gaps],
        }
    }

    /// Records the live hits of each keyword set in `canonical`. `sure`, the
    /// language when there is no doubt, sets aside other languages'
    /// single-word keywords.
    pub fn scan(&self, canonical: &Canonical, field: usize, sure: Option<Lang>, hits: &mut Hits) {
        let text = canonical.text.as_str();
        let bytes = text.as_bytes();
        hits.heads.iter_mut().for_each(|h| *h = None);
        let mut found: Vec<(usize, usize, usize)> = Vec::with_capacity(canonical.tokens.len() / 2);
        self.trie
            .find(bytes, &canonical.tokens, |p, start, end| found.push((p, start, end)));
        // Gapped phrases pair a tail with the last head before it: in order of end.
        found.sort_by_key(|&(_, start, end)| (end, start));
        for (p, start, end) in found {
            let set = self.phrase_set[p];
            let phrase_lang = self.phrase_lang[p];
            // One word of another language is a false friend more often
            // than not: German "Stück" is not English "stuck".
            if self.phrase_single[p] && sure.is_some_and(|l| l != phrase_lang && phrase_lang != Lang::Any) {
                continue;
            }
            let lang = phrase_lang;
            let hit = match self.phrase_part[p] {
                Part::Whole => Hit { field, start, end },
                Part::Head(g) => {
                    hits.heads[g] = Some(Hit { field, start, end });
                    continue;
                }
                Part::Tail(g) => {
                    let Some(head) = hits.heads[g] else { continue };
                    let tail = Hit { field, start, end };
                    match near(text, head, tail, GAP_WORDS) {
                        Some(both) if head.start < start => both,
                        _ => continue,
                    }
                }
            };
            if self.set_negatable[set] && self.cancelled(text, hit.start, hit.end, Some(lang)) {
                continue;
            }
            hits.per_lang[lang.index()] += 1;
            if hits.sets[set].is_none() {
                hits.sets[set] = Some(hit);
            }
            if hits.all[set].len() < MAX_HITS_PER_SET {
                hits.all[set].push(hit);
            }
        }
        for &(masking, masked) in &self.masks {
            let Hits { all, sets, .. } = &mut *hits;
            let [covers, inner] = match all.get_disjoint_mut([masking, masked]) {
                Ok(pair) => pair,
                Err(_) => continue,
            };
            inner.retain(|h| {
                !covers
                    .iter()
                    .any(|c| c.field == h.field && c.start <= h.start && h.end <= c.end)
            });
            sets[masked] = inner.first().copied();
        }
    }

    /// The regexes' hits, each found when first asked for.
    pub fn regexes<'a>(&'a self, texts: [Option<&'a str>; 2], lang: Option<Lang>) -> Regexes<'a> {
        Regexes {
            scanner: self,
            texts,
            lang,
            sets: Default::default(),
            hits: (0..self.regexes.len()).map(|_| OnceCell::new()).collect(),
        }
    }

    /// A negation or hypothetical word among the last words of the clause
    /// before a hit, or a negation right after it.
    fn cancelled(&self, text: &str, start: usize, end: usize, lang: Option<Lang>) -> bool {
        let role = |w: &str| self.negation.get(w.as_bytes()).copied().unwrap_or(0);
        let after = text.get(end..).unwrap_or_default();
        let next = crate::words::forward(after).next();
        if next.is_some_and(|w| role(w) & NEG_AFTER != 0) {
            return true;
        }
        let before = text.get(..start).unwrap_or_default();
        let clause_start = crate::words::clause_start(text, start);
        let before_mask = match lang {
            Some(Lang::Any) | None => NEG_BEFORE_ANY,
            Some(l) => 1 << l.index(),
        };
        for (n, w) in crate::words::backward(&before[clause_start..]).enumerate() {
            let r = role(w);
            // "pas d'arrêt mais des rebuts": the negation does not reach past "mais".
            if r & NEG_STOP != 0 {
                return false;
            }
            if (n < self.negation_window && r & before_mask != 0) || r & NEG_CLAUSE != 0 {
                return true;
            }
        }
        false
    }
}

/// Whether two hits stand within `within` words of each other in one clause;
/// the span covering both when they do.
pub fn near(text: &str, a: Hit, b: Hit, within: usize) -> Option<Hit> {
    if a.field != b.field {
        return None;
    }
    let (first, second) = if a.start <= b.start { (a, b) } else { (b, a) };
    if second.start < first.end {
        return None;
    }
    let between = text.get(first.end..second.start)?;
    if between.contains(['.', '!', '?', ';', '\n']) {
        return None;
    }
    let words = crate::words::forward(between).take(within + 1).count();
    (words <= within).then_some(Hit {
        field: a.field,
        start: first.start,
        end: second.end,
    })
}

/// Whether some hit of `later` comes after every hit of `earlier`, the
/// subject counting as written before the text: what is said last is taken as
/// the present state ("restarted, then stopped again").
pub fn follows(earlier: &[Hit], later: &[Hit]) -> bool {
    let order = |h: &Hit| (usize::from(h.field % FOLDED == TEXT), h.start);
    match (earlier.iter().map(order).max(), later.iter().map(order).max()) {
        (Some(e), Some(l)) => l > e,
        (None, Some(_)) => true,
        _ => false,
    }
}
