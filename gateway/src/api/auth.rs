use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::error::{ApiError, ApiJson};
use crate::auth::{CurrentAgent, Revoked, clear_cookie, hash_password, new_secret, session_cookie, token_hash};
use crate::client_addr::ClientAddr;
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

/// How a typed username appears in logs: known accounts by name; anything else
/// (a typo, a password typed in the wrong field, a forged log line) only by a
/// short hash, so attempts can still be correlated.
fn loggable(username: &str, known: bool) -> String {
    if known {
        username.escape_debug().to_string()
    } else {
        format!("unknown:{}", &token_hash(username)[..12])
    }
}

async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ApiJson(body): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let username = body.username.trim();
    if let Err(refused) = state.login_throttle.begin(username, addr, state.clock.now_ms()) {
        tracing::info!(%addr, ?refused, "login throttled");
        return Err(ApiError::TooManyAttempts((refused.wait_ms() + 999) / 1000));
    }
    let agent = state.store.agent_by_username(username).await?;
    let hash = agent
        .as_ref()
        .map(|a| a.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.clone());
    let ok = state.passwords.verify(hash, body.password).await?;
    let who = loggable(username, agent.is_some());
    let agent = match agent {
        Some(agent) if ok => agent,
        _ => {
            tracing::info!(username = %who, %addr, "failed login");
            // Counted by the throttle before this point: the log cannot be flooded.
            let known = agent.as_ref().map(|a| AgentId(a.id));
            super::audit::record(&state, known, addr, "login_failed", &who, json!({})).await;
            return Err(ApiError::BadCredentials);
        }
    };
    state.login_throttle.succeeded(username, addr);
    if agent.disabled != 0 {
        tracing::info!(username = %who, %addr, "login to a disabled account");
        super::audit::record(&state, Some(AgentId(agent.id)), addr, "login_disabled", &who, json!({})).await;
        return Err(ApiError::Disabled);
    }
    let token = new_secret();
    let csrf = new_secret();
    let now = state.clock.now_ms();
    let ttl_secs = state.config.auth.session_ttl_hours.saturating_mul(3600);
    let expires = now + i64::try_from(ttl_secs).unwrap_or(i64::MAX / 2000) * 1000;
    state
        .store
        .session_create(&token_hash(&token), AgentId(agent.id), &csrf, now, expires)
        .await?;
    tracing::info!(username = %who, %addr, "login");
    super::audit::record(&state, Some(AgentId(agent.id)), addr, "login", &who, json!({})).await;
    let secure = state.config.auth.cookie_secure(&state.config.server.listen);
    let cookie = session_cookie(&token, ttl_secs, secure);
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(json!({"agent": agent, "csrf_token": csrf})),
    )
        .into_response())
}

async fn logout(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
) -> Result<Response, ApiError> {
    state.store.session_delete(&agent.session_hash).await?;
    state.revocations.publish(Revoked::Session(agent.session_hash));
    super::audit::record(&state, Some(agent.id), addr, "logout", &agent.username, json!({})).await;
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
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<ChangePassword>,
) -> Result<Json<serde_json::Value>, ApiError> {
    crate::auth::accounts::check_password(&body.new).map_err(|e| ApiError::BadRequest(e.code, e.message))?;
    let row = state
        .store
        .agent_by_id(agent.id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    // A stolen cookie must not become an unthrottled password oracle.
    if let Err(refused) = state.login_throttle.begin(&agent.username, addr, state.clock.now_ms()) {
        return Err(ApiError::TooManyAttempts((refused.wait_ms() + 999) / 1000));
    }
    let hash = state
        .passwords
        .replace(row.password_hash, body.current, body.new)
        .await?;
    if hash.is_some() {
        state.login_throttle.succeeded(&agent.username, addr);
    }
    let Some(hash) = hash else {
        return Err(ApiError::BadRequest(
            "bad_credentials",
            "the current password is wrong".into(),
        ));
    };
    state.store.agent_set_password(agent.id, &hash).await?;
    // Whoever else held a session (a stolen cookie, a forgotten tablet) is out.
    let ended = state
        .store
        .sessions_delete_for_agent(agent.id, Some(&agent.session_hash))
        .await?;
    state.revocations.publish(Revoked::Agent {
        id: agent.id.0,
        keep: Some(agent.session_hash.clone()),
    });
    tracing::info!(agent = agent.id.0, other_sessions_ended = ended, "password changed");
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "password_changed",
        &agent.username,
        json!({"other_sessions_ended": ended}),
    )
    .await;
    Ok(Json(json!({"ok": true, "other_sessions_ended": ended})))
}
