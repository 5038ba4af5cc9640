//! Case and accent folding that remembers where each folded byte came from,
//! so a match in folded text can be shown on the original text.
//!
//! Also: runs of spaces become one space, and lines quoted with `>` are left
//! out (an old thread pasted below is not what the customer says now).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

#[derive(Debug, Clone)]
pub struct Folded {
    pub text: String,
    /// For each byte of `text`, the byte offset in the original of the char it came from.
    origin: Vec<u32>,
    original_len: usize,
}

struct Builder {
    out: Vec<u8>,
    origin: Vec<u32>,
}

impl Builder {
    fn push_byte(&mut self, b: u8, at: u32) {
        self.out.push(b);
        self.origin.push(at);
    }

    fn push_str(&mut self, s: &str, at: u32) {
        self.out.extend_from_slice(s.as_bytes());
        self.origin.extend(std::iter::repeat_n(at, s.len()));
    }

    fn push_folded(&mut self, ch: char, at: u32) {
        match ch {
            '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{00B4}' => return self.push_byte(b'\'', at),
            '\u{2010}'..='\u{2015}' => return self.push_byte(b'-', at),
            'ß' => return self.push_str("ss", at),
            'œ' | 'Œ' => return self.push_str("oe", at),
            'æ' | 'Æ' => return self.push_str("ae", at),
            _ => {}
        }
        for d in std::iter::once(ch).nfd() {
            if is_combining_mark(d) {
                continue;
            }
            for low in d.to_lowercase() {
                let mut buf = [0u8; 4];
                self.push_str(low.encode_utf8(&mut buf), at);
            }
        }
    }
}

impl Folded {
    pub fn new(original: &str) -> Self {
        let mut f = Builder {
            out: Vec::with_capacity(original.len()),
            origin: Vec::with_capacity(original.len()),
        };
        let bytes = original.as_bytes();
        let mut line_start = true;
        let mut in_quote = false;
        let mut last_space = true;
        let mut i = 0;
        while i < bytes.len() {
            let at = u32::try_from(i).unwrap_or(u32::MAX);
            let b = bytes[i];
            // Letters, digits and most punctuation: by far the common case.
            if b > b' ' && b < 0x80 && !in_quote && !(line_start && b == b'>') {
                f.push_byte(b.to_ascii_lowercase(), at);
                line_start = false;
                last_space = false;
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
            i += len;
            if ch == '\n' {
                in_quote = false;
                line_start = true;
                if f.out.last() != Some(&b'\n') {
                    f.push_byte(b'\n', at);
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
                    f.push_byte(b' ', at);
                    last_space = true;
                }
                continue;
            }
            line_start = false;
            last_space = false;
            if len == 1 {
                f.push_byte(b.to_ascii_lowercase(), at);
            } else {
                f.push_folded(ch, at);
            }
        }
        Folded {
            // Built from whole chars and ASCII bytes only: always valid UTF-8.
            text: String::from_utf8(f.out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            origin: f.origin,
            original_len: original.len(),
        }
    }

    pub fn original_len(&self) -> usize {
        self.original_len
    }

    /// An empty text derived from another (see `forms.rs`): bytes are pushed
    /// with the origin of a byte of the text they came from.
    pub fn with_capacity(capacity: usize, original_len: usize) -> Self {
        Folded {
            text: String::with_capacity(capacity),
            origin: Vec::with_capacity(capacity),
            original_len,
        }
    }

    /// Appends `from.text[start..end]` with its origins. Callers cut on ASCII word edges.
    pub fn copy_from(&mut self, from: &Folded, start: usize, end: usize) {
        if let Some(piece) = from.text.get(start..end) {
            self.text.push_str(piece);
            self.origin.extend_from_slice(&from.origin[start..end]);
        }
    }

    /// Appends an ASCII byte that stands for `from`'s byte at `at`.
    pub fn push_mapped(&mut self, b: u8, from: &Folded, at: usize) {
        debug_assert!(b.is_ascii());
        self.text.push(char::from(b));
        self.origin.push(
            from.origin
                .get(at)
                .copied()
                .unwrap_or(u32::try_from(self.original_len).unwrap_or(u32::MAX)),
        );
    }

    /// Maps a folded byte range back to the original byte range.
    pub fn original_range(&self, start: usize, end: usize, original: &str) -> (usize, usize) {
        let pos = |i: usize| self.origin.get(i).map(|&o| o as usize);
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
}
