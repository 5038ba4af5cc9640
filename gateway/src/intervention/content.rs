//! The intervention report of one conversation: what the customer saw, what
//! the expert found and did, what came of it, and what to do next; with the
//! machine, the fault codes, the times and the people. Switchyard proposes it
//! from what it already knows (`prefill`); the expert edits and validates it.
//! Pure: the store keeps its versions, `render_*` turn it into documents.

use serde::{Deserialize, Serialize};

/// Longest text of one section, in characters: a report is read, not archived mail.
pub const MAX_SECTION_CHARS: usize = 8_000;
/// Fewer lines than this a section of the pre-filled symptom keeps.
const SYMPTOM_LINES: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportContent {
    /// `fr` or `en`: the labels of the documents.
    pub language: String,
    pub title: String,
    pub customer: String,
    pub machine: String,
    pub serial: String,
    pub fault_codes: Vec<String>,
    pub impact: String,
    pub symptom: String,
    pub diagnosis: String,
    pub actions: String,
    pub result: String,
    pub recommendations: String,
    /// The people involved: the customer's side and the experts.
    pub people: Vec<String>,
    /// Photos and files of the thread the report refers to.
    pub photos: Vec<Photo>,
    pub times: Times,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Photo {
    pub attachment_id: i64,
    pub name: String,
}

/// Instants as Unix ms; escalations as their kind, when and how they ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReportTimes)]
pub struct Times {
    pub opened: Option<i64>,
    pub first_response: Option<i64>,
    pub resolved: Option<i64>,
    pub escalations: Vec<EscalationTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationTime {
    pub kind: String,
    pub at: i64,
    pub outcome: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContentError {
    #[error("{0} is longer than {MAX_SECTION_CHARS} characters")]
    TooLong(&'static str),
    #[error("language must be fr or en")]
    Language,
    #[error("the report says nothing yet: write at least the symptom and the result")]
    Empty,
}

impl ReportContent {
    /// What an agent sent is checked before it is stored.
    pub fn check(&self) -> Result<(), ContentError> {
        if !matches!(self.language.as_str(), "fr" | "en") {
            return Err(ContentError::Language);
        }
        for (name, text) in [
            ("title", &self.title),
            ("customer", &self.customer),
            ("machine", &self.machine),
            ("serial", &self.serial),
            ("impact", &self.impact),
            ("symptom", &self.symptom),
            ("diagnosis", &self.diagnosis),
            ("actions", &self.actions),
            ("result", &self.result),
            ("recommendations", &self.recommendations),
        ] {
            if text.chars().count() > MAX_SECTION_CHARS {
                return Err(ContentError::TooLong(name));
            }
        }
        Ok(())
    }

    /// A validated report states at least what happened and how it ended.
    pub fn check_complete(&self) -> Result<(), ContentError> {
        self.check()?;
        if self.symptom.trim().is_empty() || self.result.trim().is_empty() {
            return Err(ContentError::Empty);
        }
        Ok(())
    }
}

/// What Switchyard knows of a conversation, as the pre-fill reads it.
pub struct Known<'a> {
    pub ticket: &'a str,
    pub subject: Option<&'a str>,
    pub language: Option<&'a str>,
    pub customer_name: Option<&'a str>,
    pub customer_company: Option<&'a str>,
    pub customer_address: &'a str,
    pub machine_serial: Option<&'a str>,
    pub opened: i64,
    pub first_response: Option<i64>,
    pub resolved: Option<i64>,
    /// Public messages in order (notes excluded).
    pub messages: &'a [KnownMessage<'a>],
    pub attachments: &'a [KnownAttachment<'a>],
    /// The verdict that set the conversation's priority.
    pub verdict: Option<&'a triage::Verdict>,
    pub escalations: &'a [EscalationTime],
}

pub struct KnownMessage<'a> {
    pub customer: bool,
    pub author: Option<&'a str>,
    pub body: &'a str,
    pub at: i64,
}

pub struct KnownAttachment<'a> {
    pub id: i64,
    pub name: Option<&'a str>,
    pub content_type: &'a str,
}

/// The first lines of a text, without blank runs.
fn first_lines(text: &str, n: usize) -> String {
    text.lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .take(n)
        .collect::<Vec<_>>()
        .join("\n")
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !item.trim().is_empty() && !list.contains(&item) {
        list.push(item);
    }
}

/// The report Switchyard proposes: every fact it holds, and drafts of the
/// sections from the thread, for the expert to correct.
pub fn prefill(k: &Known<'_>) -> ReportContent {
    let fr = k.language.is_some_and(|l| l == "fr");
    let fields = k.verdict.map(|v| &v.fields);
    let customer_text: Vec<&str> = k.messages.iter().filter(|m| m.customer).map(|m| m.body).collect();
    let symptom = customer_text
        .first()
        .map(|t| first_lines(t, SYMPTOM_LINES))
        .unwrap_or_default();

    // The triage's reading is the first diagnosis: what it recognised, in the customer's words.
    let diagnosis = match k.verdict {
        Some(v) => {
            let words: Vec<String> = v
                .rules
                .iter()
                .flat_map(|r| r.spans.iter().map(|s| format!("« {} »", s.text.trim())))
                .take(6)
                .collect();
            let priority = v.priority.as_str();
            match (fr, words.is_empty()) {
                (true, false) => format!("Classé {priority} par le tri : {}.", words.join(", ")),
                (true, true) => format!("Classé {priority} par le tri."),
                (false, false) => format!("Triaged as {priority}: {}.", words.join(", ")),
                (false, true) => format!("Triaged as {priority}."),
            }
        }
        None => String::new(),
    };
    let actions = k
        .messages
        .iter()
        .filter(|m| !m.customer)
        .map(|m| format!("- {}", first_lines(m.body, 1)))
        .collect::<Vec<_>>()
        .join("\n");
    let mut result_lines: Vec<String> = k
        .escalations
        .iter()
        .map(|e| {
            let outcome = e
                .outcome
                .as_deref()
                .unwrap_or(if fr { "sans issue notée" } else { "no outcome recorded" });
            match (fr, e.kind.as_str()) {
                (true, "callback") => format!("Rappel téléphonique : {outcome}."),
                (true, _) => format!("Assistance vidéo : {outcome}."),
                (false, "callback") => format!("Phone callback: {outcome}."),
                (false, _) => format!("Video assistance: {outcome}."),
            }
        })
        .collect();
    if k.resolved.is_some() {
        result_lines.push(if fr { "Résolu." } else { "Resolved." }.to_string());
    }

    let mut people = Vec::new();
    let customer = match (k.customer_name, k.customer_company) {
        (Some(n), Some(c)) => format!("{n} ({c})"),
        (Some(n), None) => n.to_string(),
        (None, Some(c)) => format!("{} ({c})", k.customer_address),
        (None, None) => k.customer_address.to_string(),
    };
    push_unique(&mut people, customer.clone());
    for m in k.messages.iter().filter(|m| !m.customer) {
        if let Some(a) = m.author {
            push_unique(&mut people, a.to_string());
        }
    }
    let machine = fields.and_then(|f| f.models.first().cloned()).unwrap_or_default();
    let serial = k
        .machine_serial
        .map(str::to_string)
        .or_else(|| fields.and_then(|f| f.serials.first().cloned()))
        .unwrap_or_default();
    ReportContent {
        language: if fr { "fr" } else { "en" }.into(),
        title: format!("{} — {}", k.ticket, k.subject.unwrap_or_default())
            .trim_end_matches(" — ")
            .to_string(),
        customer,
        machine,
        serial,
        fault_codes: fields.map(|f| f.fault_codes.clone()).unwrap_or_default(),
        impact: fields.and_then(|f| f.impact.clone()).unwrap_or_default(),
        symptom,
        diagnosis,
        actions,
        result: result_lines.join("\n"),
        recommendations: String::new(),
        people,
        photos: k
            .attachments
            .iter()
            .filter(|a| a.content_type.starts_with("image/") || a.content_type.starts_with("video/"))
            .map(|a| Photo {
                attachment_id: a.id,
                name: a.name.map_or_else(|| format!("photo {}", a.id), str::to_string),
            })
            .collect(),
        times: Times {
            opened: Some(k.opened),
            first_response: k.first_response,
            resolved: k.resolved,
            escalations: k.escalations.to_vec(),
        },
    }
}

/// The labels of a report in its language.
pub struct Labels {
    pub heading: &'static str,
    pub customer: &'static str,
    pub machine: &'static str,
    pub serial: &'static str,
    pub fault_codes: &'static str,
    pub impact: &'static str,
    pub symptom: &'static str,
    pub diagnosis: &'static str,
    pub actions: &'static str,
    pub result: &'static str,
    pub recommendations: &'static str,
    pub people: &'static str,
    pub photos: &'static str,
    pub times: &'static str,
    pub opened: &'static str,
    pub first_response: &'static str,
    pub resolved: &'static str,
    pub callback: &'static str,
    pub video: &'static str,
    pub validated: &'static str,
    pub draft: &'static str,
    /// Between a label and its value: French sets a space before the colon.
    pub colon: &'static str,
}

pub fn labels(language: &str) -> &'static Labels {
    static FR: Labels = Labels {
        heading: "Rapport d'intervention",
        customer: "Client",
        machine: "Machine",
        serial: "N° de série",
        fault_codes: "Codes défaut",
        impact: "Impact",
        symptom: "Symptôme",
        diagnosis: "Diagnostic",
        actions: "Actions",
        result: "Résultat",
        recommendations: "Recommandations",
        people: "Intervenants",
        photos: "Photos",
        times: "Chronologie",
        opened: "Ouvert",
        first_response: "Première réponse",
        resolved: "Résolu",
        callback: "Rappel",
        video: "Vidéo",
        validated: "Validé par",
        draft: "Brouillon — non validé",
        colon: " : ",
    };
    static EN: Labels = Labels {
        heading: "Intervention report",
        customer: "Customer",
        machine: "Machine",
        serial: "Serial number",
        fault_codes: "Fault codes",
        impact: "Impact",
        symptom: "Symptom",
        diagnosis: "Diagnosis",
        actions: "Actions",
        result: "Result",
        recommendations: "Recommendations",
        people: "People involved",
        photos: "Photos",
        times: "Timeline",
        opened: "Opened",
        first_response: "First response",
        resolved: "Resolved",
        callback: "Callback",
        video: "Video",
        validated: "Validated by",
        draft: "Draft — not validated",
        colon: ": ",
    };
    if language == "fr" { &FR } else { &EN }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict() -> triage::Verdict {
        let engine = triage::Engine::builtin();
        engine.classify(&triage::Input::text(
            triage::Channel::Whatsapp,
            "+33612345678",
            "La ligne 2 est arrêtée, code E17 sur la presse P200",
        ))
    }

    #[test]
    fn the_proposal_holds_every_fact_and_drafts_each_section_from_the_thread() {
        let v = verdict();
        let messages = [
            KnownMessage {
                customer: true,
                author: None,
                body: "La ligne 2 est arrêtée, code E17 sur la presse P200\n\n\nPhoto jointe.",
                at: 1_000,
            },
            KnownMessage {
                customer: false,
                author: Some("Alice Martin"),
                body: "Vérifiez le capteur de porte 3.\nMerci",
                at: 2_000,
            },
        ];
        let attachments = [
            KnownAttachment {
                id: 7,
                name: Some("e17.jpg"),
                content_type: "image/jpeg",
            },
            KnownAttachment {
                id: 8,
                name: Some("log.txt"),
                content_type: "text/plain",
            },
        ];
        let escalations = [EscalationTime {
            kind: "callback".into(),
            at: 1_500,
            outcome: Some("reached".into()),
        }];
        let known = Known {
            ticket: "SY-12",
            subject: None,
            language: Some("fr"),
            customer_name: Some("Marc Dupont"),
            customer_company: Some("Fromagerie Alpine"),
            customer_address: "+33612345678",
            machine_serial: None,
            opened: 1_000,
            first_response: Some(2_000),
            resolved: Some(3_000),
            messages: &messages,
            attachments: &attachments,
            verdict: Some(&v),
            escalations: &escalations,
        };
        let r = prefill(&known);
        assert_eq!(r.language, "fr");
        assert_eq!(r.title, "SY-12");
        assert_eq!(r.fault_codes, ["E17"]);
        assert_eq!(
            r.symptom,
            "La ligne 2 est arrêtée, code E17 sur la presse P200\nPhoto jointe."
        );
        assert!(
            r.diagnosis.starts_with("Classé critical par le tri : « "),
            "{}",
            r.diagnosis
        );
        assert_eq!(r.actions, "- Vérifiez le capteur de porte 3.");
        assert_eq!(r.result, "Rappel téléphonique : reached.\nRésolu.");
        assert_eq!(r.people, ["Marc Dupont (Fromagerie Alpine)", "Alice Martin"]);
        assert_eq!(
            r.photos,
            [Photo {
                attachment_id: 7,
                name: "e17.jpg".into()
            }]
        );
        assert_eq!(r.times.first_response, Some(2_000));
        assert!(r.check_complete().is_ok());
    }

    #[test]
    fn content_is_checked() {
        let mut r = ReportContent {
            language: "de".into(),
            ..ReportContent::default()
        };
        assert_eq!(r.check(), Err(ContentError::Language));
        r.language = "en".into();
        assert_eq!(r.check(), Ok(()));
        assert_eq!(r.check_complete(), Err(ContentError::Empty));
        r.symptom = "x".repeat(MAX_SECTION_CHARS + 1);
        assert_eq!(r.check(), Err(ContentError::TooLong("symptom")));
    }
}
