use super::frames::Prechat;
use super::token::ConversationToken;
use crate::inbound::{AttachmentRef, AttachmentSource, ChannelKind, Contact, Inbound, Participant, ThreadHints};

/// A visitor's chat message as the normalised message.
///
/// The idempotency key is scoped by the conversation token, since client ids are
/// only unique within one visitor's conversation.
pub fn to_inbound(
    endpoint: &str,
    token: &ConversationToken,
    prechat: &Prechat,
    lang: Option<&str>,
    client_id: &str,
    text: &str,
    uploads: &[String],
) -> Inbound {
    let key = token.key();
    Inbound {
        channel: ChannelKind::Webchat,
        endpoint: endpoint.to_string(),
        external_id: format!("{key}:{client_id}"),
        thread_hints: ThreadHints {
            conversation_key: Some(key.clone()),
            ..ThreadHints::default()
        },
        from: Participant {
            address: format!("visitor:{}", &key[..16]),
            name: prechat.name.clone(),
        },
        to: Vec::new(),
        cc: Vec::new(),
        contact: Contact {
            name: prechat.name.clone(),
            email: prechat.email.clone(),
            phone: prechat.phone.clone(),
            company: prechat.company.clone(),
            machine_serial: prechat.machine_serial.clone(),
            ..Contact::default()
        },
        subject: None,
        text: text.to_string(),
        quoted: None,
        html: None,
        attachments: uploads
            .iter()
            .map(|id| AttachmentRef {
                name: None,
                content_type: None,
                size: None,
                sha256: None,
                source: AttachmentSource::Upload { id: id.clone() },
                content_id: None,
            })
            .collect(),
        sent_at: None,
        language: lang.map(str::to_string),
        auto: Default::default(),
        raw_ref: None,
        bounce: None,
    }
}
