//! The machine page: for a serial number, however it was written, every
//! conversation that mentioned it across customers and channels, the fault
//! codes seen with their dates, and the intervention reports.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use crate::auth::CurrentAgent;
use crate::ids::ConversationId;
use crate::search::machine_page::History;
use crate::search::{code, machine_page};
use crate::state::AppState;
use crate::store::conversations::ConversationRow;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(machine))
}

#[derive(Serialize, ToSchema)]
struct MachinePage {
    /// The serial as compared: letters and digits, upper case.
    key: String,
    /// As first written.
    serial: String,
    history: History,
    conversations: Vec<ConversationRow>,
    customers: Vec<String>,
    reports: Vec<MachineReport>,
}

/// An intervention report on one of the machine's conversations.
#[derive(Serialize, ToSchema)]
struct MachineReport {
    conversation_id: i64,
    status: String,
    version: i64,
    title: String,
    diagnosis: String,
    actions: String,
    result: String,
    updated_at: i64,
    validated_at: Option<i64>,
}

/// A machine's page: every conversation that mentioned its serial, however written.
///
/// Across customers and channels, with the fault codes seen and their
/// dates, and the intervention reports.
#[utoipa::path(get, path = "/api/v1/machines/{serial}", tag = "customers", params(("serial" = String, Path)),
    responses((status = 200, body = MachinePage)))]
async fn machine(
    State(state): State<AppState>,
    _agent: CurrentAgent,
    Path(serial): Path<String>,
) -> Result<Json<MachinePage>, ApiError> {
    let key = code::normalise(&serial);
    if key.is_empty() {
        return Err(ApiError::BadRequest(
            "bad_serial",
            "a serial number has letters or digits".into(),
        ));
    }
    let store = &state.store;
    let mentions = store.serial_mentions(&key).await?;
    let mut ids: Vec<i64> = mentions.iter().map(|m| m.conversation_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(ApiError::NotFound("machine"));
    }
    let (mut rows, all) = tokio::try_join!(store.conversations_get(&ids), store.mentions_of(&ids))?;
    rows.sort_by_key(|c| (c.created_at, c.id));
    let history = machine_page::build(&key, &all);
    let mut reports = Vec::new();
    for id in &ids {
        if let Some(r) = store.report_get(ConversationId(*id)).await? {
            reports.push(MachineReport {
                conversation_id: *id,
                status: r.status,
                version: r.version,
                title: r.content.title,
                diagnosis: r.content.diagnosis,
                actions: r.content.actions,
                result: r.content.result,
                updated_at: r.updated_at,
                validated_at: r.validated_at,
            });
        }
    }
    let mut customers: Vec<String> = rows.iter().map(|c| c.customer_address.clone()).collect();
    customers.sort();
    customers.dedup();
    Ok(Json(MachinePage {
        key,
        serial: history.spellings.first().cloned().unwrap_or(serial),
        history,
        conversations: rows,
        customers,
        reports,
    }))
}
