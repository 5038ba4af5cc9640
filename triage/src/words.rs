//! Words as negation, proximity and language detection count them.
//!
//! Read byte by byte with a table; a non-ASCII char is decoded only to ask
//! whether it is alphanumeric. The same as splitting on
//! `!(c.is_alphanumeric() || c == '\'')` (forwards) or on
//! `!c.is_alphanumeric()` (backwards), at a fraction of the cost: those
//! splits decoded every char and were a tenth of a classification.

/// ASCII bytes that belong to a word: letters, digits, the apostrophe.
static ASCII_WORD: [bool; 128] = {
    let mut table = [false; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = (b as u8).is_ascii_alphanumeric() || b == b'\'' as usize;
        b += 1;
    }
    table
};

/// Bytes that end a clause for negation: a negation word before them does
/// not reach a hit after them.
static CLAUSE_END: [bool; 256] = {
    let mut table = [false; 256];
    let ends = b".!?;,\n:(";
    let mut i = 0;
    while i < ends.len() {
        table[ends[i] as usize] = true;
        i += 1;
    }
    table
};

/// Where the clause holding byte `at` of `s` starts.
pub fn clause_start(s: &str, at: usize) -> usize {
    let before = s.as_bytes().get(..at).unwrap_or_default();
    before
        .iter()
        .rposition(|&b| CLAUSE_END[usize::from(b)])
        .map_or(0, |i| i + 1)
}

/// Whether the char starting at byte `i` of `s` belongs to a word, and its length.
#[inline(always)]
fn class_at(s: &str, i: usize) -> (bool, usize) {
    let b = s.as_bytes()[i];
    if b < 0x80 {
        return (ASCII_WORD[usize::from(b)], 1);
    }
    decode_at(s, i)
}

#[inline(never)]
fn decode_at(s: &str, i: usize) -> (bool, usize) {
    match s.get(i..).and_then(|rest| rest.chars().next()) {
        Some(c) => (c.is_alphanumeric(), c.len_utf8()),
        None => (false, 1),
    }
}

/// The words of `s`, first to last; an apostrophe joins ("n'est" is one word).
pub fn forward(s: &str) -> impl Iterator<Item = &str> {
    let mut i = 0;
    std::iter::from_fn(move || {
        let len = s.len();
        while i < len {
            let (word, n) = class_at(s, i);
            if word {
                break;
            }
            i += n;
        }
        if i >= len {
            return None;
        }
        let start = i;
        while i < len {
            let (word, n) = class_at(s, i);
            if !word {
                break;
            }
            i += n;
        }
        s.get(start..i)
    })
}

/// Whether the char ending at byte `end` of `s` is a letter or digit, and its length.
#[inline(always)]
fn class_before(s: &str, end: usize) -> (bool, usize) {
    let b = s.as_bytes()[end - 1];
    if b < 0x80 {
        return (crate::fold::is_ascii_alnum(b), 1);
    }
    decode_before(s, end)
}

#[inline(never)]
fn decode_before(s: &str, end: usize) -> (bool, usize) {
    match s.get(..end).and_then(|head| head.chars().next_back()) {
        Some(c) => (c.is_alphanumeric(), c.len_utf8()),
        None => (false, 1),
    }
}

/// The words of `s`, last first; an apostrophe separates ("n'est" is "est", "n").
pub fn backward(s: &str) -> impl Iterator<Item = &str> {
    let mut end = s.len();
    std::iter::from_fn(move || {
        while end > 0 {
            let (word, n) = class_before(s, end);
            if word {
                break;
            }
            end -= n;
        }
        if end == 0 {
            return None;
        }
        let word_end = end;
        while end > 0 {
            let (word, n) = class_before(s, end);
            if !word {
                break;
            }
            end -= n;
        }
        s.get(end..word_end)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_split(s: &str, apostrophe: bool) -> Vec<&str> {
        s.split(|c: char| !(c.is_alphanumeric() || apostrophe && c == '\''))
            .filter(|w| !w.is_empty())
            .collect()
    }

    #[test]
    fn a_clause_starts_after_the_last_stop_before() {
        let s = "arret, mais (pas) ici; la: non";
        assert_eq!(clause_start(s, 0), 0);
        assert_eq!(clause_start(s, 3), 0);
        assert_eq!(clause_start(s, 6), 6);
        assert_eq!(clause_start(s, 14), 13);
        assert_eq!(clause_start(s, s.len()), 26);
    }

    #[test]
    fn words_are_what_splitting_on_non_alphanumerics_gives() {
        let texts = [
            "",
            "   ",
            "la ligne n'est pas arrêtée, code E17.",
            "'quoted' -- l'arret\n> 30 % × 2 °C — ok",
            "Линия стоит; 機械 停止 ёж",
            "end'",
            "a",
            "é",
            "x€y",
        ];
        for t in texts {
            let words: Vec<&str> = forward(t).collect();
            assert_eq!(words, by_split(t, true), "{t:?}");
            let mut reversed: Vec<&str> = backward(t).collect();
            reversed.reverse();
            assert_eq!(reversed, by_split(t, false), "{t:?}");
        }
    }
}
