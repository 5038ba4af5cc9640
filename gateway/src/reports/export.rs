//! One row per conversation, per group or per day: the same rows as JSON and
//! as CSV, times in the calendar's zone, durations in business and calendar
//! minutes, so a spreadsheet gets what the page shows.

use chrono_tz::Tz;
use serde::Serialize;

use super::facts::{ConversationFacts, TimerOutcome};
use super::kpi::Group;
use crate::sla::{Calendar, TimerKind};

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = ReportRow)]
pub struct ConversationRow {
    pub ticket: String,
    pub channel: String,
    pub priority: String,
    pub queue: String,
    pub agent: String,
    pub status: &'static str,
    pub created_at: String,
    pub first_response_at: String,
    pub first_response_minutes: Option<i64>,
    pub first_response_business_minutes: Option<i64>,
    pub resolved_at: String,
    pub resolution_minutes: Option<i64>,
    pub resolution_business_minutes: Option<i64>,
    pub agent_replies: u32,
    pub reopens: usize,
    pub first_contact_resolved: bool,
    pub self_served: bool,
    pub knowledge_sent: bool,
    pub escalations: String,
    pub callback_outcomes: String,
    pub sla_first_response: &'static str,
    pub sla_resolution: &'static str,
    /// `good`, `bad`, or empty when not rated.
    pub satisfaction: &'static str,
}

fn local(tz: Tz, at: Option<i64>) -> String {
    at.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn sla_state(c: &ConversationFacts, kind: TimerKind, at: i64) -> &'static str {
    match c.timer(kind).map(|t| t.outcome(at)) {
        None => "",
        Some(TimerOutcome::Met) => "met",
        Some(TimerOutcome::Breached) => "breached",
        Some(TimerOutcome::Running) => "running",
        Some(TimerOutcome::Stopped) => "stopped",
    }
}

impl ConversationRow {
    /// `at`: the instant SLA outcomes are judged at (the period's end, or now).
    pub fn of(c: &ConversationFacts, calendar: &Calendar, at: i64) -> ConversationRow {
        let tz = calendar.time_zone();
        let minutes = |to: Option<i64>| to.map(|t| (t - c.created_at).max(0) / 60_000);
        let business = |to: Option<i64>| to.map(|t| calendar.between(c.created_at, t) / 60_000);
        let resolved = c.first_resolved_at();
        let list = |items: Vec<&str>| items.join(" ");
        ConversationRow {
            ticket: format!("SY-{}", c.id),
            channel: c.channel.clone(),
            priority: c.priority.clone(),
            queue: c.queue.clone(),
            agent: c.agent.as_ref().map(|(_, n)| n.clone()).unwrap_or_default(),
            status: if c.open { "open" } else { "resolved" },
            created_at: local(tz, Some(c.created_at)),
            first_response_at: local(tz, c.first_response_at),
            first_response_minutes: minutes(c.first_response_at),
            first_response_business_minutes: business(c.first_response_at),
            resolved_at: local(tz, resolved),
            resolution_minutes: minutes(resolved),
            resolution_business_minutes: business(resolved),
            agent_replies: c.agent_replies,
            reopens: c.reopens(),
            first_contact_resolved: c.first_contact_resolved(),
            self_served: c.self_served(),
            knowledge_sent: c.knowledge_sent(),
            escalations: list(c.escalations.iter().map(|e| e.kind.as_str()).collect()),
            callback_outcomes: list(
                c.escalations
                    .iter()
                    .filter(|e| e.kind == "callback")
                    .map(|e| e.outcome.as_deref().unwrap_or("pending"))
                    .collect(),
            ),
            sla_first_response: sla_state(c, TimerKind::FirstResponse, at),
            sla_resolution: sla_state(c, TimerKind::Resolution, at),
            satisfaction: match c.rating {
                Some(true) => "good",
                Some(false) => "bad",
                None => "",
            },
        }
    }
}

/// A group's headline figures, flat for a spreadsheet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupRow {
    pub key: String,
    pub label: String,
    pub volume: usize,
    pub first_response_median_business_minutes: Option<i64>,
    pub first_response_p90_business_minutes: Option<i64>,
    pub resolution_median_business_minutes: Option<i64>,
    pub resolved: usize,
    pub first_contact_resolution: Option<f64>,
    pub reopen_rate: Option<f64>,
    pub sla_first_response_compliance: Option<f64>,
    pub sla_resolution_compliance: Option<f64>,
    pub escalation_rate: Option<f64>,
    pub self_service_rate: Option<f64>,
    pub satisfaction: Option<f64>,
    pub backlog: usize,
}

impl GroupRow {
    pub fn of(g: &Group) -> GroupRow {
        let k = &g.kpis;
        let min = |ms: Option<i64>| ms.map(|v| v / 60_000);
        let compliance = |target: &str| k.sla.iter().find(|t| t.target == target).and_then(|t| t.compliance);
        GroupRow {
            key: g.key.clone(),
            label: g.label.clone(),
            volume: k.volume,
            first_response_median_business_minutes: min(k.first_response.business.median_ms),
            first_response_p90_business_minutes: min(k.first_response.business.p90_ms),
            resolution_median_business_minutes: min(k.resolution.business.median_ms),
            resolved: k.resolved,
            first_contact_resolution: k.first_contact_resolution.rate,
            reopen_rate: k.reopened.rate,
            sla_first_response_compliance: compliance("first_response"),
            sla_resolution_compliance: compliance("resolution"),
            escalation_rate: k.escalated.rate,
            self_service_rate: k.self_service.rate,
            satisfaction: k.satisfaction.rate,
            backlog: k.backlog.open,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("csv: {0}")]
pub struct ExportError(String);

/// Rows as CSV with a header line (an empty list still has its header).
pub fn csv<T: Serialize>(rows: &[T], header_of_empty: &[&str]) -> Result<String, ExportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    if rows.is_empty() {
        w.write_record(header_of_empty)
            .map_err(|e| ExportError(e.to_string()))?;
    }
    for r in rows {
        w.serialize(r).map_err(|e| ExportError(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| ExportError(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| ExportError(e.to_string()))
}

/// The header of each row type, for an export with no rows.
pub const CONVERSATION_HEADER: &[&str] = &[
    "ticket",
    "channel",
    "priority",
    "queue",
    "agent",
    "status",
    "created_at",
    "first_response_at",
    "first_response_minutes",
    "first_response_business_minutes",
    "resolved_at",
    "resolution_minutes",
    "resolution_business_minutes",
    "agent_replies",
    "reopens",
    "first_contact_resolved",
    "self_served",
    "knowledge_sent",
    "escalations",
    "callback_outcomes",
    "sla_first_response",
    "sla_resolution",
    "satisfaction",
];

pub const GROUP_HEADER: &[&str] = &[
    "key",
    "label",
    "volume",
    "first_response_median_business_minutes",
    "first_response_p90_business_minutes",
    "resolution_median_business_minutes",
    "resolved",
    "first_contact_resolution",
    "reopen_rate",
    "sla_first_response_compliance",
    "sla_resolution_compliance",
    "escalation_rate",
    "self_service_rate",
    "satisfaction",
    "backlog",
];

pub const DAY_HEADER: &[&str] = &["date", "created", "resolved", "open_at_end"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::facts::tests::conversation;
    use crate::reports::facts::{EscalationFact, Event, EventKind};

    #[test]
    fn a_conversation_row_quotes_what_csv_must_quote_and_keeps_every_column() {
        let mut c = conversation(42, 0);
        c.agent = Some((1, "Ana \"the expert\", level 2".into()));
        c.first_response_at = Some(90 * 60_000);
        c.agent_replies = 1;
        c.open = false;
        c.resolved_at = Some(3 * 3_600_000);
        c.events = vec![Event {
            kind: EventKind::Resolved,
            at: 3 * 3_600_000,
            from_case: false,
        }];
        c.escalations = vec![EscalationFact {
            kind: "callback".into(),
            outcome: None,
        }];
        let row = ConversationRow::of(&c, &Calendar::always(), 0);
        assert_eq!(row.first_response_minutes, Some(90));
        assert_eq!(row.resolution_business_minutes, Some(180));
        assert_eq!(row.created_at, "1970-01-01 00:00");
        let out = csv(&[row], CONVERSATION_HEADER).unwrap_or_else(|e| panic!("{e}"));
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some(CONVERSATION_HEADER.join(",").as_str()));
        let line = lines.next().unwrap_or_default();
        assert!(line.starts_with("SY-42,email,important,experts,\"Ana \"\"the expert\"\", level 2\",resolved,"));
        assert!(line.contains(",true,false,false,callback,pending,,"), "{line}");
    }

    #[test]
    fn group_and_day_headers_are_the_serialized_field_names() {
        let period = crate::reports::period::Period::last_days(chrono_tz::UTC, 0, 1);
        let k = crate::reports::kpi::compute(&[], &period, &Calendar::always(), 0);
        let group = Group {
            key: "email".into(),
            label: "email".into(),
            kpis: k.clone(),
        };
        let out = csv(&[GroupRow::of(&group)], GROUP_HEADER).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.lines().next(), Some(GROUP_HEADER.join(",").as_str()));
        let out = csv(&k.days, DAY_HEADER).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.lines().next(), Some(DAY_HEADER.join(",").as_str()));
    }

    #[test]
    fn an_empty_export_still_has_its_header() {
        let out = csv::<ConversationRow>(&[], CONVERSATION_HEADER).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.trim_end(), CONVERSATION_HEADER.join(","));
    }
}
