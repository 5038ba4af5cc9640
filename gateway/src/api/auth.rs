use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiJson};
use super::openapi::Done;
use crate::auth::{CurrentAgent, Revoked, clear_cookie, hash_password, new_secret, session_cookie, token_hash};
use crate::client_addr::ClientAddr;
use crate::ids::AgentId;
use crate::state::AppState;
use crate::store::agents::AgentRow;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(change_password))
        .routes(routes!(me))
}

/// Who is signed in, and the token every state-changing request carries.
#[derive(Serialize, ToSchema)]
struct Session {
    agent: AgentRow,
    /// Sent back in the `X-CSRF-Token` header of every POST, PUT, PATCH and DELETE.
    csrf_token: String,
}

#[derive(Serialize, ToSchema)]
struct PasswordChanged {
    ok: bool,
    /// The agent's other sessions, ended by the change.
    other_sessions_ended: u64,
}

#[derive(Deserialize, ToSchema)]
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

/// Signs in: sets the session cookie and answers with the CSRF token.
///
/// Throttled per username and per address (429 with `Retry-After`); a
/// disabled account is refused (403 `disabled`).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", security(()), request_body = Login,
    responses((status = 200, body = Session, headers(("Set-Cookie" = String, description = "sy_session, HttpOnly, SameSite=Strict")))))]
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
        Json(Session {
            agent,
            csrf_token: csrf,
        }),
    )
        .into_response())
}

/// Signs out: ends this session and clears its cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 200, body = Done)))]
async fn logout(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
) -> Result<Response, ApiError> {
    state.store.session_delete(&agent.session_hash).await?;
    state.revocations.publish(Revoked::Session(agent.session_hash));
    super::audit::record(&state, Some(agent.id), addr, "logout", &agent.username, json!({})).await;
    Ok(([(header::SET_COOKIE, clear_cookie())], Done::json()).into_response())
}

/// Who is signed in, with the session's CSRF token (after a page reload).
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = Session)))]
async fn me(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<Session>, ApiError> {
    let row = state
        .store
        .agent_by_id(agent.id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    Ok(Json(Session {
        agent: row,
        csrf_token: agent.csrf_token,
    }))
}

#[derive(Deserialize, ToSchema)]
struct ChangePassword {
    current: String,
    new: String,
}

/// Changes one's own password; the agent's other sessions end.
///
/// The current password is checked (400 `bad_credentials`) and throttled
/// like a login; the new one follows the password rules.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = ChangePassword,
    responses((status = 200, body = PasswordChanged)))]
async fn change_password(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<ChangePassword>,
) -> Result<Json<PasswordChanged>, ApiError> {
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
    Ok(Json(PasswordChanged {
        ok: true,
        other_sessions_ended: ended,
    }))
}
