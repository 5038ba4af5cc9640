//! The on-call webhook as an outbox channel: the row's payload holds the URL
//! and the JSON body; 2xx delivers, 4xx (but 408/429) stops, the rest retries.

use std::time::Duration;

use async_trait::async_trait;

use crate::outbox::{ChannelSender, Delivery, OutgoingMessage};

pub struct WebhookSender {
    pub http: reqwest::Client,
}

impl WebhookSender {
    pub fn new(timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("webhook client: {e}"))?;
        Ok(WebhookSender { http })
    }
}

#[async_trait]
impl ChannelSender for WebhookSender {
    async fn send(&self, msg: &OutgoingMessage) -> Delivery {
        let payload: serde_json::Value = match msg.item.payload.as_deref().map(serde_json::from_str) {
            Some(Ok(p)) => p,
            _ => return Delivery::Permanent("the webhook row has no readable payload".into()),
        };
        let Some(url) = payload["url"].as_str() else {
            return Delivery::Permanent("the webhook row names no URL".into());
        };
        post_json(&self.http, url, &payload["body"], "on-call webhook").await
    }
}

/// POSTs `body` to `url`: 2xx delivers, 4xx (but 408/429) stops, the rest retries.
pub async fn post_json(http: &reqwest::Client, url: &str, body: &serde_json::Value, what: &str) -> Delivery {
    match http.post(url).json(body).send().await {
        Ok(r) if r.status().is_success() => Delivery::Delivered { external_id: None },
        Ok(r) if r.status().is_client_error() && r.status().as_u16() != 408 && r.status().as_u16() != 429 => {
            Delivery::Permanent(format!("{what} answered {}", r.status()))
        }
        Ok(r) => Delivery::Transient(format!("{what} answered {}", r.status())),
        Err(e) => Delivery::Transient(format!("{what}: {e}")),
    }
}
