//! The agent and admin API under `/api/v1`, JSON over HTTP plus a websocket of
//! live events. Each module exposes its own `router()`.

mod admin;
mod agents;
pub mod audit;
mod auth;
mod canned;
mod channels;
mod conversations;
mod customers;
pub mod error;
mod escalations;
mod events;
mod feedback;
pub mod html_cache;
mod interventions;
mod knowledge;
pub mod lists;
mod machines;
mod mail_oauth;
mod message_html;
pub mod openapi;
mod privacy;
mod queues;
mod reports;
mod rules;
mod search;
mod service_levels;
mod whatsapp;

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The admin pages' rule: supervisors read, check and preview.
pub(crate) fn supervisors_only(agent: &crate::auth::CurrentAgent) -> Result<(), error::ApiError> {
    if agent.is_supervisor() {
        Ok(())
    } else {
        Err(error::ApiError::Forbidden("supervisors and admins only".into()))
    }
}

/// The admin pages' rule: only admins change what is in force (`what`).
pub(crate) fn admins_only(agent: &crate::auth::CurrentAgent, what: &str) -> Result<(), error::ApiError> {
    if agent.is_admin() {
        Ok(())
    } else {
        Err(error::ApiError::Forbidden(format!("only an admin changes {what}")))
    }
}

/// A file to download: its type and the name a browser saves it under.
pub(crate) fn attachment(content_type: &str, file_name: &str, body: impl IntoResponse) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, content_disposition(false, file_name)),
        ],
        body,
    )
        .into_response()
}

/// `Content-Disposition` for a file whose name came from outside (a mail's
/// attachment, a visitor's upload): quotes, backslashes and control
/// characters cannot end the quoted name or split the header.
pub(crate) fn content_disposition(inline: bool, file_name: &str) -> String {
    let name: String = file_name
        .chars()
        .map(|c| {
            if c == '"' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    format!("{}; filename=\"{name}\"", if inline { "inline" } else { "attachment" })
}

/// Types a browser may show in place: raster images, audio and video. SVG
/// (it can carry script), HTML, XML and everything else are downloaded.
pub(crate) fn shown_inline(content_type: &str) -> bool {
    let t = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    matches!(
        t.as_str(),
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/avif" | "image/bmp"
    ) || t.starts_with("audio/")
        || t.starts_with("video/")
}

/// Every route of the API, each registered with its description.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(admin::router())
        .merge(auth::router())
        .merge(canned::router())
        .merge(channels::router())
        .merge(agents::router())
        .merge(audit::router())
        .merge(conversations::router())
        .merge(customers::router())
        .merge(privacy::router())
        .merge(escalations::router())
        .merge(interventions::router())
        .merge(knowledge::router())
        .merge(lists::router())
        .merge(machines::router())
        .merge(mail_oauth::router())
        .merge(events::router())
        .merge(message_html::router())
        .merge(queues::router())
        .merge(reports::router())
        .merge(rules::router())
        .merge(search::router())
        .merge(service_levels::router())
        .merge(whatsapp::router())
        .merge(crate::webchat::api_router())
        .routes(routes!(openapi_json))
}

/// The API's OpenAPI 3.1 document, as served.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = routes().split_for_parts();
    openapi::Conventions.modify(&mut doc);
    doc
}

static DOCUMENT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    document()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
});

/// This document: the API's contract, OpenAPI 3.1.
///
/// Public, so that a client can be generated from the running gateway.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT.as_str()).into_response()
}

pub fn router() -> Router<AppState> {
    // The customers' one-click feedback pages are HTML for people, not API.
    routes().split_for_parts().0.merge(feedback::router())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_html_and_unknown_types_are_never_shown_in_place() {
        for t in ["image/png", "image/JPEG", "image/webp; q=1", "audio/ogg", "video/mp4"] {
            assert!(shown_inline(t), "{t}");
        }
        for t in [
            "image/svg+xml",
            "text/html",
            "application/xhtml+xml",
            "text/xml",
            "application/pdf",
            "application/octet-stream",
            "",
        ] {
            assert!(!shown_inline(t), "{t}");
        }
    }

    #[test]
    fn a_file_name_cannot_end_its_quotes_or_split_the_header() {
        assert_eq!(
            content_disposition(false, "a\"; filename=evil.html\r\nX-Injected: 1\\"),
            "attachment; filename=\"a_; filename=evil.html__X-Injected: 1_\""
        );
        assert_eq!(content_disposition(true, "photo.png"), "inline; filename=\"photo.png\"");
    }
}
