//! The agent and admin API under `/api/v1`, JSON over HTTP plus a websocket of
//! live events. Each module exposes its own `router()`.

mod admin;
mod agents;
mod auth;
mod conversations;
pub mod error;
mod escalations;
mod events;
mod whatsapp;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(admin::router())
        .merge(auth::router())
        .merge(agents::router())
        .merge(conversations::router())
        .merge(escalations::router())
        .merge(events::router())
        .merge(whatsapp::router())
}
