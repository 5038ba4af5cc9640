//! Service levels edited from the inbox: the calendars (time zone, weekly
//! slots, holidays) and each priority's targets, with a preview of when a
//! message arriving now would be due. Saved settings win over the file's
//! `[sla]` and apply to conversations from the next message on (timers
//! already running keep the due time they were given). Supervisors read and
//! preview; admins save.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiJson};
use crate::auth::CurrentAgent;
use crate::client_addr::ClientAddr;
use crate::sla::edit::{self, Due, SETTING_KEY, SlaEdit};
use crate::state::AppState;

/// One change at a time: the setting stored last is the one in force.
static CHANGING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(current, save))
        .routes(routes!(preview))
        .routes(routes!(back_to_file))
}

#[derive(Serialize, ToSchema)]
struct ServiceLevels {
    edit: SlaEdit,
    /// inbox (saved there) or file (the configuration's `[sla]`)
    origin: &'static str,
    /// The calendar the on-call rota follows.
    on_call_calendar: String,
    /// When a message arriving now would be due, per priority.
    preview: Vec<Due>,
    can_edit: bool,
}

/// A draft's preview, or why it does not compile.
#[derive(Serialize, ToSchema)]
struct Preview {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    preview: Option<Vec<Due>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = SlaInForce)]
struct InForce {
    /// When a message arriving now would be due, with what is now in force.
    preview: Vec<Due>,
}

fn compile(state: &AppState, draft: &SlaEdit) -> Result<(crate::config::SlaConfig, crate::sla::SlaPolicies), ApiError> {
    let config = draft.applied_to(&state.config.sla);
    let policies = edit::compile(&config, &state.config.escalation.on_call_calendar)
        .map_err(|e| ApiError::BadRequest("invalid_sla", e))?;
    Ok((config, policies))
}

/// The calendars and each priority's targets in force, and where they come from.
///
/// Supervisors and admins.
#[utoipa::path(get, path = "/api/v1/admin/sla", tag = "admin", responses((status = 200, body = ServiceLevels)))]
async fn current(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<ServiceLevels>, ApiError> {
    super::supervisors_only(&agent)?;
    let saved = state.store.setting(SETTING_KEY).await?.is_some();
    Ok(Json(ServiceLevels {
        edit: SlaEdit::of(&state.sla.config()),
        origin: if saved { "inbox" } else { "file" },
        on_call_calendar: state.config.escalation.on_call_calendar.clone(),
        preview: edit::preview(&state.sla.current(), state.clock.now_ms()),
        can_edit: agent.is_admin(),
    }))
}

/// Previews a draft: when a message arriving now would be due, or why the draft is wrong.
///
/// Supervisors and admins; nothing is saved.
#[utoipa::path(post, path = "/api/v1/admin/sla/preview", tag = "admin", request_body = SlaEdit,
    responses((status = 200, body = Preview)))]
async fn preview(
    State(state): State<AppState>,
    agent: CurrentAgent,
    ApiJson(draft): ApiJson<SlaEdit>,
) -> Result<Json<Preview>, ApiError> {
    super::supervisors_only(&agent)?;
    Ok(Json(match compile(&state, &draft) {
        Ok((_, policies)) => Preview {
            ok: true,
            preview: Some(edit::preview(&policies, state.clock.now_ms())),
            error: None,
        },
        Err(ApiError::BadRequest(_, e)) => Preview {
            ok: false,
            preview: None,
            error: Some(e),
        },
        Err(e) => return Err(e),
    }))
}

/// Saves calendars and targets; new messages follow them at once.
///
/// Admins, audited. Timers already running keep the due time they were given.
#[utoipa::path(post, path = "/api/v1/admin/sla", tag = "admin", request_body = SlaEdit,
    responses((status = 200, body = InForce)))]
async fn save(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
    ApiJson(draft): ApiJson<SlaEdit>,
) -> Result<Json<InForce>, ApiError> {
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
    Ok(Json(InForce {
        preview: edit::preview(&state.sla.current(), now),
    }))
}

/// Goes back to the configuration file's service levels, forgetting those saved in the inbox.
///
/// Admins, audited.
#[utoipa::path(post, path = "/api/v1/admin/sla/file", tag = "admin", responses((status = 200, body = InForce)))]
async fn back_to_file(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
) -> Result<Json<InForce>, ApiError> {
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
    Ok(Json(InForce {
        preview: edit::preview(&state.sla.current(), state.clock.now_ms()),
    }))
}
