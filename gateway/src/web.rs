//! Pages and scripts embedded in the binary: the demo page with the widget,
//! the widget script, the agents' inbox, health endpoints.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::assets::{Asset, Caching, assets, respond};
use crate::health::Readiness;
use crate::state::AppState;

/// No inline script anywhere: scripts come from this origin only.
const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(|headers: HeaderMap| async move { page(&assets().demo_page, &headers) }),
        )
        .route(
            "/demo.css",
            get(|headers: HeaderMap| async move { respond(&assets().demo_css, &headers, Caching::Revalidate) }),
        )
        .route("/widget.js", get(widget))
        .route("/inbox", get(inbox_page))
        .route("/inbox/", get(inbox_page))
        .route("/inbox/v/{version}/{file}", get(versioned_inbox_file))
        .route("/inbox/{file}", get(inbox_file))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
}

fn page(asset: &Asset, headers: &HeaderMap) -> Response {
    let mut r = respond(asset, headers, Caching::Revalidate);
    let h = r.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    r
}

async fn inbox_page(headers: HeaderMap) -> Response {
    page(&assets().inbox_page, &headers)
}

async fn widget(headers: HeaderMap) -> Response {
    let mut r = respond(&assets().widget, &headers, Caching::Hour);
    // The widget is loaded by other sites' pages.
    r.headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    r
}

/// This build's modules, cached for good; another build's version is gone.
async fn versioned_inbox_file(Path((version, file)): Path<(String, String)>, headers: HeaderMap) -> Response {
    match assets().inbox_file(&file) {
        Some(asset) if version == assets().inbox_version => respond(asset, &headers, Caching::Immutable),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The same files under their plain names (scripts and tools that link them), revalidated.
async fn inbox_file(Path(file): Path<String>, headers: HeaderMap) -> Response {
    match assets().inbox_file(&file) {
        Some(asset) => respond(asset, &headers, Caching::Revalidate),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Whether the caller may see the details: the configured bearer token, or an
/// admin's or supervisor's session. Mailbox errors name hosts and accounts.
pub(crate) async fn sees_details(state: &AppState, parts: &mut axum::http::request::Parts) -> bool {
    let token = state.config.server.health_token.expose();
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if let Some(sent) = bearer
        && !token.is_empty()
    {
        return bool::from(subtle::ConstantTimeEq::ct_eq(sent.as_bytes(), token.as_bytes()));
    }
    use axum::extract::FromRequestParts;
    crate::auth::CurrentAgent::from_request_parts(parts, state)
        .await
        .is_ok_and(|a| a.is_supervisor())
}

/// Ready when the store answers, the committer runs and every worker beat lately.
/// Anyone sees the status; the details are for monitoring and supervisors.
async fn ready(State(state): State<AppState>, mut parts: axum::http::request::Parts) -> Response {
    let now = state.clock.now_ms();
    let h = &state.health;
    let disk_free_mb = crate::health::free_disk_mb(&state.config.server.data_dir);
    let readiness = Readiness {
        store: state.store.ping().await,
        pipeline: state.pipeline.is_running(),
        outbox_worker: h.outbox.alive(now, h.started_ms),
        sla_worker: h.sla.alive(now, h.started_ms),
        media_worker: h.media_enabled.then(|| h.media.alive(now, h.started_ms)),
        journal_worker: h.media_enabled.then(|| h.journal.alive(now, h.started_ms)),
        whatsapp_backlog: state.whatsapp.as_ref().map(|wa| wa.backlog.get()),
        disk_free_mb,
        disk: disk_free_mb.is_none_or(|free| free >= state.config.server.min_free_disk_mb),
        mailboxes: h.mailboxes.snapshot(),
        mail_authorisations: state.mail_tokens.statuses(),
    };
    let (status, word) = if readiness.ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not_ready")
    };
    if sees_details(&state, &mut parts).await {
        let mut body = serde_json::to_value(&readiness).unwrap_or_default();
        body["status"] = word.into();
        (status, axum::Json(body)).into_response()
    } else {
        (status, axum::Json(serde_json::json!({"status": word}))).into_response()
    }
}
