//! Reporting facts: the events written beside their cause, and the rows a
//! report reads — every conversation open at some time in a window, with its
//! events, SLA timers, escalations and ratings, in five queries.

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::batch::SqlBatch;
use super::{Result, Store};
use crate::ids::{AgentId, ConversationId};
use crate::reports::facts::{ConversationFacts, EscalationFact, Event, EventKind, TimerFact};
use crate::reports::worth::Arrival;
use crate::sla::TimerKind;

/// Records a reporting event in the caller's transaction.
pub async fn record_event(
    conn: &mut AnyConnection,
    conversation: ConversationId,
    kind: EventKind,
    at: i64,
    agent: Option<AgentId>,
    detail: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO conversation_events (conversation_id, kind, at, agent_id, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(conversation.0)
    .bind(kind.as_str())
    .bind(at)
    .bind(agent.map(|a| a.0))
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
}

/// A reporting event a batch writes beside its cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub conversation: ConversationId,
    pub kind: EventKind,
    pub at: i64,
    pub detail: Option<String>,
}

pub fn push_events(batch: &mut SqlBatch, rows: &[NewEvent]) {
    for chunk in rows.chunks(400) {
        batch.statement(
            "INSERT INTO conversation_events (conversation_id, kind, at, agent_id, detail) VALUES ",
            chunk.len() * 4,
        );
        for e in chunk {
            batch.row();
            batch.value(e.conversation.0);
            batch.value(e.kind.as_str());
            batch.value(e.at);
            batch.text(", NULL");
            batch.value(e.detail.clone());
            batch.end_row();
        }
    }
}

/// Conversations created before `$2` and not resolved for good before `$1`:
/// those open at some time in the window (a conversation whose last
/// resolution came before the window was closed all through it).
const IN_WINDOW: &str = "c.created_at < $2 AND (c.status <> 'resolved' OR c.resolved_at >= $1)";

#[derive(sqlx::FromRow)]
struct ConversationLine {
    id: i64,
    channel: String,
    priority: String,
    queue: String,
    assignee_id: Option<i64>,
    assignee_name: Option<String>,
    status: String,
    created_at: i64,
    first_response_at: Option<i64>,
    resolved_at: Option<i64>,
    agent_replies: i64,
}

#[derive(sqlx::FromRow)]
struct TimerLine {
    conversation_id: i64,
    kind: String,
    state: String,
    met_at: Option<i64>,
    breached_at: Option<i64>,
    due_at: Option<i64>,
}

impl Store {
    /// The facts of every conversation open at some time in `[start, end)`,
    /// oldest first.
    pub async fn report_facts(&self, start: i64, end: i64) -> Result<Vec<ConversationFacts>> {
        let lines: Vec<ConversationLine> = sqlx::query_as(&format!(
            "SELECT c.id, c.channel, c.priority, c.queue, c.assignee_id, a.display_name AS assignee_name, c.status, \
             c.created_at, c.first_response_at, c.resolved_at, \
             (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'out' \
              AND m.author_kind IN ('agent', 'business_app')) AS agent_replies \
             FROM conversations c LEFT JOIN agents a ON a.id = c.assignee_id WHERE {IN_WINDOW} \
             ORDER BY c.created_at, c.id"
        ))
        .bind(start)
        .bind(end)
        .fetch_all(self.reader())
        .await?;
        let mut index: HashMap<i64, usize> = HashMap::with_capacity(lines.len());
        let mut out: Vec<ConversationFacts> = Vec::with_capacity(lines.len());
        for l in lines {
            index.insert(l.id, out.len());
            out.push(ConversationFacts {
                id: l.id,
                channel: l.channel,
                priority: l.priority,
                queue: l.queue,
                agent: l.assignee_id.map(|id| (id, l.assignee_name.unwrap_or_default())),
                open: l.status != "resolved",
                created_at: l.created_at,
                first_response_at: l.first_response_at,
                resolved_at: l.resolved_at,
                agent_replies: u32::try_from(l.agent_replies).unwrap_or(u32::MAX),
                events: Vec::new(),
                timers: Vec::new(),
                escalations: Vec::new(),
                rating: None,
            });
        }

        let events: Vec<(i64, String, i64, Option<String>)> = sqlx::query_as(&format!(
            "SELECT e.conversation_id, e.kind, e.at, e.detail FROM conversation_events e \
             JOIN conversations c ON c.id = e.conversation_id WHERE {IN_WINDOW} ORDER BY e.at, e.id"
        ))
        .bind(start)
        .bind(end)
        .fetch_all(self.reader())
        .await?;
        for (id, kind, at, detail) in events {
            if let (Some(&i), Some(kind)) = (index.get(&id), EventKind::parse(&kind)) {
                let from_case = detail.is_some_and(|d| super::knowledge::is_from_case(&d));
                out[i].events.push(Event { kind, at, from_case });
            }
        }

        let timers: Vec<TimerLine> = sqlx::query_as(&format!(
            "SELECT t.conversation_id, t.kind, t.state, t.met_at, t.breached_at, t.due_at FROM sla_timers t \
             JOIN conversations c ON c.id = t.conversation_id WHERE {IN_WINDOW}"
        ))
        .bind(start)
        .bind(end)
        .fetch_all(self.reader())
        .await?;
        for t in timers {
            if let (Some(&i), Some(kind)) = (index.get(&t.conversation_id), TimerKind::parse(&t.kind)) {
                out[i].timers.push(TimerFact {
                    kind,
                    met_at: t.met_at,
                    breached_at: t.breached_at,
                    due_at: t.due_at,
                    stopped: t.state == "stopped",
                });
            }
        }

        let escalations: Vec<(i64, String, Option<String>)> = sqlx::query_as(&format!(
            "SELECT e.conversation_id, e.kind, e.outcome FROM escalations e \
             JOIN conversations c ON c.id = e.conversation_id WHERE {IN_WINDOW} ORDER BY e.id"
        ))
        .bind(start)
        .bind(end)
        .fetch_all(self.reader())
        .await?;
        for (id, kind, outcome) in escalations {
            if let Some(&i) = index.get(&id) {
                out[i].escalations.push(EscalationFact { kind, outcome });
            }
        }

        let ratings: Vec<(i64, String)> = sqlx::query_as(&format!(
            "SELECT s.conversation_id, s.rating FROM satisfaction s \
             JOIN conversations c ON c.id = s.conversation_id WHERE {IN_WINDOW} AND s.rating IS NOT NULL"
        ))
        .bind(start)
        .bind(end)
        .fetch_all(self.reader())
        .await?;
        for (id, rating) in ratings {
            if let Some(&i) = index.get(&id) {
                out[i].rating = Some(rating == "good");
            }
        }
        Ok(out)
    }
}

#[derive(sqlx::FromRow)]
struct AnsweredLine {
    id: i64,
    queue: String,
    priority: String,
    customer_phone: Option<String>,
    machine_serial: Option<String>,
    /// Level 1's known facts, when its state did not change after the first answer.
    qualified: Option<String>,
}

impl Store {
    /// For each conversation created in `[start, end)` that an agent
    /// answered: what was known when they first did.
    pub async fn arrivals(&self, start: i64, end: i64) -> Result<Vec<Arrival>> {
        let rows: Vec<AnsweredLine> = sqlx::query_as(
            "SELECT c.id, c.queue, c.priority, c.customer_phone, c.machine_serial, \
             CASE WHEN q.updated_at <= c.first_response_at THEN q.known END AS qualified \
             FROM conversations c LEFT JOIN qualifications q ON q.conversation_id = c.id \
             WHERE c.created_at >= $1 AND c.created_at < $2 AND c.first_response_at IS NOT NULL ORDER BY c.id",
        )
        .bind(start)
        .bind(end)
        .fetch_all(self.reader())
        .await?;
        let mut index: HashMap<i64, usize> = HashMap::with_capacity(rows.len());
        let mut out = Vec::with_capacity(rows.len());
        for l in rows {
            index.insert(l.id, out.len());
            out.push(Arrival {
                queue: l.queue,
                critical: l.priority == "critical",
                fields: Vec::new(),
                phone: l.customer_phone.is_some_and(|p| !p.trim().is_empty()),
                serial: l.machine_serial.is_some_and(|s| !s.trim().is_empty()),
                qualified: l
                    .qualified
                    .map(|k| k.split(',').filter_map(crate::level1::Fact::parse).collect())
                    .unwrap_or_default(),
            });
        }
        let verdicts: Vec<(i64, String)> = sqlx::query_as(
            "SELECT v.conversation_id, v.detail FROM verdicts v JOIN conversations c ON c.id = v.conversation_id \
             WHERE c.created_at >= $1 AND c.created_at < $2 AND c.first_response_at IS NOT NULL \
             AND v.created_at <= c.first_response_at",
        )
        .bind(start)
        .bind(end)
        .fetch_all(self.reader())
        .await?;
        for (id, detail) in verdicts {
            // A verdict this version cannot read says nothing about the facts.
            if let (Some(&i), Ok(v)) = (index.get(&id), serde_json::from_str::<triage::Verdict>(&detail)) {
                out[i].fields.push(v.fields);
            }
        }
        Ok(out)
    }
}
