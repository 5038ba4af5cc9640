//! Agent accounts (admin), dispatch settings (admin) and presence (each agent).

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiJson};
use super::openapi::Created;
use crate::auth::{CurrentAgent, Revoked};
use crate::ids::AgentId;
use crate::state::AppState;
use crate::store::agents::AgentRow;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(dispatch_list))
        .routes(routes!(set_dispatch))
        .routes(routes!(presence))
        .routes(routes!(language))
        .routes(routes!(disable))
        .routes(routes!(enable))
        .routes(routes!(revoke_sessions))
        .routes(routes!(reset_password))
        .routes(routes!(set_role))
}

#[derive(Serialize, ToSchema)]
struct AgentLoads {
    agents: Vec<AgentLoad>,
}

#[derive(Serialize, ToSchema)]
struct AgentLoad {
    id: i64,
    display_name: String,
    /// online, away or offline
    presence: String,
    /// The most open conversations dispatch gives them.
    max_open: i64,
    open: i64,
    /// The queues they take conversations from.
    queues: Vec<String>,
}

#[derive(Serialize, ToSchema)]
struct Agents {
    agents: Vec<AgentRow>,
}

#[derive(Serialize, ToSchema)]
struct DispatchChanged {
    id: i64,
    queues: Vec<String>,
    max_open: i64,
}

#[derive(Serialize, ToSchema)]
struct Enabled {
    id: i64,
    disabled: bool,
}

#[derive(Serialize, ToSchema)]
struct OneTimePassword {
    id: i64,
    /// Shown once: the agent changes it at the next sign-in.
    password: String,
}

#[derive(Serialize, ToSchema)]
struct RoleChanged {
    id: i64,
    role: String,
}

#[derive(Serialize, ToSchema)]
struct SessionsRevoked {
    id: i64,
    sessions_ended: u64,
}

/// Every agent's presence, cap, queues and current number of open conversations.
#[utoipa::path(get, path = "/api/v1/agents/dispatch", tag = "agents", responses((status = 200, body = AgentLoads)))]
async fn dispatch_list(State(state): State<AppState>, _agent: CurrentAgent) -> Result<Json<AgentLoads>, ApiError> {
    let mut agents = Vec::new();
    for a in state.store.agents_dispatch().await? {
        let queues = state.store.agent_queues(crate::ids::AgentId(a.id)).await?;
        agents.push(AgentLoad {
            id: a.id,
            display_name: a.display_name,
            presence: a.presence,
            max_open: a.max_open,
            open: a.open,
            queues,
        });
    }
    Ok(Json(AgentLoads { agents }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DispatchSettings {
    queues: Vec<String>,
    max_open: i64,
}

/// Sets the queues an agent takes conversations from and their cap (0 to 1000).
///
/// Admins; dispatch follows at once.
#[utoipa::path(post, path = "/api/v1/agents/{id}/dispatch", tag = "agents", params(("id" = i64, Path)),
    request_body = DispatchSettings, responses((status = 200, body = DispatchChanged)))]
async fn set_dispatch(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<DispatchSettings>,
) -> Result<Json<DispatchChanged>, ApiError> {
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
    Ok(Json(DispatchChanged {
        id,
        queues: body.queues,
        max_open: body.max_open,
    }))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Presence {
    /// online, away or offline
    presence: String,
}

/// Sets one's presence: online, away or offline.
///
/// Only online agents get conversations assigned.
#[utoipa::path(post, path = "/api/v1/me/presence", tag = "agents", request_body = Presence,
    responses((status = 200, body = Presence)))]
async fn presence(
    State(state): State<AppState>,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<Presence>,
) -> Result<Json<Presence>, ApiError> {
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
    Ok(Json(body))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Language {
    /// `fr`, `en`, `de`, `es`, `it`, or null for the browser's and the default.
    language: Option<String>,
}

/// Sets the language one reads and writes.
///
/// The inbox's texts (French or English) and what customer messages are
/// translated into for this agent.
#[utoipa::path(post, path = "/api/v1/me/language", tag = "agents", request_body = Language,
    responses((status = 200, body = Language)))]
async fn language(
    State(state): State<AppState>,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<Language>,
) -> Result<Json<Language>, ApiError> {
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
    Ok(Json(Language {
        language: language.map(str::to_string),
    }))
}

/// Every account, disabled ones included.
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents", responses((status = 200, body = Agents)))]
async fn list(State(state): State<AppState>, _agent: CurrentAgent) -> Result<Json<Agents>, ApiError> {
    Ok(Json(Agents {
        agents: state.store.agent_list().await?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewAgent {
    username: String,
    display_name: String,
    password: String,
    /// agent (the default), supervisor or admin
    #[serde(default = "default_role")]
    role: String,
}

fn default_role() -> String {
    "agent".into()
}

/// Creates an account.
///
/// Admins. The username is unique (409 otherwise); the password follows the
/// password rules.
#[utoipa::path(post, path = "/api/v1/agents", tag = "agents", request_body = NewAgent,
    responses((status = 200, body = Created)))]
async fn create(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<NewAgent>,
) -> Result<Json<Created>, ApiError> {
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
    Ok(Json(Created { id: id.0 }))
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
///
/// Admins, on another account than their own.
#[utoipa::path(post, path = "/api/v1/agents/{id}/disable", tag = "agents", params(("id" = i64, Path)),
    responses((status = 200, body = Enabled)))]
async fn disable(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<Enabled>, ApiError> {
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
    Ok(Json(Enabled { id, disabled: true }))
}

/// Enables a disabled account again.
///
/// Admins, on another account than their own.
#[utoipa::path(post, path = "/api/v1/agents/{id}/enable", tag = "agents", params(("id" = i64, Path)),
    responses((status = 200, body = Enabled)))]
async fn enable(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<Enabled>, ApiError> {
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
    Ok(Json(Enabled { id, disabled: false }))
}

/// Resets a forgotten password to a one-time password, shown once.
///
/// Admins. The account's sessions end and its next sign-in asks for a new
/// password.
#[utoipa::path(post, path = "/api/v1/agents/{id}/password", tag = "agents", params(("id" = i64, Path)),
    responses((status = 200, body = OneTimePassword)))]
async fn reset_password(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<OneTimePassword>, ApiError> {
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
    Ok(Json(OneTimePassword { id, password }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Role {
    /// agent, supervisor or admin
    role: String,
}

/// Changes an account's role, in force on its next request.
///
/// Admins, on another account than their own.
#[utoipa::path(post, path = "/api/v1/agents/{id}/role", tag = "agents", params(("id" = i64, Path)),
    request_body = Role, responses((status = 200, body = RoleChanged)))]
async fn set_role(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Role>,
) -> Result<Json<RoleChanged>, ApiError> {
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
    Ok(Json(RoleChanged { id, role: body.role }))
}

/// Ends every session of an account (a lost laptop), without disabling it.
///
/// Admins, on another account than their own.
#[utoipa::path(post, path = "/api/v1/agents/{id}/revoke-sessions", tag = "agents", params(("id" = i64, Path)),
    responses((status = 200, body = SessionsRevoked)))]
async fn revoke_sessions(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<SessionsRevoked>, ApiError> {
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
    Ok(Json(SessionsRevoked {
        id,
        sessions_ended: ended,
    }))
}
