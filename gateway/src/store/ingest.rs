//! The steps of accepting a message, each a statement inside the pipeline's
//! batch transaction: dedupe, thread, conversation, verdict, queue entry.

use sqlx::{AnyConnection, FromRow};

use super::Result;
use super::batch::SqlBatch;
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

/// What a customer's message leaves on its conversation, for the conversation
/// row: the contact facts the channel gave, the triage outcome, the times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationUpdate {
    pub id: ConversationId,
    pub priority: &'static str,
    pub queue: String,
    pub escalation: String,
    /// Contact facts: they fill gaps only, the first known value stays.
    pub contact: channels::Contact,
    pub now: i64,
    /// When the customer wrote, as the channel says (opens WhatsApp's 24-hour window).
    pub customer_at: i64,
}

impl ConversationUpdate {
    /// A later message's update applied after this one, as the two statements would.
    pub fn merge(&mut self, later: ConversationUpdate) {
        self.priority = later.priority;
        self.queue = later.queue;
        self.escalation = later.escalation;
        fill_gaps(&mut self.contact, later.contact);
        self.now = later.now;
        self.customer_at = self.customer_at.max(later.customer_at);
    }
}

/// `COALESCE(known, new)` for each contact fact.
fn fill_gaps(known: &mut channels::Contact, new: channels::Contact) {
    known.name = known.name.take().or(new.name);
    known.email = known.email.take().or(new.email);
    known.phone = known.phone.take().or(new.phone);
    known.company = known.company.take().or(new.company);
    known.machine_serial = known.machine_serial.take().or(new.machine_serial);
}

/// A conversation a message opens, with the id reserved for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConversation {
    pub channel: &'static str,
    pub endpoint: String,
    pub chat_key: Option<String>,
    pub customer_address: String,
    pub subject: Option<String>,
    /// A mail's subject as threading compares it.
    pub subject_key: Option<String>,
    pub language: Option<String>,
    /// Placement, contact and times, as for a later message.
    pub state: ConversationUpdate,
}

impl NewConversation {
    /// A later message of the same batch, folded into the row before it is written.
    pub fn apply(&mut self, later: ConversationUpdate) {
        self.state.merge(later);
    }
}

/// Opens conversations, a few hundred per statement.
pub fn push_conversations(batch: &mut SqlBatch, rows: &[NewConversation]) {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        batch.statement(
            "INSERT INTO conversations (id, channel, endpoint, chat_key, customer_address, customer_name, customer_email, \
             customer_phone, customer_company, machine_serial, subject, subject_key, language, status, priority, queue, \
             escalation, created_at, updated_at, last_customer_at) VALUES ",
            chunk.len() * 19,
        );
        for c in chunk {
            let s = &c.state;
            batch.row();
            batch.value(s.id.0);
            batch.value(c.channel);
            batch.value(c.endpoint.clone());
            batch.value(c.chat_key.clone());
            batch.value(c.customer_address.clone());
            batch.value(s.contact.name.clone());
            batch.value(s.contact.email.clone());
            batch.value(s.contact.phone.clone());
            batch.value(s.contact.company.clone());
            batch.value(s.contact.machine_serial.clone());
            batch.value(c.subject.clone());
            batch.value(c.subject_key.clone());
            batch.value(c.language.clone());
            batch.value("open");
            batch.value(s.priority);
            batch.value(s.queue.clone());
            batch.value(s.escalation.clone());
            batch.value(s.now);
            batch.value(s.now);
            batch.value(s.customer_at);
            batch.end_row();
        }
    }
}

/// New customer messages on existing conversations (each once): they are
/// open again, no longer wait for the customer, and take the (possibly
/// raised) triage outcome; contact facts fill gaps only. One statement for all of them (`UPDATE … FROM VALUES`):
/// it is compiled once per batch, with the search trigger it fires.
pub fn push_conversation_updates(batch: &mut SqlBatch, updates: &[ConversationUpdate]) {
    for chunk in updates.chunks(ROWS_PER_STATEMENT) {
        batch.statement(
            "UPDATE conversations SET status = 'open', resolved_at = NULL, awaiting_customer_since = NULL, \
             priority = u.column2, queue = u.column3, \
             escalation = u.column4, customer_name = COALESCE(conversations.customer_name, u.column5), \
             customer_email = COALESCE(conversations.customer_email, u.column6), \
             customer_phone = COALESCE(conversations.customer_phone, u.column7), \
             customer_company = COALESCE(conversations.customer_company, u.column8), \
             machine_serial = COALESCE(conversations.machine_serial, u.column9), updated_at = u.column10, \
             last_customer_at = CASE WHEN conversations.last_customer_at > u.column11 \
             THEN conversations.last_customer_at ELSE u.column11 END FROM (VALUES ",
            chunk.len() * 11,
        );
        for u in chunk {
            batch.row();
            batch.value(u.id.0);
            batch.value(u.priority);
            batch.value(u.queue.clone());
            batch.value(u.escalation.clone());
            batch.value(u.contact.name.clone());
            batch.value(u.contact.email.clone());
            batch.value(u.contact.phone.clone());
            batch.value(u.contact.company.clone());
            batch.value(u.contact.machine_serial.clone());
            batch.value(u.now);
            batch.value(u.customer_at);
            batch.end_row();
        }
        batch.text(") AS u WHERE conversations.id = u.column1");
    }
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

/// Writes verdicts, a few hundred per statement.
pub async fn insert_verdicts(conn: &mut AnyConnection, rows: &[NewVerdict]) -> Result<()> {
    let mut batch = SqlBatch::for_connection(conn);
    push_verdicts(&mut batch, rows);
    batch.execute(conn).await?;
    Ok(())
}

pub fn push_verdicts(batch: &mut SqlBatch, rows: &[NewVerdict]) {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        batch.statement(
            "INSERT INTO verdicts (conversation_id, message_id, priority, queue, escalation, detail, created_at) VALUES ",
            chunk.len() * 7,
        );
        for r in chunk {
            batch.row();
            batch.value(r.conversation.0);
            batch.value(r.message.0);
            batch.value(r.priority);
            batch.value(r.queue.clone());
            batch.value(r.escalation);
            batch.value(r.detail.clone());
            batch.value(r.now);
            batch.end_row();
        }
    }
}

/// A code a message mentioned (`search::mentions`).
pub struct NewMention {
    pub conversation: ConversationId,
    pub message: MessageId,
    pub mention: crate::search::mentions::Mention,
    pub now: i64,
}

pub async fn insert_mentions(conn: &mut AnyConnection, rows: &[NewMention]) -> Result<()> {
    let mut batch = SqlBatch::for_connection(conn);
    push_mentions(&mut batch, rows);
    batch.execute(conn).await?;
    Ok(())
}

pub fn push_mentions(batch: &mut SqlBatch, rows: &[NewMention]) {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        batch.statement(
            "INSERT INTO fact_mentions (conversation_id, message_id, kind, value, norm, created_at) VALUES ",
            chunk.len() * 6,
        );
        for r in chunk {
            batch.row();
            batch.value(r.conversation.0);
            batch.value(r.message.0);
            batch.value(r.mention.kind);
            batch.value(r.mention.value.clone());
            batch.value(r.mention.norm.clone());
            batch.value(r.now);
            batch.end_row();
        }
    }
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
    let mut batch = SqlBatch::for_connection(conn);
    push_queue_entries(&mut batch, entries);
    batch.execute(conn).await?;
    Ok(())
}

/// Each conversation at most once: a statement may not upsert a row twice.
pub fn push_queue_entries(batch: &mut SqlBatch, entries: &[QueueEntry]) {
    for chunk in entries.chunks(ROWS_PER_STATEMENT) {
        batch.statement(
            "INSERT INTO queue_entries (conversation_id, queue, priority_rank, waiting_since) VALUES ",
            chunk.len() * 4,
        );
        for e in chunk {
            batch.row();
            batch.value(e.conversation.0);
            batch.value(e.queue.clone());
            batch.value(e.priority_rank);
            batch.value(e.waiting_since);
            batch.end_row();
        }
        batch.text(
            " ON CONFLICT (conversation_id) DO UPDATE SET queue = excluded.queue, priority_rank = excluded.priority_rank, \
             waiting_since = COALESCE(queue_entries.waiting_since, excluded.waiting_since)",
        );
    }
}
