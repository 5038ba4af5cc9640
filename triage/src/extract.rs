//! Facts an expert needs, pulled out of the text.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::input::AttachmentKind;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fields {
    pub fault_codes: Vec<String>,
    pub serials: Vec<String>,
    pub phones: Vec<String>,
    pub photos: u32,
}

// Patterns are literals checked by the unit tests below: failing to compile is a
// programming error, never a reaction to input.
fn compile(re: &str) -> Regex {
    Regex::new(re).expect("built-in pattern compiles")
}

/// "E17", "E-217", "A-231", "F042": one or two letters then digits.
static CODE_SHAPE: LazyLock<Regex> = LazyLock::new(|| compile(r"\b([A-Z]{1,2})-?(\d{2,4})\b"));
/// "code 17", "alarme 45", "error 117", "fault 2041".
static CODE_WORD: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)\b(?:code|alarme?|alarm|error|erreur|fault|defaut|défaut)\s*(?:n°|no\.?|#)?\s*:?\s*([A-Z]{0,2}-?\d{1,5})\b",
    )
});
/// "S/N 12345", "serial: AB-99812", "n° de série 4471-22".
static SERIAL: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)\b(?:s/n|sn|serial(?:\s+number)?|n°\s*de\s*s[ée]rie|num[ée]ro\s+de\s+s[ée]rie|seriennummer|matricola)\s*[:#]?\s*([A-Z0-9][A-Z0-9-]{3,20})\b",
    )
});
/// International or French national phone numbers.
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?:\+\d{2,3}[\s.]?\d(?:[\s.]?\d{2}){4}|\b0\d(?:[\s.]?\d{2}){4}\b)"));

impl Fields {
    pub fn extract(text: &str, attachments: &[AttachmentKind]) -> Self {
        let mut fields = Fields::default();
        for caps in CODE_SHAPE.captures_iter(text) {
            push_unique(&mut fields.fault_codes, format!("{}{}", &caps[1], &caps[2]));
        }
        for caps in CODE_WORD.captures_iter(text) {
            push_unique(&mut fields.fault_codes, caps[1].replace('-', "").to_uppercase());
        }
        for caps in SERIAL.captures_iter(text) {
            push_unique(&mut fields.serials, caps[1].to_string());
        }
        for m in PHONE.find_iter(text) {
            let digits: String = m.as_str().chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
            push_unique(&mut fields.phones, digits);
        }
        fields.photos = attachments
            .iter()
            .filter(|k| matches!(k, AttachmentKind::Image | AttachmentKind::Video))
            .count()
            .try_into()
            .unwrap_or(u32::MAX);
        fields
    }
}

fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_codes_in_their_usual_shapes() {
        let f = Fields::extract("Ligne 2 arrêtée, code E17, puis E-217 et alarme 45", &[]);
        assert_eq!(f.fault_codes, vec!["E17", "E217", "45"]);
    }

    #[test]
    fn serial_and_phone() {
        let f = Fields::extract("S/N: AX-44812, rappelez-moi au 06 12 34 56 78", &[]);
        assert_eq!(f.serials, vec!["AX-44812"]);
        assert_eq!(f.phones, vec!["0612345678"]);
    }
}
