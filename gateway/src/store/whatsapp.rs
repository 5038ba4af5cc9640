//! WhatsApp facts: delivery receipts (a monotonic state per sent message),
//! reactions, value-level errors, and the durable media-download jobs.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::ingest::ConversationHead;
use super::{Result, Store};
use crate::ids::ConversationId;
use crate::whatsapp::identity::Known;

/// Order of delivery states: a receipt never moves a message backwards.
fn rank(status: &str) -> i64 {
    match status {
        "pending" | "sending" | "waiting" => 0,
        "sent" => 1,
        "delivered" => 2,
        "read" => 3,
        "failed" => 4,
        _ => -1,
    }
}

pub struct Receipt<'a> {
    pub external_id: &'a str,
    pub status: &'a str,
    pub at: i64,
    pub recipient: &'a str,
    pub error_code: Option<i64>,
    pub error: Option<String>,
}

/// What a receipt changed, for live events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptApplied {
    pub conversation_id: i64,
    pub message_id: i64,
    pub status: String,
}

/// Records a receipt once per (message, status); moves the outbox row forward only.
pub async fn apply_receipt(conn: &mut AnyConnection, r: &Receipt<'_>, now: i64) -> Result<Option<ReceiptApplied>> {
    let inserted = sqlx::query(
        "INSERT INTO delivery_receipts (message_external_id, status, at, recipient, error_code, error, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (message_external_id, status) DO NOTHING",
    )
    .bind(r.external_id)
    .bind(r.status)
    .bind(r.at)
    .bind(r.recipient)
    .bind(r.error_code)
    .bind(r.error.as_deref())
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 || rank(r.status) < 0 {
        return Ok(None);
    }
    let row: Option<(i64, i64, i64, String)> =
        sqlx::query_as("SELECT id, conversation_id, message_id, status FROM outbox WHERE external_id = $1")
            .bind(r.external_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((id, conversation_id, message_id, current)) = row else {
        return Ok(None);
    };
    // "failed" may follow "sent"/"delivered"; nothing moves a read or failed message back.
    if rank(r.status) <= rank(&current) || current == "failed" {
        return Ok(None);
    }
    let error = r.error.as_ref().map(|e| match r.error_code {
        Some(code) => format!("{code}: {e}"),
        None => e.clone(),
    });
    sqlx::query("UPDATE outbox SET status = $2, last_error = COALESCE($3, last_error), updated_at = $4 WHERE id = $1")
        .bind(id)
        .bind(r.status)
        .bind(error)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(Some(ReceiptApplied {
        conversation_id,
        message_id,
        status: r.status.to_string(),
    }))
}

/// Adds, changes or (with `emoji: None`) removes one sender's reaction to a message.
pub async fn set_reaction(
    conn: &mut AnyConnection,
    target: &str,
    sender: &str,
    emoji: Option<&str>,
    external_id: &str,
    at: i64,
) -> Result<()> {
    match emoji {
        Some(emoji) => {
            sqlx::query(
                "INSERT INTO reactions (target_external_id, sender, emoji, external_id, at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (target_external_id, sender) DO UPDATE SET emoji = excluded.emoji, \
                 external_id = excluded.external_id, at = excluded.at",
            )
            .bind(target)
            .bind(sender)
            .bind(emoji)
            .bind(external_id)
            .bind(at)
            .execute(conn)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM reactions WHERE target_external_id = $1 AND sender = $2")
                .bind(target)
                .bind(sender)
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// A webhook field recorded as information (not acted on, nothing failed).
pub async fn insert_channel_info(
    conn: &mut AnyConnection,
    channel: &str,
    info: &channels::whatsapp::Information,
    source_key: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO channel_errors (kind, channel, endpoint, code, title, details, received_at, source_key) \
         VALUES ('info', $1, $2, NULL, $3, $4, $5, $6) ON CONFLICT (source_key) DO NOTHING",
    )
    .bind(channel)
    .bind(&info.endpoint)
    .bind(format!("webhook field {:?} recorded", info.field))
    .bind(&info.details)
    .bind(now)
    .bind(source_key)
    .execute(conn)
    .await?;
    Ok(())
}

/// A customer's edit or deletion of a message they sent; the conversation and
/// message it changed, if that message is stored (a revision of a message we
/// never received changes nothing). Replays change nothing twice.
pub async fn apply_revision(conn: &mut AnyConnection, r: &channels::whatsapp::Revision) -> Result<Option<(i64, i64)>> {
    let target: Option<(i64, i64, String)> = sqlx::query_as(
        "SELECT id, conversation_id, body FROM messages WHERE channel = 'whatsapp' AND external_id = $1 \
         AND direction = 'in'",
    )
    .bind(&r.target)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((message, conversation, body)) = target else {
        return Ok(None);
    };
    let at = r.at.max(1);
    match &r.text {
        Some(text) => {
            let kept = sqlx::query(
                "INSERT INTO message_versions (message_id, body, replaced_at, source_id) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (source_id) DO NOTHING",
            )
            .bind(message)
            .bind(&body)
            .bind(at)
            .bind(&r.external_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if kept == 0 {
                return Ok(None);
            }
            sqlx::query("UPDATE messages SET body = $2, edited_at = $3 WHERE id = $1")
                .bind(message)
                .bind(text)
                .bind(at)
                .execute(&mut *conn)
                .await?;
        }
        None => {
            sqlx::query("UPDATE messages SET deleted_at = COALESCE(deleted_at, $2) WHERE id = $1")
                .bind(message)
                .bind(at)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(Some((conversation, message)))
}

/// The latest conversation of the customer Meta names `customer` (phone or BSUID) on `endpoint`.
async fn customer_conversation(conn: &mut AnyConnection, endpoint: &str, customer: &str) -> Result<Option<i64>> {
    let address: Option<String> =
        sqlx::query_scalar("SELECT address FROM whatsapp_customers WHERE phone = $1 OR bsuid = $1 ORDER BY id LIMIT 1")
            .bind(customer)
            .fetch_optional(&mut *conn)
            .await?;
    let address = address.unwrap_or_else(|| customer.to_string());
    Ok(sqlx::query_scalar(
        "SELECT id FROM conversations WHERE channel = 'whatsapp' AND endpoint = $1 AND customer_address = $2 \
         ORDER BY id DESC LIMIT 1",
    )
    .bind(endpoint)
    .bind(&address)
    .fetch_optional(conn)
    .await?)
}

/// A WhatsApp call with the customer (its start, its end and duration), as a
/// note in their latest conversation, once per call event. `None` when they
/// have no conversation, or for a replay.
pub async fn record_call(
    conn: &mut AnyConnection,
    call: &channels::whatsapp::CallEvent,
    now: i64,
) -> Result<Option<(i64, i64)>> {
    let Some(conversation) = customer_conversation(conn, &call.endpoint, &call.customer).await? else {
        return Ok(None);
    };
    let external_id = format!("call:{}:{}", call.id, call.event);
    if super::ingest::find_message(conn, "whatsapp", &call.endpoint, &external_id)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let at = if call.at > 0 { call.at.min(now) } else { now };
    let message = super::messages::insert(
        conn,
        &super::messages::NewMessage {
            conversation_id: ConversationId(conversation),
            direction: super::messages::Direction::Note,
            author_kind: "system",
            author_agent_id: None,
            author_name: Some("WhatsApp call"),
            channel: "whatsapp",
            endpoint: &call.endpoint,
            external_id: Some(&external_id),
            client_id: None,
            subject: None,
            body: &call.describe(),
            quoted: None,
            html: None,
            raw_ref: None,
            created_at: at,
        },
    )
    .await?;
    // The call as one row: its first event opens it, the next ones update it.
    let status = if call.status.is_empty() {
        if call.event == "connect" {
            "ringing".to_string()
        } else {
            call.event.to_lowercase()
        }
    } else {
        call.status.to_lowercase()
    };
    sqlx::query(
        "INSERT INTO whatsapp_calls (call_id, conversation_id, direction, status, duration_secs, started_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (call_id) DO UPDATE SET status = excluded.status, \
         duration_secs = COALESCE(excluded.duration_secs, whatsapp_calls.duration_secs), updated_at = excluded.updated_at",
    )
    .bind(&call.id)
    .bind(conversation)
    .bind(if call.direction.eq_ignore_ascii_case("BUSINESS_INITIATED") { "to_customer" } else { "from_customer" })
    .bind(&status)
    .bind(call.duration_secs)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(Some((conversation, message.0)))
}

/// A WhatsApp call as the escalation panel shows it.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CallRow {
    pub call_id: String,
    /// `from_customer` or `to_customer`.
    pub direction: String,
    pub status: String,
    pub duration_secs: Option<i64>,
    pub started_at: i64,
    pub updated_at: i64,
}

impl super::Store {
    /// The WhatsApp calls of a conversation, oldest first.
    pub async fn whatsapp_calls(&self, conversation: ConversationId) -> Result<Vec<CallRow>> {
        Ok(sqlx::query_as(
            "SELECT call_id, direction, status, duration_secs, started_at, updated_at FROM whatsapp_calls \
             WHERE conversation_id = $1 ORDER BY started_at, call_id",
        )
        .bind(conversation.0)
        .fetch_all(self.reader())
        .await?)
    }
}

/// A message the business sent from the WhatsApp Business app: stored in the
/// customer's latest conversation as written by the business, and counted as
/// an answer (first response, SLA). It does not touch the customer-service
/// window, which only the customer's messages open. `None` when the customer
/// has no conversation yet, or for a replay.
pub async fn record_echo(
    conn: &mut AnyConnection,
    echo: &channels::whatsapp::Echo,
    now: i64,
) -> Result<Option<(i64, i64)>> {
    let Some(conversation) = customer_conversation(conn, &echo.endpoint, &echo.to).await? else {
        return Ok(None);
    };
    if super::ingest::find_message(conn, "whatsapp", &echo.endpoint, &echo.external_id)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let at = if echo.at > 0 { echo.at.min(now) } else { now };
    let id = ConversationId(conversation);
    let message = super::messages::insert(
        conn,
        &super::messages::NewMessage {
            conversation_id: id,
            direction: super::messages::Direction::Out,
            author_kind: "business_app",
            author_agent_id: None,
            author_name: Some("WhatsApp Business app"),
            channel: "whatsapp",
            endpoint: &echo.endpoint,
            external_id: Some(&echo.external_id),
            client_id: None,
            subject: None,
            body: &echo.text,
            quoted: None,
            html: None,
            raw_ref: None,
            created_at: at,
        },
    )
    .await?;
    sqlx::query(
        "UPDATE conversations SET first_response_at = COALESCE(first_response_at, $2), updated_at = $2 WHERE id = $1",
    )
    .bind(conversation)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE queue_entries SET waiting_since = NULL WHERE conversation_id = $1")
        .bind(conversation)
        .execute(&mut *conn)
        .await?;
    super::sla::meet(conn, id, crate::sla::TimerKind::FirstResponse, at).await?;
    super::sla::meet(conn, id, crate::sla::TimerKind::NextResponse, at).await?;
    Ok(Some((conversation, message.0)))
}

/// Records a template's state as Meta reported it.
pub async fn set_template_state(
    conn: &mut AnyConnection,
    t: &channels::whatsapp::TemplateState,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO whatsapp_template_states (name, language, status, reason, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (name, language) DO UPDATE SET status = $3, reason = $4, updated_at = $5",
    )
    .bind(&t.name)
    .bind(&t.language)
    .bind(&t.status)
    .bind(&t.reason)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A customer stopped or resumed marketing messages; a customer never seen gets a row.
pub async fn set_preference(conn: &mut AnyConnection, p: &channels::whatsapp::Preference, now: i64) -> Result<()> {
    if p.category != "marketing_messages" {
        return Ok(());
    }
    let stop = (p.value == "stop").then_some(if p.at > 0 { p.at } else { now });
    let column = if crate::whatsapp::identity::is_bsuid(&p.customer) {
        "bsuid"
    } else {
        "phone"
    };
    let updated = sqlx::query(&format!(
        "UPDATE whatsapp_customers SET marketing_opt_out_at = $2, updated_at = $3 WHERE {column} = $1"
    ))
    .bind(&p.customer)
    .bind(stop)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated == 0 {
        sqlx::query(&format!(
            "INSERT INTO whatsapp_customers (address, {column}, marketing_opt_out_at, updated_at) VALUES ($1, $1, $2, $3)"
        ))
        .bind(&p.customer)
        .bind(stop)
        .bind(now)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// The earlier texts of an edited message, oldest first.
pub async fn message_versions(conn: &mut AnyConnection, message: i64) -> Result<Vec<(String, i64)>> {
    Ok(
        sqlx::query_as("SELECT body, replaced_at FROM message_versions WHERE message_id = $1 ORDER BY id")
            .bind(message)
            .fetch_all(conn)
            .await?,
    )
}

/// `source_key` names where the error came from (a journal entry and its
/// position), so replaying that entry records it once.
#[allow(clippy::too_many_arguments)]
pub async fn insert_channel_error(
    conn: &mut AnyConnection,
    channel: &str,
    endpoint: &str,
    code: Option<i64>,
    title: &str,
    details: &str,
    source_key: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO channel_errors (channel, endpoint, code, title, details, received_at, source_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (source_key) DO NOTHING",
    )
    .bind(channel)
    .bind(endpoint)
    .bind(code)
    .bind(title)
    .bind(details)
    .bind(now)
    .bind(source_key)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_media_job(
    conn: &mut AnyConnection,
    attachment_id: i64,
    endpoint: &str,
    media_id: &str,
    expected_sha256: Option<&str>,
    content_type: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO media_jobs (attachment_id, endpoint, media_id, expected_sha256, content_type, status, attempts, \
         next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $6)",
    )
    .bind(attachment_id)
    .bind(endpoint)
    .bind(media_id)
    .bind(expected_sha256)
    .bind(content_type)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The conversation a WhatsApp message belongs to: the one holding the message
/// it replies to, else the customer's open conversation on that number.
pub async fn conversation_for(
    conn: &mut AnyConnection,
    endpoint: &str,
    customer: &str,
    reply_to: Option<&str>,
) -> Result<Option<ConversationHead>> {
    if let Some(reply_to) = reply_to {
        let found: Option<ConversationHead> = sqlx::query_as(
            "SELECT c.id, c.status, c.priority, c.queue, c.escalation, c.customer_address, c.language, \
             c.first_response_at, c.awaiting_customer_since \
             FROM messages m LEFT JOIN outbox o ON o.message_id = m.id JOIN conversations c ON c.id = m.conversation_id \
             WHERE (o.external_id = $1 OR (m.channel = 'whatsapp' AND m.external_id = $1)) LIMIT 1",
        )
        .bind(reply_to)
        .fetch_optional(&mut *conn)
        .await?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(sqlx::query_as(&format!(
        "SELECT {} FROM conversations \
         WHERE channel = 'whatsapp' AND endpoint = $1 AND customer_address = $2 AND status = 'open' ORDER BY id DESC LIMIT 1",
        super::ingest::HEAD_COLUMNS
    ))
    .bind(endpoint)
    .bind(customer)
    .fetch_optional(conn)
    .await?)
}

/// The open WhatsApp conversation (the newest) of each of these customers on one number.
pub async fn open_conversations_of(
    conn: &mut AnyConnection,
    endpoint: &str,
    customers: &[&str],
) -> Result<Vec<ConversationHead>> {
    if customers.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {} FROM conversations WHERE channel = 'whatsapp' AND endpoint = $1 AND status = 'open' \
         AND customer_address IN ({}) ORDER BY id",
        super::ingest::HEAD_COLUMNS,
        super::placeholders(2, customers.len())
    );
    let mut query = sqlx::query_as(&sql).bind(endpoint);
    for c in customers {
        query = query.bind(*c);
    }
    Ok(query.fetch_all(conn).await?)
}

#[derive(Debug, Clone, FromRow)]
pub struct MediaJob {
    pub id: i64,
    pub attachment_id: i64,
    pub endpoint: String,
    pub media_id: String,
    pub expected_sha256: Option<String>,
    pub content_type: String,
    pub attempts: i64,
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct ReactionRow {
    pub target_external_id: String,
    pub sender: String,
    pub emoji: String,
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct ChannelErrorRow {
    pub id: i64,
    /// `error` or `info`.
    pub kind: String,
    pub channel: String,
    pub endpoint: String,
    pub code: Option<i64>,
    pub title: String,
    pub details: String,
    pub received_at: i64,
}

/// What the inbox shows of a WhatsApp customer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustomerIdentity {
    pub phone: Option<String>,
    pub bsuid: Option<String>,
    pub parent_bsuid: Option<String>,
    pub username: Option<String>,
    pub marketing_opt_out: bool,
}

#[derive(FromRow)]
struct IdentityRow {
    phone: Option<String>,
    bsuid: Option<String>,
    parent_bsuid: Option<String>,
    username: Option<String>,
    marketing_opt_out_at: Option<i64>,
}

impl Store {
    /// Erases the text (and earlier versions) of messages customers deleted
    /// before `before`; how many messages it erased.
    pub async fn whatsapp_forget_deleted(&self, before: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "DELETE FROM message_versions WHERE message_id IN \
             (SELECT id FROM messages WHERE deleted_at IS NOT NULL AND deleted_at < $1)",
        )
        .bind(before)
        .execute(&mut *tx)
        .await?;
        let erased = sqlx::query(
            "UPDATE messages SET body = '' WHERE deleted_at IS NOT NULL AND deleted_at < $1 AND body <> ''",
        )
        .bind(before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(erased)
    }

    /// The identity row of the customer whose conversations are keyed by `address`.
    pub async fn whatsapp_customer(&self, address: &str) -> Result<Option<CustomerIdentity>> {
        let row: Option<IdentityRow> = sqlx::query_as(
            "SELECT phone, bsuid, parent_bsuid, username, marketing_opt_out_at FROM whatsapp_customers \
             WHERE address = $1 ORDER BY id LIMIT 1",
        )
        .bind(address)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(|r| CustomerIdentity {
            phone: r.phone,
            bsuid: r.bsuid,
            parent_bsuid: r.parent_bsuid,
            username: r.username,
            marketing_opt_out: r.marketing_opt_out_at.is_some(),
        }))
    }

    /// A template's state at Meta (status, reason), when Meta reported one.
    pub async fn whatsapp_template_state(&self, name: &str, language: &str) -> Result<Option<(String, String)>> {
        Ok(
            sqlx::query_as("SELECT status, reason FROM whatsapp_template_states WHERE name = $1 AND language = $2")
                .bind(name)
                .bind(language)
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    /// Whether the customer keyed by `address` stopped marketing messages.
    pub async fn whatsapp_marketing_opted_out(&self, address: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM whatsapp_customers WHERE (address = $1 OR phone = $1 OR bsuid = $1) \
             AND marketing_opt_out_at IS NOT NULL",
        )
        .bind(address)
        .fetch_one(&self.reader)
        .await?;
        Ok(n > 0)
    }

    pub async fn whatsapp_message_versions(&self, message: i64) -> Result<Vec<(String, i64)>> {
        let mut conn = self.reader.acquire().await?;
        message_versions(&mut conn, message).await
    }

    /// The phone number known for the WhatsApp customer keyed by `address`.
    pub async fn whatsapp_phone_for(&self, address: &str) -> Result<Option<String>> {
        let mut conn = self.reader.acquire().await?;
        phone_for(&mut conn, address).await
    }

    pub async fn media_claim_due(&self, now: i64) -> Result<Option<MediaJob>> {
        Ok(sqlx::query_as(
            "UPDATE media_jobs SET status = 'running', attempts = attempts + 1, updated_at = $1 \
             WHERE id = (SELECT id FROM media_jobs WHERE status = 'pending' AND next_attempt_at <= $1 \
                         ORDER BY next_attempt_at, id LIMIT 1) \
             RETURNING id, attachment_id, endpoint, media_id, expected_sha256, content_type, attempts",
        )
        .bind(now)
        .fetch_optional(&self.writer)
        .await?)
    }

    /// The file is stored: the attachment points at it, the job is done.
    pub async fn media_done(&self, job: &MediaJob, sha256: &str, size: i64, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE attachments SET sha256 = $2, size = $3 WHERE id = $1")
            .bind(job.attachment_id)
            .bind(sha256)
            .bind(size)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE media_jobs SET status = 'done', last_error = NULL, updated_at = $2 WHERE id = $1")
            .bind(job.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `retry_at: None` gives up for good.
    pub async fn media_failed(&self, job: &MediaJob, error: &str, retry_at: Option<i64>, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE media_jobs SET status = $2, next_attempt_at = COALESCE($3, next_attempt_at), last_error = $4, \
             updated_at = $5 WHERE id = $1",
        )
        .bind(job.id)
        .bind(if retry_at.is_some() { "pending" } else { "failed" })
        .bind(retry_at)
        .bind(error)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// After a crash, downloads left running start again.
    pub async fn media_reset_running(&self) -> Result<u64> {
        Ok(
            sqlx::query("UPDATE media_jobs SET status = 'pending' WHERE status = 'running'")
                .execute(&self.writer)
                .await?
                .rows_affected(),
        )
    }

    pub async fn media_next_due(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM media_jobs WHERE status = 'pending'")
                .fetch_one(&self.reader)
                .await?,
        )
    }

    pub async fn media_job_of(&self, attachment_id: i64) -> Result<Option<(String, i64, Option<String>)>> {
        Ok(
            sqlx::query_as("SELECT status, attempts, last_error FROM media_jobs WHERE attachment_id = $1")
                .bind(attachment_id)
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    /// Conversation id of an attachment, for events.
    pub async fn conversation_of_attachment(&self, attachment_id: i64) -> Result<Option<ConversationId>> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT m.conversation_id FROM attachments a JOIN messages m ON m.id = a.message_id WHERE a.id = $1",
        )
        .bind(attachment_id)
        .fetch_optional(&self.reader)
        .await?;
        Ok(id.map(ConversationId))
    }

    pub async fn reactions(&self, conversation: ConversationId) -> Result<Vec<ReactionRow>> {
        Ok(sqlx::query_as(
            "SELECT r.target_external_id, r.sender, r.emoji FROM reactions r \
             WHERE r.target_external_id IN (SELECT m.external_id FROM messages m WHERE m.conversation_id = $1 \
                                            AND m.external_id IS NOT NULL \
                                            UNION SELECT o.external_id FROM outbox o WHERE o.conversation_id = $1 \
                                            AND o.external_id IS NOT NULL)",
        )
        .bind(conversation.0)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Records a channel error outside any other write (see [`insert_channel_error`]).
    pub async fn record_channel_error(
        &self,
        channel: &str,
        endpoint: &str,
        title: &str,
        details: &str,
        source_key: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_channel_error(&mut tx, channel, endpoint, None, title, details, Some(source_key), now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn channel_errors(&self, limit: i64) -> Result<Vec<ChannelErrorRow>> {
        Ok(sqlx::query_as(
            "SELECT id, kind, channel, endpoint, code, title, details, received_at FROM channel_errors ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.reader)
        .await?)
    }

    /// The newest customer message id on WhatsApp (to mark as read) and when the window closes.
    pub async fn whatsapp_last_inbound(&self, conversation: ConversationId) -> Result<Option<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT m.external_id, c.last_customer_at FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.conversation_id = $1 AND m.direction = 'in' AND m.external_id IS NOT NULL ORDER BY m.id DESC LIMIT 1",
        )
        .bind(conversation.0)
        .fetch_optional(&self.reader)
        .await?)
    }
}

/// The customers known by any of these phone numbers or business-scoped ids.
pub async fn customers_by(conn: &mut AnyConnection, phones: &[&str], bsuids: &[&str]) -> Result<Vec<Known>> {
    let mut out = Vec::new();
    for (column, values) in [("phone", phones), ("bsuid", bsuids)] {
        if values.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT id, address, phone, bsuid FROM whatsapp_customers WHERE {column} IN ({})",
            super::placeholders(1, values.len())
        );
        let mut query = sqlx::query_as::<_, Known>(&sql);
        for v in values {
            query = query.bind(*v);
        }
        out.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// The address a WhatsApp customer's conversations are keyed by, creating or
/// linking their identity row, from the rows found by phone and by BSUID
/// ([`customers_by`]); also says whether it wrote to the customers' rows.
/// `None` when the message names nobody.
pub async fn resolve_customer(
    conn: &mut AnyConnection,
    contact: &channels::Contact,
    phone: Option<&str>,
    by_phone: Option<Known>,
    by_bsuid: Option<Known>,
    now: i64,
) -> Result<Option<(String, bool)>> {
    use crate::whatsapp::identity::{Resolution, resolve};
    let bsuid = contact.bsuid.as_deref();
    let Some(resolution) = resolve(phone, bsuid, by_phone, by_bsuid) else {
        return Ok(None);
    };
    let wrote = match &resolution {
        Resolution::New { .. } | Resolution::Link { .. } => true,
        Resolution::Known {
            add_phone, add_bsuid, ..
        } => *add_phone || *add_bsuid,
    };
    let id = match &resolution {
        Resolution::New { address } => {
            sqlx::query(
                "INSERT INTO whatsapp_customers (address, phone, bsuid, parent_bsuid, username, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(address)
            .bind(phone)
            .bind(bsuid)
            .bind(contact.parent_bsuid.as_deref())
            .bind(contact.username.as_deref())
            .bind(now)
            .execute(&mut *conn)
            .await?;
            return Ok(Some((address.clone(), true)));
        }
        Resolution::Known {
            id,
            add_phone,
            add_bsuid,
            ..
        } => {
            if *add_phone {
                sqlx::query("UPDATE whatsapp_customers SET phone = $2 WHERE id = $1")
                    .bind(id)
                    .bind(phone)
                    .execute(&mut *conn)
                    .await?;
            }
            if *add_bsuid {
                sqlx::query("UPDATE whatsapp_customers SET bsuid = $2 WHERE id = $1")
                    .bind(id)
                    .bind(bsuid)
                    .execute(&mut *conn)
                    .await?;
            }
            *id
        }
        Resolution::Link {
            keep,
            release_bsuid_from,
            ..
        } => {
            sqlx::query("UPDATE whatsapp_customers SET bsuid = NULL WHERE id = $1")
                .bind(release_bsuid_from)
                .execute(&mut *conn)
                .await?;
            sqlx::query("UPDATE whatsapp_customers SET bsuid = $2 WHERE id = $1")
                .bind(keep)
                .bind(bsuid)
                .execute(&mut *conn)
                .await?;
            *keep
        }
    };
    // Shown in the inbox; not identities (a username can change). This runs
    // on the accept path: no statement when the message carries neither, no
    // row written when neither changed.
    if contact.parent_bsuid.is_some() || contact.username.is_some() {
        sqlx::query(
            "UPDATE whatsapp_customers SET parent_bsuid = COALESCE($2, parent_bsuid), \
             username = COALESCE($3, username), updated_at = $4 WHERE id = $1 \
             AND (parent_bsuid IS DISTINCT FROM COALESCE($2, parent_bsuid) \
                  OR username IS DISTINCT FROM COALESCE($3, username))",
        )
        .bind(id)
        .bind(contact.parent_bsuid.as_deref())
        .bind(contact.username.as_deref())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(Some((resolution.address().to_string(), wrote)))
}

/// A customer's new number (and BSUID) replaces the old on their row, so the
/// new number still finds their conversations and replies go to it. Nothing
/// changes when the new number already belongs to a known customer.
pub async fn change_number(conn: &mut AnyConnection, c: &channels::whatsapp::NumberChange, now: i64) -> Result<()> {
    let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM whatsapp_customers WHERE phone = $1")
        .bind(&c.new_phone)
        .fetch_one(&mut *conn)
        .await?;
    if taken > 0 {
        return Ok(());
    }
    if let Some(bsuid) = &c.new_bsuid {
        sqlx::query("UPDATE whatsapp_customers SET bsuid = NULL WHERE bsuid = $1")
            .bind(bsuid)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query(
        "UPDATE whatsapp_customers SET phone = $2, bsuid = COALESCE($3, bsuid), updated_at = $4 WHERE phone = $1",
    )
    .bind(&c.old_phone)
    .bind(&c.new_phone)
    .bind(c.new_bsuid.as_deref())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The phone number known for the customer keyed by `address`, if any.
pub async fn phone_for(conn: &mut AnyConnection, address: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar::<_, Option<String>>(
        "SELECT phone FROM whatsapp_customers WHERE address = $1 AND phone IS NOT NULL ORDER BY id LIMIT 1",
    )
    .bind(address)
    .fetch_optional(conn)
    .await?
    .flatten())
}
