//! The customer page: every identity of a customer, all their conversations
//! on every channel, their machines and open escalations; and merging two
//! records that are one person (recorded, reversible).

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
use crate::search::customer_page::Profile;
use crate::search::customers::{MergeError, Merges};
use crate::search::{code, customer_page};
use crate::state::AppState;
use crate::store::conversations::ConversationRow;
use crate::store::escalations::EscalationRow;
use crate::store::search::CustomerMerge;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(page))
        .routes(routes!(merge))
        .routes(routes!(undo))
        .routes(routes!(export))
}

/// A customer: every identity, every conversation on every channel.
#[derive(Serialize, ToSchema)]
struct CustomerPage {
    /// The record the others were merged into.
    address: String,
    /// Every address that counts as this customer.
    addresses: Vec<String>,
    /// strategic, or none
    tier: Option<String>,
    profile: Profile,
    conversations: Vec<ConversationRow>,
    /// Open escalations of these conversations.
    escalations: Vec<EscalationRow>,
    merges: Vec<CustomerMerge>,
    /// Records that may be the same person.
    suggested_merges: Vec<String>,
}

#[derive(Serialize, ToSchema)]
struct Merged {
    /// The merge's id, to undo it.
    merge: i64,
    customer: CustomerPage,
}

#[derive(Serialize, ToSchema)]
struct Undone {
    undone: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
struct ExportParams {
    address: String,
    /// Internal notes too (an access request covers what was said to the customer).
    #[serde(default)]
    notes: bool,
}

/// Everything held about a customer (every merged address), as a tar archive.
///
/// Admins only, audited: the answer to an access request.
#[utoipa::path(get, path = "/api/v1/customers/export", tag = "customers", params(ExportParams),
    responses((status = 200, description = "A tar archive: customer.json, one folder per conversation, files and raw mails", content_type = "application/x-tar")))]
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
    let ids: Vec<i64> = profile.conversations.iter().map(|c| c.id).collect();
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
        let conversation = profile
            .conversations
            .iter()
            .find(|c| c.id == id)
            .map(|c| json!(c))
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
        "addresses": profile.addresses,
        "profile": profile.profile,
        "merges": profile.merges,
        "exported_at": state.clock.now_ms(),
        "internal_notes_included": p.notes,
    });
    let (bytes, counts) = tokio::task::spawn_blocking(move || archive(&customer_json, &conversations, &files))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let subject = profile.address.clone();
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

#[derive(Debug, Deserialize, IntoParams)]
struct Address {
    /// Any address of the customer: email, phone, chat visitor.
    address: String,
}

/// A customer's page: identities, conversations, machines, escalations, merges.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", params(Address),
    responses((status = 200, body = CustomerPage)))]
async fn page(
    State(state): State<AppState>,
    _agent: CurrentAgent,
    Params(p): Params<Address>,
) -> Result<Json<CustomerPage>, ApiError> {
    customer(&state, &p.address).await.map(Json)
}

async fn customer(state: &AppState, address: &str) -> Result<CustomerPage, ApiError> {
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
    Ok(CustomerPage {
        address: group[0].clone(),
        addresses: group,
        tier,
        profile,
        conversations: rows,
        escalations,
        merges: history,
        suggested_merges: maybe,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    /// The record that from now on counts as `into`.
    address: String,
    into: String,
}

/// Merges two customer records that are one person (recorded, reversible).
#[utoipa::path(post, path = "/api/v1/customers/merges", tag = "customers", request_body = MergeBody,
    responses((status = 200, body = Merged)))]
async fn merge(
    State(state): State<AppState>,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<MergeBody>,
) -> Result<Json<Merged>, ApiError> {
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
    Ok(Json(Merged {
        merge: id,
        customer: page,
    }))
}

/// Undoes a merge: the two records are two customers again.
#[utoipa::path(post, path = "/api/v1/customers/merges/{id}/undo", tag = "customers", params(("id" = i64, Path)),
    responses((status = 200, body = Undone)))]
async fn undo(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<Undone>, ApiError> {
    if !state
        .store
        .unmerge_customers(id, agent.id.0, state.clock.now_ms())
        .await?
    {
        return Err(ApiError::NotFound("merge in force"));
    }
    tracing::info!(merge = id, agent = agent.id.0, "customer merge undone");
    Ok(Json(Undone { undone: id }))
}
