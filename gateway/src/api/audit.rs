//! The audit log over HTTP: `record` appends an entry for a handler once
//! its action is done (a failure to write it is logged, the action stands),
//! and `GET /api/v1/admin/audit` reads it (admins), narrowed by action,
//! agent, period, or the address it is about — erased or not.

use std::net::IpAddr;

use super::error::ApiQuery as Params;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use crate::auth::CurrentAgent;
use crate::ids::AgentId;
use crate::state::AppState;
use crate::store::audit::{Audit, AuditFilter, AuditRow};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(audit))
}

#[derive(Serialize, ToSchema)]
struct AuditEntries {
    entries: Vec<AuditRow>,
    /// With `subject`: the digest that stands for the address once erased.
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
}

/// Appends one entry; never fails the request that did the action.
pub async fn record(
    state: &AppState,
    agent: Option<AgentId>,
    client: IpAddr,
    action: &str,
    subject: &str,
    detail: serde_json::Value,
) {
    let entry = Audit {
        agent,
        client: Some(client),
        action,
        subject,
        detail,
    };
    if let Err(e) = state.store.record_audit(&entry, state.clock.now_ms()).await {
        tracing::warn!(error = %e, action, "the audit log could not be written");
    }
}

#[derive(Debug, Deserialize, IntoParams)]
struct AuditQuery {
    /// An address: its entries, and those about it once erased (by digest).
    subject: Option<String>,
    action: Option<String>,
    agent: Option<i64>,
    /// Unix milliseconds, inclusive / exclusive.
    since: Option<i64>,
    until: Option<i64>,
}

/// The audit log, newest first (500 entries at most).
///
/// Admins. Narrowed by action, agent or period, or to the entries about one
/// address, erased or not.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = AuditEntries)))]
async fn audit(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Params(q): Params<AuditQuery>,
) -> Result<Json<AuditEntries>, ApiError> {
    agent.require_admin("the audit log")?;
    if let Some(subject) = q.subject.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        return audit_of(&state, subject).await.map(Json);
    }
    let filter = AuditFilter {
        action: q.action.filter(|a| !a.trim().is_empty()),
        agent: q.agent,
        since: q.since,
        until: q.until,
    };
    Ok(Json(AuditEntries {
        entries: state.store.audit_filtered(&filter, 500).await?,
        digest: None,
    }))
}

/// The audit entries about one address, erased or not.
async fn audit_of(state: &AppState, subject: &str) -> Result<AuditEntries, ApiError> {
    let digest = state.signer.erased_subject(subject);
    let mut entries = state
        .store
        .audit_of(&[subject.to_string(), digest.clone()], 500)
        .await?;
    // An erasure of several addresses names the others in its detail.
    let erasures = AuditFilter {
        action: Some("customer_erasure".into()),
        ..AuditFilter::default()
    };
    for row in state.store.audit_filtered(&erasures, 500).await? {
        if row.detail.contains(&digest) && !entries.iter().any(|e| e.id == row.id) {
            entries.push(row);
        }
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.id));
    Ok(AuditEntries {
        entries,
        digest: Some(digest),
    })
}
