//! What `/metrics` reads at scrape time: counts grouped by bounded labels,
//! one query each, on the read pool.

use super::sla::QueuedTimer;
use super::{Result, Store};

/// A count under up to two labels.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Count {
    pub a: String,
    pub b: String,
    pub n: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreCounts {
    /// Outgoing rows not handed over yet (`pending`, `sending`), by channel.
    pub outbox_depth: Vec<Count>,
    /// Rows given up on, by channel (they stay for agents to see).
    pub outbox_failed: Vec<Count>,
    /// WhatsApp media not downloaded yet.
    pub media_backlog: i64,
    /// Conversations not resolved, by queue and priority.
    pub open_conversations: Vec<Count>,
    /// Escalations by kind and status (`open`, `done`…).
    pub escalations: Vec<Count>,
}

impl Store {
    pub async fn metrics_counts(&self) -> Result<StoreCounts> {
        let grouped = |sql: &'static str| async move { sqlx::query_as::<_, Count>(sql).fetch_all(self.reader()).await };
        Ok(StoreCounts {
            outbox_depth: grouped(
                "SELECT channel AS a, '' AS b, COUNT(*) AS n FROM outbox \
                 WHERE status IN ('pending', 'sending') GROUP BY channel ORDER BY channel",
            )
            .await?,
            outbox_failed: grouped(
                "SELECT channel AS a, '' AS b, COUNT(*) AS n FROM outbox WHERE status = 'failed' \
                 GROUP BY channel ORDER BY channel",
            )
            .await?,
            media_backlog: sqlx::query_scalar(
                "SELECT COUNT(*) FROM media_jobs WHERE status IN ('pending', 'running')",
            )
            .fetch_one(self.reader())
            .await?,
            open_conversations: grouped(
                "SELECT queue AS a, priority AS b, COUNT(*) AS n FROM conversations \
                 WHERE status <> 'resolved' GROUP BY queue, priority ORDER BY queue, priority",
            )
            .await?,
            escalations: grouped(
                "SELECT kind AS a, status AS b, COUNT(*) AS n FROM escalations GROUP BY kind, status ORDER BY kind, status",
            )
            .await?,
        })
    }

    /// Customer messages the translation worker for `target` has not reached yet.
    pub async fn translation_backlog(&self, target: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages WHERE direction = 'in' \
             AND id > COALESCE((SELECT last_message_id FROM translation_progress WHERE target = $1), \
                               (SELECT MAX(id) FROM messages))",
        )
        .bind(target)
        .fetch_one(self.reader())
        .await?)
    }

    /// The live SLA timers of every unresolved conversation, with its queue.
    pub async fn sla_timers_open(&self) -> Result<Vec<QueuedTimer>> {
        Ok(sqlx::query_as(
            "SELECT c.queue, t.conversation_id, t.kind, t.calendar, t.state, t.budget_ms, t.used_ms, t.started_at, \
             t.running_since, t.due_at, t.met_at, t.breached_at \
             FROM sla_timers t JOIN conversations c ON c.id = t.conversation_id \
             WHERE c.status <> 'resolved' AND t.state IN ('running', 'paused', 'breached') ORDER BY t.conversation_id",
        )
        .fetch_all(self.reader())
        .await?)
    }
}
