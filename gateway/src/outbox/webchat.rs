//! Web-chat delivery: a push to the visitor's open sockets on this node.
//! An offline visitor gets the message in the history when they come back.

use async_trait::async_trait;
use channels::webchat::ServerFrame;

use super::{ChannelSender, Delivery, OutgoingMessage};
use crate::webchat::{Hub, history_item};

pub struct WebchatSender {
    hub: Hub,
}

impl WebchatSender {
    pub fn new(hub: Hub) -> Self {
        WebchatSender { hub }
    }
}

#[async_trait]
impl ChannelSender for WebchatSender {
    async fn send(&self, msg: &OutgoingMessage) -> Delivery {
        let Some(key) = &msg.conversation.chat_key else {
            return Delivery::Permanent("web-chat conversation has no visitor key".into());
        };
        let frame = ServerFrame::Message(history_item(&msg.message, &msg.attachments));
        if self.hub.push(key, &frame) > 0 {
            Delivery::Delivered { external_id: None }
        } else {
            Delivery::Waiting
        }
    }
}
