//! `GET|POST /webhooks/whatsapp`. The signature is checked on the raw bytes
//! before anything is parsed; 200 is answered only once every message,
//! receipt, reaction and error of the notification is committed.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use channels::whatsapp::{Notification, parse_notification, verify_challenge, verify_signature};
use futures_util::future::join_all;
use serde::Deserialize;
use tracing::warn;

use crate::api::error::ApiError;
use crate::events::Event;
use crate::pipeline::IngestError;
use crate::state::AppState;
use crate::store::whatsapp::{self, Receipt};

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
    let now = state.clock.now_ms();
    let notification = match parse_notification(&body) {
        Ok(n) => n,
        Err(e) => {
            // Signed by Meta but unreadable: keep it for a human rather than have it retried for days.
            let details: String = String::from_utf8_lossy(&body).chars().take(20_000).collect();
            let mut tx = state.store.begin().await?;
            whatsapp::insert_channel_error(
                &mut tx,
                "whatsapp",
                "",
                None,
                &format!("unreadable notification: {e}"),
                &details,
                now,
            )
            .await?;
            tx.commit().await.map_err(crate::store::StoreError::from)?;
            return Ok((StatusCode::OK, "stored as unreadable").into_response());
        }
    };
    let Notification {
        mut messages,
        reactions,
        statuses,
        errors,
    } = notification;
    // Each number's language answers when the text does not tell.
    for m in &mut messages {
        if let Some(n) = wa
            .config
            .numbers
            .iter()
            .find(|n| n.phone_number_id == m.endpoint && !n.language.is_empty())
        {
            m.language.get_or_insert_with(|| n.language.clone());
        }
    }
    let with_media = messages.iter().any(|m| !m.attachments.is_empty());

    // Messages go through the pipeline (group commit with everything else arriving).
    let results = join_all(messages.into_iter().map(|m| state.pipeline.submit(m))).await;
    for r in results {
        match r {
            Ok(_) => {}
            Err(IngestError::Busy) => return Err(ApiError::Busy),
            Err(e) => return Err(ApiError::Internal(format!("message not stored: {e}"))),
        }
    }

    if !(reactions.is_empty() && statuses.is_empty() && errors.is_empty()) {
        let mut tx = state.store.begin().await?;
        let mut applied = Vec::new();
        for st in &statuses {
            let first_error = st.errors.first();
            let receipt = Receipt {
                external_id: &st.message_id,
                status: st.kind.map(|k| k.as_str()).unwrap_or(st.raw_status.as_str()),
                at: st.at,
                recipient: &st.recipient,
                error_code: first_error.and_then(|e| e.code),
                error: first_error.map(|e| {
                    if e.details.is_empty() {
                        e.title.clone()
                    } else {
                        format!("{}: {}", e.title, e.details)
                    }
                }),
            };
            if let Some(a) = whatsapp::apply_receipt(&mut tx, &receipt, now).await? {
                applied.push(a);
            }
        }
        for r in &reactions {
            whatsapp::set_reaction(&mut tx, &r.target, &r.from, r.emoji.as_deref(), &r.external_id, r.at).await?;
        }
        for e in &errors {
            whatsapp::insert_channel_error(&mut tx, "whatsapp", &e.endpoint, e.code, &e.title, &e.details, now).await?;
        }
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        for a in applied {
            state.events.publish(Event::DeliveryUpdated {
                conversation: a.conversation_id,
                message: a.message_id,
                status: a.status,
            });
        }
    }
    if with_media {
        wa.media_wake.notify_one();
    }
    Ok((StatusCode::OK, "OK").into_response())
}
