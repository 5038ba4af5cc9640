use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A web-chat visitor speaking the widget protocol over a real websocket.
pub struct Visitor {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub token: Option<String>,
}

const WAIT: Duration = Duration::from_secs(10);

impl Visitor {
    pub async fn connect(url: &str) -> anyhow::Result<Visitor> {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .context("websocket connect")?;
        Ok(Visitor { ws, token: None })
    }

    /// A new visitor sends one photo (`bytes` as `name`) with `text`; the id
    /// of the conversation it opened.
    pub async fn sends_photo(ws_url: &str, base: &str, text: &str, name: &str, bytes: &[u8]) -> anyhow::Result<i64> {
        let (mut visitor, _) = Visitor::open(ws_url, None).await?;
        let upload = visitor.upload_png(base, name, bytes).await?;
        visitor
            .send_json(&json!({"type": "message", "client_id": "photo", "text": text, "attachments": [upload]}))
            .await?;
        let ack = visitor.expect("ack").await?;
        visitor.close().await;
        Ok(crate::ticket_id(&ack["conversation"]))
    }

    /// Connects through a proxy that says the visitor is at `address`
    /// (`X-Forwarded-For`; the gateway must trust 127.0.0.1 as a proxy).
    pub async fn connect_from(url: &str, address: &str) -> anyhow::Result<Visitor> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = url.into_client_request().context("websocket request")?;
        request
            .headers_mut()
            .insert("x-forwarded-for", address.parse().context("address header")?);
        let (ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .context("websocket connect")?;
        Ok(Visitor { ws, token: None })
    }

    /// Sends the `open` frame (resuming when `token` is given) on a connected
    /// socket; the `opened` frame, or the error frame the gateway answered.
    pub async fn open_frame(&mut self, token: Option<&str>) -> anyhow::Result<Value> {
        self.send_json(&json!({"type": "open", "token": token, "prechat": {"name": "Test Visitor"}, "lang": "fr"}))
            .await?;
        let frame = self.next().await?;
        if frame["type"] == "opened" {
            self.token = frame["token"].as_str().map(str::to_string);
        }
        Ok(frame)
    }

    /// Connects and opens (resuming when `token` is given); returns the `opened` frame.
    pub async fn open(url: &str, token: Option<&str>) -> anyhow::Result<(Visitor, Value)> {
        Visitor::open_with(url, token, json!({"name": "Test Visitor"})).await
    }

    /// [`Visitor::open`] with the pre-chat form's fields.
    pub async fn open_with(url: &str, token: Option<&str>, prechat: Value) -> anyhow::Result<(Visitor, Value)> {
        let mut v = Visitor::connect(url).await?;
        v.send_json(&json!({"type": "open", "token": token, "prechat": prechat, "lang": "fr"}))
            .await?;
        let opened = v.expect("opened").await?;
        v.token = opened["token"].as_str().map(str::to_string);
        Ok((v, opened))
    }

    pub async fn send_json(&mut self, frame: &Value) -> anyhow::Result<()> {
        self.send_text(frame.to_string()).await
    }

    pub async fn send_text(&mut self, text: String) -> anyhow::Result<()> {
        self.ws.send(Message::Text(text.into())).await.context("websocket send")
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.ws
            .send(Message::Binary(bytes.into()))
            .await
            .context("websocket send")
    }

    pub async fn message(&mut self, client_id: &str, text: &str) -> anyhow::Result<Value> {
        self.send_json(&json!({"type": "message", "client_id": client_id, "text": text}))
            .await?;
        self.expect("ack").await
    }

    /// The next frame, whatever it is.
    pub async fn next(&mut self) -> anyhow::Result<Value> {
        self.next_within(WAIT).await
    }

    /// The next frame within `wait`.
    pub async fn next_within(&mut self, wait: std::time::Duration) -> anyhow::Result<Value> {
        loop {
            let msg = tokio::time::timeout(wait, self.ws.next())
                .await
                .with_context(|| format!("no frame within {} s", wait.as_secs()))?
                .context("socket closed")??;
            match msg {
                Message::Text(t) => return Ok(serde_json::from_str(t.as_str())?),
                Message::Close(_) => bail!("socket closed by server"),
                _ => continue,
            }
        }
    }

    /// Skips frames until one of type `kind` arrives.
    pub async fn expect(&mut self, kind: &str) -> anyhow::Result<Value> {
        loop {
            let frame = self.next().await?;
            if frame["type"] == kind {
                return Ok(frame);
            }
            if frame["type"] == "error" && kind != "error" {
                bail!("expected {kind}, got error {frame}");
            }
        }
    }

    /// Skips frames until a pushed message matching `pred` arrives.
    pub async fn expect_message(&mut self, pred: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
        loop {
            let frame = self.expect("message").await?;
            if pred(&frame) {
                return Ok(frame);
            }
        }
    }

    /// Uploads a PNG as the widget does (the chat token in a header, never
    /// in the URL); the upload id to attach to a message.
    pub async fn upload_png(&self, base: &str, name: &str, bytes: &[u8]) -> anyhow::Result<String> {
        self.upload(base, name, "image/png", bytes).await
    }

    /// Uploads any file with the name and type the visitor's browser gives.
    pub async fn upload(&self, base: &str, name: &str, content_type: &str, bytes: &[u8]) -> anyhow::Result<String> {
        let r = reqwest::Client::new()
            .post(format!("{base}/api/v1/chat/uploads"))
            .query(&[("name", name)])
            .header("x-chat-token", self.token.clone().unwrap_or_default())
            .header("content-type", content_type)
            .body(bytes.to_vec())
            .send()
            .await?;
        anyhow::ensure!(r.status().as_u16() == 200, "upload: {}", r.status());
        let upload: Value = r.json().await?;
        Ok(upload["upload_id"].as_str().unwrap_or_default().to_string())
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
