//! The satisfaction question after a resolution: whether it may go (`decide`,
//! pure), and queueing it in the resolution's transaction (`ask`) — chips in
//! the widget, reply buttons on WhatsApp, two one-click links in a mail.

use channels::ChannelKind;
use sqlx::AnyConnection;

use super::Settings;
use crate::ids::{AgentId, ConversationId, MessageId};
use crate::level1::feedback::{self, Answer};
use crate::store::{Result, feedback as rows, outbox};

/// What the decision needs to know of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub channel: ChannelKind,
    /// A question went to this conversation before (asked once, ever).
    pub asked_before: bool,
    /// The customer resolved it themselves ("yes, solved").
    pub self_service: bool,
    /// Some customer message of it was written by a person, not a machine.
    pub human_wrote: bool,
    /// Mail to this customer has bounced.
    pub bounced: bool,
    pub last_customer_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    Disabled,
    AlreadyAsked,
    SelfServiceExcluded,
    AutomaticMail,
    Bounced,
    /// WhatsApp allows free-form messages for 24 hours after the customer's last one.
    WindowClosed,
}

pub fn decide(s: &Settings, f: &Facts, now: i64) -> std::result::Result<(), Skip> {
    if !s.satisfaction {
        return Err(Skip::Disabled);
    }
    if f.asked_before {
        return Err(Skip::AlreadyAsked);
    }
    if f.self_service && !s.after_self_service {
        return Err(Skip::SelfServiceExcluded);
    }
    if !f.human_wrote {
        return Err(Skip::AutomaticMail);
    }
    if f.bounced {
        return Err(Skip::Bounced);
    }
    if f.channel == ChannelKind::Whatsapp && now - f.last_customer_at >= crate::whatsapp::WINDOW_MS {
        return Err(Skip::WindowClosed);
    }
    Ok(())
}

/// Queues the question if `decide` lets it go; the message, if it went.
pub async fn ask(
    conn: &mut AnyConnection,
    settings: &Settings,
    conversation: ConversationId,
    agent: Option<AgentId>,
    self_service: bool,
    now: i64,
) -> Result<Option<MessageId>> {
    let Some(c) = rows::survey_facts(conn, conversation).await? else {
        return Ok(None);
    };
    let Some(channel) = ChannelKind::parse(&c.channel) else {
        return Ok(None);
    };
    let facts = Facts {
        channel,
        asked_before: c.asked_before,
        self_service,
        human_wrote: c.human_wrote,
        bounced: c.bounced,
        last_customer_at: c.last_customer_at,
    };
    if let Err(skip) = decide(settings, &facts, now) {
        tracing::debug!(conversation = conversation.0, ?skip, "no satisfaction question");
        return Ok(None);
    }
    let language = c.language.as_deref().unwrap_or("en");
    let (question, choices) = feedback::rating_question(language);
    let body = match (channel, &settings.links) {
        (ChannelKind::Email, Some(links)) => feedback::email_lines(
            language,
            &links.for_answers(conversation.0, &[Answer::Good, Answer::Bad], now),
        ),
        // Without an address to link to, a mail could only ask for a reply: not worth a mail.
        (ChannelKind::Email, None) => return Ok(None),
        _ => question.to_string(),
    };
    let to = outbox::To {
        conversation,
        channel: channel.as_str(),
        endpoint: &c.endpoint,
    };
    let payload = super::payload(channel, &choices);
    let id = outbox::queue_system_message(conn, &to, &body, payload.as_deref(), now).await?;
    let expires = now.saturating_add(settings.links.as_ref().map_or(14 * 86_400_000, |l| l.ttl_ms));
    rows::insert_survey(
        conn,
        &rows::NewSurvey {
            conversation,
            agent: agent.or(c.assignee.map(AgentId)),
            channel: channel.as_str(),
            queue: &c.queue,
            message: id,
            now,
            expires,
        },
    )
    .await?;
    Ok(Some(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn facts(channel: ChannelKind) -> Facts {
        Facts {
            channel,
            asked_before: false,
            self_service: false,
            human_wrote: true,
            bounced: false,
            last_customer_at: 0,
        }
    }

    #[test]
    fn asks_once_and_never_a_machine_or_a_dead_address() {
        let s = Settings::default();
        assert_eq!(decide(&s, &facts(ChannelKind::Email), HOUR), Ok(()));
        let cases = [
            (
                Facts {
                    asked_before: true,
                    ..facts(ChannelKind::Webchat)
                },
                Skip::AlreadyAsked,
            ),
            (
                Facts {
                    human_wrote: false,
                    ..facts(ChannelKind::Email)
                },
                Skip::AutomaticMail,
            ),
            (
                Facts {
                    bounced: true,
                    ..facts(ChannelKind::Email)
                },
                Skip::Bounced,
            ),
        ];
        for (f, skip) in cases {
            assert_eq!(decide(&s, &f, HOUR), Err(skip));
        }
        let off = Settings {
            satisfaction: false,
            ..Settings::default()
        };
        assert_eq!(decide(&off, &facts(ChannelKind::Email), HOUR), Err(Skip::Disabled));
    }

    #[test]
    fn whatsapp_only_inside_the_window() {
        let s = Settings::default();
        let f = facts(ChannelKind::Whatsapp);
        assert_eq!(decide(&s, &f, 24 * HOUR - 1), Ok(()));
        assert_eq!(decide(&s, &f, 24 * HOUR), Err(Skip::WindowClosed));
    }

    #[test]
    fn self_service_is_asked_unless_excluded() {
        let f = Facts {
            self_service: true,
            ..facts(ChannelKind::Webchat)
        };
        assert_eq!(decide(&Settings::default(), &f, HOUR), Ok(()));
        let s = Settings {
            after_self_service: false,
            ..Settings::default()
        };
        assert_eq!(decide(&s, &f, HOUR), Err(Skip::SelfServiceExcluded));
    }
}
