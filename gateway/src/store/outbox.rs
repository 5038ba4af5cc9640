//! The durable outbox: a row exists before anything is sent, and records what happened.
//!
//! Status: `pending` (due at `next_attempt_at`) → `sending` (claimed by the worker)
//! → `delivered` | `sent` | `waiting` (web-chat visitor offline: delivered when
//! they come back) | `failed` (permanent, `last_error` says why).

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::batch::SqlBatch;
use super::{Result, Store};
use crate::ids::{ConversationId, MessageId, OutboxId};

/// `payload`: channel-specific content as JSON (a WhatsApp template, buttons).
pub async fn insert(
    conn: &mut AnyConnection,
    message: MessageId,
    conversation: ConversationId,
    channel: &str,
    payload: Option<&str>,
    now: i64,
) -> Result<OutboxId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO outbox (message_id, conversation_id, channel, status, attempts, next_attempt_at, created_at, updated_at, payload) \
         VALUES ($1, $2, $3, 'pending', 0, $4, $4, $4, $5) RETURNING id",
    )
    .bind(message.0)
    .bind(conversation.0)
    .bind(channel)
    .bind(now)
    .bind(payload)
    .fetch_one(conn)
    .await?;
    Ok(OutboxId(id))
}

/// An outbox row a batch writes with its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRow {
    pub message: MessageId,
    pub conversation: ConversationId,
    pub channel: &'static str,
    pub payload: Option<String>,
    pub now: i64,
}

pub fn push_rows(batch: &mut SqlBatch, rows: &[NewRow]) {
    for chunk in rows.chunks(400) {
        batch.statement(
            "INSERT INTO outbox (message_id, conversation_id, channel, status, attempts, next_attempt_at, created_at, \
             updated_at, payload) VALUES ",
            chunk.len() * 7,
        );
        for r in chunk {
            batch.row();
            batch.value(r.message.0);
            batch.value(r.conversation.0);
            batch.value(r.channel);
            batch.text(", 'pending', 0");
            batch.value(r.now);
            batch.value(r.now);
            batch.value(r.now);
            batch.value(r.payload.clone());
            batch.end_row();
        }
    }
}

/// Where an automatic message from Switchyard goes: the conversation and
/// the channel endpoint it is answered on.
pub struct To<'a> {
    pub conversation: ConversationId,
    pub channel: &'a str,
    pub endpoint: &'a str,
}

/// A message from Switchyard itself (a question, an acknowledgement) stored in
/// the thread and queued for the customer, in the caller's transaction.
pub async fn queue_system_message(
    conn: &mut AnyConnection,
    to: &To<'_>,
    body: &str,
    payload: Option<&str>,
    now: i64,
) -> Result<MessageId> {
    let id = super::messages::insert(
        conn,
        &super::messages::NewMessage {
            conversation_id: to.conversation,
            direction: super::messages::Direction::Out,
            author_kind: "system",
            author_agent_id: None,
            author_name: None,
            channel: to.channel,
            endpoint: to.endpoint,
            external_id: None,
            client_id: None,
            subject: None,
            body,
            quoted: None,
            html: None,
            raw_ref: None,
            created_at: now,
        },
    )
    .await?;
    insert(conn, id, to.conversation, to.channel, payload, now).await?;
    Ok(id)
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct OutboxItem {
    pub id: i64,
    pub message_id: i64,
    pub conversation_id: i64,
    pub channel: String,
    pub attempts: i64,
    pub payload: Option<String>,
    /// When the row was committed: delivery latency counts from here.
    pub created_at: i64,
}

/// How a delivery attempt ended, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    Delivered {
        external_id: Option<String>,
    },
    /// Accepted by the channel; receipts move it on (WhatsApp).
    Sent {
        external_id: String,
    },
    Waiting,
    Retry {
        at: i64,
        error: String,
    },
    Failed {
        error: String,
    },
}

impl Store {
    /// Takes up to `limit` due rows (of one channel, or of any), oldest due
    /// first, and marks them `sending` in one statement; returned in id order,
    /// which is the order their conversations wrote them.
    pub async fn outbox_claim_due(&self, now: i64, channel: Option<&str>, limit: usize) -> Result<Vec<OutboxItem>> {
        let mut items: Vec<OutboxItem> = sqlx::query_as(
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = $1 \
             WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
                          AND ($2 = '' OR channel = $2) ORDER BY next_attempt_at, id LIMIT $3) \
             RETURNING id, message_id, conversation_id, channel, attempts, payload, created_at",
        )
        .bind(now)
        .bind(channel.unwrap_or_default())
        .bind(i64::try_from(limit.max(1)).unwrap_or(i64::MAX))
        .fetch_all(&self.writer)
        .await?;
        items.sort_by_key(|i| i.id);
        Ok(items)
    }

    /// Records how attempts ended, all in one transaction: one commit (one
    /// fsync on SQLite) for a whole batch of deliveries.
    pub async fn outbox_record(&self, outcomes: &[(OutboxId, Recorded)], now: i64) -> Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        // One round trip for the worker's whole round.
        let mut batch = SqlBatch::for_connection(&tx);
        for (id, outcome) in outcomes {
            let (status, next_at, error, external_id) = match outcome {
                Recorded::Delivered { external_id } => ("delivered", None, None, external_id.clone()),
                Recorded::Sent { external_id } => ("sent", None, None, Some(external_id.clone())),
                Recorded::Waiting => ("waiting", None, None, None),
                Recorded::Retry { at, error } => ("pending", Some(*at), Some(error.clone()), None),
                Recorded::Failed { error } => ("failed", None, Some(error.clone()), None),
            };
            // A receipt may have moved it on already: "sent" does not undo it.
            batch.statement(
                if status == "sent" {
                    "UPDATE outbox SET status = CASE WHEN status IN ('delivered', 'read', 'failed') \
                     THEN status ELSE 'sent' END, next_attempt_at = COALESCE("
                } else {
                    "UPDATE outbox SET status = "
                },
                6,
            );
            if status != "sent" {
                batch.bind(status);
                batch.text(", next_attempt_at = COALESCE(");
            }
            batch.bind(next_at);
            batch.text(", next_attempt_at), last_error = COALESCE(");
            batch.bind(error);
            batch.text(", last_error), external_id = COALESCE(");
            batch.bind(external_id);
            batch.text(", external_id), updated_at = ");
            batch.bind(now);
            batch.text(" WHERE id = ");
            batch.bind(id.0);
        }
        batch.execute(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// After a crash, rows left `sending` are sent again (at-least-once; receivers dedupe by id).
    pub async fn outbox_reset_inflight(&self) -> Result<u64> {
        Ok(
            sqlx::query("UPDATE outbox SET status = 'pending' WHERE status = 'sending'")
                .execute(&self.writer)
                .await?
                .rows_affected(),
        )
    }

    /// When the next pending row (of one channel, or of any) falls due.
    pub async fn outbox_next_due(&self, channel: Option<&str>) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending' AND ($1 = '' OR channel = $1)",
        )
        .bind(channel.unwrap_or_default())
        .fetch_one(&self.reader)
        .await?)
    }

    /// The visitor is back and has been sent their history: what waited for them is delivered.
    pub async fn outbox_deliver_waiting(&self, conversation: ConversationId, now: i64) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE outbox SET status = 'delivered', updated_at = $2 WHERE conversation_id = $1 AND status = 'waiting'",
        )
        .bind(conversation.0)
        .bind(now)
        .execute(&self.writer)
        .await?
        .rows_affected())
    }

    pub async fn outbox_status(&self, message: MessageId) -> Result<Option<(String, i64, Option<String>)>> {
        Ok(
            sqlx::query_as("SELECT status, attempts, last_error FROM outbox WHERE message_id = $1")
                .bind(message.0)
                .fetch_optional(&self.reader)
                .await?,
        )
    }
}
