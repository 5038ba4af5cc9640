//! Dispatch facts: agents' queues, caps and presence, and the automatic
//! assignment pass (one transaction: no-answer offers withdrawn, then the
//! facts read, `dispatch::offer::plan` decides, the offers written).

use std::collections::HashMap;

use serde::Serialize;
use sqlx::FromRow;

use super::messages::{self, Direction};
use super::{Result, Store};
use crate::dispatch::offer::{self, Seat, Waiting};
use crate::ids::{AgentId, ConversationId};

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct AgentDispatch {
    pub id: i64,
    pub display_name: String,
    pub presence: String,
    pub max_open: i64,
    pub open: i64,
}

/// A conversation answered from the knowledge base waits for the customer's
/// verdict ("did this solve it?") until the check's `hold_until`, unless the
/// customer wrote again after the answer (`$1`: now).
const HELD: &str = "SELECT 1 FROM knowledge_checks k WHERE k.conversation_id = q.conversation_id \
     AND k.outcome IS NULL AND k.hold_until > $1 AND NOT EXISTS (SELECT 1 FROM messages m \
     WHERE m.conversation_id = k.conversation_id AND m.direction = 'in' AND m.id > k.message_id)";

/// What one pass changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pass {
    pub assigned: Vec<(ConversationId, AgentId)>,
    /// Offers withdrawn because the agent did not answer in time.
    pub withdrawn: Vec<(ConversationId, AgentId)>,
}

impl Store {
    pub async fn set_presence(&self, agent: AgentId, presence: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE agents SET presence = $2, presence_at = $3 WHERE id = $1")
            .bind(agent.0)
            .bind(presence)
            .bind(now)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Which queues an agent works and how many open conversations they may hold; false when no such agent.
    pub async fn set_agent_dispatch(&self, agent: AgentId, queues: &[String], max_open: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let found = sqlx::query("UPDATE agents SET max_open = $2 WHERE id = $1")
            .bind(agent.0)
            .bind(max_open)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if found == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM agent_queues WHERE agent_id = $1")
            .bind(agent.0)
            .execute(&mut *tx)
            .await?;
        for q in queues {
            sqlx::query("INSERT INTO agent_queues (agent_id, queue) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(agent.0)
                .bind(q)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn agent_queues(&self, agent: AgentId) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT queue FROM agent_queues WHERE agent_id = $1 ORDER BY queue")
                .bind(agent.0)
                .fetch_all(&self.reader)
                .await?,
        )
    }

    /// Every agent with presence, cap and current load.
    pub async fn agents_dispatch(&self) -> Result<Vec<AgentDispatch>> {
        Ok(sqlx::query_as(
            "SELECT a.id, a.display_name, a.presence, a.max_open, \
             (SELECT COUNT(*) FROM conversations c WHERE c.assignee_id = a.id AND c.status = 'open') AS open \
             FROM agents a ORDER BY a.id",
        )
        .fetch_all(&self.reader)
        .await?)
    }

    /// One assignment pass at `now`; offers unanswered for `answer_timeout_ms` go to the next agent.
    pub async fn assignment_pass(&self, now: i64, answer_timeout_ms: i64) -> Result<Pass> {
        let mut pass = Pass::default();
        let mut tx = self.begin().await?;

        // 1. Offers nobody answered: back to the queue, that agent skipped for this conversation.
        let stale: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT c.id, c.assignee_id, a.display_name, c.channel, c.endpoint FROM conversations c \
             JOIN agents a ON a.id = c.assignee_id \
             WHERE c.status = 'open' AND c.assigned_at IS NOT NULL AND c.assigned_at <= $1 \
             AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'out' \
                             AND m.author_kind = 'agent' AND m.created_at >= c.assigned_at)",
        )
        .bind(now - answer_timeout_ms)
        .fetch_all(&mut *tx)
        .await?;
        for (conversation, agent, name, channel, endpoint) in stale {
            sqlx::query(
                "UPDATE conversations SET assignee_id = NULL, assigned_at = NULL, updated_at = $2 WHERE id = $1",
            )
            .bind(conversation)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE assignment_log SET outcome = 'no_answer' WHERE conversation_id = $1 AND agent_id = $2 \
                 AND outcome = 'offered'",
            )
            .bind(conversation)
            .bind(agent)
            .execute(&mut *tx)
            .await?;
            let note = format!(
                "Offered to {name} {} min ago without an answer: offered to the next agent.",
                answer_timeout_ms / 60_000
            );
            messages::insert_system(
                &mut tx,
                &messages::SystemMessage {
                    conversation_id: ConversationId(conversation),
                    direction: Direction::Note,
                    author_name: Some("Dispatch"),
                    channel: &channel,
                    endpoint: &endpoint,
                    body: &note,
                    created_at: now,
                },
            )
            .await?;
            pass.withdrawn.push((ConversationId(conversation), AgentId(agent)));
        }

        // 2. The facts, read once: who can take more, per queue; what waits,
        // most urgent first, then the longest waiting; who let what go.
        let seats: Vec<Seat> = sqlx::query_as::<_, (i64, String, i64, i64)>(
            "SELECT a.id, q.queue, a.max_open, \
             (SELECT COUNT(*) FROM conversations c WHERE c.assignee_id = a.id AND c.status = 'open') \
             FROM agents a JOIN agent_queues q ON q.agent_id = a.id WHERE a.presence = 'online' AND a.disabled = 0",
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|(agent, queue, max_open, open)| Seat {
            agent,
            queue,
            max_open,
            open,
        })
        .collect();
        if !seats.iter().any(|s| s.open < s.max_open) {
            tx.commit().await?;
            return Ok(pass);
        }
        let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
            "SELECT q.conversation_id, q.queue FROM queue_entries q JOIN conversations c ON c.id = q.conversation_id \
             WHERE c.assignee_id IS NULL AND c.status = 'open' AND NOT EXISTS ({HELD}) \
             ORDER BY q.priority_rank, COALESCE(q.waiting_since, c.created_at), q.conversation_id LIMIT 1000"
        ))
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let unanswered: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT l.conversation_id, l.agent_id FROM assignment_log l \
             JOIN conversations c ON c.id = l.conversation_id \
             WHERE l.outcome = 'no_answer' AND c.assignee_id IS NULL AND c.status = 'open'",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut skipped: HashMap<i64, Vec<i64>> = HashMap::new();
        for (conversation, agent) in unanswered {
            skipped.entry(conversation).or_default().push(agent);
        }
        let waiting: Vec<Waiting> = rows
            .into_iter()
            .map(|(conversation, queue)| Waiting {
                conversation,
                queue,
                skipped: skipped.remove(&conversation).unwrap_or_default(),
            })
            .collect();

        // 3. The decision, then the offers; one taken meanwhile (by an agent
        // helping themselves) is not logged as offered.
        for (conversation, agent) in offer::plan(&seats, &waiting) {
            let taken = sqlx::query(
                "UPDATE conversations SET assignee_id = $2, assigned_at = $3, updated_at = $3 \
                 WHERE id = $1 AND assignee_id IS NULL",
            )
            .bind(conversation)
            .bind(agent)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if taken == 0 {
                continue;
            }
            sqlx::query(
                "INSERT INTO assignment_log (conversation_id, agent_id, offered_at, outcome) VALUES ($1, $2, $3, 'offered')",
            )
            .bind(conversation)
            .bind(agent)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            pass.assigned.push((ConversationId(conversation), AgentId(agent)));
        }
        tx.commit().await?;
        Ok(pass)
    }
}
