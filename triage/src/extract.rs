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

/// "E17", "E-217", "A-231", "F-042", "AL-12": one or two capitals, an optional dash, digits.
static CODE_SHAPE: LazyLock<Regex> = LazyLock::new(|| compile(r"\b([A-Z]{1,2})-?(\d{2,4})\b"));
/// "code 17", "alarme 45", "error 117", "spindle alarm 2041", "Fehler 23", "errore 45", "código E12".
static CODE_WORD: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)\b(?:code(?:\s+(?:d[eé]faut|erreur|alarme|error|fault))?|c[oó]digo(?:\s+de\s+(?:error|alarma))?|codice(?:\s+(?:di\s+)?(?:errore|allarme))?|alarme?|alarma|allarme|alarm|error|erreur|errore|fehler(?:code)?|st[öo]rung|fault|d[ée]faut|fallo|guasto)\s*(?:n[°o]\.?|nr\.?|#)?\s*:?\s*([A-Z]{0,2}-?\d{1,5})\b",
    )
});
/// "S/N 12345", "serial: AB-99812", "n° de série 4471-22", "Seriennummer", "número de serie", "matricola".
static SERIAL: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)(?:\bs/n|\bsn|\bserial(?:\s+(?:number|no\.?))?|\bn[°o]\s*de\s*s[ée]rie|\bnum[ée]ro\s+de\s+s[ée]rie|\bseriennummer|\bserien-?nr\.?|\bn[úu]mero\s+de\s+serie|\bnumero\s+di\s+serie|\bmatricola)\s*[:#]?\s*([A-Z0-9][A-Z0-9-]{3,20})\b",
    )
});
/// "modèle X500", "model CNC-200", "Modell", "modelo", "modello", "machine type P200".
static MODEL_WORD: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"(?i)\b(?:mod[èe]le|model|modell|modelo|modello|type|typ|tipo)\s*:?\s*([A-Z][A-Z0-9]*-?\d[A-Z0-9-]*)\b")
});
/// "firmware 2.3.1", "fw v1.2", "version logicielle 4.1", "Software-Version 3.2".
static FIRMWARE: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)\b(?:firmware|fw|software(?:-?version)?|logiciel|version(?:\s+(?:logicielle|firmware|du\s+logiciel))?|versione|versi[óo]n)\s*:?\s*v?(\d+(?:\.\d+){1,3})\b",
    )
});
/// International or French national phone numbers.
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?:\+\d{2,3}[\s.]?\d(?:[\s.]?\d{2}){4}|\+\d{8,14}\b|\b0\d(?:[\s.]?\d{2}){4}\b)"));

impl Fields {
    /// `models` are the rule file's catalogue patterns, tried before the generic one.
    pub fn extract(text: &str, attachments: &[AttachmentKind], models: &[Regex]) -> Self {
        let mut f = Fields::default();
        for caps in CODE_WORD.captures_iter(text) {
            push_unique(&mut f.fault_codes, caps[1].replace('-', "").to_uppercase());
        }
        for caps in SERIAL.captures_iter(text) {
            push_unique(&mut f.serials, caps[1].to_string());
        }
        for re in models {
            for m in re.find_iter(text) {
                push_unique(&mut f.models, m.as_str().to_string());
            }
        }
        for caps in MODEL_WORD.captures_iter(text) {
            push_unique(&mut f.models, caps[1].to_string());
        }
        for caps in CODE_SHAPE.captures_iter(text) {
            let code = format!("{}{}", &caps[1], &caps[2]);
            let whole = caps.get(0).map(|m| m.as_str()).unwrap_or_default();
            // A model or serial number is not also a fault code.
            let taken = f.models.iter().chain(&f.serials).any(|m| m.contains(whole));
            if !taken {
                push_unique(&mut f.fault_codes, code);
            }
        }
        for caps in FIRMWARE.captures_iter(text) {
            push_unique(&mut f.firmware, caps[1].to_string());
        }
        for m in PHONE.find_iter(text) {
            let digits: String = m.as_str().chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
            push_unique(&mut f.phones, digits);
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
    fn catalogue_patterns_name_models() {
        let models = [compile(r"\bCNC-\d{3}\b")];
        let f = Fields::extract(
            "la CNC-450 fait un bruit",
            &[AttachmentKind::Image, AttachmentKind::Document],
            &models,
        );
        assert_eq!(f.models, vec!["CNC-450"]);
        assert_eq!((f.photos, f.documents), (1, 1));
    }
}
