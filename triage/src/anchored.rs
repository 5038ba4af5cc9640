//! Phrases found only where they may start: at word starts.
//!
//! Every keyword phrase and every word-form stem must begin on a word
//! boundary, so instead of one unanchored scan that reports every occurrence
//! inside words (and then throws most of them away), the automaton is walked
//! from each word start and stops at the first byte no phrase continues with:
//! usually after one to three bytes. The walk uses `aho_corasick`'s low-level
//! [`Automaton`] trait so the per-byte step inlines; a call through
//! `AhoCorasick`'s iterators costs more than the walk itself.

use aho_corasick::automaton::Automaton;
use aho_corasick::nfa::contiguous;
use aho_corasick::{Anchored, MatchKind};

/// A contiguous NFA rather than a DFA: measured on the shipped rules, the
/// DFA's 3.4 MB of transitions (2,457 phrases) missed the cache on most steps
/// and classified slower than the NFA's 214 KB, despite fewer instructions.
pub struct PhraseAutomaton(contiguous::NFA);

impl PhraseAutomaton {
    pub fn new<P: AsRef<[u8]>>(patterns: &[P]) -> Result<Self, String> {
        contiguous::NFA::builder()
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(patterns)
            .map(PhraseAutomaton)
            .map_err(|e| e.to_string())
    }

    /// Calls `found(pattern, end)` for every pattern that starts at `start`,
    /// shortest first.
    #[inline]
    pub fn starting_at(&self, text: &[u8], start: usize, found: impl FnMut(usize, usize)) {
        walk_anchored(&self.0, text, start, found);
    }

    /// Calls `found(pattern, start, end)` for every pattern that lies
    /// within `text[from..to]`, in order of end.
    pub fn within(&self, text: &[u8], from: usize, to: usize, found: impl FnMut(usize, usize, usize)) {
        walk_unanchored(&self.0, text, from, to, found);
    }

    pub fn memory_usage(&self) -> usize {
        self.0.memory_usage()
    }
}

#[inline(always)]
fn walk_anchored<A: Automaton>(a: &A, text: &[u8], start: usize, mut found: impl FnMut(usize, usize)) {
    let Ok(mut sid) = a.start_state(Anchored::Yes) else {
        return;
    };
    let mut at = start;
    while let Some(&b) = text.get(at) {
        sid = a.next_state(Anchored::Yes, sid, b);
        at += 1;
        if a.is_special(sid) {
            if a.is_dead(sid) {
                return;
            }
            if a.is_match(sid) {
                for i in 0..a.match_len(sid) {
                    let pid = a.match_pattern(sid, i);
                    // A state also carries the matches of its suffixes; only
                    // a pattern as long as the walk starts where it started.
                    if a.pattern_len(pid) == at - start {
                        found(pid.as_usize(), at);
                    }
                }
            }
        }
    }
}

fn walk_unanchored<A: Automaton>(
    a: &A,
    text: &[u8],
    from: usize,
    to: usize,
    mut found: impl FnMut(usize, usize, usize),
) {
    let Ok(mut sid) = a.start_state(Anchored::No) else {
        return;
    };
    for (at, &b) in text.iter().enumerate().take(to).skip(from) {
        sid = a.next_state(Anchored::No, sid, b);
        // The walk began at `from`: every match it reports lies inside the range.
        if a.is_match(sid) {
            for i in 0..a.match_len(sid) {
                let pid = a.match_pattern(sid, i);
                found(pid.as_usize(), at + 1 - a.pattern_len(pid), at + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchored_matches(a: &PhraseAutomaton, text: &str, start: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        a.starting_at(text.as_bytes(), start, |p, e| out.push((p, e)));
        out
    }

    #[test]
    fn anchored_walk_reports_only_patterns_starting_there() {
        let Ok(a) = PhraseAutomaton::new(&["arret", "arretee", "ret", "ligne arret"]) else {
            panic!("automaton")
        };
        let text = "la ligne arretee";
        assert_eq!(anchored_matches(&a, text, 3), vec![(3, 14)]);
        assert_eq!(anchored_matches(&a, text, 9), vec![(0, 14), (1, 16)]);
        // "ret" inside "arretee" is found where it starts, not from 9; nothing starts at "la".
        assert_eq!(anchored_matches(&a, text, 10), vec![]);
        assert_eq!(anchored_matches(&a, text, 11), vec![(2, 14)]);
        assert_eq!(anchored_matches(&a, text, 0), vec![]);
    }

    #[test]
    fn unanchored_walk_finds_patterns_inside_a_range() {
        let Ok(a) = PhraseAutomaton::new(&["stillstand", "stand"]) else {
            panic!("automaton")
        };
        let text = b"produktionsstillstand";
        let mut out = Vec::new();
        a.within(text, 1, text.len(), |p, s, e| out.push((p, s, e)));
        assert_eq!(out, vec![(0, 11, 21), (1, 16, 21)]);
    }
}
