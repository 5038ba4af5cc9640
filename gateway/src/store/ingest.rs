//! The steps of accepting a message, each a statement inside the pipeline's
//! batch transaction: dedupe, thread, conversation, verdict, queue entry.

use sqlx::{AnyConnection, FromRow};

use super::Result;
use crate::ids::{ConversationId, MessageId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExistingMessage {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub priority: triage::Priority,
}

/// The message already stored under this idempotency key, if any.
pub async fn find_message(
    conn: &mut AnyConnection,
    channel: &str,
    endpoint: &str,
    external_id: &str,
) -> Result<Option<ExistingMessage>> {
    let row: Option<(i64, i64, String)> = sqlx::query_as(
        "SELECT m.id, m.conversation_id, c.priority FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         WHERE m.channel = $1 AND m.endpoint = $2 AND m.external_id = $3",
    )
    .bind(channel)
    .bind(endpoint)
    .bind(external_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(m, c, p)| ExistingMessage {
        message_id: MessageId(m),
        conversation_id: ConversationId(c),
        priority: triage::Priority::parse(&p).unwrap_or(triage::Priority::Faq),
    }))
}

/// The messages already stored under any of these idempotency keys of one
/// channel endpoint, by external id.
pub async fn find_messages(
    conn: &mut AnyConnection,
    channel: &str,
    endpoint: &str,
    external_ids: &[&str],
) -> Result<Vec<(String, ExistingMessage)>> {
    if external_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT m.external_id, m.id, m.conversation_id, c.priority FROM messages m \
         JOIN conversations c ON c.id = m.conversation_id \
         WHERE m.channel = $1 AND m.endpoint = $2 AND m.external_id IN ({})",
        super::placeholders(3, external_ids.len())
    );
    let mut query = sqlx::query_as::<_, (String, i64, i64, String)>(&sql)
        .bind(channel)
        .bind(endpoint);
    for id in external_ids {
        query = query.bind(*id);
    }
    Ok(query
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|(external_id, m, c, p)| {
            (
                external_id,
                ExistingMessage {
                    message_id: MessageId(m),
                    conversation_id: ConversationId(c),
                    priority: triage::Priority::parse(&p).unwrap_or(triage::Priority::Faq),
                },
            )
        })
        .collect())
}

#[derive(Debug, Clone, FromRow)]
pub struct ConversationHead {
    pub id: i64,
    pub status: String,
    pub priority: String,
    pub queue: String,
    pub escalation: String,
    pub customer_address: String,
    pub language: Option<String>,
    /// For the SLA clocks: answered yet, waiting for the customer.
    pub first_response_at: Option<i64>,
    pub awaiting_customer_since: Option<i64>,
}

/// The columns of [`ConversationHead`], for every lookup that threads a message.
pub const HEAD_COLUMNS: &str =
    "id, status, priority, queue, escalation, customer_address, language, first_response_at, awaiting_customer_since";

pub async fn conversation_by_chat_key(conn: &mut AnyConnection, key: &str) -> Result<Option<ConversationHead>> {
    Ok(
        sqlx::query_as(&format!("SELECT {HEAD_COLUMNS} FROM conversations WHERE chat_key = $1"))
            .bind(key)
            .fetch_optional(conn)
            .await?,
    )
}

/// The conversations of several chat keys, with their key.
pub async fn conversations_by_chat_keys(
    conn: &mut AnyConnection,
    keys: &[&str],
) -> Result<Vec<(String, ConversationHead)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT chat_key, {HEAD_COLUMNS} FROM conversations WHERE chat_key IN ({})",
        super::placeholders(1, keys.len())
    );
    let mut query = sqlx::query(&sql);
    for key in keys {
        query = query.bind(*key);
    }
    let mut out = Vec::new();
    for row in query.fetch_all(conn).await? {
        use sqlx::Row;
        let key: String = row.try_get("chat_key")?;
        out.push((key, ConversationHead::from_row(&row)?));
    }
    Ok(out)
}

/// How far back earlier incidents count for triage's history conditions.
const HISTORY_DAYS: i64 = 90;

/// What triage's history conditions count in the customer's current conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConversationCounts {
    /// Customer messages already stored.
    pub earlier: i64,
    /// Customer messages since the last agent answer.
    pub unanswered: i64,
    pub answers: i64,
    pub oldest_unanswered: Option<i64>,
}

/// The customer's other conversations, as triage's history counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CustomerCounts {
    pub open: i64,
    /// Created within the history window.
    pub recent: i64,
}

/// A conversation of a customer, as [`CustomerCounts`] are computed from it.
#[derive(Debug, Clone, FromRow)]
pub struct CustomerConversation {
    pub customer_address: String,
    pub id: i64,
    pub status: String,
    pub created_at: i64,
}

impl CustomerCounts {
    /// Counts the customer's conversations other than `current`.
    pub fn of(conversations: &[CustomerConversation], current: i64, since: i64) -> Self {
        let others = conversations.iter().filter(|c| c.id != current);
        let mut counts = CustomerCounts::default();
        for c in others {
            counts.open += i64::from(c.status == "open");
            counts.recent += i64::from(c.created_at >= since);
        }
        counts
    }
}

/// Start of the history window at `now`.
pub fn history_since(now: i64) -> i64 {
    now - HISTORY_DAYS * 86_400_000
}

/// Facts for triage: other open conversations of this customer, how many
/// messages they already sent in this one, and their recent incidents.
pub async fn history_facts(
    conn: &mut AnyConnection,
    customer_address: &str,
    conversation: Option<ConversationId>,
    now: i64,
) -> Result<triage::History> {
    let current = conversation.map(|c| c.0).unwrap_or(-1);
    let since = history_since(now);
    // One round trip for the counts; the incidents only when there can be some.
    let (open, earlier, recent, unanswered, answers, oldest_unanswered): (i64, i64, i64, i64, i64, Option<i64>) =
        sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM conversations WHERE customer_address = $1 AND status = 'open' AND id <> $2), \
                (SELECT COUNT(*) FROM messages WHERE conversation_id = $2 AND direction = 'in'), \
                (SELECT COUNT(*) FROM conversations WHERE customer_address = $1 AND id <> $2 AND created_at >= $3), \
                (SELECT COUNT(*) FROM messages WHERE conversation_id = $2 AND direction = 'in' AND id > \
                   COALESCE((SELECT MAX(id) FROM messages WHERE conversation_id = $2 AND direction = 'out' \
                             AND author_kind = 'agent'), 0)), \
                (SELECT COUNT(*) FROM messages WHERE conversation_id = $2 AND direction = 'out' AND author_kind = 'agent'), \
                (SELECT MIN(created_at) FROM messages WHERE conversation_id = $2 AND direction = 'in' AND id > \
                   COALESCE((SELECT MAX(id) FROM messages WHERE conversation_id = $2 AND direction = 'out' \
                             AND author_kind = 'agent'), 0))",
    )
    .bind(customer_address)
    .bind(current)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?;
    let counts = ConversationCounts {
        earlier,
        unanswered,
        answers,
        oldest_unanswered,
    };
    history_from(
        conn,
        customer_address,
        current,
        CustomerCounts { open, recent },
        counts,
        now,
    )
    .await
}

/// [`history_facts`] from counts already read (for a whole batch at once):
/// the incidents are read only when the customer has recent conversations.
pub async fn history_from(
    conn: &mut AnyConnection,
    customer_address: &str,
    current: i64,
    customer: CustomerCounts,
    counts: ConversationCounts,
    now: i64,
) -> Result<triage::History> {
    let since = history_since(now);
    let waiting_minutes = counts
        .oldest_unanswered
        .map(|t| u32::try_from((now - t).max(0) / 60_000).unwrap_or(u32::MAX))
        .unwrap_or(0);
    let mut history = triage::History {
        open_conversations: u32::try_from(customer.open).unwrap_or(u32::MAX),
        earlier_messages: u32::try_from(counts.earlier).unwrap_or(u32::MAX),
        unanswered_messages: u32::try_from(counts.unanswered).unwrap_or(u32::MAX),
        agent_answers: u32::try_from(counts.answers).unwrap_or(u32::MAX),
        waiting_minutes,
        incidents: Vec::new(),
    };
    if customer.recent == 0 {
        return Ok(history);
    }
    let rows: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT c.id, c.created_at, v.detail FROM verdicts v JOIN conversations c ON c.id = v.conversation_id \
         WHERE c.customer_address = $1 AND c.id <> $2 AND c.created_at >= $3 ORDER BY v.id DESC LIMIT 50",
    )
    .bind(customer_address)
    .bind(current)
    .bind(since)
    .fetch_all(&mut *conn)
    .await?;
    let mut incidents: Vec<(i64, triage::Incident)> = Vec::new();
    for (id, created_at, detail) in rows {
        let Ok(fields) = serde_json::from_str::<serde_json::Value>(&detail).map(|v| v["fields"].clone()) else {
            continue;
        };
        let list = |key: &str| -> Vec<String> {
            fields[key]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        let index = match incidents.iter().position(|(c, _)| *c == id) {
            Some(i) => i,
            None => {
                let days_ago = u32::try_from((now - created_at).max(0) / 86_400_000).unwrap_or(u32::MAX);
                incidents.push((
                    id,
                    triage::Incident {
                        days_ago,
                        ..Default::default()
                    },
                ));
                incidents.len() - 1
            }
        };
        let incident = &mut incidents[index].1;
        incident.fault_codes.extend(list("fault_codes"));
        incident.machines.extend(list("serials"));
        incident.machines.extend(list("models"));
    }
    history.incidents = incidents.into_iter().map(|(_, i)| i).collect();
    Ok(history)
}

/// The conversations of these customers that history counts: open, or
/// created since `since`.
pub async fn conversations_of_customers(
    conn: &mut AnyConnection,
    addresses: &[&str],
    since: i64,
) -> Result<Vec<CustomerConversation>> {
    if addresses.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT customer_address, id, status, created_at FROM conversations \
         WHERE customer_address IN ({}) AND (status = 'open' OR created_at >= $1)",
        super::placeholders(2, addresses.len())
    );
    let mut query = sqlx::query_as(&sql).bind(since);
    for a in addresses {
        query = query.bind(*a);
    }
    Ok(query.fetch_all(conn).await?)
}

/// [`ConversationCounts`] of several conversations, by id.
pub async fn conversation_counts(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<(i64, ConversationCounts)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT c.id, \
            (SELECT COUNT(*) FROM messages WHERE conversation_id = c.id AND direction = 'in'), \
            (SELECT COUNT(*) FROM messages WHERE conversation_id = c.id AND direction = 'in' AND id > \
               COALESCE((SELECT MAX(id) FROM messages WHERE conversation_id = c.id AND direction = 'out' \
                         AND author_kind = 'agent'), 0)), \
            (SELECT COUNT(*) FROM messages WHERE conversation_id = c.id AND direction = 'out' AND author_kind = 'agent'), \
            (SELECT MIN(created_at) FROM messages WHERE conversation_id = c.id AND direction = 'in' AND id > \
               COALESCE((SELECT MAX(id) FROM messages WHERE conversation_id = c.id AND direction = 'out' \
                         AND author_kind = 'agent'), 0)) \
         FROM conversations c WHERE c.id IN ({})",
        super::placeholders(1, ids.len())
    );
    let mut query = sqlx::query_as::<_, (i64, i64, i64, i64, Option<i64>)>(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    Ok(query
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|(id, earlier, unanswered, answers, oldest_unanswered)| {
            (
                id,
                ConversationCounts {
                    earlier,
                    unanswered,
                    answers,
                    oldest_unanswered,
                },
            )
        })
        .collect())
}

pub struct NewConversation<'a> {
    pub channel: &'a str,
    pub endpoint: &'a str,
    pub chat_key: Option<&'a str>,
    pub customer_address: &'a str,
    pub contact: &'a channels::Contact,
    pub subject: Option<&'a str>,
    pub language: Option<&'a str>,
    pub priority: &'a str,
    pub queue: &'a str,
    pub escalation: &'a str,
    pub now: i64,
    /// When the customer wrote, as the channel says (opens WhatsApp's 24-hour window).
    pub customer_at: i64,
}

pub async fn insert_conversation(conn: &mut AnyConnection, c: &NewConversation<'_>) -> Result<ConversationId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO conversations (channel, endpoint, chat_key, customer_address, customer_name, customer_email, \
         customer_phone, customer_company, machine_serial, subject, language, status, priority, queue, escalation, \
         created_at, updated_at, last_customer_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open', $12, $13, $14, $15, $15, $16) RETURNING id",
    )
    .bind(c.channel)
    .bind(c.endpoint)
    .bind(c.chat_key)
    .bind(c.customer_address)
    .bind(c.contact.name.as_deref())
    .bind(c.contact.email.as_deref())
    .bind(c.contact.phone.as_deref())
    .bind(c.contact.company.as_deref())
    .bind(c.contact.machine_serial.as_deref())
    .bind(c.subject)
    .bind(c.language)
    .bind(c.priority)
    .bind(c.queue)
    .bind(c.escalation)
    .bind(c.now)
    .bind(c.customer_at)
    .fetch_one(conn)
    .await?;
    Ok(ConversationId(id))
}

/// Where triage put a conversation.
pub struct Placement<'a> {
    pub priority: &'a str,
    pub queue: &'a str,
    pub escalation: &'a str,
}

/// A new customer message on an existing conversation: it is open again and
/// takes the (possibly raised) triage outcome; contact facts fill gaps only.
pub async fn update_on_customer_message(
    conn: &mut AnyConnection,
    id: ConversationId,
    placement: &Placement<'_>,
    contact: &channels::Contact,
    now: i64,
    customer_at: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE conversations SET status = 'open', resolved_at = NULL, priority = $2, queue = $3, escalation = $4, \
         customer_name = COALESCE(customer_name, $5), customer_email = COALESCE(customer_email, $6), \
         customer_phone = COALESCE(customer_phone, $7), customer_company = COALESCE(customer_company, $8), \
         machine_serial = COALESCE(machine_serial, $9), updated_at = $10, \
         last_customer_at = CASE WHEN last_customer_at > $11 THEN last_customer_at ELSE $11 END WHERE id = $1",
    )
    .bind(id.0)
    .bind(placement.priority)
    .bind(placement.queue)
    .bind(placement.escalation)
    .bind(contact.name.as_deref())
    .bind(contact.email.as_deref())
    .bind(contact.phone.as_deref())
    .bind(contact.company.as_deref())
    .bind(contact.machine_serial.as_deref())
    .bind(now)
    .bind(customer_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A verdict row to write.
pub struct NewVerdict {
    pub conversation: ConversationId,
    pub message: MessageId,
    pub priority: &'static str,
    pub queue: String,
    pub escalation: &'static str,
    /// The whole verdict, as JSON.
    pub detail: String,
    pub now: i64,
}

impl NewVerdict {
    pub fn new(conversation: ConversationId, message: MessageId, verdict: &triage::Verdict, now: i64) -> Result<Self> {
        Ok(NewVerdict {
            conversation,
            message,
            priority: verdict.priority.as_str(),
            queue: verdict.queue.clone(),
            escalation: verdict.escalation.as_str(),
            detail: serde_json::to_string(verdict).map_err(|e| super::StoreError::Corrupt(e.to_string()))?,
            now,
        })
    }
}

/// Rows per multi-row statement: far below both backends' parameter limits.
const ROWS_PER_STATEMENT: usize = 400;

/// `($1, $2), ($3, $4)`: the VALUES list of a multi-row INSERT.
fn rows_of_placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|i| format!("({})", super::placeholders(i * columns + 1, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes verdicts, a few hundred per statement.
pub async fn insert_verdicts(conn: &mut AnyConnection, rows: &[NewVerdict]) -> Result<()> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let values = rows_of_placeholders(chunk.len(), 7);
        let sql = format!(
            "INSERT INTO verdicts (conversation_id, message_id, priority, queue, escalation, detail, created_at) VALUES {}",
            values
        );
        let mut query = sqlx::query(&sql);
        for r in chunk {
            query = query
                .bind(r.conversation.0)
                .bind(r.message.0)
                .bind(r.priority)
                .bind(r.queue.clone())
                .bind(r.escalation)
                .bind(r.detail.clone())
                .bind(r.now);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A code a message mentioned (`search::mentions`).
pub struct NewMention {
    pub conversation: ConversationId,
    pub message: MessageId,
    pub mention: crate::search::mentions::Mention,
    pub now: i64,
}

pub async fn insert_mentions(conn: &mut AnyConnection, rows: &[NewMention]) -> Result<()> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let values = rows_of_placeholders(chunk.len(), 6);
        let sql = format!(
            "INSERT INTO fact_mentions (conversation_id, message_id, kind, value, norm, created_at) VALUES {}",
            values
        );
        let mut query = sqlx::query(&sql);
        for r in chunk {
            query = query
                .bind(r.conversation.0)
                .bind(r.message.0)
                .bind(r.mention.kind)
                .bind(r.mention.value.clone())
                .bind(r.mention.norm.clone())
                .bind(r.now);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A conversation's place in a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    pub conversation: ConversationId,
    pub queue: String,
    pub priority_rank: i64,
    pub waiting_since: Option<i64>,
}

/// Puts the conversation in its queue; keeps the oldest unanswered time if it was waiting already.
pub async fn upsert_queue_entry(
    conn: &mut AnyConnection,
    conversation: ConversationId,
    queue: &str,
    priority_rank: i64,
    waiting_since: Option<i64>,
) -> Result<()> {
    upsert_queue_entries(
        conn,
        &[QueueEntry {
            conversation,
            queue: queue.to_string(),
            priority_rank,
            waiting_since,
        }],
    )
    .await
}

/// [`upsert_queue_entry`] for several conversations (each at most once), a
/// few hundred per statement.
pub async fn upsert_queue_entries(conn: &mut AnyConnection, entries: &[QueueEntry]) -> Result<()> {
    for chunk in entries.chunks(ROWS_PER_STATEMENT) {
        let values = rows_of_placeholders(chunk.len(), 4);
        let sql = format!(
            "INSERT INTO queue_entries (conversation_id, queue, priority_rank, waiting_since) VALUES {} \
             ON CONFLICT (conversation_id) DO UPDATE SET queue = excluded.queue, priority_rank = excluded.priority_rank, \
             waiting_since = COALESCE(queue_entries.waiting_since, excluded.waiting_since)",
            values
        );
        let mut query = sqlx::query(&sql);
        for e in chunk {
            query = query
                .bind(e.conversation.0)
                .bind(e.queue.clone())
                .bind(e.priority_rank)
                .bind(e.waiting_since);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
