//! Capitalisation: a validated report becomes a draft knowledge-base entry —
//! the customer's own words as question variants, the resolution as the
//! answer, names and contacts removed — which a supervisor edits and
//! publishes. Published entries are Markdown entries like the shipped ones,
//! checked by the same parser.

use serde::{Deserialize, Serialize};

use super::content::ReportContent;

/// Most question variants taken from the customer's words.
const MAX_QUESTIONS: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeDraft {
    pub title: String,
    pub language: String,
    pub questions: Vec<String>,
    pub keywords: Vec<String>,
    pub answer: String,
    /// Sent without a human when it matches; otherwise proposed to the agent.
    pub auto_send: bool,
}

#[derive(Serialize)]
struct FrontMatter<'a> {
    id: &'a str,
    title: &'a str,
    languages: [&'a str; 1],
    questions: &'a [String],
    keywords: &'a [String],
    mode: &'a str,
}

/// Addresses, phone numbers, ticket references and the given personal words
/// (names, company) replaced by "…", so an answer meant for everyone carries
/// nobody's details.
pub fn scrub(text: &str, personal: &[&str]) -> String {
    static PATTERNS: std::sync::LazyLock<Vec<regex::Regex>> = std::sync::LazyLock::new(|| {
        [
            r"[\w.+-]+@[\w-]+(\.[\w-]+)+",
            r"\+?\d[\d .\-()]{7,}\d",
            r"(?i)\bSY-\d+\b",
        ]
        .iter()
        .filter_map(|p| regex::Regex::new(p).ok())
        .collect()
    });
    let mut out = text.to_string();
    for re in PATTERNS.iter() {
        out = re.replace_all(&out, "…").into_owned();
    }
    for word in personal.iter().map(|w| w.trim()).filter(|w| w.chars().count() >= 3) {
        if let Ok(re) = regex::Regex::new(&format!(r"(?i)\b{}\b", regex::escape(word))) {
            out = re.replace_all(&out, "…").into_owned();
        }
    }
    out
}

/// Sentences of the customer's words that can stand as questions: greetings
/// and sign-offs left out.
fn variants(symptom: &str) -> Vec<String> {
    const COURTESY: &[&str] = &[
        "bonjour",
        "hello",
        "merci",
        "thanks",
        "cordialement",
        "regards",
        "hallo",
        "buongiorno",
        "hola",
    ];
    symptom
        .split(['\n', '.', '!', '?'])
        .map(str::trim)
        .filter(|s| s.split_whitespace().count() >= 3)
        .filter(|s| {
            let lower = s.to_lowercase();
            !COURTESY
                .iter()
                .any(|c| lower.starts_with(c) && lower.split_whitespace().count() <= 4)
        })
        .take(MAX_QUESTIONS)
        .map(str::to_string)
        .collect()
}

impl KnowledgeDraft {
    /// `personal`: the customer's name, company and address, to remove.
    pub fn from_report(report: &ReportContent, personal: &[&str]) -> KnowledgeDraft {
        let fr = report.language == "fr";
        let symptom = scrub(&report.symptom, personal);
        let mut answer = Vec::new();
        for (label_fr, label_en, text) in [
            ("Cause", "Cause", &report.diagnosis),
            ("Ce qui a été fait", "What was done", &report.actions),
            ("Résultat", "Result", &report.result),
            ("À faire ensuite", "Next", &report.recommendations),
        ] {
            let text = scrub(text.trim(), personal);
            if !text.is_empty() {
                answer.push(format!("{} : {text}", if fr { label_fr } else { label_en }));
            }
        }
        let mut keywords: Vec<String> = report.fault_codes.clone();
        if !report.machine.trim().is_empty() {
            keywords.push(report.machine.trim().to_string());
        }
        let title = variants(&symptom)
            .first()
            .cloned()
            .unwrap_or_else(|| scrub(&report.title, personal));
        KnowledgeDraft {
            title,
            language: report.language.clone(),
            questions: variants(&symptom),
            keywords,
            answer: answer.join("\n\n"),
            auto_send: false,
        }
    }

    /// The entry as a knowledge-base file (TOML front matter, then the answer).
    pub fn to_markdown(&self, id: &str) -> Result<String, String> {
        let front = FrontMatter {
            id,
            title: &self.title,
            languages: [&self.language],
            questions: &self.questions,
            keywords: &self.keywords,
            mode: if self.auto_send { "auto_send" } else { "draft" },
        };
        let toml = toml::to_string(&front).map_err(|e| e.to_string())?;
        Ok(format!("+++\n{toml}+++\n{}\n", self.answer.trim()))
    }

    /// Checked as the knowledge base checks its files.
    pub fn check(&self, id: &str) -> Result<(), String> {
        if self.answer.trim().is_empty() {
            return Err("the answer is empty".into());
        }
        let source = self.to_markdown(id)?;
        triage::kb::KbEntry::parse(id, &source)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> ReportContent {
        ReportContent {
            language: "fr".into(),
            title: "SY-12 — Convoyeur 4".into(),
            customer: "Jean Dupont (Laiterie Test)".into(),
            machine: "CV-400".into(),
            fault_codes: vec!["W12".into()],
            symptom: "Bonjour,\nle convoyeur 4 s'arrête plusieurs fois par jour, code W12. Appelez Jean Dupont au 06 12 34 56 78 ou jean@laiterie-test.fr\nMerci".into(),
            diagnosis: "Courroie détendue (ticket SY-12).".into(),
            actions: "Tension de courroie réglée à 40 N.".into(),
            result: "Plus d'arrêt depuis 48 h chez Laiterie Test.".into(),
            recommendations: "Contrôler la tension chaque mois.".into(),
            ..ReportContent::default()
        }
    }

    #[test]
    fn a_draft_keeps_the_customers_words_and_the_resolution_without_their_details() {
        let d = KnowledgeDraft::from_report(&report(), &["Jean Dupont", "Laiterie Test", "jean@laiterie-test.fr"]);
        assert_eq!(
            d.questions,
            [
                "le convoyeur 4 s'arrête plusieurs fois par jour, code W12",
                "Appelez … au … ou …"
            ]
        );
        assert_eq!(d.keywords, ["W12", "CV-400"]);
        assert!(
            d.answer.starts_with("Cause : Courroie détendue (ticket …)"),
            "{}",
            d.answer
        );
        assert!(d.answer.contains("Plus d'arrêt depuis 48 h chez …."), "{}", d.answer);
        for private in ["Dupont", "06 12", "@", "SY-12", "Laiterie"] {
            assert!(
                !d.answer.contains(private) && !d.questions.concat().contains(private),
                "{private}"
            );
        }
        assert!(!d.auto_send);
        assert_eq!(d.check("sy-12"), Ok(()));
        let md = d.to_markdown("sy-12").unwrap_or_default();
        let entry = triage::kb::KbEntry::parse("sy-12", &md).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(entry.id, "sy-12");
        assert!(entry.answer.starts_with("Cause :"));
    }

    #[test]
    fn an_entry_without_questions_or_answer_is_refused() {
        let mut d = KnowledgeDraft::from_report(&report(), &[]);
        d.questions.clear();
        assert!(d.check("x").is_err_and(|e| e.contains("question")));
        d.questions.push("q".into());
        d.answer = " ".into();
        assert!(d.check("x").is_err());
    }
}
