//! What the customer tells us after an answer: whether a knowledge answer
//! solved it (which resolves the conversation as self-service, or hands it to
//! a person), and whether they are satisfied once it is resolved. The
//! settings and the one-click links of mail live here; `survey.rs` decides
//! when the satisfaction question may go and queues it; the words are in
//! `level1/feedback.rs`, the rows in `store/feedback.rs`, the answers from
//! the widget and WhatsApp in `pipeline/feedback.rs`, from mail in
//! `api/feedback.rs`.

pub mod survey;

use crate::level1::feedback::Answer;
use crate::signing::Signer;

/// How feedback is asked and acted on (`[feedback]`).
#[derive(Clone)]
pub struct Settings {
    /// How long a conversation answered from the knowledge base waits for the
    /// customer's verdict before it goes to an agent anyway; 0 offers it at once.
    pub knowledge_wait_ms: i64,
    /// The satisfaction question after a resolution.
    pub satisfaction: bool,
    /// Also after a resolution the customer made themselves ("yes, solved").
    pub after_self_service: bool,
    /// A bad rating reopens the conversation (it is always listed for supervisors).
    pub reopen_on_bad: bool,
    /// The mail links' signer and address; none: mail gets no links.
    pub links: Option<Links>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            knowledge_wait_ms: 30 * 60_000,
            satisfaction: true,
            after_self_service: true,
            reopen_on_bad: false,
            links: None,
        }
    }
}

/// One-click links for mail: signed for one conversation and one answer,
/// expiring; the store makes them single use.
#[derive(Clone)]
pub struct Links {
    /// The gateway's address as customers reach it, without a trailing slash.
    pub base: String,
    pub signer: Signer,
    pub ttl_ms: i64,
}

impl Links {
    pub fn url(&self, conversation: i64, answer: Answer, now: i64) -> String {
        let query = self
            .signer
            .feedback_link_query(conversation, answer.as_str(), now.saturating_add(self.ttl_ms));
        format!("{}/feedback/{conversation}/{}?{query}", self.base, answer.as_str())
    }

    /// The links of a question, one per answer.
    pub fn for_answers(&self, conversation: i64, answers: &[Answer], now: i64) -> Vec<(Answer, String)> {
        answers.iter().map(|a| (*a, self.url(conversation, *a, now))).collect()
    }
}

/// The outbox payload of quick answers on a channel: reply buttons on
/// WhatsApp, chips in the widget; mail carries links in its text instead.
pub fn payload(channel: channels::ChannelKind, choices: &[crate::level1::questions::Choice]) -> Option<String> {
    match channel {
        channels::ChannelKind::Whatsapp => serde_json::to_string(&crate::whatsapp::Payload::Buttons {
            buttons: choices
                .iter()
                .map(|c| crate::whatsapp::Button {
                    id: c.id.clone(),
                    title: c.title.to_string(),
                })
                .collect(),
        })
        .ok(),
        channels::ChannelKind::Webchat => Some(serde_json::json!({"kind": "choices", "choices": choices}).to_string()),
        channels::ChannelKind::Email => None,
    }
}
