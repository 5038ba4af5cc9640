//! Admin: agent accounts.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::error::{ApiError, ApiJson};
use crate::auth::{CurrentAgent, hash_password};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/agents", get(list).post(create))
}

async fn list(State(state): State<AppState>, _agent: CurrentAgent) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(json!({"agents": state.store.agent_list().await?})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAgent {
    username: String,
    display_name: String,
    password: String,
    #[serde(default = "default_role")]
    role: String,
}

fn default_role() -> String {
    "agent".into()
}

async fn create(
    State(state): State<AppState>,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<NewAgent>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !agent.is_admin() {
        return Err(ApiError::Forbidden("only an admin can create accounts".into()));
    }
    let username = body.username.trim().to_string();
    if username.is_empty()
        || username.len() > 64
        || !username.chars().all(|c| c.is_alphanumeric() || "._-@".contains(c))
    {
        return Err(ApiError::BadRequest(
            "bad_username",
            "1 to 64 letters, digits, '.', '_', '-' or '@'".into(),
        ));
    }
    if !["agent", "supervisor", "admin"].contains(&body.role.as_str()) {
        return Err(ApiError::BadRequest(
            "bad_role",
            "role is agent, supervisor or admin".into(),
        ));
    }
    if body.password.chars().count() < 10 {
        return Err(ApiError::BadRequest(
            "weak_password",
            "use at least 10 characters".into(),
        ));
    }
    if state.store.agent_by_username(&username).await?.is_some() {
        return Err(ApiError::Conflict(format!("{username} already exists")));
    }
    let password = body.password;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::Internal)?;
    let id = state
        .store
        .agent_create(
            &username,
            body.display_name.trim(),
            &hash,
            &body.role,
            false,
            state.clock.now_ms(),
        )
        .await?;
    Ok(Json(json!({"id": id})))
}
