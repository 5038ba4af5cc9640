//! The machine page: for a serial number, however it was written, every
//! conversation that mentioned it across customers and channels, the fault
//! codes seen with their dates, and the intervention reports.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::error::ApiError;
use crate::auth::CurrentAgent;
use crate::ids::ConversationId;
use crate::search::{code, machine_page};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/machines/{serial}", get(machine))
}

async fn machine(
    State(state): State<AppState>,
    _agent: CurrentAgent,
    Path(serial): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
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
            reports.push(json!({
                "conversation_id": id,
                "status": r.status,
                "version": r.version,
                "title": r.content.title,
                "diagnosis": r.content.diagnosis,
                "actions": r.content.actions,
                "result": r.content.result,
                "updated_at": r.updated_at,
                "validated_at": r.validated_at,
            }));
        }
    }
    let mut customers: Vec<String> = rows.iter().map(|c| c.customer_address.clone()).collect();
    customers.sort();
    customers.dedup();
    Ok(Json(json!({
        "key": key,
        "serial": history.spellings.first().cloned().unwrap_or(serial),
        "history": history,
        "conversations": rows,
        "customers": customers,
        "reports": reports,
    })))
}
