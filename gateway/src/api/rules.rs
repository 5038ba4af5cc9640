//! The triage rules edited from the inbox: the text in force, a check of a
//! draft with each mistake at its line and column, a draft tried on a
//! message, saving (a new version, in force at once), the history of
//! versions, restoring one, and going back to the configured file. Every
//! change is in the audit log. Supervisors may read, check and try; only
//! admins change what is in force.
//!
//! One node: another gateway on the same store takes a saved version at its
//! next start (live propagation across nodes is the multi-node issue's).

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::error::{ApiError, ApiJson};
use crate::auth::CurrentAgent;
use crate::client_addr::ClientAddr;
use crate::state::AppState;

/// One change at a time: the version recorded last is the one put in force
/// last, even when two admins save together.
static CHANGING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Largest rule file accepted from the browser.
const MAX_SOURCE_BYTES: usize = 512 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/rules", get(current).post(save))
        .route("/api/v1/admin/rules/check", post(check))
        .route("/api/v1/admin/rules/try", post(try_draft))
        .route("/api/v1/admin/rules/versions/{id}", get(version))
        .route("/api/v1/admin/rules/versions/{id}/restore", post(restore))
        .route("/api/v1/admin/rules/file", post(back_to_file))
}

fn bounded(source: &str) -> Result<(), ApiError> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(ApiError::TooLarge(MAX_SOURCE_BYTES));
    }
    Ok(())
}

/// Every mistake, where it is, as the editor marks it.
fn mistakes(errors: &triage::RuleErrors) -> serde_json::Value {
    json!(
        errors
            .0
            .iter()
            .map(|e| json!({"line": e.line, "column": e.column, "message": e.message, "hint": e.hint}))
            .collect::<Vec<_>>()
    )
}

/// Compiles off the runtime (a large rule file takes milliseconds).
async fn compile(state: &AppState, source: String) -> Result<Result<triage::Engine, triage::RuleErrors>, ApiError> {
    let triage = state.triage.clone();
    tokio::task::spawn_blocking(move || triage.draft(&source))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

async fn current(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<serde_json::Value>, ApiError> {
    super::supervisors_only(&agent)?;
    let triage = state.triage.clone();
    let (source, origin) = tokio::task::spawn_blocking(move || triage.rules_text())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::Internal)?;
    let versions = state.store.rule_versions(100).await?;
    let versions: Vec<_> = versions
        .into_iter()
        .map(|v| {
            json!({
                "id": v.id,
                "note": v.note,
                "agent": v.agent_name,
                "created_at": v.created_at,
                "restored_from": v.restored_from,
                "file": v.source.is_none(),
                "bytes": v.source.as_ref().map(String::len),
            })
        })
        .collect();
    Ok(Json(json!({
        "source": source,
        "origin": origin,
        "status": state.triage.status(),
        "can_edit": agent.is_admin(),
        "versions": versions,
    })))
}

#[derive(Deserialize)]
struct Draft {
    source: String,
}

async fn check(
    State(state): State<AppState>,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<Draft>,
) -> Result<Json<serde_json::Value>, ApiError> {
    super::supervisors_only(&agent)?;
    bounded(&body.source)?;
    Ok(Json(match compile(&state, body.source).await? {
        Ok(engine) => json!({"ok": true, "errors": [], "rules": engine.rules().rules.len()}),
        Err(errors) => json!({"ok": false, "errors": mistakes(&errors)}),
    }))
}

#[derive(Deserialize)]
struct Trial {
    source: String,
    text: String,
    #[serde(default)]
    subject: Option<String>,
    /// `email`, `webchat` or `whatsapp` (default `webchat`).
    #[serde(default)]
    channel: Option<String>,
}

/// The verdict a draft gives a message, before anything is saved.
async fn try_draft(
    State(state): State<AppState>,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<Trial>,
) -> Result<Json<serde_json::Value>, ApiError> {
    super::supervisors_only(&agent)?;
    bounded(&body.source)?;
    bounded(&body.text)?;
    let channel = match body.channel.as_deref().unwrap_or("webchat") {
        "email" => triage::Channel::Email,
        "whatsapp" => triage::Channel::Whatsapp,
        "webchat" => triage::Channel::Webchat,
        other => {
            return Err(ApiError::BadRequest(
                "bad_channel",
                format!("{other:?}: email, webchat or whatsapp"),
            ));
        }
    };
    let engine = match compile(&state, body.source).await? {
        Ok(engine) => engine,
        Err(errors) => return Ok(Json(json!({"ok": false, "errors": mistakes(&errors)}))),
    };
    let verdict = tokio::task::spawn_blocking(move || {
        let mut input = triage::Input::text(channel, "someone@example.com", &body.text);
        input.subject = body.subject.as_deref();
        engine.classify(&input)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(json!({"ok": true, "verdict": verdict})))
}

#[derive(Deserialize)]
struct Save {
    source: String,
    #[serde(default)]
    note: String,
}

/// Records `source` (`None`: the file) as a new version and puts it in force.
async fn put_in_force(
    state: &AppState,
    agent: &CurrentAgent,
    addr: std::net::IpAddr,
    source: Option<String>,
    note: &str,
    restored_from: Option<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let _one_at_a_time = CHANGING.lock().await;
    // Compiled before anything is recorded: a version that never ran is never in the history.
    if let Some(s) = &source
        && let Err(errors) = compile(state, s.clone()).await?
    {
        return Err(ApiError::BadRequest("invalid_rules", errors.to_string()));
    }
    let now = state.clock.now_ms();
    let id = state
        .store
        .rule_version_add(source.as_deref(), note, Some(agent.id), restored_from, now)
        .await?;
    let triage = state.triage.clone();
    let in_force = source.clone().map(|s| (id, s));
    tokio::task::spawn_blocking(move || triage.set_rules(in_force))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::BadRequest("invalid_rules", e))?;
    let action = match (&source, restored_from) {
        (None, _) => "rules_back_to_file",
        (Some(_), Some(_)) => "rules_restored",
        (Some(_), None) => "rules_changed",
    };
    super::audit::record(
        state,
        Some(agent.id),
        addr,
        action,
        &format!("rules:{id}"),
        json!({"version": id, "note": note, "restored_from": restored_from, "bytes": source.as_ref().map(String::len)}),
    )
    .await;
    Ok(Json(json!({"version": id, "status": state.triage.status()})))
}

async fn save(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<Save>,
) -> Result<Json<serde_json::Value>, ApiError> {
    super::admins_only(&agent, "the rules in force")?;
    bounded(&body.source)?;
    let note = body.note.trim().chars().take(500).collect::<String>();
    put_in_force(&state, &agent, addr, Some(body.source), &note, None).await
}

async fn version(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    super::supervisors_only(&agent)?;
    let v = state
        .store
        .rule_version(id)
        .await?
        .ok_or(ApiError::NotFound("rules version"))?;
    Ok(Json(json!({"version": v})))
}

async fn restore(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    super::admins_only(&agent, "the rules in force")?;
    let v = state
        .store
        .rule_version(id)
        .await?
        .ok_or(ApiError::NotFound("rules version"))?;
    put_in_force(
        &state,
        &agent,
        addr,
        v.source,
        &format!("restored version {id}"),
        Some(id),
    )
    .await
}

async fn back_to_file(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
) -> Result<Json<serde_json::Value>, ApiError> {
    super::admins_only(&agent, "the rules in force")?;
    put_in_force(&state, &agent, addr, None, "back to the configured rules", None).await
}
