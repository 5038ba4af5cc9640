//! Subjects: the ticket tag we put in them, and the reply/forward prefixes
//! mail clients add in many languages, stripped for comparison.

use std::sync::LazyLock;

use regex::Regex;

use super::compile;

/// The tag's prefix: `[#SY-1234]`; the number is the conversation id.
pub const TAG_PREFIX: &str = "SY";

// `[#SY-12]`, `[SY-12]`, `#SY-12`: clients and people rewrite brackets.
static TAG: LazyLock<Regex> = LazyLock::new(|| compile(r"(?i)(?:\[\s*#?\s*|#)SY-(\d{1,15})\s*\]?"));

/// Re, RE :, Fwd, TR, AW, WG, SV, VS, VL, Antw, Doorst, RIF, I, R, RES, ENC, Odp, PD, ΑΠ, ΣΧΕΤ, ΠΡΘ,
/// 回复, 转发, 回覆, 轉寄, رد — with an optional `[n]`/`(n)` counter, repeated.
static PREFIXES: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)^\s*(?:(?:re|fwd?|tr|aw|wg|sv|vs|vl|antw|doorst|rif|i|r|res|enc|odp|pd|ref|απ|σχετ|πρθ|回复|转发|回覆|轉寄|رد)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+",
    )
});

/// The conversation number in a subject's ticket tag, if any.
pub fn ticket_tag(subject: &str) -> Option<i64> {
    TAG.captures(subject)?.get(1)?.as_str().parse().ok()
}

/// `[#SY-12]`
pub fn tag(conversation: i64) -> String {
    format!("[#{TAG_PREFIX}-{conversation}]")
}

/// The subject without reply/forward prefixes and without our tag, for display in replies.
pub fn base(subject: &str) -> String {
    let without_tag = TAG.replace_all(subject, " ");
    let stripped = PREFIXES.replace(without_tag.trim(), "");
    stripped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Starts with a reply or forward prefix ("Re:", "AW:", "TR :", ...).
pub fn is_reply(subject: &str) -> bool {
    PREFIXES.find(subject).is_some_and(|m| !m.as_str().trim().is_empty())
}

/// The subject as compared for threading: [`base`], lower-cased.
pub fn normalise(subject: &str) -> String {
    base(subject).to_lowercase()
}

/// The subject of our mail in a conversation: `Re: <base> [#SY-12]`.
pub fn reply_subject(original: Option<&str>, conversation: i64, fallback: &str) -> String {
    let base = original.map(base).filter(|s| !s.is_empty());
    match base {
        Some(b) => format!("Re: {b} {}", tag(conversation)),
        None => format!("{fallback} {}", tag(conversation)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_found_in_any_bracket_style() {
        assert_eq!(ticket_tag("Re: Ligne 2 [#SY-1234]"), Some(1234));
        assert_eq!(ticket_tag("AW: [SY-7] Störung"), Some(7));
        assert_eq!(ticket_tag("ref #sy-42 please"), Some(42));
        assert_eq!(ticket_tag("Easy-12 nothing"), None);
        assert_eq!(ticket_tag("no tag"), None);
    }

    #[test]
    fn prefixes_of_many_languages_are_stripped() {
        for (subject, want) in [
            ("Re: Panne E17", "panne e17"),
            ("RE : TR : Panne E17", "panne e17"),
            ("AW: WG: Panne E17", "panne e17"),
            ("Fwd: Re[3]: Panne E17", "panne e17"),
            ("SV: Panne E17", "panne e17"),
            ("RIF: Panne E17", "panne e17"),
            ("Re: Panne E17 [#SY-9]", "panne e17"),
            ("  Panne   E17 ", "panne e17"),
            ("回复：Panne E17", "panne e17"),
            ("Reparatur", "reparatur"),
        ] {
            assert_eq!(normalise(subject), want, "{subject}");
        }
    }

    #[test]
    fn replies_are_recognised_by_their_prefix() {
        assert!(is_reply("RE : Panne"));
        assert!(is_reply("AW: WG: Panne"));
        assert!(!is_reply("Panne"));
        assert!(!is_reply("Rejet de la pièce"));
    }

    #[test]
    fn reply_subject_carries_the_tag_once() {
        assert_eq!(reply_subject(Some("RE: Panne [#SY-3]"), 3, "SAV"), "Re: Panne [#SY-3]");
        assert_eq!(reply_subject(None, 3, "SAV"), "SAV [#SY-3]");
    }
}
