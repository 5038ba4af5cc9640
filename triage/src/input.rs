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

/// Facts the gateway knows from its store about this customer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// Conversations of this customer still open, this one excluded.
    pub open_conversations: u32,
    /// Earlier messages in this conversation from the customer.
    pub earlier_messages: u32,
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
}
