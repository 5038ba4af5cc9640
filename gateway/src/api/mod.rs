//! The agent and admin API under `/api/v1`, JSON over HTTP plus a websocket of
//! live events. Each module exposes its own `router()`.

mod admin;
mod agents;
pub mod audit;
mod auth;
mod canned;
mod conversations;
mod customers;
pub mod error;
mod escalations;
mod events;
mod feedback;
pub mod html_cache;
mod interventions;
mod knowledge;
mod machines;
mod mail_oauth;
mod message_html;
mod privacy;
mod queues;
mod reports;
mod search;
mod whatsapp;

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// A file to download: its type and the name a browser saves it under.
pub(crate) fn attachment(content_type: &str, file_name: &str, body: impl IntoResponse) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(admin::router())
        .merge(auth::router())
        .merge(canned::router())
        .merge(agents::router())
        .merge(audit::router())
        .merge(conversations::router())
        .merge(customers::router())
        .merge(privacy::router())
        .merge(escalations::router())
        .merge(feedback::router())
        .merge(interventions::router())
        .merge(knowledge::router())
        .merge(machines::router())
        .merge(mail_oauth::router())
        .merge(events::router())
        .merge(message_html::router())
        .merge(queues::router())
        .merge(reports::router())
        .merge(search::router())
        .merge(whatsapp::router())
}
