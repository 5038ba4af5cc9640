//! The customer page: every identity of a customer, all their conversations
//! on every channel, their machines and open escalations; and merging two
//! records that are one person (recorded, reversible).

use axum::extract::{Path, Query as Params, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::error::{ApiError, ApiJson};
use crate::auth::CurrentAgent;
use crate::search::customers::{MergeError, Merges};
use crate::search::{code, customer_page};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/customers", get(page))
        .route("/api/v1/customers/merges", post(merge))
        .route("/api/v1/customers/merges/{id}/undo", post(undo))
        .route("/api/v1/customers/export", get(export))
}

#[derive(Debug, Deserialize)]
struct ExportParams {
    address: String,
    /// Internal notes too (an access request covers what was said to the customer).
    #[serde(default)]
    notes: bool,
}

/// `GET /api/v1/customers/export?address=…`: everything held about a
/// customer (every merged address), as a tar archive; admins only, audited.
async fn export(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Params(p): Params<ExportParams>,
) -> Result<axum::response::Response, ApiError> {
    use crate::privacy::export::{ConversationExport, FileEntry, archive, safe_name};
    agent.require_admin("exporting personal data")?;
    let profile = customer(&state, &p.address).await?;
    let store = &state.store;
    let mut conversations = Vec::new();
    let mut files = Vec::new();
    let ids: Vec<i64> = profile["conversations"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["id"].as_i64()).collect())
        .unwrap_or_default();
    for id in ids {
        let cid = crate::ids::ConversationId(id);
        let (messages, attachments, participants) = tokio::try_join!(
            store.messages(cid, p.notes),
            store.attachments(cid),
            store.participants(cid),
        )?;
        let shown: std::collections::HashSet<i64> = messages.iter().map(|m| m.id).collect();
        let attachments: Vec<_> = attachments
            .into_iter()
            .filter(|a| shown.contains(&a.message_id))
            .collect();
        for a in &attachments {
            if let Some(path) = a.sha256.as_deref().and_then(|s| state.blobs.path(s)) {
                let name = safe_name(a.name.as_deref().unwrap_or("file"));
                files.push(FileEntry {
                    name: format!("files/{}-{name}", a.id),
                    path,
                });
            }
        }
        for m in messages.iter().filter(|m| m.channel == "email" && m.direction == "in") {
            let raw = store.message_raw_ref(cid, crate::ids::MessageId(m.id)).await?;
            if let Some(path) = raw
                .as_deref()
                .and_then(|r| r.strip_prefix("sha256:"))
                .and_then(|s| state.blobs.path(s))
            {
                files.push(FileEntry {
                    name: format!("raw/{}.eml", m.id),
                    path,
                });
            }
        }
        let conversation = profile["conversations"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["id"] == id).cloned())
            .unwrap_or_default();
        conversations.push((
            id,
            ConversationExport {
                conversation,
                messages: json!(messages),
                participants: json!(participants),
                attachments: json!(attachments),
            },
        ));
    }
    let customer_json = json!({
        "addresses": profile["addresses"],
        "profile": profile["profile"],
        "merges": profile["merges"],
        "exported_at": state.clock.now_ms(),
        "internal_notes_included": p.notes,
    });
    let (bytes, counts) = tokio::task::spawn_blocking(move || archive(&customer_json, &conversations, &files))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let subject = profile["address"].as_str().unwrap_or_default().to_string();
    super::audit::record(&state, Some(agent.id), addr, "customer_export", &subject, json!(counts)).await;
    let date = chrono::DateTime::from_timestamp_millis(state.clock.now_ms())
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    Ok(super::attachment(
        "application/x-tar",
        &format!("customer-export-{date}.tar"),
        bytes,
    ))
}

#[derive(Debug, Deserialize)]
struct Address {
    address: String,
}

/// `GET /api/v1/customers?address=…`: any address of the customer.
async fn page(
    State(state): State<AppState>,
    _agent: CurrentAgent,
    Params(p): Params<Address>,
) -> Result<Json<serde_json::Value>, ApiError> {
    customer(&state, &p.address).await.map(Json)
}

async fn customer(state: &AppState, address: &str) -> Result<serde_json::Value, ApiError> {
    let store = &state.store;
    let merges = Merges::new(store.customer_links().await?);
    let group = merges.group(address.trim());
    let ids = store.conversations_of_addresses(&group).await?;
    if ids.is_empty() {
        return Err(ApiError::NotFound("customer"));
    }
    let (mut rows, mentions, whatsapp, history, escalations) = tokio::try_join!(
        store.conversations_get(&ids),
        store.mentions_of(&ids),
        store.whatsapp_identities(&group),
        store.customer_merges_of(&group),
        store.escalations_open(),
    )?;
    rows.sort_by_key(|c| (c.created_at, c.id));
    let profile = customer_page::build(&rows, &mentions, &whatsapp);
    let tier = group
        .iter()
        .chain(&profile.emails)
        .chain(&profile.phones)
        .find_map(|a| state.triage.directory().tier(a).map(str::to_string));
    // Records that may be the same person: an address they gave in the widget
    // that writes to us itself, a number they gave that another record used.
    let mut maybe = store.known_addresses(&profile.emails).await?;
    let phone_keys: Vec<String> = profile.phones.iter().filter_map(|p| code::phone_key(p)).collect();
    maybe.extend(store.addresses_by_phone(&phone_keys).await?);
    maybe.retain(|a| !group.contains(a));
    maybe.sort();
    maybe.dedup();
    let escalations: Vec<_> = escalations
        .into_iter()
        .filter(|e| ids.contains(&e.conversation_id))
        .collect();
    Ok(json!({
        "address": group[0],
        "addresses": group,
        "tier": tier,
        "profile": profile,
        "conversations": rows,
        "escalations": escalations,
        "merges": history,
        "suggested_merges": maybe,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    /// The record that from now on counts as `into`.
    address: String,
    into: String,
}

async fn merge(
    State(state): State<AppState>,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<MergeBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = &state.store;
    let (address, into) = (body.address.trim(), body.into.trim());
    let known = store.known_addresses(&[address.to_string(), into.to_string()]).await?;
    if known.len() < 2 {
        return Err(ApiError::NotFound("customer"));
    }
    let merges = Merges::new(store.customer_links().await?);
    let target = merges.check(address, into).map_err(|e| match e {
        MergeError::Same => ApiError::BadRequest("same_customer", e.to_string()),
        MergeError::AlreadyMerged(_) => ApiError::Conflict(e.to_string()),
    })?;
    let Some(id) = store
        .merge_customers(address, target, agent.id.0, state.clock.now_ms())
        .await?
    else {
        return Err(ApiError::Conflict(format!(
            "{address} was merged by someone else a moment ago"
        )));
    };
    tracing::info!(
        merge = id,
        address,
        into = target,
        agent = agent.id.0,
        "customers merged"
    );
    let page = customer(&state, target).await?;
    Ok(Json(json!({"merge": id, "customer": page})))
}

async fn undo(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !state
        .store
        .unmerge_customers(id, agent.id.0, state.clock.now_ms())
        .await?
    {
        return Err(ApiError::NotFound("merge in force"));
    }
    tracing::info!(merge = id, agent = agent.id.0, "customer merge undone");
    Ok(Json(json!({"undone": id})))
}
