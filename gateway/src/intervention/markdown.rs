//! The report as Markdown: for the thread, a ticket elsewhere, or a wiki.

use super::document::Block;

/// Markdown's special characters in a value, escaped so a customer's
/// `*` or `#` stays text.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '\\' | '`' | '*' | '_' | '#' | '[' | ']' | '<' | '>' | '|') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

pub fn render(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Title(t) => out.push_str(&format!("# {}\n\n", escape(t))),
            Block::Status(s) => out.push_str(&format!("_{}_\n\n", escape(s))),
            Block::Fact(label, value, colon) => {
                out.push_str(&format!("- **{label}**{colon}{}\n", escape(value)));
            }
            Block::Section(label, text) => {
                out.push_str(&format!("\n## {label}\n\n"));
                for line in text.lines() {
                    out.push_str(&escape(line));
                    // A hard break keeps the author's lines.
                    out.push_str("  \n");
                }
            }
            Block::List(label, items) => {
                out.push_str(&format!("\n## {label}\n\n"));
                for item in items {
                    out.push_str(&format!("- {}\n", escape(item)));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intervention::content::{ReportContent, Times};
    use crate::intervention::document::{Validation, blocks};

    #[test]
    fn a_validated_report_in_french_with_its_sections_and_timeline() {
        let c = ReportContent {
            language: "fr".into(),
            title: "SY-12 — Ligne 2".into(),
            customer: "Marc Dupont".into(),
            fault_codes: vec!["E17".into()],
            symptom: "Ligne arrêtée *depuis* 5 h".into(),
            result: "Capteur remplacé.\nLigne repartie.".into(),
            times: Times {
                opened: Some(1_764_576_000_000),
                ..Times::default()
            },
            ..ReportContent::default()
        };
        let v = Validation {
            by: "Alice Martin",
            at: 1_764_579_600_000,
        };
        let md = render(&blocks(&c, Some(&v), chrono_tz::Europe::Paris));
        assert!(md.starts_with("# Rapport d'intervention — SY-12 — Ligne 2\n\n_Validé par Alice Martin, 2025-12-01 10:00 (Europe/Paris)_\n"), "{md}");
        assert!(md.contains("- **Codes défaut** : E17\n"));
        assert!(md.contains("## Symptôme\n\nLigne arrêtée \\*depuis\\* 5 h  \n"));
        assert!(md.contains("## Résultat\n\nCapteur remplacé.  \nLigne repartie.  \n"));
        assert!(md.contains("## Chronologie\n\n- Ouvert : 2025-12-01 09:00\n"));
        assert!(!md.contains("Diagnostic"), "empty sections are left out");
    }
}
