//! `GET /api/v1/search`: conversations whose messages, notes, attachment
//! names, customer or extracted codes match, ranked (`search::results`),
//! with the snippet that shows why; and the customers whose records match.

use super::error::ApiQuery as Params;
use axum::Json;
use axum::extract::State;
use chrono::Days;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::reports::date;
use crate::auth::CurrentAgent;
use crate::reports::period::day_start;
use crate::search::Query;
use crate::search::find::{CustomerHit, Hit, find};
use crate::search::query::Term;
use crate::state::AppState;
use crate::store::search::Filters;

const MAX_RESULTS: usize = 100;
const MAX_QUERY_CHARS: usize = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

#[derive(Serialize, ToSchema)]
#[schema(as = SearchResults)]
struct Found {
    /// The terms searched, as typed.
    terms: Vec<String>,
    /// Conversations that matched, before `limit`.
    found: usize,
    results: Vec<Hit>,
    customers: Vec<CustomerHit>,
}

#[derive(Debug, Deserialize, IntoParams)]
struct SearchParams {
    /// Words, fault codes and serials however written, phone numbers, "quoted phrases" (200 characters at most).
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
    /// 1 to 100, 50 by default.
    limit: Option<usize>,
}

fn filters(state: &AppState, p: &SearchParams) -> Result<Filters, ApiError> {
    let tz = state.sla.current().reporting_calendar().time_zone();
    let from = p
        .from
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| date("from", s))
        .transpose()?;
    let to =
        p.to.as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| date("to", s))
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

/// Searches conversations and customers, ranked, with the snippet that shows why.
///
/// Messages, notes, attachment names, customers and extracted codes.
#[utoipa::path(get, path = "/api/v1/search", tag = "conversations", params(SearchParams),
    responses((status = 200, body = Found)))]
async fn search(
    State(state): State<AppState>,
    _agent: CurrentAgent,
    Params(p): Params<SearchParams>,
) -> Result<Json<Found>, ApiError> {
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
    let outcome = find(&state.store, &query, &f, p.limit.unwrap_or(50).clamp(1, MAX_RESULTS)).await?;
    let terms: Vec<String> = query
        .terms
        .iter()
        .map(|t| match t {
            Term::Word { typed, .. } | Term::Code { typed, .. } => typed.clone(),
        })
        .chain(query.phone.clone())
        .collect();
    Ok(Json(Found {
        terms,
        found: outcome.found,
        results: outcome.results,
        customers: outcome.customers,
    }))
}
