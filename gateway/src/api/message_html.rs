//! `GET /api/v1/conversations/{id}/messages/{message}/html`: a mail's HTML body
//! as a document of its own, for the inbox to show in a sandboxed frame.
//!
//! Three layers, so that one mistake does not run a sender's code in an
//! agent's session: the HTML is sanitised again here (whatever version stored
//! it; once per message and node, off the runtime, then kept in `html_cache`), the response's CSP forbids every script and remote resource (remote
//! images would also tell the sender when the mail was read), and the inbox
//! frames it with a `sandbox` attribute that does not allow scripts.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use crate::auth::CurrentAgent;
use crate::ids::{ConversationId, MessageId};
use crate::state::AppState;

const MAIL_CSP: &str = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; \
     frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox allow-same-origin allow-popups \
     allow-popups-to-escape-sandbox";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(html))
}

/// A mail's HTML body, sanitised, as a document for a sandboxed frame.
///
/// Its Content-Security-Policy forbids every script and remote resource.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages/{message}/html", tag = "conversations",
    params(("id" = i64, Path), ("message" = i64, Path)),
    responses((status = 200, description = "The sanitised HTML document", content_type = "text/html")))]
async fn html(
    State(state): State<AppState>,
    _agent: CurrentAgent,
    Path((id, message)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let row = state
        .store
        .message(MessageId(message))
        .await?
        .filter(|m| m.conversation_id == id)
        .ok_or(ApiError::NotFound("message"))?;
    let document = match state.html_cache.get(message) {
        Some(document) => document,
        None => {
            let document = document(&state, id, message, row.html.ok_or(ApiError::NotFound("HTML body"))?).await?;
            state.html_cache.put(message, document.clone());
            document
        }
    };
    let mut response = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        document.to_string(),
    )
        .into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(MAIL_CSP));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(response)
}

/// The framed document for a message's HTML, sanitised off the async runtime
/// (a large mail takes milliseconds to parse and clean).
async fn document(state: &AppState, id: i64, message: i64, body: String) -> Result<Arc<str>, ApiError> {
    // Inline images: `cid:` references become the stored parts' URLs, inside
    // the sanitiser, so a Content-ID chosen by the sender never reaches markup.
    let inline: HashMap<String, String> = state
        .store
        .attachments(ConversationId(id))
        .await?
        .into_iter()
        .filter(|a| a.message_id == message)
        .filter_map(|a| {
            let cid = a.content_id.filter(|c| channels::email::is_safe_content_id(c))?;
            Some((cid, format!("/api/v1/conversations/{id}/attachments/{}", a.id)))
        })
        .collect();
    tokio::task::spawn_blocking(move || {
        let html = channels::email::sanitize_html_resolving_cid(&body, move |cid| inline.get(cid).cloned());
        Arc::from(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><base target=\"_blank\">\
             <style>body{{margin:0;padding:8px;font:14px/1.4 system-ui,sans-serif;color:#1d2733;overflow-wrap:anywhere}}\
             img{{max-width:100%;height:auto}}table{{max-width:100%}}</style></head><body>{html}</body></html>"
        ))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("sanitising the mail: {e}")))
}
