//! Pages and scripts embedded in the binary: the demo page with the widget,
//! the widget script, the agents' inbox, health endpoints.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::health::Readiness;
use crate::state::AppState;

const DEMO_PAGE: &str = include_str!("../web/index.html");
const WIDGET_JS: &str = include_str!("../web/widget.js");
const DEMO_CSS: &str = include_str!("../web/demo.css");
const INBOX_PAGE: &str = include_str!("../web/inbox/index.html");

/// The inbox's stylesheet and ES modules, served under `/inbox/`.
const INBOX_ASSETS: &[(&str, &str)] = &[
    ("inbox.css", include_str!("../web/inbox/inbox.css")),
    ("api.js", include_str!("../web/inbox/api.js")),
    ("app.js", include_str!("../web/inbox/app.js")),
    ("composer.js", include_str!("../web/inbox/composer.js")),
    ("conversation.js", include_str!("../web/inbox/conversation.js")),
    ("customer.js", include_str!("../web/inbox/customer.js")),
    ("dom.js", include_str!("../web/inbox/dom.js")),
    ("fr.js", include_str!("../web/inbox/fr.js")),
    ("i18n.js", include_str!("../web/inbox/i18n.js")),
    ("knowledge.js", include_str!("../web/inbox/knowledge.js")),
    ("list.js", include_str!("../web/inbox/list.js")),
    ("live.js", include_str!("../web/inbox/live.js")),
    ("machine.js", include_str!("../web/inbox/machine.js")),
    ("mailboxes.js", include_str!("../web/inbox/mailboxes.js")),
    ("privacy.js", include_str!("../web/inbox/privacy.js")),
    ("queues.js", include_str!("../web/inbox/queues.js")),
    ("report.js", include_str!("../web/inbox/report.js")),
    ("reports.js", include_str!("../web/inbox/reports.js")),
    ("search.js", include_str!("../web/inbox/search.js")),
    ("worth.js", include_str!("../web/inbox/worth.js")),
];

/// No inline script anywhere: scripts come from this origin only.
const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { page(DEMO_PAGE) }))
        .route(
            "/demo.css",
            get(|| async { asset(DEMO_CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/widget.js",
            get(|| async { asset(WIDGET_JS, "text/javascript; charset=utf-8") }),
        )
        .route("/inbox", get(|| async { page(INBOX_PAGE) }))
        .route("/inbox/", get(|| async { page(INBOX_PAGE) }))
        .route("/inbox/{file}", get(inbox_asset))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
}

fn page(html: &'static str) -> Response {
    let mut r = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    r
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    r.headers_mut()
        .insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    // The widget is loaded by other sites' pages.
    r.headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    r
}

async fn inbox_asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let Some((name, body)) = INBOX_ASSETS.iter().find(|(name, _)| *name == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let content_type = if name.ends_with(".css") {
        "text/css; charset=utf-8"
    } else {
        "text/javascript; charset=utf-8"
    };
    let mut r = ([(header::CONTENT_TYPE, content_type)], *body).into_response();
    r.headers_mut()
        .insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    // Embedded in the binary: a new version is a new process, so revalidate each load.
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
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
