//! Email in the store: threading lookups (Message-IDs of incoming mail and of
//! ours, ticket tags, subject + sender), participants, mailbox checkpoints,
//! the acknowledgement rate limit and bounces marking our outbox rows failed.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::batch::SqlBatch;
use super::ingest::ConversationHead;
use super::{Result, Store};
use crate::ids::{ConversationId, MessageId};

use super::ingest::HEAD_COLUMNS;

/// Most ids of a References chain looked up: the parent and the latest ones matter.
const MAX_LOOKUP_IDS: usize = 30;

/// The conversation holding any of these Message-IDs (ours or the customer's),
/// preferring the first id that matches (callers pass the direct parent first).
pub async fn conversation_by_mail_ids(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<Option<(ConversationId, String)>> {
    let ids: Vec<&String> = ids.iter().take(MAX_LOOKUP_IDS).collect();
    if ids.is_empty() {
        return Ok(None);
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let list = placeholders.join(", ");
    let sql = format!(
        "SELECT mail_id, conversation_id FROM mail_ids WHERE mail_id IN ({list}) \
         UNION ALL SELECT external_id, conversation_id FROM outbox WHERE channel = 'email' AND external_id IN ({list})"
    );
    let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
    for id in &ids {
        query = query.bind(id.as_str());
    }
    let found = query.fetch_all(conn).await?;
    Ok(ids.iter().find_map(|id| {
        found
            .iter()
            .find(|(m, _)| m == *id)
            .map(|(m, c)| (ConversationId(*c), m.clone()))
    }))
}

pub async fn head(conn: &mut AnyConnection, id: ConversationId) -> Result<Option<ConversationHead>> {
    Ok(
        sqlx::query_as(&format!("SELECT {HEAD_COLUMNS} FROM conversations WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(conn)
            .await?,
    )
}

/// The latest email conversation with this sender and normalised subject, active since `since`.
pub async fn conversation_by_subject(
    conn: &mut AnyConnection,
    customer: &str,
    subject_key: &str,
    since: i64,
) -> Result<Option<ConversationHead>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {HEAD_COLUMNS} FROM conversations WHERE customer_address = $1 AND subject_key = $2 \
         AND channel = 'email' AND updated_at >= $3 ORDER BY updated_at DESC LIMIT 1"
    ))
    .bind(customer)
    .bind(subject_key)
    .bind(since)
    .fetch_optional(conn)
    .await?)
}

pub async fn subject_key(conn: &mut AnyConnection, id: ConversationId) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT subject_key FROM conversations WHERE id = $1")
            .bind(id.0)
            .fetch_optional(conn)
            .await?
            .flatten(),
    )
}

/// A mail's Message-ID, for the replies that will name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailId {
    pub mail_id: String,
    pub conversation: ConversationId,
    pub message: MessageId,
    pub now: i64,
}

pub fn push_mail_ids(batch: &mut SqlBatch, rows: &[MailId]) {
    for chunk in rows.chunks(400) {
        batch.statement(
            "INSERT INTO mail_ids (mail_id, conversation_id, message_id, created_at) VALUES ",
            chunk.len() * 4,
        );
        for r in chunk {
            batch.row();
            batch.value(r.mail_id.clone());
            batch.value(r.conversation.0);
            batch.value(r.message.0);
            batch.value(r.now);
            batch.end_row();
        }
    }
}

/// Someone on a mail's From/To/Cc, kept on the conversation (the first role seen stays).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewParticipant {
    pub conversation: ConversationId,
    pub address: String,
    pub name: Option<String>,
    pub role: &'static str,
    pub now: i64,
}

pub fn push_participants(batch: &mut SqlBatch, rows: &[NewParticipant]) {
    for chunk in rows.chunks(400) {
        batch.statement(
            "INSERT INTO participants (conversation_id, address, name, role, active, created_at) VALUES ",
            chunk.len() * 5,
        );
        for p in chunk {
            batch.row();
            batch.value(p.conversation.0);
            batch.value(p.address.clone());
            batch.value(p.name.clone());
            batch.value(p.role);
            batch.text(", 1");
            batch.value(p.now);
            batch.end_row();
        }
        batch.text(" ON CONFLICT (conversation_id, address) DO NOTHING");
    }
}

/// Automatic acknowledgements sent to this address since `since`.
pub async fn acks_since(conn: &mut AnyConnection, customer: &str, since: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         WHERE c.customer_address = $1 AND m.author_kind = 'system' AND m.direction = 'out' AND m.created_at >= $2",
    )
    .bind(customer)
    .bind(since)
    .fetch_one(conn)
    .await?)
}

/// A bounce names one of our mails: its outbox row fails with the reason.
pub async fn mark_bounced(
    conn: &mut AnyConnection,
    mail_id: &str,
    reason: &str,
    now: i64,
) -> Result<Option<(ConversationId, MessageId)>> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "UPDATE outbox SET status = 'failed', last_error = $2, updated_at = $3 \
         WHERE channel = 'email' AND external_id = $1 RETURNING conversation_id, message_id",
    )
    .bind(mail_id)
    .bind(reason)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(c, m)| (ConversationId(c), MessageId(m))))
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct ParticipantRow {
    pub address: String,
    pub name: Option<String>,
    pub role: String,
    pub active: i64,
}

impl Store {
    /// Where the raw bytes of a message are (`sha256:<hex>`), if it belongs to the conversation.
    pub async fn message_raw_ref(&self, conversation: ConversationId, message: MessageId) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT raw_ref FROM messages WHERE id = $1 AND conversation_id = $2")
                .bind(message.0)
                .bind(conversation.0)
                .fetch_optional(&self.reader)
                .await?
                .flatten(),
        )
    }

    pub async fn participants(&self, conversation: ConversationId) -> Result<Vec<ParticipantRow>> {
        Ok(sqlx::query_as(
            "SELECT address, name, role, active FROM participants WHERE conversation_id = $1 ORDER BY created_at, address",
        )
        .bind(conversation.0)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Keeps someone in (or leaves them out of) the conversation's replies.
    pub async fn set_participant(
        &self,
        conversation: ConversationId,
        address: &str,
        name: Option<&str>,
        active: bool,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO participants (conversation_id, address, name, role, active, created_at) VALUES ($1, $2, $3, 'cc', $4, $5) \
             ON CONFLICT (conversation_id, address) DO UPDATE SET active = excluded.active",
        )
        .bind(conversation.0)
        .bind(address)
        .bind(name)
        .bind(i64::from(active))
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Every Message-ID of the conversation, incoming and ours, oldest first: the References chain.
    pub async fn mail_chain(&self, conversation: ConversationId) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT mail_id, 'in', created_at FROM mail_ids WHERE conversation_id = $1 \
             UNION ALL SELECT external_id, 'out', created_at FROM outbox \
             WHERE conversation_id = $1 AND channel = 'email' AND external_id IS NOT NULL ORDER BY 3",
        )
        .bind(conversation.0)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(|(id, dir, _)| (id, dir)).collect())
    }

    /// `(uid_validity, last_uid)` of a mailbox, when it was read before.
    pub async fn mailbox_state(&self, mailbox: &str) -> Result<Option<(i64, i64)>> {
        Ok(
            sqlx::query_as("SELECT uid_validity, last_uid FROM mailbox_state WHERE mailbox = $1")
                .bind(mailbox)
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    pub async fn set_mailbox_state(&self, mailbox: &str, uid_validity: i64, last_uid: i64, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO mailbox_state (mailbox, uid_validity, last_uid, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (mailbox) DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = excluded.last_uid, \
             updated_at = excluded.updated_at",
        )
        .bind(mailbox)
        .bind(uid_validity)
        .bind(last_uid)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The Message-ID we give an outgoing mail is fixed before sending, so a
    /// resend after a crash carries the same id; it is recorded on the row.
    pub async fn outbox_set_external_id(&self, outbox: i64, external_id: &str) -> Result<()> {
        sqlx::query("UPDATE outbox SET external_id = $2 WHERE id = $1")
            .bind(outbox)
            .bind(external_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
