//! `GET /api/v1/admin/channels`: how each channel is doing, for the inbox's
//! Channels page — each mailbox reader (connected, last good round, last
//! UID, last error, its OAuth authorisation), the outbox per channel
//! (waiting, retrying, given up, the last error), the WhatsApp numbers with
//! the webhook journal's and the media downloads' backlogs and the last
//! account-level errors, and translation. Supervisors and admins.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::error::ApiError;
use crate::auth::CurrentAgent;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/admin/channels", get(channels))
}

async fn channels(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<serde_json::Value>, ApiError> {
    if !agent.is_supervisor() {
        return Err(ApiError::Forbidden("supervisors and admins only".into()));
    }
    let config = &state.config;
    let statuses = state.health.mailboxes.snapshot();
    let authorisations = state.mail_tokens.statuses();
    let mailboxes: Vec<_> = if config.email.enabled {
        config
            .email
            .mailboxes
            .iter()
            .map(|m| {
                json!({
                    "name": m.name,
                    "server": format!("{}:{}", m.host, m.port),
                    "user": m.user,
                    "folder": m.folder,
                    "status": statuses.get(&m.name),
                    "authorisation": authorisations.get(&m.name),
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let whatsapp = match &state.whatsapp {
        Some(wa) => {
            let counts = state.store.metrics_counts().await?;
            json!({
                "numbers": wa.config.numbers.iter().map(|n| json!({"phone_number_id": n.phone_number_id, "name": n.name})).collect::<Vec<_>>(),
                "journal_backlog": wa.backlog.get(),
                "media_backlog": counts.media_backlog,
                "errors": state.store.channel_errors(10).await?,
            })
        }
        None => serde_json::Value::Null,
    };
    Ok(Json(json!({
        "email": config.email.enabled.then(|| json!({
            "address": config.email.address,
            "smtp": format!("{}:{}", config.email.smtp.host, config.email.smtp.port),
        })),
        "mailboxes": mailboxes,
        "outbox": state.store.outbox_channels().await?,
        "whatsapp": whatsapp,
        "translation": state.translator.as_ref().map(|t| t.status()),
    })))
}
