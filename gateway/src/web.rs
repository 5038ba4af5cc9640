//! Pages and scripts embedded in the binary: the demo page with the widget,
//! the widget script, health endpoints.

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

/// No inline script anywhere: scripts come from this origin only.
const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; \
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

/// Ready when the store answers, the committer runs and every worker beat lately.
async fn ready(State(state): State<AppState>) -> Response {
    let now = state.clock.now_ms();
    let h = &state.health;
    let readiness = Readiness {
        store: state.store.ping().await,
        pipeline: state.pipeline.is_running(),
        outbox_worker: h.outbox.alive(now, h.started_ms),
        sla_worker: h.sla.alive(now, h.started_ms),
        media_worker: h.media_enabled.then(|| h.media.alive(now, h.started_ms)),
        journal_worker: h.media_enabled.then(|| h.journal.alive(now, h.started_ms)),
        whatsapp_backlog: state.whatsapp.as_ref().map(|wa| wa.backlog.get()),
        mailboxes: h.mailboxes.snapshot(),
    };
    let status = if readiness.ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(readiness)).into_response()
}
