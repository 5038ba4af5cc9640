//! Feedback in the accept transaction. After an acknowledgement that carried
//! a knowledge answer: "did this solve it?" with its quick answers, and the
//! wait for the verdict (`open`). On a customer message: whether it answers
//! something the conversation waits on (`recognise`: a tapped or typed quick
//! answer, never a longer text), and what that answer does (`apply`) —
//! "yes, solved" resolves as self-service and asks for satisfaction, "no"
//! hands over to a person, a rating is recorded without reopening anything.

use channels::{ChannelKind, Inbound};
use sqlx::AnyConnection;

use crate::feedback::Settings;
use crate::ids::{ConversationId, MessageId};
use crate::level1::feedback::{self, Answer};
use crate::store::{Result, feedback as rows};

/// Whether the verdict is asked as a question of its own on this channel
/// (otherwise the acknowledgement says "just reply if not", as before).
pub fn asks_verdict(settings: &Settings, channel: ChannelKind) -> bool {
    channel != ChannelKind::Email || settings.links.is_some()
}

/// The lines a mail's acknowledgement ends with instead of buttons.
pub fn email_verdict_lines(
    settings: &Settings,
    conversation: ConversationId,
    language: &str,
    now: i64,
) -> Option<String> {
    let links = settings.links.as_ref()?;
    Some(feedback::email_lines(
        language,
        &links.for_answers(conversation.0, &[Answer::Solved, Answer::NotSolved], now),
    ))
}

pub struct Sent<'a> {
    pub conversation: ConversationId,
    pub inbound: &'a Inbound,
    pub language: &'a str,
    /// The knowledge entry the acknowledgement carried.
    pub entry: &'a str,
    pub now: i64,
}

/// What opening the wait for the verdict writes: the knowledge check and,
/// on the widget and WhatsApp, the question with its two quick answers (mail
/// carried links in the acknowledgement).
pub struct Opened {
    pub check: rows::NewCheck,
    /// The question's text and the channel's quick answers.
    pub question: Option<(String, Option<String>)>,
}

/// Opens the wait for the verdict on the knowledge answer `ack` carried.
pub fn open(settings: &Settings, ack: MessageId, s: &Sent<'_>) -> Opened {
    let channel = s.inbound.channel;
    let check = rows::NewCheck {
        conversation: s.conversation,
        entry: s.entry.to_string(),
        message: ack,
        sent_at: s.now,
        hold_until: s.now.saturating_add(settings.knowledge_wait_ms),
    };
    if channel == ChannelKind::Email {
        return Opened { check, question: None };
    }
    let (question, choices) = feedback::knowledge_question(s.language);
    Opened {
        check,
        question: Some((question.to_string(), crate::feedback::payload(channel, &choices))),
    }
}

/// The answer this message could give to a question: only a bare quick
/// answer counts, and only from a person, so ordinary messages cost no read.
pub fn candidate(inbound: &Inbound) -> Option<Answer> {
    if inbound.auto.any() || !inbound.attachments.is_empty() || inbound.channel == ChannelKind::Email {
        return None;
    }
    feedback::answer(&inbound.text)
}

/// The candidate answer, if its conversation waits on such a question.
pub async fn recognise(
    conn: &mut AnyConnection,
    conversation: ConversationId,
    candidate: Answer,
    now: i64,
) -> Result<Option<Answer>> {
    Ok(rows::waiting_for(conn, conversation, candidate, now)
        .await?
        .then_some(candidate))
}

/// Whether the answer leaves the conversation as it was (a rating, "yes,
/// solved"): the message is recorded, not queued for an agent.
pub fn settles(answer: Answer) -> bool {
    answer != Answer::NotSolved
}

/// What an answer did.
#[derive(Debug, Default)]
pub struct Applied {
    /// The conversation was resolved by its customer.
    pub resolved: bool,
    /// The satisfaction question that followed.
    pub survey: Option<MessageId>,
}

pub async fn apply(
    conn: &mut AnyConnection,
    settings: &Settings,
    conversation: ConversationId,
    answer: Answer,
    via: ChannelKind,
    customer_at: i64,
    now: i64,
) -> Result<Applied> {
    let mut applied = Applied::default();
    if settles(answer) {
        rows::customer_wrote(conn, conversation, customer_at).await?;
    }
    if answer.is_rating() {
        rows::rate(
            conn,
            conversation,
            answer,
            None,
            via.as_str(),
            settings.reopen_on_bad,
            now,
        )
        .await?;
        return Ok(applied);
    }
    if rows::answer_check(conn, conversation, answer, via.as_str(), now)
        .await?
        .is_some()
        && answer == Answer::Solved
        && rows::resolve_self_service(conn, conversation, now).await?
    {
        applied.resolved = true;
        applied.survey = crate::feedback::survey::ask(conn, settings, conversation, None, true, now).await?;
    }
    Ok(applied)
}
