//! `GET|POST /webhooks/whatsapp`. The signature is checked on the raw bytes
//! before anything is parsed; 200 is answered once the verified body is
//! committed to the webhook journal, from which every message, receipt,
//! reaction and error is then processed (see `journal.rs`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use channels::whatsapp::{verify_challenge, verify_signature};
use serde::Deserialize;
use tracing::warn;

use crate::api::error::ApiError;
use crate::pipeline::IngestError;
use crate::state::AppState;

/// Meta batches up to 3 MB per notification.
const MAX_BODY: usize = 4 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/whatsapp", get(handshake).post(notify))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

#[derive(Deserialize)]
struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

async fn handshake(State(state): State<AppState>, Query(q): Query<Handshake>) -> Response {
    let Some(wa) = &state.whatsapp else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let verify_token = wa.config.verify_token.expose();
    match verify_challenge(
        q.mode.as_deref(),
        q.token.as_deref(),
        q.challenge.as_deref(),
        verify_token,
    ) {
        Some(challenge) => (StatusCode::OK, [("content-type", "text/plain")], challenge.to_string()).into_response(),
        None => (StatusCode::FORBIDDEN, "verification failed").into_response(),
    }
}

async fn notify(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let Some(wa) = state.whatsapp.clone() else {
        return Err(ApiError::NotFound("webhook"));
    };
    let signature = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    if let Err(e) = verify_signature(wa.config.app_secret.expose().as_bytes(), &body, signature) {
        warn!(error = %e, "WhatsApp webhook refused");
        return Ok((
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({"error": {"code": "bad_signature", "message": e.to_string()}})),
        )
            .into_response());
    }
    // Durable first, then 200; parsing and storing the messages follow off the request path.
    match wa.journal.append(String::from_utf8_lossy(&body).into_owned()).await {
        Ok(()) => {}
        Err(IngestError::Busy) => return Err(ApiError::Busy),
        // Meta retries a webhook that is not answered 200.
        Err(e @ IngestError::Full) => return Err(ApiError::Unavailable(e.to_string())),
        Err(e) => return Err(ApiError::Internal(format!("notification not stored: {e}"))),
    }
    Ok((StatusCode::OK, "OK").into_response())
}
