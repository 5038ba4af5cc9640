//! Case and accent folding that remembers where each folded byte came from,
//! so a match in folded text can be shown on the original text.
//!
//! Also: runs of spaces become one space, and lines quoted with `>` are left
//! out (an old thread pasted below is not what the customer says now).

use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

#[derive(Debug, Clone)]
pub struct Folded {
    pub text: String,
    /// Original offsets of the folded bytes.
    origins: Origins,
    original_len: usize,
}

/// Where the bytes of a derived text came from, sparsely: from an anchor's
/// offset up to the next anchor, byte `p` came from byte `from + (p - at)`.
/// Plain ASCII text needs one anchor, so folding copies runs of bytes instead
/// of recording an offset for each.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    anchors: Vec<Anchor>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Anchor {
    at: u32,
    from: u32,
}

/// A byte offset as anchors store it (a text over 4 GiB is not classified whole).
fn offset(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl Origins {
    /// Records that byte `at` came from byte `from`. Calls come in order of `at`;
    /// an anchor is added only where bytes stop following their source one for one.
    pub fn map(&mut self, at: usize, from: usize) {
        let (at, from) = (offset(at), offset(from));
        let follows = self
            .anchors
            .last()
            .is_some_and(|a| at.checked_sub(a.at).and_then(|d| a.from.checked_add(d)) == Some(from));
        if !follows {
            self.anchors.push(Anchor { at, from });
        }
    }

    /// Where byte `p` came from; `None` before the first anchor.
    pub fn get(&self, p: usize) -> Option<usize> {
        let p = offset(p);
        let i = self.anchors.partition_point(|a| a.at <= p);
        let a = self.anchors.get(i.checked_sub(1)?)?;
        Some((a.from + (p - a.at)) as usize)
    }
}

impl Folded {
    pub fn new(original: &str) -> Self {
        let mut f = Folded::with_capacity(original.len(), original.len());
        let bytes = original.as_bytes();
        let mut line_start = true;
        let mut in_quote = false;
        let mut last_space = true;
        let mut i = 0;
        while i < bytes.len() {
            // Letters, digits and most punctuation, a run at a time: by far the
            // common case, copied and lowercased in bulk, single spaces included.
            if !(in_quote || line_start && bytes[i] == b'>') && bytes[i] != b' ' {
                let mut end = i;
                loop {
                    while let Some(chunk) = bytes.get(end..).and_then(|rest| rest.first_chunk::<8>()) {
                        if !plain(u64::from_le_bytes(*chunk)) {
                            break;
                        }
                        end += 8;
                    }
                    let Some(&b) = bytes.get(end) else { break };
                    if !(b' '..0x80).contains(&b) || (b == b' ' && bytes.get(end + 1).is_none_or(|&n| n == b' ')) {
                        break;
                    }
                    end += 1;
                }
                if end > i {
                    f.push_ascii(&original[i..end], i);
                    line_start = false;
                    last_space = bytes[end - 1] == b' ';
                    i = end;
                    continue;
                }
            }
            let b = bytes[i];
            if b == b' ' {
                if !last_space && !in_quote {
                    f.push_ascii(" ", i);
                    last_space = true;
                }
                i += 1;
                continue;
            }
            let (ch, len) = if b < 0x80 {
                (b as char, 1)
            } else {
                match original.get(i..).and_then(|rest| rest.chars().next()) {
                    Some(ch) => (ch, ch.len_utf8()),
                    None => break,
                }
            };
            let at = i;
            i += len;
            if ch == '\n' {
                in_quote = false;
                line_start = true;
                if !f.text.ends_with('\n') {
                    f.push_ascii("\n", at);
                }
                last_space = true;
                continue;
            }
            if in_quote {
                continue;
            }
            if line_start && ch == '>' {
                in_quote = true;
                continue;
            }
            if ch.is_whitespace() {
                if !last_space {
                    f.push_ascii(" ", at);
                    last_space = true;
                }
                continue;
            }
            line_start = false;
            last_space = false;
            f.push_folded(ch, at);
        }
        f
    }

    fn with_capacity(capacity: usize, original_len: usize) -> Self {
        Folded {
            text: String::with_capacity(capacity),
            origins: Origins::default(),
            original_len,
        }
    }

    fn origin(&self, p: usize) -> usize {
        self.origins.get(p).unwrap_or(self.original_len)
    }

    /// Appends ASCII text, lowercased, that came byte for byte from the original at `from`.
    fn push_ascii(&mut self, ascii: &str, from: usize) {
        self.origins.map(self.text.len(), from);
        let start = self.text.len();
        self.text.push_str(ascii);
        self.text[start..].make_ascii_lowercase();
    }

    /// Appends the folded form of the char at original byte `from`; each of
    /// its bytes points at that char.
    fn push_folded(&mut self, ch: char, from: usize) {
        let push = |f: &mut Folded, c: char| {
            let at = f.text.len();
            f.text.push(c);
            for k in 0..c.len_utf8() {
                f.origins.map(at + k, from);
            }
        };
        match latin1(ch) {
            Some(form) => form.chars().for_each(|c| push(self, c)),
            None => fold_char(ch, |c| push(self, c)),
        }
    }
}

/// Calls `push` with each char of `ch`'s folded form: lowercase, no accents,
/// typographic marks as their ASCII forms.
fn fold_char(ch: char, mut push: impl FnMut(char)) {
    let replacement = match ch {
        '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{00B4}' => Some("'"),
        '\u{2010}'..='\u{2015}' => Some("-"),
        // Opening marks would glue to the next word (non-ASCII bytes count as letters).
        '¿' => Some("?"),
        '¡' => Some("!"),
        '«' | '»' | '\u{201C}' | '\u{201D}' | '\u{201E}' => Some("\""),
        'ß' => Some("ss"),
        'œ' | 'Œ' => Some("oe"),
        'æ' | 'Æ' => Some("ae"),
        _ => None,
    };
    if let Some(r) = replacement {
        r.chars().for_each(&mut push);
        return;
    }
    for d in std::iter::once(ch).nfd() {
        if !is_combining_mark(d) {
            d.to_lowercase().for_each(&mut push);
        }
    }
}

/// The folded forms of U+00C0..=U+00FF, worked out once by [`fold_char`]:
/// accented Latin letters are most of the non-ASCII text a hotline gets, and
/// decomposing each one took more time than the rest of folding.
static LATIN1: LazyLock<Vec<String>> = LazyLock::new(|| {
    ('\u{C0}'..='\u{FF}')
        .map(|ch| {
            let mut form = String::new();
            fold_char(ch, |c| form.push(c));
            form
        })
        .collect()
});

#[inline]
fn latin1(ch: char) -> Option<&'static str> {
    let i = (ch as usize).checked_sub(0xC0)?;
    LATIN1.get(i).map(String::as_str)
}

impl Folded {
    /// Maps a folded byte range back to the original byte range.
    pub fn original_range(&self, start: usize, end: usize, original: &str) -> (usize, usize) {
        let pos = |i: usize| (i < self.text.len()).then(|| self.origin(i));
        let o_start = pos(start).unwrap_or(self.original_len);
        // The last matched byte came from some original char; the range ends where that char ends.
        let o_end = match end.checked_sub(1).and_then(pos) {
            Some(last) => {
                let mut e = last + 1;
                while e < original.len() && !original.is_char_boundary(e) {
                    e += 1;
                }
                e
            }
            None => o_start,
        };
        (o_start.min(original.len()), o_end.max(o_start).min(original.len()))
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = ONES * 0x80;

/// Whether eight bytes (little-endian) are all printable ASCII or single
/// spaces, none of them a space that the next byte (not among these) might
/// double: the bytes the run loop of [`Folded::new`] copies as they are.
/// Checked eight at a time because it is most of the text.
#[inline]
fn plain(x: u64) -> bool {
    // A byte below 0x20 (control) or from 0x80 (non-ASCII) ends a run.
    let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH_BITS;
    if (x & HIGH_BITS) | control != 0 {
        return false;
    }
    // Exactly the bytes that are spaces, as their high bit.
    let y = x ^ (ONES * 0x20);
    let spaces = !(((y & !HIGH_BITS) + !HIGH_BITS) | y | !HIGH_BITS);
    spaces & (spaces >> 8) == 0 && spaces >> 56 == 0
}

/// Bytes that belong to a word in folded text: ASCII letters and digits, and
/// every byte of a non-ASCII char (folding leaves few).
static WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric() || b >= 0x80;
        b += 1;
    }
    table
};

#[inline]
pub fn is_word_byte(b: u8) -> bool {
    WORD_BYTES[usize::from(b)]
}

/// Whether the char at byte `i` of folded text (a char boundary) belongs to a
/// word, and its length. ASCII by the table; other chars when alphanumeric, so
/// that an emoji or a symbol typed against a word ("arrêt😱", "stopping…")
/// does not hide the word.
#[inline(never)]
pub fn word_char_at(text: &str, i: usize) -> (bool, usize) {
    match text.as_bytes().get(i) {
        Some(&b) if b < 0x80 => (WORD_BYTES[usize::from(b)], 1),
        Some(_) => match text.get(i..).and_then(|rest| rest.chars().next()) {
            Some(c) => (c.is_alphanumeric(), c.len_utf8()),
            None => (false, 1),
        },
        None => (false, 1),
    }
}

/// ASCII letters and digits only (any byte from 0x80 is not): a word's run
/// of plain bytes.
static ASCII_WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    table
};

#[inline]
pub fn is_ascii_alnum(b: u8) -> bool {
    ASCII_WORD_BYTES[usize::from(b)]
}

/// The end of the word starting at `start` (a word char) in folded text.
/// Kept out of line: callers take a faster path on all-ASCII text.
#[inline(never)]
pub fn word_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start;
    loop {
        i += bytes[i..].iter().take_while(|&&b| is_ascii_alnum(b)).count();
        // Only a non-ASCII char can go on the word (when it is alphanumeric).
        match bytes.get(i) {
            Some(&b) if b >= 0x80 => match word_char_at(text, i) {
                (true, n) => i += n,
                (false, _) => return i,
            },
            _ => return i,
        }
    }
}

/// A keyword phrase folded like text is, trimmed.
pub fn fold_phrase(phrase: &str) -> String {
    Folded::new(phrase).text.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_case_apostrophes_and_spaces() {
        let f = Folded::new("Ligne  ARRÊTÉE à l’arrêt Straße");
        assert_eq!(f.text, "ligne arretee a l'arret strasse");
    }

    #[test]
    fn leaves_out_quoted_lines() {
        let f = Folded::new("tout va bien\n> la ligne est arrêtée\nmerci");
        assert_eq!(f.text, "tout va bien\nmerci");
    }

    #[test]
    fn maps_back_to_original() {
        let original = "La LIGNE  arrêtée";
        let f = Folded::new(original);
        let start = f.text.find("ligne arretee").unwrap_or(0);
        let (s, e) = f.original_range(start, start + "ligne arretee".len(), original);
        assert_eq!(&original[s..e], "LIGNE  arrêtée");
    }

    #[test]
    fn folds_ligatures_and_opening_marks() {
        assert_eq!(Folded::new("¡Œuvre d’æther! «ß»").text, "!oeuvre d'aether! \"ss\"");
    }

    #[test]
    fn eight_plain_bytes_are_told_apart_from_the_rest() {
        let by_byte = |b: &[u8; 8]| {
            b.iter().all(|&c| (b' '..0x80).contains(&c)) && !b.windows(2).any(|w| w == b"  ") && b[7] != b' '
        };
        let samples: [&[u8; 8]; 10] = [
            b"abcdefgh",
            b"ab cd ef",
            b"ab  cdef",
            b"abcdefg ",
            b"\tabcdefg",
            b"abc\ndefg",
            b" abcdefg",
            b"a~b!c?d.",
            b"\x7fabcdefg",
            b"abcd\x1fefg",
        ];
        for s in samples {
            assert_eq!(
                plain(u64::from_le_bytes(*s)),
                by_byte(s),
                "{:?}",
                String::from_utf8_lossy(s)
            );
        }
        // Every single byte in every position.
        for pos in 0..8 {
            for c in 0..=255u8 {
                let mut s = *b"abcdefgh";
                s[pos] = c;
                assert_eq!(plain(u64::from_le_bytes(s)), by_byte(&s), "{c:#x} at {pos}");
            }
        }
    }

    #[test]
    fn latin1_letters_fold_as_the_general_rule_says() {
        for ch in '\u{C0}'..='\u{FF}' {
            let mut general = String::new();
            fold_char(ch, |c| general.push(c));
            assert_eq!(latin1(ch), Some(general.as_str()), "{ch}");
        }
        assert_eq!(
            Folded::new("ÀÉÎÕÜÇÑ àéîõüçñ ÿ ß Æ × Ø").text,
            "aeioucn aeioucn y ss ae × ø"
        );
        assert_eq!(latin1('\u{BF}'), None);
        assert_eq!(latin1('\u{100}'), None);
    }

    #[test]
    fn plain_ascii_needs_one_anchor() {
        let f = Folded::new("The line is down, code E17.");
        assert_eq!(f.origins.anchors.len(), 1);
        // Each accented char shifts what follows by one byte: one anchor after it.
        let f = Folded::new("arrêt arrêt");
        assert_eq!(f.origins.anchors.len(), 3, "{:?}", f.origins.anchors);
    }
}
