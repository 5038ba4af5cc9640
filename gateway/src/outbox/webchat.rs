//! Web-chat delivery: a push to the visitor's open sockets on this node.
//! An offline visitor gets the message in the history when they come back.

use async_trait::async_trait;
use channels::webchat::ServerFrame;

use super::{ChannelSender, Delivery, OutgoingMessage};
use crate::clock::Clock;
use crate::signing::Signer;
use crate::webchat::{FileLinks, Hub, history_item};

pub struct WebchatSender {
    hub: Hub,
    signer: Signer,
    clock: Clock,
    link_ttl_ms: i64,
}

impl WebchatSender {
    pub fn new(hub: Hub, signer: Signer, clock: Clock, link_ttl: std::time::Duration) -> Self {
        WebchatSender {
            hub,
            signer,
            clock,
            link_ttl_ms: i64::try_from(link_ttl.as_millis()).unwrap_or(i64::MAX / 2),
        }
    }
}

/// The quick answers a Level 1 question carries (`{"kind": "choices", "choices": […]}`).
fn choices(payload: Option<&str>) -> Vec<channels::webchat::Choice> {
    #[derive(serde::Deserialize)]
    struct Choices {
        kind: String,
        #[serde(default)]
        choices: Vec<channels::webchat::Choice>,
    }
    payload
        .and_then(|p| serde_json::from_str::<Choices>(p).ok())
        .filter(|c| c.kind == "choices")
        .map(|c| c.choices)
        .unwrap_or_default()
}

#[async_trait]
impl ChannelSender for WebchatSender {
    async fn send(&self, msg: &OutgoingMessage) -> Delivery {
        let Some(key) = &msg.conversation.chat_key else {
            return Delivery::Permanent("web-chat conversation has no visitor key".into());
        };
        let links = FileLinks {
            signer: &self.signer,
            expires_ms: self.clock.now_ms() + self.link_ttl_ms,
        };
        let mut item = history_item(&msg.message, &msg.attachments, &links);
        item.choices = choices(msg.item.payload.as_deref());
        let frame = ServerFrame::Message(item);
        if self.hub.push(key, &frame) > 0 {
            Delivery::Delivered { external_id: None }
        } else {
            Delivery::Waiting
        }
    }
}
