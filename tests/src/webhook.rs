//! A webhook receiver: every JSON body POSTed to its URL is kept, in order.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::routing::post;
use serde_json::Value;

pub struct WebhookReceiver {
    pub url: String,
    received: Arc<Mutex<Vec<Value>>>,
}

impl WebhookReceiver {
    pub async fn start() -> anyhow::Result<WebhookReceiver> {
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        let app = axum::Router::new().route(
            "/hook",
            post(move |Json(body): Json<Value>| {
                let store = store.clone();
                async move {
                    if let Ok(mut r) = store.lock() {
                        r.push(body);
                    }
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(WebhookReceiver { url, received })
    }

    pub fn received(&self) -> Vec<Value> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The first body `pred` accepts (10 s at most).
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
        for _ in 0..400 {
            if let Some(v) = self.received().into_iter().find(|v| pred(v)) {
                return Ok(v);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        anyhow::bail!("{what}: not received within 10 s; got {:?}", self.received())
    }
}
