//! Admins answer erasure requests, place legal holds, and watch retention:
//! erase a customer (every merged address), hold or release a conversation,
//! see the retention report (a dry run) and run it now, see visitors'
//! erasure requests. Every action is audited.

use super::error::ApiQuery as Params;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiJson};
use crate::auth::CurrentAgent;
use crate::client_addr::ClientAddr;
use crate::events::Event;
use crate::ids::ConversationId;
use crate::privacy::eraser::Eraser;
use crate::privacy::erasure::{Counts, Refused};
use crate::privacy::job::RetentionJob;
use crate::privacy::retention::Report;
use crate::search::customers::Merges;
use crate::state::AppState;
use crate::store::audit::{Audit, AuditRow};
use crate::store::privacy::ErasureRequest;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(erase))
        .routes(routes!(hold, release))
        .routes(routes!(retention))
        .routes(routes!(retention_run))
        .routes(routes!(requests))
}

#[derive(Serialize, ToSchema)]
struct Erased {
    erased: Counts,
    /// What the audit log calls the erased customer from now on (a digest).
    audit_subject: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = LegalHold)]
struct Hold {
    conversation: i64,
    /// Why it is held; null once released.
    legal_hold: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct Retention {
    /// The daily job only reports.
    dry_run: bool,
    policies: crate::config::RetentionConfig,
    journal_hours: u64,
    /// What the policies would let go of now (nothing is touched).
    report: Report,
    /// The last runs, from the audit log.
    runs: Vec<AuditRow>,
}

#[derive(Serialize, ToSchema)]
struct RetentionRun {
    report: Report,
}

#[derive(Serialize, ToSchema)]
struct ErasureRequests {
    requests: Vec<ErasureRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EraseBody {
    /// Any address of the customer: every address merged with it goes too.
    address: String,
    /// The same address again: an erasure cannot be undone.
    confirm: String,
}

/// Erases a customer, every merged address with them; it cannot be undone.
///
/// Admins, audited. Refused whole when one of their conversations is under
/// legal hold.
#[utoipa::path(post, path = "/api/v1/customers/erase", tag = "privacy", request_body = EraseBody,
    responses((status = 200, body = Erased)))]
async fn erase(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<EraseBody>,
) -> Result<Json<Erased>, ApiError> {
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
    Ok(Json(Erased {
        erased: done.counts,
        audit_subject: subject,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct HoldBody {
    /// A dispute, a claim number: 500 characters at most.
    reason: String,
}

/// Places a legal hold: no erasure, by request or by retention, until released.
///
/// Admins, audited.
#[utoipa::path(put, path = "/api/v1/conversations/{id}/legal-hold", tag = "privacy", params(("id" = i64, Path)),
    request_body = HoldBody, responses((status = 200, body = Hold)))]
async fn hold(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<HoldBody>,
) -> Result<Json<Hold>, ApiError> {
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

/// Releases a legal hold.
///
/// Admins, audited.
#[utoipa::path(delete, path = "/api/v1/conversations/{id}/legal-hold", tag = "privacy", params(("id" = i64, Path)),
    responses((status = 200, body = Hold)))]
async fn release(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<Hold>, ApiError> {
    agent.require_admin("a legal hold")?;
    set_hold(&state, &agent, addr, id, None).await
}

async fn set_hold(
    state: &AppState,
    agent: &CurrentAgent,
    addr: std::net::IpAddr,
    id: i64,
    reason: Option<&str>,
) -> Result<Json<Hold>, ApiError> {
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
    Ok(Json(Hold {
        conversation: id,
        legal_hold: reason.map(str::to_string),
    }))
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

/// The retention policies, what they would let go of now, and the last runs.
///
/// Admins. A dry run: nothing is touched.
#[utoipa::path(get, path = "/api/v1/admin/retention", tag = "privacy", responses((status = 200, body = Retention)))]
async fn retention(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<Retention>, ApiError> {
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
    Ok(Json(Retention {
        dry_run: state.config.retention.dry_run,
        policies: state.config.retention.clone(),
        journal_hours: state.config.whatsapp.journal_retention_hours,
        report,
        runs,
    }))
}

#[derive(Debug, Deserialize, Default, IntoParams)]
#[serde(default)]
struct RunParams {
    /// Only report (and audit) what would go.
    dry_run: bool,
}

/// Runs the retention policies now.
///
/// Admins: an admin's decision is applied even when the daily job only
/// reports; `dry_run` only reports (and audits) what would go.
#[utoipa::path(post, path = "/api/v1/admin/retention/run", tag = "privacy", params(RunParams),
    responses((status = 200, body = RetentionRun)))]
async fn retention_run(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Params(p): Params<RunParams>,
) -> Result<Json<RetentionRun>, ApiError> {
    agent.require_admin("retention")?;
    let report = job(&state).run_once(!p.dry_run, Some(agent.id)).await?;
    Ok(Json(RetentionRun { report }))
}

/// Visitors' erasure requests from the widget, oldest first.
///
/// Admins.
#[utoipa::path(get, path = "/api/v1/admin/erasure-requests", tag = "privacy", responses((status = 200, body = ErasureRequests)))]
async fn requests(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<ErasureRequests>, ApiError> {
    agent.require_admin("erasure requests")?;
    Ok(Json(ErasureRequests {
        requests: state.store.erasure_requests_open().await?,
    }))
}
