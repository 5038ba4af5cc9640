//! A local stand-in for the parts of the Graph API the gateway calls: send,
//! mark as read, media URL and download (bearer checked). It records every
//! request and can be told to fail in each documented way.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const TOKEN: &str = "test-access-token";

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub body: Value,
    pub authorized: bool,
}

#[derive(Default)]
struct Inner {
    requests: Vec<Recorded>,
    /// Answers for the next sends, in order: (HTTP status, body).
    send_script: VecDeque<(u16, Value)>,
    /// Media files by id.
    media: HashMap<String, (String, Vec<u8>)>,
    /// Downloads that fail (404, as an expired URL) before one succeeds.
    download_failures: u32,
    sent: u64,
}

#[derive(Clone)]
pub struct GraphStub {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

fn lock(inner: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
}

impl GraphStub {
    pub async fn start() -> anyhow::Result<GraphStub> {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/download/{id}", get(download))
            .route("/{id}/messages", post(messages))
            .route("/{id}/media", post(upload))
            .route("/{id}", get(media_info))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(GraphStub { addr, inner })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn add_media(&self, id: &str, mime: &str, bytes: &[u8]) -> String {
        lock(&self.inner)
            .media
            .insert(id.to_string(), (mime.to_string(), bytes.to_vec()));
        hex::encode(Sha256::digest(bytes))
    }

    pub fn fail_downloads(&self, n: u32) {
        lock(&self.inner).download_failures = n;
    }

    /// The next send answers this Graph error.
    pub fn fail_next_send(&self, status: u16, code: i64, message: &str) {
        let body = json!({"error": {"message": message, "type": "OAuthException", "code": code,
                                    "error_data": {"messaging_product": "whatsapp", "details": message}, "fbtrace_id": "x"}});
        lock(&self.inner).send_script.push_back((status, body));
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.inner).requests.clone()
    }

    /// Sent messages (not read receipts), in order.
    /// The first message sent that satisfies `pred` (5 s at most), with the
    /// id the stub answered it with (`wamid.out.n` for the n-th send), the
    /// one a customer's reply quotes.
    pub async fn wait_for_send(&self, pred: impl Fn(&Value) -> bool) -> anyhow::Result<(Value, String)> {
        for _ in 0..200 {
            if let Some((i, found)) = self.sends().into_iter().enumerate().find(|(_, s)| pred(s)) {
                return Ok((found, format!("wamid.out.{}", i + 1)));
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        anyhow::bail!("not sent within 5 s: {:?}", self.sends())
    }

    pub fn sends(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/messages") && r.body.get("status").is_none())
            .map(|r| r.body)
            .collect()
    }
}

async fn messages(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(number): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let ok = authorized(&headers);
    let mut inner = lock(&inner);
    inner.requests.push(Recorded {
        method: "POST".into(),
        path: format!("/{number}/messages"),
        body: body.clone(),
        authorized: ok,
    });
    if !ok {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": {"code": 190, "message": "bad token"}})),
        )
            .into_response();
    }
    if body.get("status").and_then(Value::as_str) == Some("read") {
        return axum::Json(json!({"success": true})).into_response();
    }
    if let Some((status, answer)) = inner.send_script.pop_front() {
        return (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            axum::Json(answer),
        )
            .into_response();
    }
    inner.sent += 1;
    let wamid = format!("wamid.out.{}", inner.sent);
    let to = body.get("to").cloned().unwrap_or(Value::Null);
    axum::Json(
        json!({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": wamid}]}),
    )
    .into_response()
}

async fn upload(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(number): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ok = authorized(&headers);
    let multipart = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("multipart/form-data"));
    let mut inner = lock(&inner);
    let text = String::from_utf8_lossy(&body).to_string();
    inner.requests.push(Recorded {
        method: "POST".into(),
        path: format!("/{number}/media"),
        body: json!({"multipart": multipart, "bytes": body.len(), "has_product": text.contains("whatsapp")}),
        authorized: ok,
    });
    if !ok || !multipart {
        return StatusCode::BAD_REQUEST.into_response();
    }
    inner.sent += 1;
    axum::Json(json!({"id": format!("uploaded-{}", inner.sent)})).into_response()
}

async fn media_info(State(inner): State<Arc<Mutex<Inner>>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let ok = authorized(&headers);
    let mut inner = lock(&inner);
    inner.requests.push(Recorded {
        method: "GET".into(),
        path: format!("/{id}"),
        body: Value::Null,
        authorized: ok,
    });
    if !ok {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    // The test number itself, as `switchyard doctor` reads it.
    if id == crate::wa::PNID {
        return axum::Json(
            json!({"display_phone_number": "+33 1 86 95 00 01", "verified_name": "SAV Maker", "id": id}),
        )
        .into_response();
    }
    let Some((mime, bytes)) = inner.media.get(&id).cloned() else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": {"code": 100, "message": "no such media"}})),
        )
            .into_response();
    };
    // The stub learns its own address from the Host header, like a real URL would carry it.
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    axum::Json(
        json!({"messaging_product": "whatsapp", "url": format!("http://{host}/download/{id}"), "mime_type": mime,
                      "sha256": hex::encode(Sha256::digest(&bytes)), "file_size": bytes.len().to_string(), "id": id}),
    )
    .into_response()
}

async fn download(State(inner): State<Arc<Mutex<Inner>>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let ok = authorized(&headers);
    let mut inner = lock(&inner);
    inner.requests.push(Recorded {
        method: "GET".into(),
        path: format!("/download/{id}"),
        body: Value::Null,
        authorized: ok,
    });
    if !ok {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if inner.download_failures > 0 {
        inner.download_failures -= 1;
        return StatusCode::NOT_FOUND.into_response();
    }
    match inner.media.get(&id) {
        Some((mime, bytes)) => ([("content-type", mime.clone())], bytes.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
