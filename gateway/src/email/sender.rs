//! SMTP delivery for the outbox: agent replies and acknowledgements leave from
//! the SAV address as replies in the customer's thread — our own Message-ID
//! (fixed before sending, so a resend after a crash keeps it), In-Reply-To the
//! customer's last mail, the whole References chain, the ticket tag in the
//! subject, the Cc list kept, and the automatic-mail markers on acknowledgements.

use async_trait::async_trait;
use channels::Participant;
use channels::email::{AutoSubmitted, OutgoingFile, OutgoingMail, compose, subject};
use serde::{Deserialize, Serialize};

use crate::blobs::Blobs;
use crate::ids::{ConversationId, MessageId};
use crate::outbox::{ChannelSender, Delivery, OutgoingMessage};
use crate::pipeline::MailPolicy;
use crate::store::Store;

/// Recipients an agent chose for one reply (`outbox.payload`); absent means
/// the customer in To and every other active participant in Cc.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailPayload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cc: Option<Vec<String>>,
}

pub struct EmailSender {
    pub smtp: super::MailTransport,
    pub store: Store,
    pub blobs: Blobs,
    pub from: Participant,
    pub policy: MailPolicy,
    pub loop_id: String,
}

fn fallback_subject(language: Option<&str>) -> &'static str {
    match language {
        Some("fr") => "Votre demande",
        Some("de") => "Ihre Anfrage",
        Some("es") => "Su solicitud",
        Some("it") => "La sua richiesta",
        _ => "Your request",
    }
}

fn person(address: &str) -> Participant {
    Participant {
        address: address.trim().to_lowercase(),
        name: None,
    }
}

impl EmailSender {
    /// To and Cc: the agent's choice, else the customer and the other participants.
    async fn recipients(&self, msg: &OutgoingMessage) -> Result<(Vec<Participant>, Vec<Participant>), Delivery> {
        let conv = &msg.conversation;
        let payload: EmailPayload = match msg.item.payload.as_deref().map(serde_json::from_str) {
            None => EmailPayload::default(),
            Some(Ok(p)) => p,
            Some(Err(e)) => return Err(Delivery::Permanent(format!("unreadable recipients: {e}"))),
        };
        let to: Vec<Participant> = match &payload.to {
            Some(list) => list.iter().map(|a| person(a)).collect(),
            None => vec![Participant {
                address: conv.customer_address.clone(),
                name: conv.customer_name.clone(),
            }],
        };
        let cc: Vec<Participant> = match &payload.cc {
            Some(list) => list.iter().map(|a| person(a)).collect(),
            None => {
                let participants = self
                    .store
                    .participants(ConversationId(conv.id))
                    .await
                    .map_err(|e| Delivery::Transient(format!("reading participants: {e}")))?;
                participants
                    .into_iter()
                    .filter(|p| p.active != 0)
                    .map(|p| Participant {
                        address: p.address,
                        name: p.name,
                    })
                    .collect()
            }
        };
        let to: Vec<Participant> = to
            .into_iter()
            .filter(|p| !p.address.is_empty() && !self.policy.is_own(&p.address))
            .collect();
        let mut cc_out: Vec<Participant> = Vec::new();
        for p in cc {
            let taken = to
                .iter()
                .chain(&cc_out)
                .any(|o| o.address.eq_ignore_ascii_case(&p.address));
            if !p.address.is_empty() && !taken && !self.policy.is_own(&p.address) {
                cc_out.push(p);
            }
        }
        Ok((to, cc_out))
    }
}

#[async_trait]
impl ChannelSender for EmailSender {
    async fn send(&self, msg: &OutgoingMessage) -> Delivery {
        let conv = &msg.conversation;
        let conversation = ConversationId(conv.id);
        let message_id = self.policy.message_id(MessageId(msg.message.id), conversation);
        if let Err(e) = self.store.outbox_set_external_id(msg.item.id, &message_id).await {
            return Delivery::Transient(format!("recording the Message-ID: {e}"));
        }
        let automatic = msg.message.author_kind == "system";
        let (to, cc) = match self.recipients(msg).await {
            // An acknowledgement answers the sender only; the people in Cc hear from a person.
            Ok((to, _)) if automatic => (to, Vec::new()),
            Ok(r) => r,
            Err(d) => return d,
        };
        let chain = match self.store.mail_chain(conversation).await {
            Ok(c) => c,
            Err(e) => return Delivery::Transient(format!("reading the thread: {e}")),
        };
        let references: Vec<String> = chain
            .iter()
            .map(|(id, _)| id.clone())
            .filter(|id| *id != message_id)
            .collect();
        let in_reply_to = chain
            .iter()
            .rev()
            .find(|(_, dir)| dir == "in")
            .map(|(id, _)| id.as_str());
        let subject = subject::reply_subject(
            conv.subject.as_deref(),
            conv.id,
            fallback_subject(conv.language.as_deref()),
        );
        let mut attachments = Vec::with_capacity(msg.attachments.len());
        for a in &msg.attachments {
            let Some(path) = a.sha256.as_deref().and_then(|s| self.blobs.path(s)) else {
                return Delivery::Permanent(format!("attachment {:?} is not stored", a.name));
            };
            match tokio::fs::read(&path).await {
                Ok(bytes) => attachments.push(OutgoingFile {
                    name: a.name.clone().unwrap_or_else(|| "file".into()),
                    content_type: a.content_type.clone(),
                    bytes,
                }),
                Err(e) => return Delivery::Transient(format!("reading attachment: {e}")),
            }
        }
        let mail = compose(&OutgoingMail {
            from: &self.from,
            to: &to,
            cc: &cc,
            subject: &subject,
            text: &msg.message.body,
            attachments,
            message_id: &message_id,
            in_reply_to,
            references: &references,
            automatic: if automatic {
                AutoSubmitted::Replied
            } else {
                AutoSubmitted::No
            },
            loop_value: &self.loop_id,
        });
        let mail = match mail {
            Ok(m) => m,
            Err(e) => return Delivery::Permanent(e.to_string()),
        };
        match self.smtp.send(&mail).await {
            Ok(()) => Delivery::Delivered {
                external_id: Some(message_id),
            },
            Err(e) if e.permanent => Delivery::Permanent(e.message),
            Err(e) => Delivery::Transient(e.message),
        }
    }
}
