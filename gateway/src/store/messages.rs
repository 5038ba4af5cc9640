//! Message rows and their attachments.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::Result;
use super::batch::SqlBatch;
use crate::ids::{ConversationId, MessageId};

/// `in` from the customer, `out` to the customer, `note` private between agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
    Note,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
            Direction::Note => "note",
        }
    }
}

pub struct NewMessage<'a> {
    pub conversation_id: ConversationId,
    pub direction: Direction,
    /// `customer`, `agent` or `system`.
    pub author_kind: &'a str,
    pub author_agent_id: Option<i64>,
    pub author_name: Option<&'a str>,
    pub channel: &'a str,
    pub endpoint: &'a str,
    pub external_id: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub body: &'a str,
    pub quoted: Option<&'a str>,
    pub html: Option<&'a str>,
    pub raw_ref: Option<&'a str>,
    pub created_at: i64,
}

pub async fn insert(conn: &mut AnyConnection, m: &NewMessage<'_>) -> Result<MessageId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO messages (conversation_id, direction, author_kind, author_agent_id, author_name, \
         channel, endpoint, external_id, client_id, subject, body, quoted, html, raw_ref, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
    )
    .bind(m.conversation_id.0)
    .bind(m.direction.as_str())
    .bind(m.author_kind)
    .bind(m.author_agent_id)
    .bind(m.author_name)
    .bind(m.channel)
    .bind(m.endpoint)
    .bind(m.external_id)
    .bind(m.client_id)
    .bind(m.subject)
    .bind(m.body)
    .bind(m.quoted)
    .bind(m.html)
    .bind(m.raw_ref)
    .bind(m.created_at)
    .fetch_one(conn)
    .await?;
    Ok(MessageId(id))
}

/// A message a batch writes, with the id reserved for it (its owned copy:
/// it is written after the step that made it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMessage {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub direction: Direction,
    pub author_kind: &'static str,
    pub author_name: Option<String>,
    pub channel: &'static str,
    pub endpoint: String,
    pub external_id: Option<String>,
    pub client_id: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub quoted: Option<String>,
    pub html: Option<String>,
    pub raw_ref: Option<String>,
    pub created_at: i64,
    /// An incoming mail's automatic kind (`bounce`, `auto-reply`…) and why it joined its thread.
    pub auto: Option<&'static str>,
    pub thread_reason: Option<String>,
}

/// Rows per statement: 17 values each, far below both backends' parameter limits.
const ROWS_PER_STATEMENT: usize = 400;

pub fn push_messages(batch: &mut SqlBatch, rows: &[PlannedMessage]) {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        batch.statement(
            "INSERT INTO messages (id, conversation_id, direction, author_kind, author_agent_id, author_name, \
             channel, endpoint, external_id, client_id, subject, body, quoted, html, raw_ref, created_at, auto, \
             thread_reason) VALUES ",
            chunk.len() * 17,
        );
        for m in chunk {
            batch.row();
            batch.value(m.id.0);
            batch.value(m.conversation_id.0);
            batch.value(m.direction.as_str());
            batch.value(m.author_kind);
            batch.text(", NULL");
            batch.value(m.author_name.clone());
            batch.value(m.channel);
            batch.value(m.endpoint.clone());
            batch.value(m.external_id.clone());
            batch.value(m.client_id.clone());
            batch.value(m.subject.clone());
            batch.value(m.body.clone());
            batch.value(m.quoted.clone());
            batch.value(m.html.clone());
            batch.value(m.raw_ref.clone());
            batch.value(m.created_at);
            batch.value(m.auto);
            batch.value(m.thread_reason.clone());
            batch.end_row();
        }
    }
}

/// A message the gateway itself writes into a conversation: a private note
/// (`Direction::Note`: SLA breach, dispatch, on-call) or an automatic message
/// to the customer (`Direction::Out`, with its outbox row added by the caller).
pub struct SystemMessage<'a> {
    pub conversation_id: ConversationId,
    pub direction: Direction,
    /// Shown as the author: "SLA", "Dispatch", "On-call"; None for messages to the customer.
    pub author_name: Option<&'a str>,
    pub channel: &'a str,
    pub endpoint: &'a str,
    pub body: &'a str,
    pub created_at: i64,
}

pub async fn insert_system(conn: &mut AnyConnection, m: &SystemMessage<'_>) -> Result<MessageId> {
    insert(
        conn,
        &NewMessage {
            conversation_id: m.conversation_id,
            direction: m.direction,
            author_kind: "system",
            author_agent_id: None,
            author_name: m.author_name,
            channel: m.channel,
            endpoint: m.endpoint,
            external_id: None,
            client_id: None,
            subject: None,
            body: m.body,
            quoted: None,
            html: None,
            raw_ref: None,
            created_at: m.created_at,
        },
    )
    .await
}

pub struct NewAttachment<'a> {
    pub message_id: MessageId,
    pub name: Option<&'a str>,
    pub content_type: &'a str,
    pub size: Option<i64>,
    pub sha256: Option<&'a str>,
    pub remote_handle: Option<&'a str>,
    pub content_id: Option<&'a str>,
}

pub async fn insert_attachment(conn: &mut AnyConnection, a: &NewAttachment<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO attachments (message_id, name, content_type, size, sha256, remote_handle, content_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(a.message_id.0)
    .bind(a.name)
    .bind(a.content_type)
    .bind(a.size)
    .bind(a.sha256)
    .bind(a.remote_handle)
    .bind(a.content_id)
    .fetch_one(conn)
    .await?)
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct MessageRow {
    pub id: i64,
    pub conversation_id: i64,
    pub direction: String,
    pub author_kind: String,
    pub author_agent_id: Option<i64>,
    pub author_name: Option<String>,
    pub channel: String,
    pub external_id: Option<String>,
    pub client_id: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub quoted: Option<String>,
    pub html: Option<String>,
    pub created_at: i64,
    /// Automatic mail: `auto_reply`, `bounce`, `list` or `own`.
    pub auto: Option<String>,
    /// Why an incoming mail joined this conversation.
    pub thread_reason: Option<String>,
    /// Delivery state of an outgoing message (from the outbox).
    pub delivery_status: Option<String>,
    pub delivery_error: Option<String>,
    /// When the customer last edited it (earlier texts in `message_versions`).
    pub edited_at: Option<i64>,
    /// When the customer deleted it.
    pub deleted_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct AttachmentRow {
    pub id: i64,
    pub message_id: i64,
    pub name: Option<String>,
    pub content_type: String,
    pub size: Option<i64>,
    pub sha256: Option<String>,
    /// For files still at the channel: pending, running, done or failed.
    pub download_status: Option<String>,
    pub download_error: Option<String>,
    /// An inline mail part's Content-ID (its HTML shows it as `cid:…`).
    pub content_id: Option<String>,
}

const MESSAGE_COLUMNS: &str = "m.id, m.conversation_id, m.direction, m.author_kind, m.author_agent_id, \
     m.author_name, m.channel, m.external_id, m.client_id, m.subject, m.body, m.quoted, m.html, \
     m.created_at, m.auto, m.thread_reason, o.status AS delivery_status, o.last_error AS delivery_error, \
     m.edited_at, m.deleted_at";

/// Every message of a conversation in order; `with_notes` false hides private notes.
pub async fn list(conn: &mut AnyConnection, conversation: ConversationId, with_notes: bool) -> Result<Vec<MessageRow>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m LEFT JOIN outbox o ON o.message_id = m.id \
         WHERE m.conversation_id = $1 AND ($2 = 1 OR m.direction <> 'note') ORDER BY m.id"
    );
    Ok(sqlx::query_as(&sql)
        .bind(conversation.0)
        .bind(i64::from(with_notes))
        .fetch_all(conn)
        .await?)
}

pub async fn get(conn: &mut AnyConnection, id: MessageId) -> Result<Option<MessageRow>> {
    let sql =
        format!("SELECT {MESSAGE_COLUMNS} FROM messages m LEFT JOIN outbox o ON o.message_id = m.id WHERE m.id = $1");
    Ok(sqlx::query_as(&sql).bind(id.0).fetch_optional(conn).await?)
}

/// Several messages by id, in no particular order (ids not found are left out).
pub async fn get_many(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<MessageRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m LEFT JOIN outbox o ON o.message_id = m.id WHERE m.id IN ({})",
        super::placeholders(1, ids.len())
    );
    let mut query = sqlx::query_as(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    Ok(query.fetch_all(conn).await?)
}

pub async fn attachments_of_conversation(
    conn: &mut AnyConnection,
    conversation: ConversationId,
) -> Result<Vec<AttachmentRow>> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.message_id, a.name, a.content_type, a.size, a.sha256, j.status AS download_status, \
         j.last_error AS download_error, a.content_id FROM attachments a JOIN messages m ON m.id = a.message_id \
         LEFT JOIN media_jobs j ON j.attachment_id = a.id WHERE m.conversation_id = $1 ORDER BY a.id",
    )
    .bind(conversation.0)
    .fetch_all(conn)
    .await?)
}

pub async fn attachments_of_message(conn: &mut AnyConnection, message: MessageId) -> Result<Vec<AttachmentRow>> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.message_id, a.name, a.content_type, a.size, a.sha256, j.status AS download_status, \
         j.last_error AS download_error, a.content_id FROM attachments a LEFT JOIN media_jobs j ON j.attachment_id = a.id \
         WHERE a.message_id = $1 ORDER BY a.id",
    )
    .bind(message.0)
    .fetch_all(conn)
    .await?)
}

/// The attachments of several messages, by attachment id.
pub async fn attachments_of_messages(conn: &mut AnyConnection, messages: &[i64]) -> Result<Vec<AttachmentRow>> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT a.id, a.message_id, a.name, a.content_type, a.size, a.sha256, j.status AS download_status, \
         j.last_error AS download_error, a.content_id FROM attachments a LEFT JOIN media_jobs j ON j.attachment_id = a.id \
         WHERE a.message_id IN ({}) ORDER BY a.id",
        super::placeholders(1, messages.len())
    );
    let mut query = sqlx::query_as(&sql);
    for id in messages {
        query = query.bind(*id);
    }
    Ok(query.fetch_all(conn).await?)
}

/// The attachment if it belongs to the conversation (used to authorise downloads).
/// One attachment by id, whatever its conversation (for links the gateway signed).
pub async fn attachment(conn: &mut AnyConnection, attachment_id: i64) -> Result<Option<AttachmentRow>> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.message_id, a.name, a.content_type, a.size, a.sha256, j.status AS download_status, \
         j.last_error AS download_error, a.content_id FROM attachments a \
         LEFT JOIN media_jobs j ON j.attachment_id = a.id WHERE a.id = $1",
    )
    .bind(attachment_id)
    .fetch_optional(conn)
    .await?)
}

pub async fn attachment_in_conversation(
    conn: &mut AnyConnection,
    attachment_id: i64,
    conversation: ConversationId,
) -> Result<Option<AttachmentRow>> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.message_id, a.name, a.content_type, a.size, a.sha256, j.status AS download_status, \
         j.last_error AS download_error, a.content_id FROM attachments a JOIN messages m ON m.id = a.message_id \
         LEFT JOIN media_jobs j ON j.attachment_id = a.id WHERE a.id = $1 AND m.conversation_id = $2",
    )
    .bind(attachment_id)
    .bind(conversation.0)
    .fetch_optional(conn)
    .await?)
}
