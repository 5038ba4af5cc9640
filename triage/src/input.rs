use serde::{Deserialize, Serialize};

/// The channel a message arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Webchat,
    Whatsapp,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webchat => "webchat",
            Channel::Whatsapp => "whatsapp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "email" => Some(Channel::Email),
            "webchat" => Some(Channel::Webchat),
            "whatsapp" => Some(Channel::Whatsapp),
            _ => None,
        }
    }
}

/// What kind of file came with the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttachmentKind {
    Image,
    Video,
    Audio,
    Document,
    Other,
}

impl AttachmentKind {
    pub fn from_content_type(ct: &str) -> Self {
        let ct = ct.trim().to_ascii_lowercase();
        if ct.starts_with("image/") {
            AttachmentKind::Image
        } else if ct.starts_with("video/") {
            AttachmentKind::Video
        } else if ct.starts_with("audio/") {
            AttachmentKind::Audio
        } else if ct.starts_with("application/pdf") || ct.starts_with("text/") {
            AttachmentKind::Document
        } else {
            AttachmentKind::Other
        }
    }
}

/// An earlier incident of the same customer, as the store remembers it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Incident {
    pub days_ago: u32,
    pub fault_codes: Vec<String>,
    /// Serial numbers and models.
    pub machines: Vec<String>,
}

/// Facts the gateway knows from its store about this customer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// Conversations of this customer still open, this one excluded.
    pub open_conversations: u32,
    /// Earlier messages in this conversation from the customer.
    pub earlier_messages: u32,
    /// Customer messages since the last agent answer (or since the start), this one excluded:
    /// 1 means the customer writes again without having been answered.
    pub unanswered_messages: u32,
    /// Agent answers so far in this conversation.
    pub agent_answers: u32,
    /// Minutes since the oldest of those unanswered messages (0 when there is none).
    pub waiting_minutes: u32,
    /// Earlier conversations of this customer, most recent first.
    pub incidents: Vec<Incident>,
}

/// A borrowed view of everything triage may look at.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    pub channel: Channel,
    pub from: &'a str,
    pub subject: Option<&'a str>,
    /// New text only: quoted history is removed by the channel adapter.
    pub text: &'a str,
    pub attachments: &'a [AttachmentKind],
    pub history: &'a History,
    /// Account tier from the customer directory (e.g. `strategic`).
    pub tier: Option<&'a str>,
    /// The language the channel reported (widget setting, WhatsApp profile), if any.
    pub language: Option<&'a str>,
    /// Whether the hotline is inside its business hours now.
    pub business_hours: bool,
}

impl<'a> Input<'a> {
    /// A message with no context: no history, no tier, inside business hours.
    pub fn text(channel: Channel, from: &'a str, text: &'a str) -> Self {
        static EMPTY: History = History {
            open_conversations: 0,
            earlier_messages: 0,
            unanswered_messages: 0,
            agent_answers: 0,
            waiting_minutes: 0,
            incidents: Vec::new(),
        };
        Input {
            channel,
            from,
            subject: None,
            text,
            attachments: &[],
            history: &EMPTY,
            tier: None,
            language: None,
            business_hours: true,
        }
    }
}
