//! A local stand-in for the translation services, speaking the DeepL API
//! (`POST /v2/translate`, `DeepL-Auth-Key` header, up to 50 texts, a
//! `glossary_id` made by `POST /v2/glossaries` and listed by `GET`) and
//! LibreTranslate (`POST /translate`, `q` a text or a list, optional
//! `api_key`). Its "translation" is `[TARGET] text` with the glossary's
//! entries applied, so a test can tell it from the original; it records
//! each call and can be made to fail.

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
    /// While set, every translate call waits this long before answering.
    delay: Option<std::time::Duration>,
    /// Loses the first placeholder of each text, as a careless engine might.
    mangle: bool,
    /// Glossaries made, in order: (id, name, source, target, entries).
    glossaries: Vec<Glossary>,
    /// The glossary each translate call named.
    glossary_ids: Vec<Option<String>>,
}

#[derive(Clone, Debug)]
pub struct Glossary {
    pub id: String,
    pub name: String,
    pub source: String,
    pub target: String,
    pub entries: Vec<(String, String)>,
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
            .route("/v2/glossaries", post(create_glossary).get(list_glossaries))
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

    /// Every translate call from now on answers only after `delay` (None: at once).
    pub fn slow(&self, delay: Option<std::time::Duration>) {
        if let Ok(mut i) = self.inner.lock() {
            i.delay = delay;
        }
    }

    /// Whether the first placeholder of each text is lost in translation.
    pub fn mangle(&self, on: bool) {
        if let Ok(mut i) = self.inner.lock() {
            i.mangle = on;
        }
    }

    /// The glossaries created so far.
    pub fn glossaries(&self) -> Vec<Glossary> {
        self.inner.lock().map(|i| i.glossaries.clone()).unwrap_or_default()
    }

    /// The glossary id each DeepL translate call named.
    pub fn glossary_ids(&self) -> Vec<Option<String>> {
        self.inner.lock().map(|i| i.glossary_ids.clone()).unwrap_or_default()
    }

    /// The texts of each call that was answered.
    pub fn calls(&self) -> Vec<Vec<String>> {
        self.inner.lock().map(|i| i.calls.clone()).unwrap_or_default()
    }
}

fn authorised(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|h| h.to_str().ok()) == Some(&format!("DeepL-Auth-Key {KEY}"))
}

fn glossary_json(g: &Glossary) -> Value {
    json!({
        "glossary_id": g.id, "name": g.name, "ready": true, "source_lang": g.source,
        "target_lang": g.target, "creation_time": "2026-12-03T10:00:00.000Z", "entry_count": g.entries.len(),
    })
}

async fn create_glossary(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = failing(&inner) {
        return r;
    }
    if !authorised(&headers) {
        return (StatusCode::FORBIDDEN, "Wrong authentication key").into_response();
    }
    if body["entries_format"] != "tsv" {
        return (StatusCode::BAD_REQUEST, "entries_format").into_response();
    }
    let mut entries = Vec::new();
    for line in body["entries"].as_str().unwrap_or_default().lines() {
        match line.split_once('\t') {
            Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
                entries.push((a.to_string(), b.to_string()))
            }
            _ => return (StatusCode::BAD_REQUEST, "Invalid glossary entries").into_response(),
        }
    }
    let Ok(mut i) = inner.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let g = Glossary {
        id: format!("gl-{}", i.glossaries.len() + 1),
        name: body["name"].as_str().unwrap_or_default().to_string(),
        source: body["source_lang"].as_str().unwrap_or_default().to_lowercase(),
        target: body["target_lang"].as_str().unwrap_or_default().to_lowercase(),
        entries,
    };
    let answer = glossary_json(&g);
    i.glossaries.push(g);
    (StatusCode::CREATED, Json(answer)).into_response()
}

async fn list_glossaries(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap) -> Response {
    if !authorised(&headers) {
        return (StatusCode::FORBIDDEN, "Wrong authentication key").into_response();
    }
    let list: Vec<Value> = inner
        .lock()
        .map(|i| i.glossaries.iter().map(glossary_json).collect())
        .unwrap_or_default();
    Json(json!({"glossaries": list})).into_response()
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
    let delay = inner.lock().ok().and_then(|i| i.delay);
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    if !authorised(&headers) {
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
    let glossary_id = body["glossary_id"].as_str().map(str::to_string);
    // DeepL wants the source language with a glossary.
    if glossary_id.is_some() && body["source_lang"].as_str().is_none() {
        return (StatusCode::BAD_REQUEST, "source_lang is required with glossary_id").into_response();
    }
    let Ok(mut i) = inner.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let entries = match &glossary_id {
        Some(id) => match i.glossaries.iter().find(|g| &g.id == id) {
            Some(g) => g.entries.clone(),
            None => return (StatusCode::NOT_FOUND, "Glossary not found").into_response(),
        },
        None => Vec::new(),
    };
    i.calls.push(texts.clone());
    i.glossary_ids.push(glossary_id);
    let mangle = i.mangle;
    drop(i);
    let translations: Vec<Value> = texts
        .iter()
        .map(|t| {
            let mut t = if mangle { t.replacen("{{1}}", "", 1) } else { t.clone() };
            for (from, to) in &entries {
                t = t.replace(from.as_str(), to);
            }
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
