//! SLA timers in the store. Each statement runs inside the caller's
//! transaction, so a timer changes together with what caused it.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::batch::SqlBatch;
use super::{Result, Store};
use crate::ids::ConversationId;
use crate::sla::{SlaPolicies, TimerKind};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct TimerRow {
    pub conversation_id: i64,
    pub kind: String,
    pub calendar: String,
    /// running | paused | met | breached | stopped
    pub state: String,
    pub budget_ms: i64,
    pub used_ms: i64,
    pub started_at: i64,
    pub running_since: Option<i64>,
    pub due_at: Option<i64>,
    pub met_at: Option<i64>,
    pub breached_at: Option<i64>,
}

#[derive(Debug, Clone, FromRow)]
pub struct QueuedTimer {
    pub queue: String,
    #[sqlx(flatten)]
    pub timer: TimerRow,
}

const COLUMNS: &str = "conversation_id, kind, calendar, state, budget_ms, used_ms, started_at, running_since, due_at, \
     met_at, breached_at";

/// Starts a timer. `restart`: replace a finished one (next response); otherwise keep an existing one.
pub async fn start(
    conn: &mut AnyConnection,
    policies: &SlaPolicies,
    conversation: ConversationId,
    priority: triage::Priority,
    kind: TimerKind,
    now: i64,
    restart: bool,
) -> Result<()> {
    let Some(timer) = TimerStart::new(policies, conversation, priority, kind, now, restart) else {
        return Ok(());
    };
    let mut batch = SqlBatch::for_connection(conn);
    push_starts(&mut batch, &[timer]);
    batch.execute(conn).await?;
    Ok(())
}

/// A timer a batch starts (see [`start`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerStart {
    pub conversation: ConversationId,
    pub kind: TimerKind,
    pub calendar: String,
    pub budget: i64,
    pub now: i64,
    pub due: i64,
    /// Replace a finished timer (next response); otherwise keep an existing one.
    pub restart: bool,
}

impl TimerStart {
    /// The start [`start`] would write; none when the policy sets no target.
    pub fn new(
        policies: &SlaPolicies,
        conversation: ConversationId,
        priority: triage::Priority,
        kind: TimerKind,
        now: i64,
        restart: bool,
    ) -> Option<Self> {
        let (budget, calendar) = policies.budget(priority, kind)?;
        Some(TimerStart {
            conversation,
            kind,
            calendar: calendar.name.clone(),
            budget,
            now,
            due: calendar.add(now, budget),
            restart,
        })
    }
}

/// Starts timers, each (conversation, kind) at most once: a statement may not upsert a row twice.
pub fn push_starts(batch: &mut SqlBatch, starts: &[TimerStart]) {
    for restart in [false, true] {
        let rows: Vec<&TimerStart> = starts.iter().filter(|s| s.restart == restart).collect();
        for chunk in rows.chunks(400) {
            batch.statement(&format!("INSERT INTO sla_timers ({COLUMNS}) VALUES "), chunk.len() * 6);
            for t in chunk {
                batch.row();
                batch.value(t.conversation.0);
                batch.value(t.kind.as_str());
                batch.value(t.calendar.clone());
                batch.text(", 'running'");
                batch.value(t.budget);
                batch.text(", 0");
                batch.value(t.now);
                batch.value(t.now);
                batch.value(t.due);
                batch.text(", NULL, NULL");
                batch.end_row();
            }
            batch.text(" ON CONFLICT (conversation_id, kind) ");
            batch.text(on_conflict(restart));
        }
    }
}

fn on_conflict(restart: bool) -> &'static str {
    if restart {
        "DO UPDATE SET calendar = excluded.calendar, state = 'running', budget_ms = excluded.budget_ms, used_ms = 0, \
         started_at = excluded.started_at, running_since = excluded.running_since, due_at = excluded.due_at, \
         met_at = NULL, breached_at = NULL WHERE sla_timers.state NOT IN ('running', 'paused')"
    } else {
        "DO NOTHING"
    }
}

/// The target was met (an agent answered; the conversation was resolved).
pub async fn meet(conn: &mut AnyConnection, conversation: ConversationId, kind: TimerKind, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE sla_timers SET state = 'met', met_at = $3, running_since = NULL \
         WHERE conversation_id = $1 AND kind = $2 AND state IN ('running', 'paused')",
    )
    .bind(conversation.0)
    .bind(kind.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Resolved: resolution met, the response timers no longer apply.
pub async fn close(conn: &mut AnyConnection, conversation: ConversationId, now: i64) -> Result<()> {
    meet(conn, conversation, TimerKind::Resolution, now).await?;
    sqlx::query(
        "UPDATE sla_timers SET state = 'stopped', running_since = NULL \
         WHERE conversation_id = $1 AND state IN ('running', 'paused')",
    )
    .bind(conversation.0)
    .execute(conn)
    .await?;
    Ok(())
}

async fn running(conn: &mut AnyConnection, conversation: ConversationId, state: &str) -> Result<Vec<TimerRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM sla_timers WHERE conversation_id = $1 AND state = $2"
    ))
    .bind(conversation.0)
    .bind(state)
    .fetch_all(conn)
    .await?)
}

/// Waiting for the customer: running timers stop counting, keeping what they used.
pub async fn pause(
    conn: &mut AnyConnection,
    policies: &SlaPolicies,
    conversation: ConversationId,
    now: i64,
) -> Result<()> {
    for t in running(conn, conversation, "running").await? {
        let used = t.used_ms
            + policies
                .calendar(&t.calendar)
                .between(t.running_since.unwrap_or(now), now);
        sqlx::query(
            "UPDATE sla_timers SET state = 'paused', used_ms = $3, running_since = NULL, due_at = NULL \
             WHERE conversation_id = $1 AND kind = $2 AND state = 'running'",
        )
        .bind(conversation.0)
        .bind(&t.kind)
        .bind(used)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The paused timers of a conversation.
pub async fn paused(conn: &mut AnyConnection, conversation: ConversationId) -> Result<Vec<TimerRow>> {
    running(conn, conversation, "paused").await
}

/// The paused timers of these conversations.
pub async fn paused_of(conn: &mut AnyConnection, conversations: &[i64]) -> Result<Vec<TimerRow>> {
    let mut out = Vec::new();
    for chunk in conversations.chunks(500) {
        let sql = format!(
            "SELECT {COLUMNS} FROM sla_timers WHERE state = 'paused' AND conversation_id IN ({})",
            super::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, TimerRow>(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        out.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// A paused timer running again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumed {
    pub conversation: ConversationId,
    pub kind: String,
    pub now: i64,
    pub due: i64,
}

/// The customer is back: paused timers run again with what is left of their budget.
pub fn resumed(policies: &SlaPolicies, conversation: ConversationId, paused: &[TimerRow], now: i64) -> Vec<Resumed> {
    paused
        .iter()
        .map(|t| Resumed {
            conversation,
            kind: t.kind.clone(),
            now,
            due: policies
                .calendar(&t.calendar)
                .add(now, (t.budget_ms - t.used_ms).max(0)),
        })
        .collect()
}

pub fn push_resumed(batch: &mut SqlBatch, rows: &[Resumed]) {
    for r in rows {
        batch.statement("UPDATE sla_timers SET state = 'running', running_since = ", 4);
        batch.bind(r.now);
        batch.text(", due_at = ");
        batch.bind(r.due);
        batch.text(" WHERE conversation_id = ");
        batch.bind(r.conversation.0);
        batch.text(" AND kind = ");
        batch.bind(r.kind.clone());
        batch.text(" AND state = 'paused'");
    }
}

/// Marks a due timer breached; false when someone else (or an answer) got there first.
pub async fn breach(conn: &mut AnyConnection, conversation: i64, kind: &str, now: i64) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE sla_timers SET state = 'breached', breached_at = $3 \
         WHERE conversation_id = $1 AND kind = $2 AND state = 'running' AND due_at <= $3",
    )
    .bind(conversation)
    .bind(kind)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

impl Store {
    /// Running timers whose due time has passed.
    pub async fn sla_due(&self, now: i64, limit: i64) -> Result<Vec<TimerRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM sla_timers WHERE state = 'running' AND due_at <= $1 ORDER BY due_at LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?)
    }

    /// When the next running timer falls due.
    pub async fn sla_next_due(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MIN(due_at) FROM sla_timers WHERE state = 'running'")
                .fetch_one(&self.reader)
                .await?,
        )
    }

    /// The timers of every conversation in a queue, with the queue: the
    /// inbox's SLA state per queue and per conversation in one read.
    pub async fn sla_timers_queued(&self) -> Result<Vec<QueuedTimer>> {
        Ok(sqlx::query_as(
            "SELECT q.queue, t.conversation_id, t.kind, t.calendar, t.state, t.budget_ms, t.used_ms, t.started_at, \
             t.running_since, t.due_at, t.met_at, t.breached_at \
             FROM sla_timers t JOIN queue_entries q ON q.conversation_id = t.conversation_id \
             WHERE t.state IN ('running', 'paused', 'breached') ORDER BY t.conversation_id",
        )
        .fetch_all(&self.reader)
        .await?)
    }

    pub async fn sla_timers(&self, conversation: ConversationId) -> Result<Vec<TimerRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM sla_timers WHERE conversation_id = $1 ORDER BY started_at, kind"
        ))
        .bind(conversation.0)
        .fetch_all(&self.reader)
        .await?)
    }
}
