//! Admin views of the gateway's own state.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use crate::auth::CurrentAgent;
use crate::state::AppState;
use crate::store::whatsapp::ChannelErrorRow;
use crate::triage_service::TriageStatus;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(triage_status))
        .routes(routes!(triage_reload))
        .routes(routes!(channel_errors))
}

#[derive(Serialize, ToSchema)]
struct Triage {
    triage: TriageStatus,
}

#[derive(Serialize, ToSchema)]
struct Reloaded {
    reloaded: bool,
    triage: TriageStatus,
}

#[derive(Serialize, ToSchema)]
struct ChannelErrors {
    errors: Vec<ChannelErrorRow>,
}

/// Which rules are in force, and the last reload that failed.
///
/// Supervisors and admins.
#[utoipa::path(get, path = "/api/v1/admin/triage", tag = "admin",
    responses((status = 200, body = Triage)))]
async fn triage_status(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<Triage>, ApiError> {
    if !agent.is_supervisor() {
        return Err(ApiError::Forbidden("supervisors and admins only".into()));
    }
    Ok(Json(Triage {
        triage: state.triage.status(),
    }))
}

/// What channels reported that belongs to no conversation (WhatsApp value-level errors, unreadable payloads).
///
/// The last 200, newest first. Supervisors and admins.
#[utoipa::path(get, path = "/api/v1/admin/channel-errors", tag = "admin",
    responses((status = 200, body = ChannelErrors)))]
async fn channel_errors(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<ChannelErrors>, ApiError> {
    if !agent.is_supervisor() {
        return Err(ApiError::Forbidden("supervisors and admins only".into()));
    }
    Ok(Json(ChannelErrors {
        errors: state.store.channel_errors(200).await?,
    }))
}

/// Reloads the triage rules from their files.
///
/// Admins. Rules that do not load are refused (400 `invalid_rules`) and
/// those in force stay.
#[utoipa::path(post, path = "/api/v1/admin/triage/reload", tag = "admin",
    responses((status = 200, body = Reloaded)))]
async fn triage_reload(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<Reloaded>, ApiError> {
    if !agent.is_admin() {
        return Err(ApiError::Forbidden("admins only".into()));
    }
    let triage = state.triage.clone();
    let outcome = tokio::task::spawn_blocking(move || triage.reload())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    match outcome {
        Ok(()) => Ok(Json(Reloaded {
            reloaded: true,
            triage: state.triage.status(),
        })),
        Err(e) => Err(ApiError::BadRequest("invalid_rules", e)),
    }
}
