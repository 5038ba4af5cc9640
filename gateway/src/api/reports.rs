//! `GET /api/v1/reports/…`: the hotline's figures for supervisors. Every
//! route takes the same filters — `from`/`to` (local days, `to` included;
//! default the last `days`, 7), `channel`, `priority`, `queue`, `agent` — so
//! a figure, its drill-down and its CSV always count the same conversations.

use super::error::ApiQuery as Query;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use crate::auth::CurrentAgent;
use crate::reports::export::{self, ConversationRow, GroupRow};
use crate::reports::facts::{ConversationFacts, EventKind, Filter, TimerOutcome};
use crate::reports::kpi::{self, Dimension, Group, Kpis};
use crate::reports::period::{self, Period};
use crate::reports::worth;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(kpis))
        .routes(routes!(conversations))
        .routes(routes!(conversations_csv))
        .routes(routes!(groups_csv))
        .routes(routes!(days_csv))
        .routes(routes!(worth))
        .routes(routes!(worth_inputs))
}

/// A period of whole local days of the reporting calendar.
#[derive(Serialize, ToSchema)]
struct Span {
    from: String,
    to: String,
    /// Unix milliseconds: the first day's start, the day after the last one's start.
    start: i64,
    end: i64,
}

impl Span {
    fn of(p: &Period) -> Span {
        Span {
            from: p.from.to_string(),
            to: p.to.to_string(),
            start: p.start,
            end: p.end,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = KpiReport)]
struct Report {
    period: Span,
    /// As long as `period`, ending the day before it.
    previous_period: Span,
    time_zone: String,
    calendar: String,
    /// The hotline calendar's day now, which the page's "last 7 days" ends with.
    today: String,
    kpis: Kpis,
    previous: Kpis,
    /// With `by`: the figures of each channel, priority, queue or agent.
    groups: Option<Vec<Group>>,
    /// What each figure counts.
    definitions: Vec<Definition>,
}

#[derive(Serialize, ToSchema)]
struct Definition {
    term: &'static str,
    meaning: &'static str,
}

#[derive(Serialize, ToSchema)]
struct Rows {
    rows: Vec<ConversationRow>,
}

#[derive(Serialize, ToSchema)]
struct Worth {
    period: Dates,
    estimate: worth::Estimate,
}

#[derive(Serialize, ToSchema)]
struct Dates {
    from: String,
    to: String,
}

#[derive(Serialize, ToSchema)]
struct WorthInputs {
    /// Every variable a supervisor entered, by name.
    inputs: std::collections::BTreeMap<String, f64>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct Params {
    /// First local day, `YYYY-MM-DD`; with `to`, or neither.
    from: Option<String>,
    /// Last local day, included.
    to: Option<String>,
    /// Without from/to: the last `days` days ending today (7 by default).
    days: Option<i64>,
    channel: Option<String>,
    priority: Option<String>,
    queue: Option<String>,
    agent: Option<i64>,
    /// Break the figures down by channel, priority, queue or agent.
    by: Option<String>,
    /// Drill-down: only the conversations behind this figure.
    figure: Option<String>,
}

/// A local day of a period (`2026-11-30`); shared with search's period filter.
pub(super) fn date(field: &'static str, s: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::BadRequest("bad_period", format!("{field}: expected a date like 2026-11-30")))
}

/// The conversations behind a figure of the page (see `kpi.rs` for the definitions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Figure {
    Created,
    Unanswered,
    Resolved,
    FirstContactResolved,
    Reopened,
    Escalated,
    SelfServed,
    SlaBreached,
    Backlog,
    KnowledgeLinked,
    /// An answer sent or suggested from an entry written from a resolved case.
    KnowledgeReused,
    /// Rated "not satisfied": what supervisors look at.
    RatedBad,
}

impl Figure {
    fn parse(s: &str) -> Option<Figure> {
        Some(match s {
            "created" => Figure::Created,
            "unanswered" => Figure::Unanswered,
            "resolved" => Figure::Resolved,
            "first_contact_resolved" => Figure::FirstContactResolved,
            "reopened" => Figure::Reopened,
            "escalated" => Figure::Escalated,
            "self_served" => Figure::SelfServed,
            "sla_breached" => Figure::SlaBreached,
            "backlog" => Figure::Backlog,
            "knowledge_linked" => Figure::KnowledgeLinked,
            "knowledge_reused" => Figure::KnowledgeReused,
            "rated_bad" => Figure::RatedBad,
            _ => return None,
        })
    }

    /// Whether `c` counts in this figure over `period`, seen at `now`.
    fn counts(self, c: &ConversationFacts, period: &Period, now: i64) -> bool {
        if self == Figure::Backlog {
            return c.open_at(period.end.min(now));
        }
        period.contains(c.created_at)
            && match self {
                Figure::Created | Figure::Backlog => true,
                Figure::Unanswered => c.first_response_at.is_none(),
                Figure::Resolved => c.first_resolved_at().is_some(),
                Figure::FirstContactResolved => c.first_contact_resolved(),
                Figure::Reopened => c.reopens() > 0,
                Figure::Escalated => c.escalated(),
                Figure::SelfServed => c.self_served(),
                Figure::RatedBad => c.rating == Some(false),
                Figure::KnowledgeLinked => c.first_resolved_at().is_some() && c.knowledge_linked(),
                Figure::KnowledgeReused => c
                    .events
                    .iter()
                    .any(|e| e.from_case && matches!(e.kind, EventKind::KnowledgeSent | EventKind::KnowledgeSuggested)),
                Figure::SlaBreached => {
                    let at = period.end.min(now);
                    c.timers.iter().any(|t| t.outcome(at) == TimerOutcome::Breached)
                }
            }
    }
}

/// What a request asks for, checked.
struct Request {
    period: Period,
    filter: Filter,
    by: Option<Dimension>,
    figure: Figure,
}

fn request(state: &AppState, agent: &CurrentAgent, p: Params) -> Result<Request, ApiError> {
    if !agent.is_supervisor() {
        return Err(ApiError::Forbidden("reports are for supervisors and admins".into()));
    }
    let tz = state.sla.current().reporting_calendar().time_zone();
    let period = match (&p.from, &p.to) {
        (Some(from), Some(to)) => Period::new(tz, date("from", from)?, date("to", to)?)
            .map_err(|e| ApiError::BadRequest("bad_period", e.to_string()))?,
        (None, None) => Period::last_days(tz, state.clock.now_ms(), p.days.unwrap_or(7)),
        _ => {
            return Err(ApiError::BadRequest(
                "bad_period",
                "give both from and to, or neither".into(),
            ));
        }
    };
    let by = match p.by.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            Dimension::parse(s)
                .ok_or_else(|| ApiError::BadRequest("bad_dimension", "by: channel, priority, queue or agent".into()))?,
        ),
    };
    let figure = match p.figure.as_deref() {
        None | Some("") => Figure::Created,
        Some(s) => Figure::parse(s).ok_or_else(|| ApiError::BadRequest("bad_figure", format!("no figure {s:?}")))?,
    };
    let keep = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    Ok(Request {
        period,
        filter: Filter {
            channel: keep(p.channel),
            priority: keep(p.priority),
            queue: keep(p.queue),
            agent: p.agent,
        },
        by,
        figure,
    })
}

/// The facts of the filtered conversations that were open at some time
/// from `start` to the period's end.
async fn facts(state: &AppState, start: i64, r: &Request) -> Result<Vec<ConversationFacts>, ApiError> {
    let mut rows = state.store.report_facts(start, r.period.end).await?;
    rows.retain(|c| r.filter.accepts(c));
    Ok(rows)
}

/// The hotline's figures over a period, beside the period before.
///
/// First response, first-contact resolution, backlog, escalations, service
/// levels, self-service, satisfaction; each day's counts; optionally broken
/// down. Supervisors and admins.
#[utoipa::path(get, path = "/api/v1/reports/kpis", tag = "reports", params(Params),
    responses((status = 200, body = Report)))]
async fn kpis(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Query(p): Query<Params>,
) -> Result<Json<Report>, ApiError> {
    let r = request(&state, &agent, p)?;
    let sla = state.sla.current();
    let calendar = sla.reporting_calendar();
    let tz = calendar.time_zone();
    let previous = r.period.previous(tz);
    let now = state.clock.now_ms();
    // One read covers both periods.
    let rows = facts(&state, previous.start, &r).await?;
    let all: Vec<&ConversationFacts> = rows.iter().collect();
    let (current, earlier) = kpi::with_previous(&all, &r.period, &previous, calendar, now);
    let groups = r.by.map(|d| kpi::by(d, &all, &r.period, calendar, now));
    Ok(Json(Report {
        period: Span::of(&r.period),
        previous_period: Span::of(&previous),
        time_zone: tz.name().to_string(),
        calendar: calendar.name.clone(),
        // From 23:00 UTC the browser's own date is a day behind Paris.
        today: period::local_day(tz, now).to_string(),
        kpis: current,
        previous: earlier,
        groups,
        definitions: kpi::DEFINITIONS
            .iter()
            .map(|(term, meaning)| Definition { term, meaning })
            .collect(),
    }))
}

/// The rows behind a figure, one per conversation, oldest first.
async fn rows(state: &AppState, r: &Request) -> Result<Vec<ConversationRow>, ApiError> {
    let sla = state.sla.current();
    let calendar = sla.reporting_calendar();
    let now = state.clock.now_ms();
    let facts = facts(state, r.period.start, r).await?;
    Ok(facts
        .iter()
        .filter(|c| r.figure.counts(c, &r.period, now))
        .map(|c| ConversationRow::of(c, calendar, r.period.end.min(now)))
        .collect())
}

/// The conversations behind a figure, one row each, oldest first.
///
/// Supervisors and admins.
#[utoipa::path(get, path = "/api/v1/reports/conversations", tag = "reports", params(Params),
    responses((status = 200, body = Rows)))]
async fn conversations(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Query(p): Query<Params>,
) -> Result<Json<Rows>, ApiError> {
    let r = request(&state, &agent, p)?;
    let rows = rows(&state, &r).await?;
    Ok(Json(Rows { rows }))
}

fn csv_response(name: &str, r: &Request, body: Result<String, export::ExportError>) -> Result<Response, ApiError> {
    let body = body.map_err(|e| ApiError::Internal(e.to_string()))?;
    let file = format!("switchyard-{name}-{}-{}.csv", r.period.from, r.period.to);
    Ok(super::attachment("text/csv; charset=utf-8", &file, body))
}

/// The conversations behind a figure, as CSV (the JSON rows, field for field).
#[utoipa::path(get, path = "/api/v1/reports/conversations.csv", tag = "reports", params(Params),
    responses((status = 200, description = "CSV with a header line", content_type = "text/csv")))]
async fn conversations_csv(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Query(p): Query<Params>,
) -> Result<Response, ApiError> {
    let r = request(&state, &agent, p)?;
    let rows = rows(&state, &r).await?;
    csv_response("conversations", &r, export::csv(&rows, export::CONVERSATION_HEADER))
}

/// The figures of each group (by agent unless `by` says otherwise), as CSV.
#[utoipa::path(get, path = "/api/v1/reports/groups.csv", tag = "reports", params(Params),
    responses((status = 200, description = "CSV with a header line", content_type = "text/csv")))]
async fn groups_csv(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Query(p): Query<Params>,
) -> Result<Response, ApiError> {
    let r = request(&state, &agent, p)?;
    let by = r.by.unwrap_or(Dimension::Agent);
    let sla = state.sla.current();
    let calendar = sla.reporting_calendar();
    let facts = facts(&state, r.period.start, &r).await?;
    let all: Vec<&ConversationFacts> = facts.iter().collect();
    let groups = kpi::by(by, &all, &r.period, calendar, state.clock.now_ms());
    let rows: Vec<GroupRow> = groups.iter().map(GroupRow::of).collect();
    csv_response("groups", &r, export::csv(&rows, export::GROUP_HEADER))
}

/// Each day's counts over the period, as CSV.
#[utoipa::path(get, path = "/api/v1/reports/days.csv", tag = "reports", params(Params),
    responses((status = 200, description = "CSV with a header line", content_type = "text/csv")))]
async fn days_csv(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Query(p): Query<Params>,
) -> Result<Response, ApiError> {
    let r = request(&state, &agent, p)?;
    let sla = state.sla.current();
    let calendar = sla.reporting_calendar();
    let facts = facts(&state, r.period.start, &r).await?;
    let all: Vec<&ConversationFacts> = facts.iter().collect();
    let k = kpi::compute(&all, &r.period, calendar, state.clock.now_ms());
    csv_response("days", &r, export::csv(&k.days, export::DAY_HEADER))
}

/// What the hotline's level 1 and triage are worth in expert time, over a period.
///
/// The last calendar month by default: the variables Switchyard measures
/// from the period's conversations, the ones a supervisor entered (or their
/// typical values, marked assumed), the figures. Supervisors and admins.
#[utoipa::path(get, path = "/api/v1/reports/worth", tag = "reports", params(Params),
    responses((status = 200, body = Worth)))]
async fn worth(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Query(mut p): Query<Params>,
) -> Result<Json<Worth>, ApiError> {
    let tz = state.sla.current().reporting_calendar().time_zone();
    let now = state.clock.now_ms();
    if p.from.is_none() && p.to.is_none() && p.days.is_none() {
        let month = Period::last_month(tz, now);
        p.from = Some(month.from.to_string());
        p.to = Some(month.to.to_string());
    }
    let r = request(&state, &agent, p)?;
    let rows = facts(&state, r.period.start, &r).await?;
    let cohort: Vec<&ConversationFacts> = rows.iter().filter(|c| r.period.contains(c.created_at)).collect();
    let reviews = state.store.reports_validated(r.period.start, r.period.end).await?;
    let mut minutes: Vec<i64> = reviews.iter().map(|ms| ms / 60_000).collect();
    minutes.sort_unstable();
    let median = (!minutes.is_empty()).then(|| minutes[(minutes.len() - 1) / 2] as f64);
    let arrivals = state.store.arrivals(r.period.start, r.period.end).await?;
    let arrived = worth::arrived_complete(&arrivals, &state.level1);
    let measured = worth::Measured::of(&cohort, reviews.len(), median, arrived);
    let entered = state.store.worth_inputs().await?;
    let estimate = worth::estimate(&measured, &entered);
    Ok(Json(Worth {
        period: Dates {
            from: r.period.from.to_string(),
            to: r.period.to.to_string(),
        },
        estimate,
    }))
}

/// Enters the variables Switchyard cannot measure, by name.
///
/// Supervisors and admins.
#[utoipa::path(put, path = "/api/v1/reports/worth/inputs", tag = "reports",
    request_body(content = std::collections::BTreeMap<String, f64>, description = "Variable name to value"),
    responses((status = 200, body = WorthInputs)))]
async fn worth_inputs(
    State(state): State<AppState>,
    agent: CurrentAgent,
    super::error::ApiJson(body): super::error::ApiJson<std::collections::BTreeMap<String, f64>>,
) -> Result<Json<WorthInputs>, ApiError> {
    if !agent.is_supervisor() {
        return Err(ApiError::Forbidden(
            "the worth estimate is for supervisors and admins".into(),
        ));
    }
    let values: Vec<(String, f64)> = body.into_iter().collect();
    worth::check_inputs(&values).map_err(|e| ApiError::BadRequest("bad_input", e))?;
    state
        .store
        .set_worth_inputs(&values, agent.id, state.clock.now_ms())
        .await?;
    Ok(Json(WorthInputs {
        inputs: state.store.worth_inputs().await?.into_iter().collect(),
    }))
}
