//! A local stand-in for the translation services, speaking the DeepL API
//! (`POST /v2/translate`, `DeepL-Auth-Key` header, up to 50 texts) and
//! LibreTranslate (`POST /translate`, `q` a text or a list, optional
//! `api_key`). Its "translation" is `[TARGET] text`, so a test can tell it
//! from the original; it records each call and can be made to fail.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

pub const KEY: &str = "deepl-key-for-tests:fx";

#[derive(Default)]
struct Inner {
    /// Each call's texts.
    calls: Vec<Vec<String>>,
    /// While set, every call answers this status.
    failing: Option<u16>,
    /// Loses the first placeholder of each text, as a careless engine might.
    mangle: bool,
}

#[derive(Clone)]
pub struct TranslateStub {
    addr: std::net::SocketAddr,
    inner: Arc<Mutex<Inner>>,
    _task: Arc<tokio::task::JoinHandle<()>>,
}

impl TranslateStub {
    pub async fn start() -> anyhow::Result<TranslateStub> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/v2/translate", post(deepl))
            .route("/translate", post(libre))
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(TranslateStub {
            addr,
            inner,
            _task: Arc::new(task),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every call from now on answers `status` (None: back to normal).
    pub fn fail_with(&self, status: Option<u16>) {
        if let Ok(mut i) = self.inner.lock() {
            i.failing = status;
        }
    }

    /// Whether the first placeholder of each text is lost in translation.
    pub fn mangle(&self, on: bool) {
        if let Ok(mut i) = self.inner.lock() {
            i.mangle = on;
        }
    }

    /// The texts of each call that was answered.
    pub fn calls(&self) -> Vec<Vec<String>> {
        self.inner.lock().map(|i| i.calls.clone()).unwrap_or_default()
    }
}

fn failing(inner: &Mutex<Inner>) -> Option<Response> {
    let status = inner.lock().ok()?.failing?;
    Some(
        (
            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "scripted failure",
        )
            .into_response(),
    )
}

async fn deepl(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Some(r) = failing(&inner) {
        return r;
    }
    if headers.get("authorization").and_then(|h| h.to_str().ok()) != Some(&format!("DeepL-Auth-Key {KEY}")) {
        return (StatusCode::FORBIDDEN, "Wrong authentication key").into_response();
    }
    let texts: Vec<String> = body["text"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let target = body["target_lang"].as_str().unwrap_or_default().to_string();
    if texts.is_empty() || texts.len() > 50 || target.is_empty() {
        return (StatusCode::BAD_REQUEST, "1 to 50 texts and a target_lang").into_response();
    }
    let source = body["source_lang"].as_str().unwrap_or("DE").to_string();
    let mangle = inner
        .lock()
        .map(|mut i| {
            i.calls.push(texts.clone());
            i.mangle
        })
        .unwrap_or(false);
    let translations: Vec<Value> = texts
        .iter()
        .map(|t| {
            let t = if mangle { t.replacen("{{1}}", "", 1) } else { t.clone() };
            json!({"detected_source_language": source, "text": format!("[{target}] {t}")})
        })
        .collect();
    Json(json!({"translations": translations})).into_response()
}

async fn libre(State(inner): State<Arc<Mutex<Inner>>>, Json(body): Json<Value>) -> Response {
    if let Some(r) = failing(&inner) {
        return r;
    }
    if body["api_key"] != KEY {
        return (StatusCode::FORBIDDEN, Json(json!({"error": "Invalid API key"}))).into_response();
    }
    let target = body["target"].as_str().unwrap_or_default().to_uppercase();
    let (texts, list) = match &body["q"] {
        Value::Array(a) => (
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect::<Vec<_>>(),
            true,
        ),
        Value::String(one) => (vec![one.clone()], false),
        _ => return (StatusCode::BAD_REQUEST, Json(json!({"error": "q"}))).into_response(),
    };
    if let Ok(mut i) = inner.lock() {
        i.calls.push(texts.clone());
    }
    let out: Vec<String> = texts.iter().map(|t| format!("[{target}] {t}")).collect();
    if list {
        Json(json!({"translatedText": out})).into_response()
    } else {
        Json(json!({"translatedText": out[0]})).into_response()
    }
}
