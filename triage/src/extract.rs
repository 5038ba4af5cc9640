//! Facts an expert needs, pulled out of the original text.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::input::AttachmentKind;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fields {
    pub fault_codes: Vec<String>,
    pub serials: Vec<String>,
    pub models: Vec<String>,
    pub firmware: Vec<String>,
    pub phones: Vec<String>,
    /// Images and videos attached.
    pub photos: u32,
    /// Documents (logs, PDFs) attached.
    pub documents: u32,
    /// What the customer says the problem does to production, when a rule recognised it.
    pub impact: Option<String>,
}

fn compile(re: &str) -> Regex {
    match Regex::new(re) {
        Ok(re) => re,
        // Literal patterns covered by the tests below: a failure is a bug, not input.
        Err(e) => panic!("built-in extraction pattern {re:?} does not compile: {e}"),
    }
}

/// Every pattern in one alternation, so the text is read once. At a given
/// position the first alternative wins: a fault code introduced by a word
/// ("code E17") before a bare code shape, a model ("modèle P200") before a code.
/// Word boundaries are ASCII, `(?-u:\b)`: a Unicode `\b` makes the regex engine
/// leave its fast DFA on accented text, for no gain here.
static EXTRACT: LazyLock<Regex> = LazyLock::new(|| {
    let code_word = r"(?i:(?-u:\b)(?:code(?:\s+(?:d[eé]faut|erreur|alarme|error|fault))?|c[oó]digo(?:\s+de\s+(?:error|alarma))?|codice(?:\s+(?:di\s+)?(?:errore|allarme))?|alarme?|alarma|allarme|alarm|error|erreur|errore|fehler(?:code)?|st[öo]rung|fault|d[ée]faut|fallo|guasto)\s*(?:n[°o]\.?|nr\.?|#)?\s*:?\s*(?P<code>[A-Z]{0,2}-?\d{1,5})(?-u:\b))";
    let serial = r"(?i:(?:(?-u:\b)s/n|(?-u:\b)sn|(?-u:\b)serial(?:\s+(?:number|no\.?))?|(?-u:\b)n[°o]\s*de\s*s[ée]rie|(?-u:\b)num[ée]ro\s+de\s+s[ée]rie|(?-u:\b)seriennummer|(?-u:\b)serien-?nr\.?|(?-u:\b)n[úu]mero\s+de\s+serie|(?-u:\b)numero\s+di\s+serie|(?-u:\b)matricola)\s*[:#]?\s*(?P<serial>[A-Z0-9][A-Z0-9-]{3,20})(?-u:\b))";
    let model = r"(?i:(?-u:\b)(?:mod[èe]le|model|modell|modelo|modello|type|typ|tipo)\s*:?\s*(?P<model>[A-Z][A-Z0-9]*-?\d[A-Z0-9-]*)(?-u:\b))";
    let firmware = r"(?i:(?-u:\b)(?:firmware|fw|software(?:-?version)?|logiciel|version(?:\s+(?:logicielle|firmware|du\s+logiciel))?|versione|versi[óo]n)\s*:?\s*v?(?P<firmware>\d+(?:\.\d+){1,3})(?-u:\b))";
    let phone =
        r"(?P<phone>\+\d{2,3}[\s.]?\d(?:[\s.]?\d{2}){4}|\+\d{8,14}(?-u:\b)|(?-u:\b)0\d(?:[\s.]?\d{2}){4}(?-u:\b))";
    // "E17", "E-217", "A-231", "F-042", "AL-12": one or two capitals, an optional dash, digits.
    let shape = r"(?-u:\b)(?P<letters>[A-Z]{1,2})-?(?P<digits>\d{2,4})(?-u:\b)";
    compile(&format!("{code_word}|{serial}|{model}|{firmware}|{phone}|{shape}"))
});

impl Fields {
    /// `models` are the rule file's catalogue patterns, tried before the generic one.
    pub fn extract(text: &str, attachments: &[AttachmentKind], models: &[Regex]) -> Self {
        let mut f = Fields::default();
        for re in models {
            for m in re.find_iter(text) {
                push_unique(&mut f.models, m.as_str().to_string());
            }
        }
        // Every pattern needs a digit, and none reaches further than WINDOW
        // bytes before it: only the text around digits is searched.
        for (start, end) in digit_windows(text) {
            let window = &text[..end];
            let mut at = start;
            while let Some(caps) = EXTRACT.captures_at(window, at) {
                let Some(whole) = caps.get(0) else { break };
                at = if whole.end() > whole.start() {
                    whole.end()
                } else {
                    whole.end() + 1
                };
                if let Some(code) = caps.name("code") {
                    push_unique(&mut f.fault_codes, code.as_str().replace('-', "").to_uppercase());
                } else if let Some(serial) = caps.name("serial") {
                    push_unique(&mut f.serials, serial.as_str().to_string());
                } else if let Some(model) = caps.name("model") {
                    push_unique(&mut f.models, model.as_str().to_string());
                } else if let Some(fw) = caps.name("firmware") {
                    push_unique(&mut f.firmware, fw.as_str().to_string());
                } else if let Some(phone) = caps.name("phone") {
                    let digits: String = phone
                        .as_str()
                        .chars()
                        .filter(|c| c.is_ascii_digit() || *c == '+')
                        .collect();
                    push_unique(&mut f.phones, digits);
                } else if let (Some(letters), Some(digits)) = (caps.name("letters"), caps.name("digits")) {
                    // A catalogue model is not also a fault code.
                    if !f.models.iter().any(|m| m.contains(whole.as_str())) {
                        push_unique(&mut f.fault_codes, format!("{}{}", letters.as_str(), digits.as_str()));
                    }
                }
                if at > window.len() {
                    break;
                }
            }
        }
        let count = |pred: fn(&AttachmentKind) -> bool| {
            u32::try_from(attachments.iter().filter(|k| pred(k)).count()).unwrap_or(u32::MAX)
        };
        f.photos = count(|k| matches!(k, AttachmentKind::Image | AttachmentKind::Video));
        f.documents = count(|k| matches!(k, AttachmentKind::Document));
        f
    }

    pub fn has_machine(&self) -> bool {
        !self.serials.is_empty() || !self.models.is_empty()
    }
}

/// How far before a digit a pattern may start ("numéro de série : " and the like).
const WINDOW_BEFORE: usize = 48;

/// Byte ranges around runs of digits, merged when they touch, on char boundaries.
/// A range ends at the end of the word holding its last digit.
fn digit_windows(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut windows: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while let Some(digit) = next_digit(bytes, i) {
        i = digit;
        let mut start = i.saturating_sub(WINDOW_BEFORE);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        // Phone numbers and versions run on: "06 12 34 56 78", "2.3.1".
        let mut end = i;
        loop {
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
            let continues = end + 1 < bytes.len() && b" .-".contains(&bytes[end]) && bytes[end + 1].is_ascii_digit();
            if !continues {
                break;
            }
            end += 1;
        }
        while end < bytes.len() && bytes[end].is_ascii_alphanumeric() {
            end += 1;
        }
        while end < bytes.len() && !text.is_char_boundary(end) {
            end += 1;
        }
        match windows.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => windows.push((start, end)),
        }
        i = end.max(i + 1);
    }
    windows
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = ONES * 0x80;

/// The first ASCII digit at or after `i`. Eight bytes at a time: a byte is a
/// digit when XOR 0x30 leaves it below 10, and "some byte below 10" is one
/// subtraction and two masks for the eight. Most text has few digits.
fn next_digit(bytes: &[u8], mut i: usize) -> Option<usize> {
    while let Some(chunk) = bytes.get(i..).and_then(|rest| rest.first_chunk::<8>()) {
        let x = u64::from_le_bytes(*chunk) ^ (ONES * 0x30);
        if x.wrapping_sub(ONES * 10) & !x & HIGH_BITS != 0 {
            break;
        }
        i += 8;
    }
    bytes.get(i..)?.iter().position(u8::is_ascii_digit).map(|p| i + p)
}

fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Fields {
        Fields::extract(text, &[], &[])
    }

    #[test]
    fn the_next_digit_is_found_wherever_it_is() {
        for len in 0..40 {
            for at in 0..len {
                let mut text = vec![b'a'; len];
                // Bytes on either side of the digits: '/' (0x2F), ':' (0x3A), and non-ASCII.
                for (k, b) in text.iter_mut().enumerate() {
                    *b = [b'/', b':', b'x', 0xC3, b' '][k % 5];
                }
                text[at] = b'0' + (at % 10) as u8;
                assert_eq!(next_digit(&text, 0), Some(at), "len {len}, digit at {at}");
                assert_eq!(next_digit(&text, at + 1), None);
            }
        }
    }

    #[test]
    fn fault_codes_in_their_usual_shapes() {
        let cases: &[(&str, &[&str])] = &[
            ("Ligne 2 arrêtée, code E17", &["E17"]),
            ("puis E-217 et A-231, F-042", &["E217", "A231", "F042"]),
            ("alarme 45 sur le robot", &["45"]),
            ("error 117 on the drive", &["117"]),
            ("spindle alarm 2041 again", &["2041"]),
            ("Fehler 23 an der Presse", &["23"]),
            ("errore 45 sul nastro", &["45"]),
            ("código E12 en la pantalla", &["E12"]),
        ];
        for (text, expected) in cases {
            assert_eq!(fields(text).fault_codes, *expected, "{text}");
        }
    }

    #[test]
    fn serial_model_firmware_phone() {
        let f = fields("S/N: AX-44812, modèle P200, firmware v2.3.1, rappelez-moi au 06 12 34 56 78");
        assert_eq!(f.serials, vec!["AX-44812"]);
        assert_eq!(f.models, vec!["P200"]);
        assert_eq!(f.firmware, vec!["2.3.1"]);
        assert_eq!(f.phones, vec!["0612345678"]);
        assert!(
            f.fault_codes.is_empty(),
            "P200 is a model, not a fault code: {:?}",
            f.fault_codes
        );
        let f = fields("Seriennummer 5531-XZ, número de serie 99881");
        assert_eq!(f.serials, vec!["5531-XZ", "99881"]);
    }

    #[test]
    fn windows_cover_each_number_and_what_precedes_it() {
        let text = "Bonjour, une longue phrase sans chiffre aucun pour commencer le message. Puis le code E17 et le 06 12 34 56 78.";
        let w = digit_windows(text);
        assert_eq!(w.len(), 1, "{w:?}");
        let (s, e) = w[0];
        assert!(
            text[s..e].contains("code E17 et le 06 12 34 56 78"),
            "{:?}",
            &text[s..e]
        );
        assert!(s > 20, "starts near the digits, not at the beginning");
        assert_eq!(digit_windows("pas de chiffre"), vec![]);
        let accents = "é".repeat(40) + "9";
        let w = digit_windows(&accents);
        assert!(accents.is_char_boundary(w[0].0));
    }

    #[test]
    fn catalogue_patterns_name_models() {
        let models = [compile(r"(?-u:\b)CNC-\d{3}(?-u:\b)")];
        let f = Fields::extract(
            "la CNC-450 fait un bruit",
            &[AttachmentKind::Image, AttachmentKind::Document],
            &models,
        );
        assert_eq!(f.models, vec!["CNC-450"]);
        assert_eq!((f.photos, f.documents), (1, 1));
    }
}
