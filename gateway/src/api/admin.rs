//! Admin views of the gateway's own state.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::error::ApiError;
use crate::auth::CurrentAgent;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/triage", get(triage_status))
        .route("/api/v1/admin/triage/reload", post(triage_reload))
        .route("/api/v1/admin/channel-errors", get(channel_errors))
}

/// Which rules are in force, and the last reload that failed.
async fn triage_status(
    State(state): State<AppState>,
    agent: CurrentAgent,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !agent.is_supervisor() {
        return Err(ApiError::Forbidden("supervisors and admins only".into()));
    }
    Ok(Json(json!({"triage": state.triage.status()})))
}

/// What channels reported that belongs to no conversation (WhatsApp value-level errors, unreadable payloads).
async fn channel_errors(
    State(state): State<AppState>,
    agent: CurrentAgent,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !agent.is_supervisor() {
        return Err(ApiError::Forbidden("supervisors and admins only".into()));
    }
    Ok(Json(json!({"errors": state.store.channel_errors(200).await?})))
}

async fn triage_reload(
    State(state): State<AppState>,
    agent: CurrentAgent,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !agent.is_admin() {
        return Err(ApiError::Forbidden("admins only".into()));
    }
    let triage = state.triage.clone();
    let outcome = tokio::task::spawn_blocking(move || triage.reload())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    match outcome {
        Ok(()) => Ok(Json(json!({"reloaded": true, "triage": state.triage.status()}))),
        Err(e) => Err(ApiError::BadRequest("invalid_rules", e)),
    }
}
