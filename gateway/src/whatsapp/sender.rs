//! WhatsApp delivery for the outbox: text, buttons or an approved template,
//! inside the 24-hour window, paced, with Graph errors classified.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use channels::whatsapp::{ErrorClass, GraphClient, body};
use serde::{Deserialize, Serialize};

use super::identity;
use super::pacer::Pacer;
use crate::clock::Clock;
use crate::outbox::{ChannelSender, Delivery, OutgoingMessage};

pub const WINDOW_MS: i64 = 24 * 3600 * 1000;
pub const MAX_TEXT_CHARS: usize = 4096;
/// Waits shorter than this are slept through; longer ones go back to the outbox.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(1);

/// Channel-specific content of an outbox row (`outbox.payload`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    Template {
        name: String,
        language: String,
        parameters: Vec<String>,
    },
    Buttons {
        buttons: Vec<Button>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Button {
    pub id: String,
    pub title: String,
}

pub struct WhatsappSender {
    pub store: crate::store::Store,
    pub graph: GraphClient,
    pub pacer: Arc<Pacer>,
    pub clock: Clock,
    pub blobs: crate::blobs::Blobs,
}

/// WhatsApp's message type for a file.
fn media_kind(content_type: &str) -> &'static str {
    match content_type.split('/').next().unwrap_or_default() {
        "image" => "image",
        "audio" => "audio",
        "video" => "video",
        _ => "document",
    }
}

#[async_trait]
impl ChannelSender for WhatsappSender {
    async fn send(&self, msg: &OutgoingMessage) -> Delivery {
        let number = msg.conversation.endpoint.as_str();
        // A customer first known by their BSUID is answered on their phone
        // number once one is known, by BSUID until then.
        let address = msg.conversation.customer_address.as_str();
        // The number on record also follows a customer who changed numbers.
        let phone = match self.store.whatsapp_phone_for(address).await {
            Ok(phone) => phone,
            Err(e) => return Delivery::Transient(format!("looking the customer's number up: {e}")),
        };
        let to = phone.as_deref().unwrap_or(address);
        let by_user_id = identity::is_bsuid(to);
        let payload: Option<Payload> = match msg.item.payload.as_deref().map(serde_json::from_str) {
            None => None,
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => return Delivery::Permanent(format!("unreadable outbound payload: {e}")),
        };
        let is_template = matches!(payload, Some(Payload::Template { .. }));
        let window_closes = msg.conversation.last_customer_at + WINDOW_MS;
        if !is_template && self.clock.now_ms() >= window_closes {
            return Delivery::Permanent(
                "outside the 24-hour customer-service window: send an approved template instead".into(),
            );
        }
        let request = match &payload {
            Some(Payload::Template {
                name,
                language,
                parameters,
            }) => body::template(to, name, language, parameters),
            Some(Payload::Buttons { buttons }) => {
                let pairs: Vec<(String, String)> = buttons.iter().map(|b| (b.id.clone(), b.title.clone())).collect();
                body::buttons(to, &msg.message.body, &pairs)
            }
            None => match msg.attachments.first() {
                // A file: uploaded to the Graph API first, then sent by id with the text as caption.
                Some(file) => {
                    let Some(path) = file.sha256.as_deref().and_then(|s| self.blobs.path(s)) else {
                        return Delivery::Permanent("the attached file is not stored".into());
                    };
                    let bytes = match tokio::fs::read(&path).await {
                        Ok(b) => b,
                        Err(e) => return Delivery::Transient(format!("reading the attached file: {e}")),
                    };
                    let name = file.name.clone().unwrap_or_else(|| "file".into());
                    let id = match self.graph.upload_media(number, bytes, &file.content_type, &name).await {
                        Ok(id) => id,
                        Err(e) if e.class == ErrorClass::Transient => return Delivery::Transient(e.to_string()),
                        Err(e) => return Delivery::Permanent(e.to_string()),
                    };
                    body::media_id(
                        to,
                        media_kind(&file.content_type),
                        &id,
                        Some(&msg.message.body),
                        Some(&name),
                    )
                }
                None => {
                    if msg.message.body.chars().count() > MAX_TEXT_CHARS {
                        return Delivery::Permanent(format!("text is longer than {MAX_TEXT_CHARS} characters"));
                    }
                    body::text(to, &msg.message.body, None)
                }
            },
        };
        let request = if by_user_id {
            body::to_user_id(request, to)
        } else {
            request
        };
        // Paced per customer (the conversation's key), whether this send goes
        // by number or by BSUID.
        match self.pacer.try_take(number, address) {
            Ok(()) => {}
            Err(wait) if wait <= MAX_INLINE_WAIT => {
                tokio::time::sleep(wait).await;
                if let Err(wait) = self.pacer.try_take(number, address) {
                    return Delivery::Transient(format!("paced: next send to this recipient in {wait:?}"));
                }
            }
            Err(wait) => return Delivery::Transient(format!("paced: next send to this recipient in {wait:?}")),
        }
        match self.graph.send(number, &request).await {
            Ok(sent) => Delivery::Sent {
                external_id: sent.wamid,
            },
            Err(e) => match e.class {
                ErrorClass::Transient => Delivery::Transient(e.to_string()),
                ErrorClass::Permanent => Delivery::Permanent(e.to_string()),
                ErrorClass::WindowClosed => {
                    Delivery::Permanent(format!("{e} (the 24-hour window is closed: send an approved template)"))
                }
            },
        }
    }
}
