//! Conversations as agents see and change them.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::messages::{self, Direction, NewMessage};
use super::{Result, Store, outbox};
use crate::dispatch::holding::{Actor, Refusal, may_change_holder};
use crate::ids::{AgentId, ConversationId, MessageId};
use crate::reports::facts::EventKind;

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct ConversationRow {
    pub id: i64,
    pub channel: String,
    pub endpoint: String,
    #[serde(skip)]
    pub chat_key: Option<String>,
    pub customer_address: String,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
    pub customer_company: Option<String>,
    pub machine_serial: Option<String>,
    pub subject: Option<String>,
    pub language: Option<String>,
    pub status: String,
    pub priority: String,
    pub queue: String,
    pub escalation: String,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_customer_at: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    /// Oldest customer message not yet answered, while the conversation is queued.
    pub waiting_since: Option<i64>,
    pub preview: Option<String>,
    /// Why the conversation may not be erased (a dispute, a claim), if it may not.
    pub legal_hold: Option<String>,
    /// When the customer's data was erased; the skeleton stays for the KPIs.
    pub erased_at: Option<i64>,
}

const CONVERSATION_SELECT: &str = "SELECT c.id, c.channel, c.endpoint, c.chat_key, c.customer_address, c.customer_name, \
     c.customer_email, c.customer_phone, c.customer_company, c.machine_serial, c.subject, c.language, c.status, \
     c.priority, c.queue, c.escalation, c.assignee_id, a.display_name AS assignee_name, c.created_at, c.updated_at, \
     c.last_customer_at, c.first_response_at, c.resolved_at, q.waiting_since, \
     (SELECT m.body FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'in' ORDER BY m.id LIMIT 1) AS preview, \
     c.legal_hold, c.erased_at \
     FROM conversations c LEFT JOIN agents a ON a.id = c.assignee_id \
     LEFT JOIN queue_entries q ON q.conversation_id = c.id";

#[derive(Debug, Clone, Serialize)]
pub struct QueueSummary {
    pub name: String,
    /// The most urgent priority waiting in this queue.
    pub priority: String,
    pub open: i64,
    pub unassigned: i64,
    pub oldest_waiting_since: Option<i64>,
}

/// What an agent writes: a reply (with channel-specific `payload`) or a note.
#[derive(Debug, Clone, Copy)]
pub struct AgentMessage<'a> {
    pub agent: AgentId,
    pub agent_name: &'a str,
    pub text: &'a str,
    pub direction: Direction,
    pub payload: Option<&'a str>,
    /// Upload ids, which must belong to `upload_owner`.
    pub attachments: &'a [String],
    pub upload_owner: &'a str,
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub queue: Option<String>,
    /// `open` (default) or `resolved`.
    pub status: Option<String>,
    pub assignee: Option<AgentId>,
    pub limit: i64,
}

/// Why a change to a conversation was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("no such conversation")]
    NotFound,
    #[error("the conversation is assigned to {0}")]
    ClaimedByOther(String),
    #[error("unknown upload {0:?}")]
    UnknownUpload(String),
    #[error("only a supervisor can give a conversation to someone else")]
    GiveToOther,
    #[error("the conversation changed hands meanwhile; reload and try again")]
    Changed,
    #[error(transparent)]
    Store(#[from] super::StoreError),
}

impl From<Refusal> for ChangeError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::HeldByOther(name) => ChangeError::ClaimedByOther(name),
            Refusal::GiveToOther => ChangeError::GiveToOther,
        }
    }
}

impl From<sqlx::Error> for ChangeError {
    fn from(e: sqlx::Error) -> Self {
        ChangeError::Store(e.into())
    }
}

fn priority_rank_of(priority: &str) -> i64 {
    triage::Priority::parse(priority)
        .map(triage::Priority::rank)
        .unwrap_or(i64::MAX)
}

impl Store {
    /// Every queue that has open conversations, most urgent first.
    pub async fn queue_summaries(&self, known: &[&str]) -> Result<Vec<QueueSummary>> {
        let rows: Vec<(String, i64, i64, Option<i64>, i64)> = sqlx::query_as(
            "SELECT q.queue, MIN(q.priority_rank), COUNT(*), MIN(q.waiting_since), \
             COUNT(*) - COUNT(c.assignee_id) \
             FROM queue_entries q JOIN conversations c ON c.id = q.conversation_id GROUP BY q.queue",
        )
        .fetch_all(&self.reader)
        .await?;
        let mut out: Vec<(i64, QueueSummary)> = rows
            .into_iter()
            .map(|(name, rank, open, oldest, unassigned)| {
                let priority = [
                    triage::Priority::Critical,
                    triage::Priority::Important,
                    triage::Priority::Faq,
                ]
                .into_iter()
                .find(|p| p.rank() == rank)
                .unwrap_or(triage::Priority::Faq);
                (
                    rank,
                    QueueSummary {
                        name,
                        priority: priority.as_str().to_string(),
                        open,
                        unassigned,
                        oldest_waiting_since: oldest,
                    },
                )
            })
            .collect();
        for (i, name) in known.iter().enumerate() {
            if !out.iter().any(|(_, q)| q.name == *name) {
                let rank = i64::try_from(i).unwrap_or(i64::MAX);
                let priority = ["critical", "important", "faq"].get(i).copied().unwrap_or("faq");
                out.push((
                    rank,
                    QueueSummary {
                        name: (*name).to_string(),
                        priority: priority.to_string(),
                        open: 0,
                        unassigned: 0,
                        oldest_waiting_since: None,
                    },
                ));
            }
        }
        out.sort_by(|(ra, a), (rb, b)| ra.cmp(rb).then(a.name.cmp(&b.name)));
        Ok(out.into_iter().map(|(_, q)| q).collect())
    }

    /// Conversations most urgent first, then longest waiting.
    pub async fn conversation_list(&self, f: &ListFilter) -> Result<Vec<ConversationRow>> {
        let sql = format!(
            "{CONVERSATION_SELECT} WHERE c.status = $1 AND ($2 = '' OR c.queue = $2) AND ($3 < 0 OR c.assignee_id = $3) \
             ORDER BY CASE c.priority WHEN 'critical' THEN 0 WHEN 'important' THEN 1 ELSE 2 END, \
             COALESCE(q.waiting_since, c.updated_at), c.id LIMIT $4"
        );
        Ok(sqlx::query_as(&sql)
            .bind(f.status.as_deref().unwrap_or("open"))
            .bind(f.queue.as_deref().unwrap_or(""))
            .bind(f.assignee.map(|a| a.0).unwrap_or(-1))
            .bind(if f.limit > 0 { f.limit } else { 200 })
            .fetch_all(&self.reader)
            .await?)
    }

    /// How many open conversations an agent holds.
    pub async fn open_count_of(&self, agent: AgentId) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM conversations WHERE status = 'open' AND assignee_id = $1")
                .bind(agent.0)
                .fetch_one(&self.reader)
                .await?,
        )
    }

    pub async fn conversation_get(&self, id: ConversationId) -> Result<Option<ConversationRow>> {
        let sql = format!("{CONVERSATION_SELECT} WHERE c.id = $1");
        Ok(sqlx::query_as(&sql).bind(id.0).fetch_optional(&self.reader).await?)
    }

    /// Several conversations by id, in no particular order.
    pub async fn conversations_get(&self, ids: &[i64]) -> Result<Vec<ConversationRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "{CONVERSATION_SELECT} WHERE c.id IN ({})",
            super::placeholders(1, ids.len())
        );
        let mut query = sqlx::query_as(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        Ok(query.fetch_all(&self.reader).await?)
    }

    pub async fn conversation_by_chat_key(&self, key: &str) -> Result<Option<ConversationRow>> {
        let sql = format!("{CONVERSATION_SELECT} WHERE c.chat_key = $1");
        Ok(sqlx::query_as(&sql).bind(key).fetch_optional(&self.reader).await?)
    }

    pub async fn messages(&self, id: ConversationId, with_notes: bool) -> Result<Vec<messages::MessageRow>> {
        let mut conn = self.reader.acquire().await?;
        messages::list(&mut conn, id, with_notes).await
    }

    pub async fn message(&self, id: MessageId) -> Result<Option<messages::MessageRow>> {
        let mut conn = self.reader.acquire().await?;
        messages::get(&mut conn, id).await
    }

    pub async fn attachments(&self, id: ConversationId) -> Result<Vec<messages::AttachmentRow>> {
        let mut conn = self.reader.acquire().await?;
        messages::attachments_of_conversation(&mut conn, id).await
    }

    pub async fn messages_get(&self, ids: &[i64]) -> Result<Vec<messages::MessageRow>> {
        let mut conn = self.reader.acquire().await?;
        messages::get_many(&mut conn, ids).await
    }

    pub async fn attachments_of_messages(&self, ids: &[i64]) -> Result<Vec<messages::AttachmentRow>> {
        let mut conn = self.reader.acquire().await?;
        messages::attachments_of_messages(&mut conn, ids).await
    }

    pub async fn attachment(&self, attachment: i64) -> Result<Option<messages::AttachmentRow>> {
        let mut conn = self.reader.acquire().await?;
        messages::attachment(&mut conn, attachment).await
    }

    pub async fn attachment_in_conversation(
        &self,
        attachment: i64,
        conversation: ConversationId,
    ) -> Result<Option<messages::AttachmentRow>> {
        let mut conn = self.reader.acquire().await?;
        messages::attachment_in_conversation(&mut conn, attachment, conversation).await
    }

    /// The verdicts of a conversation, newest last, as stored JSON.
    pub async fn verdicts(&self, id: ConversationId) -> Result<Vec<serde_json::Value>> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT detail FROM verdicts WHERE conversation_id = $1 ORDER BY id")
            .bind(id.0)
            .fetch_all(&self.reader)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(d,)| serde_json::from_str(&d).ok())
            .collect())
    }

    /// An agent's answer or private note. A reply is committed with its outbox row.
    pub async fn add_agent_message(
        &self,
        id: ConversationId,
        m: &AgentMessage<'_>,
        now: i64,
    ) -> Result<MessageId, ChangeError> {
        let AgentMessage {
            agent,
            agent_name,
            text,
            direction,
            payload,
            attachments,
            upload_owner,
        } = *m;
        let mut tx = self.begin().await?;
        let conv: Option<(String, String)> =
            sqlx::query_as("SELECT channel, endpoint FROM conversations WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((channel, endpoint)) = conv else {
            return Err(ChangeError::NotFound);
        };
        let message = messages::insert(
            &mut tx,
            &NewMessage {
                conversation_id: id,
                direction,
                author_kind: "agent",
                author_agent_id: Some(agent.0),
                author_name: Some(agent_name),
                channel: &channel,
                endpoint: &endpoint,
                external_id: None,
                client_id: None,
                subject: None,
                body: text,
                quoted: None,
                html: None,
                raw_ref: None,
                created_at: now,
            },
        )
        .await?;
        for upload_id in attachments {
            let Some(u) = super::uploads::owned(&mut tx, upload_id, upload_owner).await? else {
                return Err(ChangeError::UnknownUpload(upload_id.clone()));
            };
            messages::insert_attachment(
                &mut tx,
                &messages::NewAttachment {
                    message_id: message,
                    name: u.name.as_deref(),
                    content_type: &u.content_type,
                    size: Some(u.size),
                    sha256: Some(&u.sha256),
                    remote_handle: None,
                    content_id: None,
                },
            )
            .await?;
        }
        if direction == Direction::Out {
            outbox::insert(&mut tx, message, id, &channel, payload, now).await?;
            // A human has the conversation: Level 1 asks nothing more.
            super::qualifications::stop_for_agent(&mut tx, id, now).await?;
            sqlx::query(
                "UPDATE conversations SET first_response_at = COALESCE(first_response_at, $2), updated_at = $2 WHERE id = $1",
            )
            .bind(id.0)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE queue_entries SET waiting_since = NULL WHERE conversation_id = $1")
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            super::sla::meet(&mut tx, id, crate::sla::TimerKind::FirstResponse, now).await?;
            super::sla::meet(&mut tx, id, crate::sla::TimerKind::NextResponse, now).await?;
        }
        tx.commit().await?;
        Ok(message)
    }

    /// Who holds the conversation now, and their name.
    async fn holder(
        tx: &mut sqlx::AnyConnection,
        id: ConversationId,
    ) -> Result<(Option<AgentId>, String), ChangeError> {
        let current: Option<(Option<i64>, Option<String>)> = sqlx::query_as(
            "SELECT c.assignee_id, a.display_name FROM conversations c LEFT JOIN agents a ON a.id = c.assignee_id WHERE c.id = $1",
        )
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?;
        let (assignee, name) = current.ok_or(ChangeError::NotFound)?;
        Ok((assignee.map(AgentId), name.unwrap_or_default()))
    }

    /// Gives the conversation to `agent` (or nobody) if `actor` may
    /// ([`may_change_holder`]). The update is conditional on the holder read,
    /// so two changes racing cannot both pass the check.
    pub async fn assign(
        &self,
        id: ConversationId,
        agent: Option<AgentId>,
        actor: Actor,
        take_over: bool,
        now: i64,
    ) -> Result<(), ChangeError> {
        let mut tx = self.begin().await?;
        let (current, name) = Self::holder(&mut tx, id).await?;
        may_change_holder(actor, current, &name, agent, take_over)?;
        // A manual claim or assignment is not an offer: the no-answer timeout does not apply.
        let updated = sqlx::query(
            "UPDATE conversations SET assignee_id = $2, assigned_at = NULL, updated_at = $3 \
             WHERE id = $1 AND assignee_id IS NOT DISTINCT FROM $4",
        )
        .bind(id.0)
        .bind(agent.map(|a| a.0))
        .bind(now)
        .bind(current.map(|a| a.0))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(ChangeError::Changed);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Resolved conversations leave their queue; reopened ones come back
    /// waiting. A change of state is a reporting event, with who made it.
    pub async fn set_status(
        &self,
        id: ConversationId,
        resolved: bool,
        agent: Option<AgentId>,
        now: i64,
    ) -> Result<(), ChangeError> {
        let mut tx = self.begin().await?;
        change_status(&mut tx, id, resolved, agent, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// An agent resolves: and, once per conversation, the customer is asked
    /// whether they are satisfied (`feedback::survey`), in the same transaction.
    pub async fn resolve(
        &self,
        id: ConversationId,
        agent: AgentId,
        feedback: &crate::feedback::Settings,
        now: i64,
    ) -> Result<(), ChangeError> {
        let mut tx = self.begin().await?;
        if change_status(&mut tx, id, true, Some(agent), now).await? {
            crate::feedback::survey::ask(&mut tx, feedback, id, Some(agent), false, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Waiting for the customer: SLA timers pause until they write again.
    pub async fn set_waiting(
        &self,
        id: ConversationId,
        policies: &crate::sla::SlaPolicies,
        now: i64,
    ) -> Result<(), ChangeError> {
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE conversations SET awaiting_customer_since = $2, updated_at = $2 WHERE id = $1 \
             AND status = 'open' AND awaiting_customer_since IS NULL",
        )
        .bind(id.0)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 1 {
            super::sla::pause(&mut tx, policies, id, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Moves the conversation to another queue, to an agent or back to the queue's pool.
    pub async fn transfer(
        &self,
        id: ConversationId,
        queue: &str,
        agent: Option<AgentId>,
        actor: Actor,
        now: i64,
    ) -> Result<(), ChangeError> {
        let mut tx = self.begin().await?;
        let (current, name) = Self::holder(&mut tx, id).await?;
        may_change_holder(actor, current, &name, agent, false)?;
        let updated = sqlx::query(
            "UPDATE conversations SET queue = $2, assignee_id = $3, assigned_at = NULL, updated_at = $4 \
             WHERE id = $1 AND assignee_id IS NOT DISTINCT FROM $5",
        )
        .bind(id.0)
        .bind(queue)
        .bind(agent.map(|a| a.0))
        .bind(now)
        .bind(current.map(|a| a.0))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(ChangeError::Changed);
        }
        sqlx::query("UPDATE queue_entries SET queue = $2 WHERE conversation_id = $1")
            .bind(id.0)
            .bind(queue)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Resolves or reopens in the caller's transaction; whether the state changed.
pub async fn change_status(
    conn: &mut AnyConnection,
    id: ConversationId,
    resolved: bool,
    agent: Option<AgentId>,
    now: i64,
) -> Result<bool, ChangeError> {
    let conv: Option<(String, String)> = sqlx::query_as("SELECT queue, priority FROM conversations WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    let Some((queue, priority)) = conv else {
        return Err(ChangeError::NotFound);
    };
    // Resolving a resolved conversation keeps its resolution time.
    let changed = if resolved {
        let changed = sqlx::query(
            "UPDATE conversations SET status = 'resolved', resolved_at = $2, updated_at = $2 \
             WHERE id = $1 AND status <> 'resolved'",
        )
        .bind(id.0)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM queue_entries WHERE conversation_id = $1")
            .bind(id.0)
            .execute(&mut *conn)
            .await?;
        super::sla::close(&mut *conn, id, now).await?;
        changed
    } else {
        let changed = sqlx::query(
            "UPDATE conversations SET status = 'open', resolved_at = NULL, updated_at = $2 \
             WHERE id = $1 AND status = 'resolved'",
        )
        .bind(id.0)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        super::ingest::upsert_queue_entry(&mut *conn, id, &queue, priority_rank_of(&priority), Some(now)).await?;
        changed
    };
    if changed == 1 {
        let kind = if resolved {
            EventKind::Resolved
        } else {
            EventKind::Reopened
        };
        super::reporting::record_event(&mut *conn, id, kind, now, agent, None).await?;
    }
    Ok(changed == 1)
}
