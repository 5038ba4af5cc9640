//! Level 1's step for one customer message, in its transaction: what the
//! message told us, the next question (`level1::qualify::decide`), and that
//! question queued in the outbox with its quick answers — reply buttons on
//! WhatsApp, chips in the widget. Email is not a dialogue: its
//! acknowledgement lists everything missing at once.

use channels::{ChannelKind, Inbound};
use sqlx::AnyConnection;

use crate::ids::{ConversationId, MessageId};
use crate::level1::qualify::decide;
use crate::level1::questions::{self, Question};
use crate::level1::{Fact, Policy, State};
use crate::store::{Result, outbox, qualifications};

pub struct Step<'a> {
    pub conversation: ConversationId,
    pub new_conversation: bool,
    pub inbound: &'a Inbound,
    pub verdict: &'a triage::Verdict,
    pub queue: &'a str,
    pub language: &'a str,
    /// When the customer sent it, by the channel's clock.
    pub customer_at: i64,
    pub now: i64,
}

/// Whether Level 1 asks on this channel, one question at a time.
pub fn asks_on(policy: &Policy, channel: ChannelKind) -> bool {
    policy.enabled && matches!(channel, ChannelKind::Webchat | ChannelKind::Whatsapp)
}

/// The facts one message gives: what the triage extracted, what the channel
/// says of the customer, a quick answer that declines the question asked.
pub fn observed(s: &Step, asked: Option<Fact>) -> Vec<Fact> {
    let mut out = crate::level1::qualify::facts_in(&s.verdict.fields);
    let mut add = |yes: bool, fact: Fact| {
        if yes && !out.contains(&fact) {
            out.push(fact);
        }
    };
    add(s.inbound.contact.phone.is_some(), Fact::CallbackNumber);
    add(
        s.new_conversation && s.inbound.contact.machine_serial.is_some(),
        Fact::Serial,
    );
    if let Some(asked) = asked {
        // "Production stopped" tapped on the impact question is an answer, whatever the rules made of it.
        add(questions::is_quick_answer(asked, &s.inbound.text), asked);
    }
    out
}

/// The outbox payload of a question: the channel's quick answers.
fn payload(channel: ChannelKind, q: &Question) -> Option<String> {
    match channel {
        ChannelKind::Whatsapp => {
            // A photo is sent with the paperclip; a button cannot open it.
            let buttons: Vec<crate::whatsapp::Button> = q
                .choices
                .iter()
                .filter(|c| !c.photo)
                .map(|c| crate::whatsapp::Button {
                    id: c.id.clone(),
                    title: c.title.to_string(),
                })
                .collect();
            (!buttons.is_empty())
                .then(|| serde_json::to_string(&crate::whatsapp::Payload::Buttons { buttons }).unwrap_or_default())
        }
        _ => (!q.choices.is_empty())
            .then(|| serde_json::json!({"kind": "choices", "fact": q.fact, "choices": q.choices}).to_string()),
    }
}

/// Whether a question may follow a message the customer sent at `customer_at`.
pub fn may_ask(policy: &Policy, channel: ChannelKind, customer_at: i64, now: i64) -> bool {
    // A WhatsApp message delivered late, after its 24-hour window closed: a
    // free-form question could not leave, so none is asked.
    asks_on(policy, channel) && !(channel == ChannelKind::Whatsapp && now - customer_at >= crate::whatsapp::WINDOW_MS)
}

/// Runs the step; the question queued, if one was.
pub async fn step(conn: &mut AnyConnection, policy: &Policy, s: &Step<'_>) -> Result<Option<MessageId>> {
    let channel = s.inbound.channel;
    if !may_ask(policy, channel, s.customer_at, s.now) {
        return Ok(None);
    }
    let critical = s.verdict.priority == triage::Priority::Critical;
    let needs = policy.needs(s.queue, critical);
    let prev = if s.new_conversation {
        None
    } else {
        qualifications::load(conn, s.conversation).await?
    };
    if prev.is_none() && needs.is_empty() {
        return Ok(None);
    }
    let prev = prev.unwrap_or_default();
    let seen = observed(s, prev.asked);
    let (state, ask): (State, Option<Fact>) = decide(&prev, needs, &seen, policy.max_unanswered);
    if state != prev || s.new_conversation {
        qualifications::save(conn, s.conversation, &state, s.now).await?;
    }
    let Some(fact) = ask else {
        return Ok(None);
    };
    let q = questions::question(fact, s.language);
    let to = outbox::To {
        conversation: s.conversation,
        channel: channel.as_str(),
        endpoint: &s.inbound.endpoint,
    };
    let id = outbox::queue_system_message(conn, &to, q.text, payload(channel, &q).as_deref(), s.now).await?;
    Ok(Some(id))
}
