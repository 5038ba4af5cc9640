//! Separating what the customer just wrote from the history they quoted and
//! their signature, in French, English, German, Spanish and Italian mail-client
//! conventions. Triage reads the new text only; the rest is kept, not dropped.

use std::sync::LazyLock;

use regex::Regex;

use super::compile;

/// A line that starts quoted history on its own.
static SEPARATOR: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?ix)^\s*(?:
            -{2,}\s*(?:original\s+message|message\s+d'origine|ursprüngliche\s+nachricht|mensaje\s+original|messaggio\s+originale|original\s+nachricht)\s*-{2,}
          | -{5,}\s*original\s*-{5,}
          | _{10,}
          | \#\#-\s*please\s+(?:reply|type\s+your\s+reply)\s+above\s+this\s+line\s*-\#\#
        )\s*$",
    )
});

/// "On … wrote:" and its translations; tested on one line or two joined
/// (Gmail wraps long attribution lines).
static ATTRIBUTION: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?ix)^\s*(?:
            on\s.{4,}\s(?:wrote|writes)\s*:
          | le\s.{4,}\sa\s+[ée]crit\s*:
          | am\s.{4,}\sschrieb.{0,80}:
          | el\s.{4,}\sescribi[óo]\s*:
          | il\s.{4,}\sha\s+scritto\s*:
          | em\s.{4,}\sescreveu\s*:
          | op\s.{4,}\sschreef.{0,80}:
          | .{2,80}\s(?:wrote|a\s+[ée]crit|schrieb|escribi[óo]|ha\s+scritto)\s*:
        )\s*$",
    )
});

/// The first line of an Outlook header block: "De : …", "From: …", "Von: …", "Da: …".
static HEADER_FROM: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?i)^\s*\*?(?:de|from|von|da|van|de\s*la)\s*\*?\s*:\s*\S"));

/// A later line of that block: "Envoyé : …", "Sent: …", "Gesendet: …", "Inviato: …", "Enviado: …", "Date: …".
static HEADER_NEXT: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)^\s*\*?(?:envoy[ée]|sent|gesendet|inviato|enviado|date|datum|data|fecha|objet|subject|betreff|oggetto|asunto)\s*\*?\s*:",
    )
});

/// Signatures: the `-- ` delimiter and the phone clients' taglines.
static SIGNATURE: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?ix)^\s*(?:
            --\s*
          | (?:sent|envoy[ée]|enviado|inviato|gesendet|von)\s+(?:from|de|desde|da|von)?\s*(?:my|mon|ma|mi|mio|meinem)\s+\S.{0,40}
          | von\s+meinem\s+\S.{0,40}gesendet
          | t[ée]l[ée]charger\s+outlook\s+pour\s+.{0,40}
          | get\s+outlook\s+for\s+.{0,40}
        )$",
    )
});

/// New text and the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub new: String,
    pub quoted: Option<String>,
}

/// Splits a plain-text body at the first quote header, quoted block or signature.
/// When nothing would be left (a bare forward), the whole text counts as new.
pub fn split_text(text: &str) -> Split {
    let lines: Vec<&str> = text.lines().collect();
    let cut = find_cut(&lines);
    let Some(cut) = cut else {
        return Split {
            new: tidy(text),
            quoted: None,
        };
    };
    let new = tidy(&lines[..cut].join("\n"));
    let rest = lines[cut..].join("\n");
    if new.is_empty() {
        return Split {
            new: tidy(text),
            quoted: None,
        };
    }
    Split {
        new,
        quoted: Some(rest.trim().to_string()).filter(|q| !q.is_empty()),
    }
}

fn find_cut(lines: &[&str]) -> Option<usize> {
    for (i, line) in lines.iter().enumerate() {
        // An attribution line above a quoted block was already caught on its own line.
        if line.trim_start().starts_with('>') {
            return Some(i);
        }
        if SEPARATOR.is_match(line) || SIGNATURE.is_match(line) {
            return Some(i);
        }
        if is_attribution(lines, i) {
            return Some(i);
        }
        if HEADER_FROM.is_match(line) && lines[i + 1..].iter().take(4).any(|l| HEADER_NEXT.is_match(l)) {
            return Some(i);
        }
    }
    None
}

/// The line alone, or joined with the next one, is an attribution.
fn is_attribution(lines: &[&str], i: usize) -> bool {
    let line = lines[i];
    if line.len() > 300 {
        return false;
    }
    if ATTRIBUTION.is_match(line) {
        return true;
    }
    match lines.get(i + 1) {
        // Only when the next line is not a whole attribution on its own.
        Some(next) if !next.trim().is_empty() && !ATTRIBUTION.is_match(next) => {
            ATTRIBUTION.is_match(&format!("{} {}", line.trim_end(), next.trim()))
        }
        _ => false,
    }
}

fn tidy(text: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut blank = 0;
    for line in text.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push(line);
    }
    out.join("\n").trim().to_string()
}

/// Markers where mail clients start the quoted history in HTML, lower-case.
const HTML_MARKERS: &[&str] = &[
    "<div class=\"gmail_quote",
    "<div class=gmail_quote",
    "<div id=\"divrplyfwdmsg\"",
    "<div id=divrplyfwdmsg",
    "<div id=\"appendonsend\"",
    "<div name=\"quote\"",
    "<div class=\"yahoo_quoted",
    "<blockquote",
    "<!-- originalmessage -->",
    "<div class=\"moz-cite-prefix\"",
    "border-top:solid #e1e1e1 1.0pt",
    "border-top: solid #e1e1e1 1.0pt",
    "border-top:solid #b5c4df 1.0pt",
];

/// The HTML before the first quote marker, or None when there is none.
pub fn cut_html(html: &str) -> Option<&str> {
    let lower = html.to_ascii_lowercase();
    let pos = HTML_MARKERS.iter().filter_map(|m| lower.find(m)).min()?;
    // A style attribute marker sits inside a tag: cut at that tag's start.
    let pos = if lower[pos..].starts_with('<') {
        pos
    } else {
        lower[..pos].rfind('<').unwrap_or(pos)
    };
    html.get(..pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_of(text: &str) -> String {
        split_text(text).new
    }

    #[test]
    fn english_attribution_and_quote() {
        let s = split_text(
            "Still broken.\n\nOn Mon, 5 Jan 2026 at 09:12, SAV <sav@maker.com> wrote:\n> Did you restart?\n",
        );
        assert_eq!(s.new, "Still broken.");
        assert!(s.quoted.as_deref().unwrap_or_default().starts_with("On Mon"));
    }

    #[test]
    fn french_attribution_split_over_two_lines() {
        let text =
            "La ligne est repartie.\n\nLe lun. 5 janv. 2026 à 09:12, Service SAV <sav@maker.com> a\nécrit :\n> Bonjour";
        assert_eq!(new_of(text), "La ligne est repartie.");
    }

    #[test]
    fn german_spanish_italian_attributions() {
        assert_eq!(
            new_of("Neu.\nAm 05.01.2026 um 09:12 schrieb SAV <sav@maker.com>:\n> alt"),
            "Neu."
        );
        assert_eq!(
            new_of("Nuevo.\nEl lun, 5 ene 2026 a las 9:12, SAV escribió:\n> viejo"),
            "Nuevo."
        );
        assert_eq!(
            new_of("Nuovo.\nIl giorno lun 5 gen 2026, SAV ha scritto:\n> vecchio"),
            "Nuovo."
        );
    }

    #[test]
    fn outlook_header_block_without_quote_marks() {
        let text = "Toujours en panne, code E17.\n\nDe : SAV <sav@maker.com>\nEnvoyé : lundi 5 janvier 2026 09:12\nÀ : Jean <jean@client.fr>\nObjet : RE: Panne\n\nBonjour,";
        assert_eq!(new_of(text), "Toujours en panne, code E17.");
        let text = "Still down.\n\nFrom: SAV <sav@maker.com>\nSent: Monday, January 5, 2026 9:12 AM\nTo: Jean\nSubject: RE: Panne";
        assert_eq!(new_of(text), "Still down.");
    }

    #[test]
    fn original_message_separators() {
        assert_eq!(
            new_of("Voir ci-dessous.\n-----Original Message-----\nFrom: x"),
            "Voir ci-dessous."
        );
        assert_eq!(new_of("Voir.\n----- Message d'origine -----\nDe : x"), "Voir.");
        assert_eq!(
            new_of("Siehe.\n-------- Ursprüngliche Nachricht --------\nVon: x"),
            "Siehe."
        );
    }

    #[test]
    fn signatures_go_with_the_rest() {
        let s = split_text("Machine arrêtée.\n-- \nJean Dupont\nTél 06 12 34 56 78");
        assert_eq!(s.new, "Machine arrêtée.");
        assert!(s.quoted.as_deref().unwrap_or_default().contains("06 12 34 56 78"));
        assert_eq!(new_of("Line down.\n\nSent from my iPhone"), "Line down.");
        assert_eq!(new_of("Ligne arrêtée.\n\nEnvoyé de mon iPhone"), "Ligne arrêtée.");
        assert_eq!(new_of("Anlage steht.\n\nVon meinem iPhone gesendet"), "Anlage steht.");
    }

    #[test]
    fn a_bare_forward_keeps_everything() {
        let text = "-----Original Message-----\nFrom: client\nLine 2 stopped";
        assert_eq!(new_of(text), text);
    }

    #[test]
    fn plain_text_without_quotes_is_untouched() {
        assert_eq!(
            new_of("Bonjour,\n\n\n\nla ligne 2 est arrêtée.\n"),
            "Bonjour,\n\nla ligne 2 est arrêtée."
        );
        assert!(split_text("Hello").quoted.is_none());
    }

    #[test]
    fn html_cut_at_client_markers() {
        assert_eq!(
            cut_html("<p>New</p><div class=\"gmail_quote\">old</div>"),
            Some("<p>New</p>")
        );
        assert_eq!(
            cut_html("<p>Neu</p><div id=\"divRplyFwdMsg\" dir=\"ltr\">alt</div>"),
            Some("<p>Neu</p>")
        );
        assert_eq!(
            cut_html("<p>x</p><div style=\"border:none;border-top:solid #E1E1E1 1.0pt\">De :</div>"),
            Some("<p>x</p>")
        );
        assert_eq!(cut_html("<p>only new</p>"), None);
    }
}
