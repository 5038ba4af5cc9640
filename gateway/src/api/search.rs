//! `GET /api/v1/search`: conversations whose messages, notes, attachment
//! names, customer or extracted codes match, ranked (`search::results`),
//! with the snippet that shows why; and the customers whose records match.

use std::collections::BTreeMap;

use axum::extract::{Query as Params, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::ApiError;
use crate::auth::CurrentAgent;
use crate::reports::period::day_start;
use crate::search::Query;
use crate::search::customers::Merges;
use crate::search::results::{self, Found, Ranked};
use crate::state::AppState;
use crate::store::conversations::ConversationRow;
use crate::store::search::Filters;

/// Messages each statement may bring back: the newest matches, ranked here.
const MESSAGE_CANDIDATES: i64 = 400;
const OTHER_CANDIDATES: i64 = 200;
const MAX_RESULTS: usize = 100;
const MAX_QUERY_CHARS: usize = 200;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/search", get(search))
}

#[derive(Debug, Deserialize)]
struct SearchParams {
    q: String,
    channel: Option<String>,
    priority: Option<String>,
    queue: Option<String>,
    status: Option<String>,
    assignee: Option<i64>,
    /// First local day, `YYYY-MM-DD` (the reporting calendar's time zone).
    from: Option<String>,
    /// Last local day, included.
    to: Option<String>,
    limit: Option<usize>,
}

#[derive(Debug, Serialize)]
struct Hit {
    conversation: ConversationRow,
    #[serde(flatten)]
    ranked: Ranked,
}

/// A customer whose own record (name, company, address, email, phone) matched.
#[derive(Debug, Serialize)]
struct CustomerHit {
    address: String,
    name: Option<String>,
    company: Option<String>,
    channels: Vec<String>,
    conversations: usize,
    last_at: i64,
}

fn day(field: &'static str, s: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::BadRequest("bad_period", format!("{field}: expected a date like 2026-11-30")))
}

fn filters(state: &AppState, p: &SearchParams) -> Result<Filters, ApiError> {
    let tz = state.sla.reporting_calendar().time_zone();
    let from = p
        .from
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| day("from", s))
        .transpose()?;
    let to =
        p.to.as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| day("to", s))
            .transpose()?;
    let to = to
        .map(|d| {
            d.checked_add_days(Days::new(1))
                .ok_or(ApiError::BadRequest("bad_period", "to: out of range".into()))
        })
        .transpose()?;
    Ok(Filters {
        channel: p.channel.clone(),
        priority: p.priority.clone(),
        queue: p.queue.clone(),
        status: p.status.clone(),
        assignee: p.assignee,
        from: from.map(|d| day_start(tz, d)),
        to: to.map(|d| day_start(tz, d)),
    })
}

/// Whether a conversation found through its customer passes the filters
/// the statements applied to the others.
fn passes(c: &ConversationRow, f: &Filters) -> bool {
    let is = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w.is_empty() || w == have);
    is(&f.channel, &c.channel)
        && is(&f.priority, &c.priority)
        && is(&f.queue, &c.queue)
        && is(&f.status, &c.status)
        && f.assignee.is_none_or(|a| c.assignee_id == Some(a))
        && f.from.is_none_or(|from| c.updated_at >= from)
        && f.to.is_none_or(|to| c.created_at < to)
}

async fn search(
    State(state): State<AppState>,
    _agent: CurrentAgent,
    Params(p): Params<SearchParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if p.q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::BadRequest(
            "query_too_long",
            format!("a search is at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let query = Query::parse(&p.q);
    if query.is_empty() {
        return Err(ApiError::BadRequest(
            "empty_query",
            "type a word, a code or a number to search".into(),
        ));
    }
    let f = filters(&state, &p)?;
    let store = &state.store;
    let (messages, attachments, facts, customer_conversations) = tokio::try_join!(
        store.search_messages(&query, &f, MESSAGE_CANDIDATES),
        store.search_attachments(&query, &f, OTHER_CANDIDATES),
        store.search_facts(&query, &f, OTHER_CANDIDATES),
        store.search_customer_conversations(&query, OTHER_CANDIDATES),
    )?;
    let mut message_ids: Vec<i64> = messages.iter().chain(&attachments).map(|m| m.message_id).collect();
    message_ids.sort_unstable();
    message_ids.dedup();
    let (rows, names) = tokio::try_join!(
        store.messages_get(&message_ids),
        store.attachments_of_messages(&message_ids),
    )?;
    let customer_rows = store.conversations_get(&customer_conversations).await?;
    let customers = customer_hits(&state, &customer_rows).await?;
    let customer_conversations: Vec<i64> = customer_rows.iter().filter(|c| passes(c, &f)).map(|c| c.id).collect();
    let mut ranked = results::rank(
        &query,
        &Found {
            messages: &rows,
            attachments: &names,
            facts: &facts,
            customer_conversations: &customer_conversations,
        },
    );
    let found = ranked.len();
    ranked.truncate(p.limit.unwrap_or(50).clamp(1, MAX_RESULTS));
    let ids: Vec<i64> = ranked.iter().map(|r| r.conversation_id).collect();
    let mut conversations: BTreeMap<i64, ConversationRow> = store
        .conversations_get(&ids)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let hits: Vec<Hit> = ranked
        .into_iter()
        .filter_map(|ranked| {
            conversations
                .remove(&ranked.conversation_id)
                .map(|conversation| Hit { conversation, ranked })
        })
        .collect();
    let terms: Vec<String> = query
        .terms
        .iter()
        .map(|t| match t {
            crate::search::query::Term::Word { typed, .. } | crate::search::query::Term::Code { typed, .. } => {
                typed.clone()
            }
        })
        .chain(query.phone.clone())
        .collect();
    Ok(Json(json!({
        "terms": terms,
        "found": found,
        "results": hits,
        "customers": customers,
    })))
}

/// The customers behind conversations whose customer matched, merged records as one.
async fn customer_hits(state: &AppState, rows: &[ConversationRow]) -> Result<Vec<CustomerHit>, ApiError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let merges = Merges::new(state.store.customer_links().await?);
    let mut by_root: BTreeMap<String, CustomerHit> = BTreeMap::new();
    for c in rows {
        let root = merges.root(&c.customer_address).to_string();
        let hit = by_root.entry(root.clone()).or_insert_with(|| CustomerHit {
            address: root,
            name: None,
            company: None,
            channels: Vec::new(),
            conversations: 0,
            last_at: 0,
        });
        hit.conversations += 1;
        hit.last_at = hit.last_at.max(c.updated_at);
        hit.name = hit.name.take().or_else(|| c.customer_name.clone());
        hit.company = hit.company.take().or_else(|| c.customer_company.clone());
        if !hit.channels.contains(&c.channel) {
            hit.channels.push(c.channel.clone());
        }
    }
    let mut out: Vec<CustomerHit> = by_root.into_values().collect();
    out.sort_by_key(|c| std::cmp::Reverse(c.last_at));
    out.truncate(20);
    Ok(out)
}
