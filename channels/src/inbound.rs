use serde::{Deserialize, Serialize};

/// The channel a message travels on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Email,
    Webchat,
    Whatsapp,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Email => "email",
            ChannelKind::Webchat => "webchat",
            ChannelKind::Whatsapp => "whatsapp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "email" => Some(ChannelKind::Email),
            "webchat" => Some(ChannelKind::Webchat),
            "whatsapp" => Some(ChannelKind::Whatsapp),
            _ => None,
        }
    }
}

/// Someone on the customer side: an email address, a wa_id or a chat visitor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub address: String,
    pub name: Option<String>,
}

/// What the customer told us about themselves (web-chat pre-chat form, signature, profile).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub machine_serial: Option<String>,
    /// WhatsApp business-scoped user id (`FR.1349…`), present with or without a phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bsuid: Option<String>,
    /// The BSUID across linked business portfolios, when Meta sends one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_bsuid: Option<String>,
    /// A WhatsApp username (`@jane`): shown, never an identity (it can change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// Everything that may tie a message to an existing conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadHints {
    /// Email In-Reply-To and References ids, unfolded and without angle brackets.
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// Ticket tag found in a subject, e.g. `SY-1234`.
    pub ticket_tag: Option<String>,
    /// WhatsApp `context.id`: the business message this one replies to.
    pub reply_to_external: Option<String>,
    /// Web chat: the key (hash) of the visitor's conversation token.
    pub conversation_key: Option<String>,
}

/// Where an attachment's bytes are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AttachmentSource {
    /// Already stored content-addressed under the data directory.
    Blob { sha256: String },
    /// A web-chat upload id; the gateway checks it belongs to the same visitor.
    Upload { id: String },
    /// A handle to fetch later (e.g. a WhatsApp media id).
    Remote { handle: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    pub name: Option<String>,
    pub content_type: Option<String>,
    pub size: Option<u64>,
    /// The checksum the channel announced, to verify the bytes against.
    pub sha256: Option<String>,
    pub source: AttachmentSource,
    /// A mail part's Content-ID, which the mail's HTML refers to as `cid:…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
}

/// Automatic-mail markers; the gateway never auto-acknowledges these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoFlags {
    pub auto_reply: bool,
    pub bounce: bool,
    pub list: bool,
    /// Our own mail coming back (our address or our loop header).
    #[serde(default)]
    pub own: bool,
}

impl AutoFlags {
    pub fn any(self) -> bool {
        self.auto_reply || self.bounce || self.list || self.own
    }
}

/// What a bounce says about the mail it returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounce {
    /// The Message-ID of the returned mail, when the bounce includes it.
    pub original_message_id: Option<String>,
    /// RFC 3464 `Status` (e.g. 5.1.1), `Diagnostic-Code`, `Final-Recipient`.
    pub status: Option<String>,
    pub diagnostic: Option<String>,
    pub recipient: Option<String>,
}

impl Bounce {
    /// One line for agents: why delivery failed.
    pub fn reason(&self) -> String {
        let mut parts = vec!["bounced".to_string()];
        if let Some(r) = &self.recipient {
            parts.push(format!("for {r}"));
        }
        if let Some(s) = &self.status {
            parts.push(format!("status {s}"));
        }
        if let Some(d) = &self.diagnostic {
            parts.push(format!("({d})"));
        }
        parts.join(" ")
    }
}

/// One incoming message, whatever channel it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbound {
    pub channel: ChannelKind,
    /// Which mailbox, widget or phone-number id received it.
    pub endpoint: String,
    /// The channel's own id; with `channel` and `endpoint` it is the idempotency key.
    pub external_id: String,
    pub thread_hints: ThreadHints,
    pub from: Participant,
    pub to: Vec<Participant>,
    pub cc: Vec<Participant>,
    pub contact: Contact,
    pub subject: Option<String>,
    /// New content only, quoted history removed.
    pub text: String,
    pub quoted: Option<String>,
    /// Sanitised HTML (email only).
    pub html: Option<String>,
    pub attachments: Vec<AttachmentRef>,
    /// Unix milliseconds, as the sender claims.
    pub sent_at: Option<i64>,
    pub language: Option<String>,
    pub auto: AutoFlags,
    /// Where the raw bytes are kept for proof.
    pub raw_ref: Option<String>,
    /// A delivery failure report: which of our mails it concerns and why.
    #[serde(default)]
    pub bounce: Option<Bounce>,
}

impl Inbound {
    /// A text from `from` and nothing else known yet: where tests and tools
    /// building a message by hand start (each channel's normaliser fills in
    /// the rest).
    pub fn text(channel: ChannelKind, endpoint: &str, external_id: &str, from: &str, text: &str) -> Self {
        Inbound {
            channel,
            endpoint: endpoint.into(),
            external_id: external_id.into(),
            thread_hints: ThreadHints::default(),
            from: Participant {
                address: from.into(),
                name: None,
            },
            to: Vec::new(),
            cc: Vec::new(),
            contact: Contact::default(),
            subject: None,
            text: text.into(),
            quoted: None,
            html: None,
            attachments: Vec::new(),
            sent_at: None,
            language: None,
            auto: AutoFlags::default(),
            raw_ref: None,
            bounce: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_name_goes_to_the_store_and_back() {
        for kind in [ChannelKind::Email, ChannelKind::Webchat, ChannelKind::Whatsapp] {
            assert_eq!(ChannelKind::parse(kind.as_str()), Some(kind));
            // The store and the serialised form say the same name.
            assert_eq!(serde_json::to_value(kind).ok(), Some(serde_json::json!(kind.as_str())));
        }
        assert_eq!(ChannelKind::as_str(ChannelKind::Whatsapp), "whatsapp");
        assert_eq!(ChannelKind::parse("sms"), None);
    }

    #[test]
    fn any_one_flag_makes_a_mail_automatic() {
        assert!(!AutoFlags::default().any());
        let each = [
            AutoFlags {
                auto_reply: true,
                ..AutoFlags::default()
            },
            AutoFlags {
                bounce: true,
                ..AutoFlags::default()
            },
            AutoFlags {
                list: true,
                ..AutoFlags::default()
            },
            AutoFlags {
                own: true,
                ..AutoFlags::default()
            },
        ];
        for flags in each {
            assert!(flags.any(), "{flags:?}");
        }
    }

    #[test]
    fn a_bounce_says_for_whom_and_why() {
        let b = Bounce {
            original_message_id: None,
            status: Some("5.1.1".into()),
            diagnostic: Some("user unknown".into()),
            recipient: Some("gone@example.test".into()),
        };
        assert_eq!(b.reason(), "bounced for gone@example.test status 5.1.1 (user unknown)");
        assert_eq!(Bounce::default().reason(), "bounced");
    }
}
