//! Keyword phrases matched word by word.
//!
//! Canonical text arrives as words already numbered (`forms.rs`: a word's
//! number is looked up once, when it is canonicalised), so a phrase is a path
//! in a trie over word numbers and the separators between them ("ligne" ␠
//! "arret", "l" ' "arret"). From each word one array read says whether a phrase
//! starts there; most words stop at that. This replaced a byte automaton walked
//! from each word start, whose dependent loads were the largest cost of a scan.
//!
//! Separators must be the same bytes as in the phrase, as they had to be for
//! the byte automaton: "ligne arret" does not match "ligne\narret". A phrase
//! may also begin or end with punctuation ("h.s."): the text's separator
//! there must begin (end) with it, and a word may not follow (precede) it
//! directly.

use rustc_hash::FxHashMap;

use crate::forms::{NO_WORD, Token};

const NO_NODE: u32 = u32::MAX;
/// The separator number of one space, by far the commonest.
const SPACE: u32 = 0;

pub struct PhraseTrie {
    /// By word number: the node a phrase starting with that word reaches.
    first: Vec<u32>,
    /// Per node: the range of `children` that goes on from it.
    branches: Vec<(u32, u32)>,
    /// (separator << 24 | word, node), each node's sorted by label: most
    /// nodes have one to three, read faster in a row than hashed.
    children: Vec<(u32, u32)>,
    /// Per node: the range of `ends` listing the phrases that end there.
    ending: Vec<(u32, u32)>,
    ends: Vec<u32>,
    /// Per phrase: its leading and trailing punctuation, when it has some.
    edges: Vec<Option<Box<Edges>>>,
    separators: FxHashMap<Box<[u8]>, u32>,
}

/// Punctuation before a phrase's first word and after its last.
struct Edges {
    lead: Vec<u8>,
    trail: Vec<u8>,
}

/// An edge's label: separators stay below 2^8, words below 2^24 (checked at build).
fn label(separator: u32, word: u32) -> u32 {
    separator << 24 | word
}

/// A phrase as words and the separators between them.
pub struct PhraseWords {
    pub words: Vec<u32>,
    pub separators: Vec<Vec<u8>>,
    /// Punctuation before the first word and after the last.
    pub lead: Vec<u8>,
    pub trail: Vec<u8>,
}

impl PhraseTrie {
    /// `phrases[i]` is phrase `i`; `vocabulary` is the number of word numbers.
    pub fn new(phrases: &[PhraseWords], vocabulary: usize) -> Result<PhraseTrie, String> {
        if vocabulary >= 1 << 24 {
            return Err(format!("{vocabulary} distinct keyword words: at most 16,777,215"));
        }
        let mut trie = PhraseTrie {
            first: vec![NO_NODE; vocabulary],
            branches: Vec::new(),
            children: Vec::new(),
            ending: Vec::new(),
            ends: Vec::new(),
            edges: phrases
                .iter()
                .map(|p| {
                    (!p.lead.is_empty() || !p.trail.is_empty()).then(|| {
                        Box::new(Edges {
                            lead: p.lead.clone(),
                            trail: p.trail.clone(),
                        })
                    })
                })
                .collect(),
            separators: FxHashMap::default(),
        };
        trie.separators.insert(b" ".as_slice().into(), SPACE);
        let mut ends: Vec<Vec<u32>> = Vec::new();
        let mut next: FxHashMap<(u32, u32), u32> = FxHashMap::default();
        let new_node = |ends: &mut Vec<Vec<u32>>| {
            ends.push(Vec::new());
            (ends.len() - 1) as u32
        };
        for (p, phrase) in phrases.iter().enumerate() {
            let Some((&head, rest)) = phrase.words.split_first() else {
                continue;
            };
            let mut node = match trie.first[head as usize] {
                NO_NODE => {
                    let n = new_node(&mut ends);
                    trie.first[head as usize] = n;
                    n
                }
                n => n,
            };
            for (word, separator) in rest.iter().zip(&phrase.separators) {
                let count = trie.separators.len() as u32;
                let sep = *trie.separators.entry(separator.as_slice().into()).or_insert(count);
                if sep >= 1 << 8 {
                    return Err("more than 255 distinct separators inside keyword phrases".into());
                }
                let key = (node, label(sep, *word));
                node = match next.get(&key) {
                    Some(&n) => n,
                    None => {
                        let n = new_node(&mut ends);
                        next.insert(key, n);
                        n
                    }
                };
            }
            ends[node as usize].push(p as u32);
        }
        let mut edges: Vec<((u32, u32), u32)> = next.into_iter().collect();
        edges.sort_unstable();
        let mut edges = edges.into_iter().peekable();
        for (node, list) in ends.into_iter().enumerate() {
            let from = trie.ends.len() as u32;
            trie.ends.extend(list);
            trie.ending.push((from, trie.ends.len() as u32));
            let first = trie.children.len() as u32;
            while let Some(((_, label), child)) = edges.next_if(|((n, _), _)| *n as usize == node) {
                trie.children.push((label, child));
            }
            trie.branches.push((first, trie.children.len() as u32));
        }
        Ok(trie)
    }

    pub fn memory_usage(&self) -> usize {
        self.first.len() * 4
            + self.children.len() * 8
            + self.branches.len() * 8
            + self.ending.len() * 8
            + self.ends.len() * 4
            + self.edges.len() * 8
    }

    fn separator(&self, bytes: &[u8]) -> Option<u32> {
        if bytes == b" " {
            return Some(SPACE);
        }
        self.separators.get(bytes).copied()
    }

    /// Calls `found(phrase, start, end)` for every phrase in `text`, whose
    /// words are `tokens`, in order of start, then of end.
    pub fn find(&self, text: &[u8], tokens: &[Token], mut found: impl FnMut(usize, usize, usize)) {
        for (i, first) in tokens.iter().enumerate() {
            let Some(&node) = self.first.get(first.word as usize) else {
                continue;
            };
            if node == NO_NODE {
                continue;
            }
            let mut node = node as usize;
            let mut last = first;
            let mut rest = tokens[i + 1..].iter();
            loop {
                let (from, to) = self.ending[node];
                for &p in &self.ends[from as usize..to as usize] {
                    match &self.edges[p as usize] {
                        None => found(p as usize, first.start, last.end),
                        Some(edges) => {
                            let before = i.checked_sub(1).map_or(0, |b| tokens[b].end);
                            let after = rest.clone().next().map_or(text.len(), |t| t.start);
                            if let Some((start, end)) =
                                with_edges(text, (before, first.start), (last.end, after), edges)
                            {
                                found(p as usize, start, end);
                            }
                        }
                    }
                }
                let (from, to) = self.branches[node];
                if from == to {
                    break;
                }
                let Some(next) = rest.next() else { break };
                if next.word == NO_WORD {
                    break;
                }
                let Some(sep) = text.get(last.end..next.start).and_then(|s| self.separator(s)) else {
                    break;
                };
                let wanted = label(sep, next.word);
                match self.children[from as usize..to as usize]
                    .iter()
                    .find(|(l, _)| *l == wanted)
                {
                    Some(&(_, n)) => node = n as usize,
                    None => break,
                }
                last = next;
            }
        }
    }
}

/// The span of a phrase with punctuation around its words, when the text has
/// it: `before`/`after` are the separators' ranges around the words. As for a
/// byte match from a word start to a word end, the punctuation may not touch
/// another word.
fn with_edges(text: &[u8], before: (usize, usize), after: (usize, usize), edges: &Edges) -> Option<(usize, usize)> {
    let Edges { lead, trail } = edges;
    let sep_before = text.get(before.0..before.1)?;
    let sep_after = text.get(after.0..after.1)?;
    let lead_ok = lead.is_empty() || (sep_before.ends_with(lead) && (sep_before.len() > lead.len() || before.0 == 0));
    let trail_ok =
        trail.is_empty() || (sep_after.starts_with(trail) && (sep_after.len() > trail.len() || after.1 == text.len()));
    (lead_ok && trail_ok).then(|| (before.1 - lead.len(), after.0 + trail.len()))
}

/// A phrase's words, the separators between them and the punctuation around
/// them; `None` when it has no word.
pub fn split(phrase: &str, mut number: impl FnMut(&[u8]) -> u32) -> Option<PhraseWords> {
    use crate::fold::{word_char_at, word_end};
    // The words' ranges, found as canonical text finds them.
    let mut spans = Vec::new();
    let mut i = 0;
    while i < phrase.len() {
        let (starts, len) = word_char_at(phrase, i);
        if starts {
            let end = word_end(phrase, i);
            spans.push((i, end));
            i = end;
        } else {
            i += len;
        }
    }
    let bytes = phrase.as_bytes();
    let (first, last) = (spans.first()?.0, spans.last()?.1);
    let separators = spans
        .windows(2)
        .map(|pair| bytes[pair[0].1..pair[1].0].to_vec())
        .collect();
    Some(PhraseWords {
        words: spans.iter().map(|&(s, e)| number(&bytes[s..e])).collect(),
        separators,
        lead: bytes[..first].to_vec(),
        trail: bytes[last..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str, vocab: &[&str]) -> Vec<Token> {
        let mut out = Vec::new();
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if !crate::fold::is_word_byte(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && crate::fold::is_word_byte(bytes[i]) {
                i += 1;
            }
            let word = vocab
                .iter()
                .position(|w| w.as_bytes() == &bytes[start..i])
                .map_or(NO_WORD, |n| n as u32);
            out.push(Token { start, end: i, word });
        }
        out
    }

    #[test]
    fn phrases_match_whole_words_with_their_own_separators() {
        let vocab = ["ligne", "arret", "l", "e", "stop", "s"];
        let number = |w: &[u8]| {
            vocab
                .iter()
                .position(|v| v.as_bytes() == w)
                .map_or(NO_WORD, |n| n as u32)
        };
        let phrases: Vec<PhraseWords> = ["ligne arret", "arret", "l'arret", "e-stop", "ligne", "l.s."]
            .iter()
            .filter_map(|p| split(p, number))
            .collect();
        let Ok(trie) = PhraseTrie::new(&phrases, vocab.len()) else {
            panic!("trie")
        };
        let find = |text: &str| {
            let mut out = Vec::new();
            trie.find(text.as_bytes(), &tokens(text, &vocab), |p, s, e| out.push((p, s, e)));
            out
        };
        assert_eq!(find("la ligne arret"), vec![(4, 3, 8), (0, 3, 14), (1, 9, 14)]);
        assert_eq!(find("ligne\narret"), vec![(4, 0, 5), (1, 6, 11)]);
        assert_eq!(find("l'arret, e-stop"), vec![(2, 0, 7), (1, 2, 7), (3, 9, 15)]);
        assert_eq!(find("e stop lignes"), vec![]);
        // Trailing punctuation: followed by a separator or the end, never a word.
        assert_eq!(find("l.s. la"), vec![(5, 0, 4)]);
        assert_eq!(find("(l.s.)"), vec![(5, 1, 5)]);
        assert_eq!(find("l.s."), vec![(5, 0, 4)]);
        assert_eq!(find("l.s.e"), vec![]);
    }

    #[test]
    fn a_phrase_is_words_separators_and_punctuation_around() {
        assert!(split("?!", |_| 0).is_none());
        let Some(p) = split("(steht - still.", |w| w.len() as u32) else {
            panic!("split")
        };
        assert_eq!(p.words, vec![5, 5]);
        assert_eq!(p.separators, vec![b" - ".to_vec()]);
        assert_eq!(
            (p.lead.as_slice(), p.trail.as_slice()),
            (b"(".as_slice(), b".".as_slice())
        );
    }
}
