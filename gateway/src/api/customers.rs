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
        .find_map(|a| state.triage.directory.tier(a).map(str::to_string));
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
