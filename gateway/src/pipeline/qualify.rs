//! Level 1's step for one customer message, decided in memory: what the
//! message told us, the next question (`level1::qualify::decide`), and that
//! question with its quick answers — reply buttons on WhatsApp, chips in the
//! widget — for the batch's write plan. Email is not a dialogue: its
//! acknowledgement lists everything missing at once.

use channels::{ChannelKind, Inbound};

use crate::level1::qualify::decide;
use crate::level1::questions::{self, Question};
use crate::level1::{Fact, Policy, State};

pub struct Step<'a> {
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

/// What Level 1's step writes for one message.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Decided {
    /// The conversation's new state, when it changed (or the conversation is new).
    pub save: Option<State>,
    /// The question to queue: its text and the channel's quick answers.
    pub question: Option<(String, Option<String>)>,
}

/// The step, decided from the conversation's state before the message
/// (`prev`, none for a new conversation or one Level 1 never asked on).
pub fn decide_step(policy: &Policy, s: &Step<'_>, prev: Option<State>) -> Decided {
    let channel = s.inbound.channel;
    if !may_ask(policy, channel, s.customer_at, s.now) {
        return Decided::default();
    }
    let critical = s.verdict.priority == triage::Priority::Critical;
    let needs = policy.needs(s.queue, critical);
    let prev = if s.new_conversation { None } else { prev };
    if prev.is_none() && needs.is_empty() {
        return Decided::default();
    }
    let prev = prev.unwrap_or_default();
    let seen = observed(s, prev.asked);
    let (state, ask): (State, Option<Fact>) = decide(&prev, needs, &seen, policy.max_unanswered);
    let question = ask.map(|fact| {
        let q = questions::question(fact, s.language);
        (q.text.to_string(), payload(channel, &q))
    });
    Decided {
        save: (state != prev || s.new_conversation).then_some(state),
        question,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000_000;

    fn verdict() -> triage::Verdict {
        crate::test_support::verdict(triage::Priority::Important, "experts", triage::Escalation::None)
    }

    fn step<'a>(inbound: &'a Inbound, verdict: &'a triage::Verdict, new_conversation: bool) -> Step<'a> {
        Step {
            new_conversation,
            inbound,
            verdict,
            queue: "experts",
            language: "en",
            customer_at: NOW,
            now: NOW,
        }
    }

    fn chat(text: &str) -> Inbound {
        Inbound::text(ChannelKind::Webchat, "site", "k:1", "visitor:k", text)
    }

    #[test]
    fn a_new_conversation_saves_its_state_and_asks_the_first_missing_fact() {
        let (inbound, verdict) = (chat("It does not work"), verdict());
        let decided = decide_step(&Policy::default(), &step(&inbound, &verdict, true), None);
        let state = decided.save.expect("a new conversation's state is saved");
        assert_eq!(state.asked, Some(Fact::Machine));
        let (text, payload) = decided.question.expect("a question");
        assert_eq!(text, questions::question(Fact::Machine, "en").text);
        assert!(payload.is_some_and(|p| p.contains("choices")), "the widget's chips");
    }

    #[test]
    fn the_next_message_continues_from_the_state_the_first_left() {
        let (inbound, verdict) = (chat("It does not work"), verdict());
        let first = decide_step(&Policy::default(), &step(&inbound, &verdict, true), None);
        let again = decide_step(&Policy::default(), &step(&inbound, &verdict, false), first.save);
        let state = again.save.expect("an unanswered question is counted");
        assert_eq!(state.unanswered, 1);
    }

    #[test]
    fn nothing_after_whatsapps_window_or_when_level_1_is_off() {
        let verdict = verdict();
        let mut late = Inbound::text(ChannelKind::Whatsapp, "1", "wamid.1", "336", "help");
        late.sent_at = Some(NOW - crate::whatsapp::WINDOW_MS);
        let mut s = step(&late, &verdict, true);
        s.customer_at = NOW - crate::whatsapp::WINDOW_MS;
        assert_eq!(decide_step(&Policy::default(), &s, None), Decided::default());
        let off = Policy {
            enabled: false,
            ..Policy::default()
        };
        let inbound = chat("help");
        assert_eq!(
            decide_step(&off, &step(&inbound, &verdict, true), None),
            Decided::default()
        );
    }
}
