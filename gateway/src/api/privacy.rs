//! Admins answer erasure requests, place legal holds, and watch retention:
//! erase a customer (every merged address), hold or release a conversation,
//! see the retention report (a dry run) and run it now, see visitors'
//! erasure requests. Every action is audited.

use axum::extract::{Path, Query as Params, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::error::{ApiError, ApiJson};
use crate::auth::CurrentAgent;
use crate::client_addr::ClientAddr;
use crate::events::Event;
use crate::ids::ConversationId;
use crate::privacy::eraser::Eraser;
use crate::privacy::erasure::Refused;
use crate::privacy::job::RetentionJob;
use crate::search::customers::Merges;
use crate::state::AppState;
use crate::store::audit::Audit;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/customers/erase", post(erase))
        .route("/api/v1/conversations/{id}/legal-hold", put(hold).delete(release))
        .route("/api/v1/admin/retention", get(retention))
        .route("/api/v1/admin/retention/run", post(retention_run))
        .route("/api/v1/admin/erasure-requests", get(requests))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EraseBody {
    /// Any address of the customer: every address merged with it goes too.
    address: String,
    /// The same address again: an erasure cannot be undone.
    confirm: String,
}

/// `POST /api/v1/customers/erase`: erases a customer; refused whole when a
/// conversation is under legal hold.
async fn erase(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<EraseBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    agent.require_admin("erasing a customer")?;
    let address = body.address.trim();
    if address.is_empty() || address != body.confirm.trim() {
        return Err(ApiError::BadRequest(
            "confirm",
            "type the customer's address again in `confirm`: an erasure cannot be undone".into(),
        ));
    }
    let store = &state.store;
    let group = Merges::new(store.customer_links().await?).group(address);
    let conversations = store.conversations_of_addresses(&group).await?;
    if conversations.is_empty() {
        return Err(ApiError::NotFound("customer"));
    }
    let mut identities = Vec::new();
    for w in store.whatsapp_identities(&group).await? {
        identities.extend([w.phone, w.bsuid, w.username].into_iter().flatten());
    }
    // Meta writes numbers without the `+` in its bodies.
    let bare: Vec<String> = identities
        .iter()
        .filter_map(|i| i.strip_prefix('+').map(str::to_string))
        .collect();
    identities.extend(bare);
    let mut addresses = group.clone();
    addresses.extend(identities.iter().cloned());
    addresses.sort();
    addresses.dedup();
    let now = state.clock.now_ms();
    let eraser = Eraser {
        store,
        blobs: &state.blobs,
        html: &state.html_cache,
    };
    let done = match eraser.erase(&conversations, &addresses, &identities, now).await? {
        Ok(done) => done,
        Err(refused @ Refused::Held(_)) => return Err(ApiError::Conflict(refused.to_string())),
        Err(Refused::Nothing) => return Err(ApiError::Conflict("this customer was already erased".into())),
    };
    // The audit log names the customer by digests only, from now on.
    let digests: Vec<String> = group.iter().map(|a| state.signer.erased_subject(a)).collect();
    for (a, d) in group.iter().zip(&digests) {
        store.audit_rename_subject(std::slice::from_ref(a), d).await?;
    }
    let subject = digests.first().cloned().unwrap_or_default();
    let mut detail = json!(done.counts);
    detail["addresses"] = json!(group.len());
    detail["also"] = json!(digests.get(1..).unwrap_or_default());
    store
        .record_audit(
            &Audit {
                agent: Some(agent.id),
                client: Some(addr),
                action: "customer_erasure",
                subject: &subject,
                detail,
            },
            now,
        )
        .await?;
    for id in &conversations {
        state.events.publish(Event::ConversationUpdated { conversation: *id });
    }
    tracing::info!(
        agent = agent.id.0,
        subject,
        conversations = done.counts.conversations,
        "customer erased"
    );
    Ok(Json(json!({"erased": done.counts, "audit_subject": subject})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HoldBody {
    reason: String,
}

/// `PUT /api/v1/conversations/{id}/legal-hold`: no erasure, by request or
/// by retention, until released.
async fn hold(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<HoldBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    agent.require_admin("a legal hold")?;
    let reason = body.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::BadRequest(
            "reason",
            "say why the conversation is held (a dispute, a claim number), in 500 characters at most".into(),
        ));
    }
    set_hold(&state, &agent, addr, id, Some(reason)).await
}

async fn release(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    agent.require_admin("a legal hold")?;
    set_hold(&state, &agent, addr, id, None).await
}

async fn set_hold(
    state: &AppState,
    agent: &CurrentAgent,
    addr: std::net::IpAddr,
    id: i64,
    reason: Option<&str>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let now = state.clock.now_ms();
    if !state
        .store
        .set_legal_hold(ConversationId(id), reason, agent.id, now)
        .await?
    {
        return Err(ApiError::NotFound("conversation"));
    }
    let action = if reason.is_some() {
        "legal_hold"
    } else {
        "legal_hold_released"
    };
    state
        .store
        .record_audit(
            &Audit {
                agent: Some(agent.id),
                client: Some(addr),
                action,
                subject: &format!("conversation:{id}"),
                detail: json!({"reason": reason}),
            },
            now,
        )
        .await?;
    state.events.publish(Event::ConversationUpdated { conversation: id });
    Ok(Json(json!({"conversation": id, "legal_hold": reason})))
}

/// Items of each policy the retention page receives.
const LISTED: usize = 1000;

fn job(state: &AppState) -> RetentionJob {
    RetentionJob {
        store: state.store.clone(),
        blobs: state.blobs.clone(),
        clock: state.clock.clone(),
        config: state.config.retention.clone(),
        journal_hours: state.config.whatsapp.journal_retention_hours,
        html: state.html_cache.clone(),
    }
}

/// `GET /api/v1/admin/retention`: the policies, what they would let go of
/// now (a dry run: nothing is touched), and the last runs.
async fn retention(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<serde_json::Value>, ApiError> {
    agent.require_admin("retention")?;
    let mut report = job(&state).report().await?;
    // The page lists a few; the counts stay whole.
    for found in &mut report.policies {
        found.items.truncate(LISTED);
    }
    let runs: Vec<_> = state
        .store
        .audit_log(500)
        .await?
        .into_iter()
        .filter(|r| r.action == crate::privacy::job::RUN || r.action == crate::privacy::job::DRY_RUN)
        .take(20)
        .collect();
    Ok(Json(json!({
        "dry_run": state.config.retention.dry_run,
        "policies": state.config.retention,
        "journal_hours": state.config.whatsapp.journal_retention_hours,
        "report": report,
        "runs": runs,
    })))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct RunParams {
    /// Only report (and audit) what would go.
    dry_run: bool,
}

/// `POST /api/v1/admin/retention/run[?dry_run=true]`: runs the policies now (an admin's
/// decision: applied even when the daily job only reports).
async fn retention_run(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Params(p): Params<RunParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    agent.require_admin("retention")?;
    let report = job(&state).run_once(!p.dry_run, Some(agent.id)).await?;
    Ok(Json(json!({"report": report})))
}

/// `GET /api/v1/admin/erasure-requests`: visitors' requests from the widget, oldest first.
async fn requests(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<serde_json::Value>, ApiError> {
    agent.require_admin("erasure requests")?;
    Ok(Json(json!({"requests": state.store.erasure_requests_open().await?})))
}
