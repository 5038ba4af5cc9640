use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::error::{ApiError, ApiJson};
use crate::auth::{CurrentAgent, clear_cookie, hash_password, new_secret, session_cookie, token_hash, verify_password};
use crate::ids::AgentId;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/password", post(change_password))
        .route("/api/v1/me", get(me))
}

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

/// Verified when the user does not exist, so that a wrong username takes as
/// long as a wrong password.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password(&new_secret()).unwrap_or_default());

async fn login(State(state): State<AppState>, ApiJson(body): ApiJson<Login>) -> Result<Response, ApiError> {
    let username = body.username.trim();
    if let Err(wait_ms) = state.login_throttle.check(username, state.clock.now_ms()) {
        return Err(ApiError::TooManyAttempts((wait_ms + 999) / 1000));
    }
    let agent = state.store.agent_by_username(username).await?;
    let hash = agent
        .as_ref()
        .map(|a| a.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.clone());
    let password = body.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let agent = match agent {
        Some(agent) if ok => agent,
        _ => {
            tracing::info!(username = %username.chars().take(64).collect::<String>(), "failed login");
            state.login_throttle.failed(username, state.clock.now_ms());
            return Err(ApiError::BadCredentials);
        }
    };
    state.login_throttle.succeeded(username);
    let token = new_secret();
    let csrf = new_secret();
    let now = state.clock.now_ms();
    let ttl_secs = state.config.auth.session_ttl_hours.saturating_mul(3600);
    let expires = now + i64::try_from(ttl_secs).unwrap_or(i64::MAX / 2000) * 1000;
    state
        .store
        .session_create(&token_hash(&token), AgentId(agent.id), &csrf, now, expires)
        .await?;
    let cookie = session_cookie(&token, ttl_secs, state.config.auth.cookie_secure);
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(json!({"agent": agent, "csrf_token": csrf})),
    )
        .into_response())
}

async fn logout(State(state): State<AppState>, agent: CurrentAgent) -> Result<Response, ApiError> {
    state.store.session_delete(&agent.session_hash).await?;
    Ok(([(header::SET_COOKIE, clear_cookie())], Json(json!({"ok": true}))).into_response())
}

async fn me(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<serde_json::Value>, ApiError> {
    let row = state
        .store
        .agent_by_id(agent.id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    Ok(Json(json!({"agent": row, "csrf_token": agent.csrf_token})))
}

#[derive(Deserialize)]
struct ChangePassword {
    current: String,
    new: String,
}

async fn change_password(
    State(state): State<AppState>,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<ChangePassword>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if body.new.chars().count() < 10 {
        return Err(ApiError::BadRequest(
            "weak_password",
            "use at least 10 characters".into(),
        ));
    }
    let row = state
        .store
        .agent_by_id(agent.id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let (current, new) = (body.current, body.new);
    let hash = tokio::task::spawn_blocking(move || {
        if verify_password(&row.password_hash, &current) {
            Some(hash_password(&new))
        } else {
            None
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    match hash {
        None => Err(ApiError::BadRequest(
            "bad_credentials",
            "the current password is wrong".into(),
        )),
        Some(Err(e)) => Err(ApiError::Internal(e)),
        Some(Ok(hash)) => {
            state.store.agent_set_password(agent.id, &hash).await?;
            Ok(Json(json!({"ok": true})))
        }
    }
}
