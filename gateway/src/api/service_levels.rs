//! Service levels edited from the inbox: the calendars (time zone, weekly
//! slots, holidays) and each priority's targets, with a preview of when a
//! message arriving now would be due. Saved settings win over the file's
//! `[sla]` and apply to conversations from the next message on (timers
//! already running keep the due time they were given). Supervisors read and
//! preview; admins save.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::error::{ApiError, ApiJson};
use crate::auth::CurrentAgent;
use crate::client_addr::ClientAddr;
use crate::sla::edit::{self, SETTING_KEY, SlaEdit};
use crate::state::AppState;

/// One change at a time: the setting stored last is the one in force.
static CHANGING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/sla", get(current).post(save))
        .route("/api/v1/admin/sla/preview", post(preview))
        .route("/api/v1/admin/sla/file", post(back_to_file))
}

fn compile(state: &AppState, draft: &SlaEdit) -> Result<(crate::config::SlaConfig, crate::sla::SlaPolicies), ApiError> {
    let config = draft.applied_to(&state.config.sla);
    let policies = edit::compile(&config, &state.config.escalation.on_call_calendar)
        .map_err(|e| ApiError::BadRequest("invalid_sla", e))?;
    Ok((config, policies))
}

async fn current(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<serde_json::Value>, ApiError> {
    super::supervisors_only(&agent)?;
    let saved = state.store.setting(SETTING_KEY).await?.is_some();
    Ok(Json(json!({
        "edit": SlaEdit::of(&state.sla.config()),
        "origin": if saved { "inbox" } else { "file" },
        "on_call_calendar": state.config.escalation.on_call_calendar,
        "preview": edit::preview(&state.sla.current(), state.clock.now_ms()),
        "can_edit": agent.is_admin(),
    })))
}

async fn preview(
    State(state): State<AppState>,
    agent: CurrentAgent,
    ApiJson(draft): ApiJson<SlaEdit>,
) -> Result<Json<serde_json::Value>, ApiError> {
    super::supervisors_only(&agent)?;
    Ok(Json(match compile(&state, &draft) {
        Ok((_, policies)) => json!({"ok": true, "preview": edit::preview(&policies, state.clock.now_ms())}),
        Err(ApiError::BadRequest(_, e)) => json!({"ok": false, "error": e}),
        Err(e) => return Err(e),
    }))
}

async fn save(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
    ApiJson(draft): ApiJson<SlaEdit>,
) -> Result<Json<serde_json::Value>, ApiError> {
    super::admins_only(&agent, "the service levels")?;
    let (config, policies) = compile(&state, &draft)?;
    let _one_at_a_time = CHANGING.lock().await;
    let value = serde_json::to_string(&draft).map_err(|e| ApiError::Internal(e.to_string()))?;
    let now = state.clock.now_ms();
    state
        .store
        .set_setting(SETTING_KEY, &value, Some(agent.id), now)
        .await?;
    state.sla.replace(config, policies);
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "sla_changed",
        "settings:sla",
        json!({"calendars": draft.calendars.len(), "policies": draft.policies.len()}),
    )
    .await;
    Ok(Json(json!({"preview": edit::preview(&state.sla.current(), now)})))
}

async fn back_to_file(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
) -> Result<Json<serde_json::Value>, ApiError> {
    super::admins_only(&agent, "the service levels")?;
    let file = SlaEdit::of(&state.config.sla);
    let (config, policies) = compile(&state, &file)?;
    let _one_at_a_time = CHANGING.lock().await;
    state.store.delete_setting(SETTING_KEY).await?;
    state.sla.replace(config, policies);
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "sla_back_to_file",
        "settings:sla",
        json!({}),
    )
    .await;
    Ok(Json(
        json!({"preview": edit::preview(&state.sla.current(), state.clock.now_ms())}),
    ))
}
