//! The agent and admin API under `/api/v1`, JSON over HTTP plus a websocket of
//! live events. Each module exposes its own `router()`.

mod admin;
mod agents;
mod auth;
mod canned;
mod conversations;
pub mod error;
mod escalations;
mod events;
pub mod html_cache;
mod interventions;
mod knowledge;
mod message_html;
mod queues;
mod reports;
mod whatsapp;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(admin::router())
        .merge(auth::router())
        .merge(canned::router())
        .merge(agents::router())
        .merge(conversations::router())
        .merge(escalations::router())
        .merge(interventions::router())
        .merge(knowledge::router())
        .merge(events::router())
        .merge(message_html::router())
        .merge(queues::router())
        .merge(reports::router())
        .merge(whatsapp::router())
}
