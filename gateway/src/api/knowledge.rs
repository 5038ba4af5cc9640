//! Capitalisation: a validated report becomes a draft knowledge entry, a
//! supervisor edits and publishes it, and from then on the FAQ matcher
//! answers with it — no restart, the same checks as the knowledge-base files.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::conversations::conversation_or_404;
use super::error::{ApiError, ApiJson};
use crate::auth::CurrentAgent;
use crate::ids::ConversationId;
use crate::intervention::knowledge::KnowledgeDraft;
use crate::state::AppState;
use crate::store::conversations::ChangeError;
use crate::store::interventions::ReportStatus;
use crate::store::knowledge::KnowledgeEntry;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(from_report))
        .routes(routes!(list, create))
        .routes(routes!(one, edit))
        .routes(routes!(publish))
        .routes(routes!(retire))
}

#[derive(Serialize, ToSchema)]
struct Entry {
    entry: KnowledgeEntry,
}

#[derive(Serialize, ToSchema)]
struct Entries {
    entries: Vec<KnowledgeEntry>,
}

async fn entry_or_404(state: &AppState, entry: &str) -> Result<crate::store::knowledge::KnowledgeEntry, ApiError> {
    state
        .store
        .knowledge_get(entry)
        .await?
        .ok_or(ApiError::NotFound("knowledge entry"))
}

fn supervisors_only(agent: &CurrentAgent) -> Result<(), ApiError> {
    if agent.is_supervisor() {
        Ok(())
    } else {
        Err(ApiError::Forbidden("supervisors publish knowledge".into()))
    }
}

/// Proposes a draft knowledge entry from the conversation's validated report.
///
/// Personal data of the customer is left out.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/report/knowledge", tag = "knowledge", params(("id" = i64, Path)),
    responses((status = 200, body = Entry)))]
async fn from_report(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<Entry>, ApiError> {
    let id = ConversationId(id);
    let c = conversation_or_404(&state, id).await?;
    let report = state.store.report_get(id).await?;
    let Some(report) = report.filter(|r| r.status == ReportStatus::Validated.as_str()) else {
        return Err(ApiError::Conflict(
            "validate the report first: knowledge comes from validated reports".into(),
        ));
    };
    let personal: Vec<&str> = [
        c.customer_name.as_deref(),
        c.customer_company.as_deref(),
        c.customer_email.as_deref(),
        c.customer_phone.as_deref(),
        Some(c.customer_address.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let draft = KnowledgeDraft::from_report(&report.content, &personal);
    let entry = state
        .store
        .knowledge_create(id, &draft, agent.id, state.clock.now_ms())
        .await
        .map_err(|e| match e {
            ChangeError::Changed => ApiError::Conflict("this conversation's knowledge entry exists already".into()),
            other => other.into(),
        })?;
    let entry = entry_or_404(&state, &entry).await?;
    Ok(Json(Entry { entry }))
}

/// Writes an entry from scratch (no case behind it), a draft until published.
///
/// Its id is `kb-<title>`; it is checked as the knowledge base checks its
/// files. Supervisors and admins.
#[utoipa::path(post, path = "/api/v1/knowledge", tag = "knowledge", request_body = Edit,
    responses((status = 200, body = Entry)))]
async fn create(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<Edit>,
) -> Result<Json<Entry>, ApiError> {
    supervisors_only(&agent)?;
    let base = crate::store::knowledge::new_entry_id(&body.draft.title);
    body.draft
        .check(&base)
        .map_err(|e| ApiError::BadRequest("bad_entry", e))?;
    let now = state.clock.now_ms();
    let mut created = None;
    for n in 1..=20 {
        let id = if n == 1 { base.clone() } else { format!("{base}-{n}") };
        if state
            .store
            .knowledge_create_standalone(&id, &body.draft, agent.id, now)
            .await?
        {
            created = Some(id);
            break;
        }
    }
    let id = created.ok_or_else(|| ApiError::Conflict("an entry with this title exists already".into()))?;
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "knowledge_created",
        &format!("knowledge:{id}"),
        json!({}),
    )
    .await;
    let entry = entry_or_404(&state, &id).await?;
    Ok(Json(Entry { entry }))
}

/// Every knowledge entry: drafts, published and retired.
#[utoipa::path(get, path = "/api/v1/knowledge", tag = "knowledge", responses((status = 200, body = Entries)))]
async fn list(State(state): State<AppState>, _agent: CurrentAgent) -> Result<Json<Entries>, ApiError> {
    Ok(Json(Entries {
        entries: state.store.knowledge_list().await?,
    }))
}

/// One knowledge entry.
#[utoipa::path(get, path = "/api/v1/knowledge/{entry}", tag = "knowledge", params(("entry" = String, Path)),
    responses((status = 200, body = Entry)))]
async fn one(
    State(state): State<AppState>,
    _agent: CurrentAgent,
    Path(entry): Path<String>,
) -> Result<Json<Entry>, ApiError> {
    let entry = entry_or_404(&state, &entry).await?;
    Ok(Json(Entry { entry }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Edit {
    draft: KnowledgeDraft,
}

/// Puts the published entries in force; the engine changes only if they all validate.
async fn apply_published(state: &AppState) -> Result<(), ApiError> {
    let published = state.store.knowledge_published().await?;
    let triage = state.triage.clone();
    tokio::task::spawn_blocking(move || triage.set_published(published))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::BadRequest("bad_entry", e))
}

/// Edits an entry; a published one answers with its new text at once.
///
/// Supervisors and admins.
#[utoipa::path(post, path = "/api/v1/knowledge/{entry}", tag = "knowledge", params(("entry" = String, Path)),
    request_body = Edit, responses((status = 200, body = Entry)))]
async fn edit(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(entry): Path<String>,
    ApiJson(body): ApiJson<Edit>,
) -> Result<Json<Entry>, ApiError> {
    supervisors_only(&agent)?;
    body.draft
        .check(&entry)
        .map_err(|e| ApiError::BadRequest("bad_entry", e))?;
    let before = entry_or_404(&state, &entry).await?;
    state
        .store
        .knowledge_update(&entry, &body.draft, state.clock.now_ms())
        .await?;
    // A published entry answers with its new text at once.
    if before.status == "published" {
        apply_published(&state).await?;
    }
    let subject = format!("knowledge:{entry}");
    super::audit::record(&state, Some(agent.id), addr, "knowledge_edited", &subject, json!({})).await;
    one(State(state), agent, Path(entry)).await
}

async fn set_status(
    state: AppState,
    addr: std::net::IpAddr,
    agent: CurrentAgent,
    entry: String,
    status: &str,
) -> Result<Json<Entry>, ApiError> {
    supervisors_only(&agent)?;
    let before = entry_or_404(&state, &entry).await?;
    if status == "published" {
        before
            .draft
            .check(&entry)
            .map_err(|e| ApiError::BadRequest("bad_entry", e))?;
    }
    let now = state.clock.now_ms();
    state.store.knowledge_set_status(&entry, status, agent.id, now).await?;
    if let Err(e) = apply_published(&state).await {
        // The matcher refused it: the entry stays as it was.
        state
            .store
            .knowledge_set_status(&entry, &before.status, agent.id, now)
            .await?;
        return Err(e);
    }
    let subject = format!("knowledge:{entry}");
    let action = format!("knowledge_{status}");
    super::audit::record(&state, Some(agent.id), addr, &action, &subject, json!({})).await;
    one(State(state), agent, Path(entry)).await
}

/// Publishes an entry: the FAQ matcher answers with it from now on.
///
/// Supervisors and admins; refused if the entry does not validate.
#[utoipa::path(post, path = "/api/v1/knowledge/{entry}/publish", tag = "knowledge", params(("entry" = String, Path)),
    responses((status = 200, body = Entry)))]
async fn publish(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(entry): Path<String>,
) -> Result<Json<Entry>, ApiError> {
    set_status(state, addr, agent, entry, "published").await
}

/// Retires an entry: kept on record, no longer answering.
///
/// Supervisors and admins.
#[utoipa::path(post, path = "/api/v1/knowledge/{entry}/retire", tag = "knowledge", params(("entry" = String, Path)),
    responses((status = 200, body = Entry)))]
async fn retire(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(entry): Path<String>,
) -> Result<Json<Entry>, ApiError> {
    set_status(state, addr, agent, entry, "retired").await
}
