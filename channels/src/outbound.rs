use serde::{Deserialize, Serialize};

use crate::inbound::{AttachmentRef, ChannelKind, Participant};

/// One message to send to a customer, whatever the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outbound {
    pub channel: ChannelKind,
    pub endpoint: String,
    pub to: Vec<Participant>,
    pub cc: Vec<Participant>,
    pub subject: Option<String>,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<AttachmentRef>,
    /// Email threading: the ids this reply answers.
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
}
