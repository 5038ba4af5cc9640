//! Case and accent folding that remembers where each folded byte came from,
//! so a match in folded text can be shown on the original text.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

pub struct Folded {
    pub text: String,
    /// For each byte of `text`, the byte offset in the original of the char it came from.
    origin: Vec<usize>,
    original_len: usize,
}

impl Folded {
    pub fn new(original: &str) -> Self {
        let mut text = String::with_capacity(original.len());
        let mut origin = Vec::with_capacity(original.len());
        for (at, ch) in original.char_indices() {
            for d in std::iter::once(ch).nfd() {
                if is_combining_mark(d) {
                    continue;
                }
                let d = match d {
                    '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`' => '\'',
                    '\u{00A0}' | '\u{202F}' => ' ',
                    'ß' => {
                        push(&mut text, &mut origin, "ss", at);
                        continue;
                    }
                    'œ' | 'Œ' => {
                        push(&mut text, &mut origin, "oe", at);
                        continue;
                    }
                    other => other,
                };
                for low in d.to_lowercase() {
                    let mut buf = [0u8; 4];
                    push(&mut text, &mut origin, low.encode_utf8(&mut buf), at);
                }
            }
        }
        Folded {
            text,
            origin,
            original_len: original.len(),
        }
    }

    /// Maps a folded byte range back to the original byte range.
    pub fn original_range(&self, start: usize, end: usize, original: &str) -> (usize, usize) {
        let o_start = self.origin.get(start).copied().unwrap_or(self.original_len);
        let o_end = if end >= self.origin.len() {
            self.original_len
        } else {
            // The original char that produced the byte just past the match starts the next char.
            self.origin[end]
        };
        let o_end = o_end.max(o_start);
        // Keep the range on char boundaries of the original.
        let mut e = o_end;
        while e < original.len() && !original.is_char_boundary(e) {
            e += 1;
        }
        (o_start, e)
    }
}

fn push(text: &mut String, origin: &mut Vec<usize>, s: &str, at: usize) {
    text.push_str(s);
    origin.extend(std::iter::repeat_n(at, s.len()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_case_and_apostrophes() {
        let f = Folded::new("Ligne ARRÊTÉE à l’arrêt Straße");
        assert_eq!(f.text, "ligne arretee a l'arret strasse");
    }

    #[test]
    fn maps_back_to_original() {
        let original = "La LIGNE arrêtée";
        let f = Folded::new(original);
        let start = f.text.find("arretee").unwrap_or(0);
        let (s, e) = f.original_range(start, start + "arretee".len(), original);
        assert_eq!(&original[s..e], "arrêtée");
    }
}
