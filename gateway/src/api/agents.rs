//! Agent accounts (admin), dispatch settings (admin) and presence (each agent).

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::error::{ApiError, ApiJson};
use crate::auth::{CurrentAgent, Revoked};
use crate::ids::AgentId;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/agents", get(list).post(create))
        .route("/api/v1/agents/dispatch", get(dispatch_list))
        .route("/api/v1/agents/{id}/dispatch", post(set_dispatch))
        .route("/api/v1/me/presence", post(presence))
        .route("/api/v1/me/language", post(language))
        .route("/api/v1/agents/{id}/disable", post(disable))
        .route("/api/v1/agents/{id}/enable", post(enable))
        .route("/api/v1/agents/{id}/revoke-sessions", post(revoke_sessions))
        .route("/api/v1/agents/{id}/password", post(reset_password))
        .route("/api/v1/agents/{id}/role", post(set_role))
}

/// Every agent's presence, cap and current number of open conversations.
async fn dispatch_list(
    State(state): State<AppState>,
    _agent: CurrentAgent,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut agents = Vec::new();
    for a in state.store.agents_dispatch().await? {
        let queues = state.store.agent_queues(crate::ids::AgentId(a.id)).await?;
        let mut v = serde_json::to_value(&a).map_err(|e| ApiError::Internal(e.to_string()))?;
        v["queues"] = json!(queues);
        agents.push(v);
    }
    Ok(Json(json!({"agents": agents})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DispatchSettings {
    queues: Vec<String>,
    max_open: i64,
}

async fn set_dispatch(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<DispatchSettings>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !agent.is_admin() {
        return Err(ApiError::Forbidden("only an admin can change dispatch settings".into()));
    }
    if !(0..=1000).contains(&body.max_open) {
        return Err(ApiError::BadRequest("bad_cap", "max_open is 0 to 1000".into()));
    }
    if let Some(q) = body.queues.iter().find(|q| q.trim().is_empty() || q.len() > 64) {
        return Err(ApiError::BadRequest("bad_queue", format!("{q:?} is not a queue name")));
    }
    if !state
        .store
        .set_agent_dispatch(crate::ids::AgentId(id), &body.queues, body.max_open)
        .await?
    {
        return Err(ApiError::NotFound("agent"));
    }
    state.assign_wake.notify_one();
    let detail = json!({"queues": body.queues, "max_open": body.max_open});
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "dispatch_changed",
        &format!("agent:{id}"),
        detail,
    )
    .await;
    Ok(Json(
        json!({"id": id, "queues": body.queues, "max_open": body.max_open}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Presence {
    presence: String,
}

/// online, away or offline; only online agents get conversations assigned.
async fn presence(
    State(state): State<AppState>,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<Presence>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !["online", "away", "offline"].contains(&body.presence.as_str()) {
        return Err(ApiError::BadRequest(
            "bad_presence",
            "presence is online, away or offline".into(),
        ));
    }
    state
        .store
        .set_presence(agent.id, &body.presence, state.clock.now_ms())
        .await?;
    state.assign_wake.notify_one();
    Ok(Json(json!({"presence": body.presence})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Language {
    /// `fr`, `en`, `de`, `es`, `it`, or null for the browser's and the default.
    language: Option<String>,
}

/// The language the agent reads and writes: the inbox's texts (French or
/// English) and what customer messages are translated into for them.
async fn language(
    State(state): State<AppState>,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<Language>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let language = body.language.as_deref().map(str::trim).filter(|l| !l.is_empty());
    if let Some(l) = language
        && !["fr", "en", "de", "es", "it"].contains(&l)
    {
        return Err(ApiError::BadRequest(
            "bad_language",
            "language is fr, en, de, es, it, or null".into(),
        ));
    }
    state.store.set_agent_language(agent.id, language).await?;
    // Translations into a language new to the worker start with the next
    // message, not the whole history (nor after a race with the worker).
    if let (Some(l), Some(_)) = (language, &state.translator) {
        state.store.translation_progress(l, state.clock.now_ms()).await?;
    }
    Ok(Json(json!({"language": language})))
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
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<NewAgent>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !agent.is_admin() {
        return Err(ApiError::Forbidden("only an admin can create accounts".into()));
    }
    let username = body.username.trim().to_string();
    crate::auth::accounts::check_new_account(&username, &body.role, &body.password)
        .map_err(|e| ApiError::BadRequest(e.code, e.message))?;
    if state.store.agent_by_username(&username).await?.is_some() {
        return Err(ApiError::Conflict(format!("{username} already exists")));
    }
    let hash = state.passwords.hash(body.password).await?;
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
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "agent_created",
        &format!("agent:{id}"),
        json!({"username": username, "role": body.role}),
    )
    .await;
    Ok(Json(json!({"id": id})))
}

fn admin_on_other(agent: &CurrentAgent, id: i64, what: &str) -> Result<(), ApiError> {
    if !agent.is_admin() {
        return Err(ApiError::Forbidden(format!("only an admin can {what}")));
    }
    if agent.id.0 == id {
        // An admin locking themselves out would leave nobody to undo it.
        return Err(ApiError::BadRequest(
            "own_account",
            format!("you cannot {what} your own account"),
        ));
    }
    Ok(())
}

/// Disables an account: its sessions end at once (sockets included) and it cannot log in.
async fn disable(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin_on_other(&agent, id, "disable")?;
    if !state
        .store
        .agent_set_disabled(AgentId(id), true, state.clock.now_ms())
        .await?
    {
        return Err(ApiError::NotFound("agent"));
    }
    state.revocations.publish(Revoked::Agent { id, keep: None });
    state.assign_wake.notify_one();
    tracing::info!(agent = id, by = agent.id.0, "account disabled");
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "agent_disabled",
        &format!("agent:{id}"),
        json!({}),
    )
    .await;
    Ok(Json(json!({"id": id, "disabled": true})))
}

async fn enable(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin_on_other(&agent, id, "enable")?;
    if !state
        .store
        .agent_set_disabled(AgentId(id), false, state.clock.now_ms())
        .await?
    {
        return Err(ApiError::NotFound("agent"));
    }
    tracing::info!(agent = id, by = agent.id.0, "account enabled");
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "agent_enabled",
        &format!("agent:{id}"),
        json!({}),
    )
    .await;
    Ok(Json(json!({"id": id, "disabled": false})))
}

/// Ends every session of an account (a lost laptop), without disabling it.
/// A forgotten password: the admin gets a one-time password to hand over
/// (shown once); the account's sessions end and the next sign-in asks for a
/// new one.
async fn reset_password(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin_on_other(&agent, id, "reset the password of")?;
    let password = crate::auth::new_secret()[..20].to_string();
    let hash = state.passwords.hash(password.clone()).await?;
    if !state.store.agent_reset_password(AgentId(id), &hash).await? {
        return Err(ApiError::NotFound("agent"));
    }
    state.revocations.publish(Revoked::Agent { id, keep: None });
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "password_reset",
        &format!("agent:{id}"),
        json!({}),
    )
    .await;
    Ok(Json(json!({"id": id, "password": password})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Role {
    role: String,
}

async fn set_role(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Role>,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin_on_other(&agent, id, "change the role of")?;
    crate::auth::accounts::check_role(&body.role).map_err(|e| ApiError::BadRequest(e.code, e.message))?;
    if !state.store.agent_set_role(AgentId(id), &body.role).await? {
        return Err(ApiError::NotFound("agent"));
    }
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "role_changed",
        &format!("agent:{id}"),
        json!({"role": body.role}),
    )
    .await;
    Ok(Json(json!({"id": id, "role": body.role})))
}

async fn revoke_sessions(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin_on_other(&agent, id, "revoke the sessions of")?;
    let ended = state.store.sessions_delete_for_agent(AgentId(id), None).await?;
    state.revocations.publish(Revoked::Agent { id, keep: None });
    tracing::info!(agent = id, by = agent.id.0, ended, "sessions revoked");
    let detail = json!({"sessions_ended": ended});
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "sessions_revoked",
        &format!("agent:{id}"),
        detail,
    )
    .await;
    Ok(Json(json!({"id": id, "sessions_ended": ended})))
}
