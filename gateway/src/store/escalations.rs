//! Escalation tasks: callbacks with their outcome, video rooms.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::batch::SqlBatch;
use super::{Result, Store};
use crate::ids::{AgentId, ConversationId};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct EscalationRow {
    pub id: i64,
    pub conversation_id: i64,
    /// callback | visio
    pub kind: String,
    /// open | done | cancelled
    pub status: String,
    pub phone: Option<String>,
    pub preferred_slot: Option<String>,
    pub room_url: Option<String>,
    /// reached | no_answer | wrong_number | voicemail
    pub outcome: Option<String>,
    pub notes: Option<String>,
    pub agent_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, conversation_id, kind, status, phone, preferred_slot, room_url, outcome, notes, agent_id, \
     created_at, updated_at";

pub struct NewEscalation<'a> {
    pub conversation: ConversationId,
    pub kind: &'a str,
    pub phone: Option<&'a str>,
    pub preferred_slot: Option<&'a str>,
    pub room_url: Option<&'a str>,
    pub agent: Option<AgentId>,
    pub now: i64,
}

pub async fn insert(conn: &mut AnyConnection, e: &NewEscalation<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO escalations (conversation_id, kind, status, phone, preferred_slot, room_url, agent_id, created_at, \
         updated_at) VALUES ($1, $2, 'open', $3, $4, $5, $6, $7, $7) RETURNING id",
    )
    .bind(e.conversation.0)
    .bind(e.kind)
    .bind(e.phone)
    .bind(e.preferred_slot)
    .bind(e.room_url)
    .bind(e.agent.map(|a| a.0))
    .bind(e.now)
    .fetch_one(conn)
    .await?)
}

/// An escalation to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    pub kind: &'static str,
    pub phone: Option<String>,
    pub slot: Option<String>,
    pub room_url: Option<String>,
    pub agent: Option<AgentId>,
}

impl Opening {
    pub fn of_kind(kind: &'static str) -> Self {
        Opening {
            kind,
            phone: None,
            slot: None,
            room_url: None,
            agent: None,
        }
    }
}

/// An escalation a batch opens or closes, in the order its messages did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Open {
        conversation: ConversationId,
        opening: Opening,
        now: i64,
    },
    /// Its open escalations of this kind are done.
    Close {
        conversation: ConversationId,
        kind: &'static str,
        now: i64,
    },
}

/// One statement per change: a close must see the opens before it, and no later ones.
pub fn push_changes(batch: &mut SqlBatch, changes: &[Change]) {
    for c in changes {
        match c {
            Change::Open {
                conversation,
                opening,
                now,
            } => {
                batch.statement(
                    "INSERT INTO escalations (conversation_id, kind, status, phone, preferred_slot, room_url, agent_id, \
                     created_at, updated_at) VALUES ",
                    8,
                );
                batch.row();
                batch.value(conversation.0);
                batch.value(opening.kind);
                batch.text(", 'open'");
                batch.value(opening.phone.clone());
                batch.value(opening.slot.clone());
                batch.value(opening.room_url.clone());
                batch.value(opening.agent.map(|a| a.0));
                batch.value(*now);
                batch.value(*now);
                batch.end_row();
            }
            Change::Close {
                conversation,
                kind,
                now,
            } => {
                batch.statement("UPDATE escalations SET status = 'done', updated_at = ", 3);
                batch.bind(*now);
                batch.text(" WHERE conversation_id = ");
                batch.bind(conversation.0);
                batch.text(" AND kind = ");
                batch.bind(*kind);
                batch.text(" AND status = 'open'");
            }
        }
    }
}

/// Closes the open escalations of this kind (done: what they waited for came).
pub async fn close_of_kind(conn: &mut AnyConnection, conversation: ConversationId, kind: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE escalations SET status = 'done', updated_at = $3 WHERE conversation_id = $1 AND kind = $2 AND status = 'open'",
    )
    .bind(conversation.0)
    .bind(kind)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The kinds of escalation open on a conversation.
pub async fn open_kinds(conn: &mut AnyConnection, conversation: ConversationId) -> Result<OpenKinds> {
    Ok(open_kinds_of(conn, &[conversation.0])
        .await?
        .remove(&conversation.0)
        .unwrap_or_default())
}

/// The kinds of escalation open on each of these conversations (those with none are left out).
pub async fn open_kinds_of(
    conn: &mut AnyConnection,
    conversations: &[i64],
) -> Result<std::collections::HashMap<i64, OpenKinds>> {
    let mut out: std::collections::HashMap<i64, OpenKinds> = std::collections::HashMap::new();
    if conversations.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT conversation_id, kind FROM escalations WHERE status = 'open' AND conversation_id IN ({})",
        super::placeholders(1, conversations.len())
    );
    let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
    for id in conversations {
        query = query.bind(*id);
    }
    for (conversation, kind) in query.fetch_all(conn).await? {
        out.entry(conversation).or_default().insert(kind);
    }
    Ok(out)
}

/// Escalation kinds open on one conversation.
pub type OpenKinds = std::collections::BTreeSet<String>;

impl Store {
    pub async fn escalations_of(&self, conversation: ConversationId) -> Result<Vec<EscalationRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM escalations WHERE conversation_id = $1 ORDER BY id"
        ))
        .bind(conversation.0)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Open escalations, callbacks first, oldest first: the top of the inbox.
    pub async fn escalations_open(&self) -> Result<Vec<EscalationRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM escalations WHERE status = 'open' \
             ORDER BY CASE kind WHEN 'callback' THEN 0 ELSE 1 END, created_at, id"
        ))
        .fetch_all(&self.reader)
        .await?)
    }

    /// Records how a callback went (or closes a room); None when there is no such escalation.
    pub async fn escalation_outcome(
        &self,
        id: i64,
        outcome: &str,
        notes: Option<&str>,
        agent: AgentId,
        done: bool,
        now: i64,
    ) -> Result<Option<EscalationRow>> {
        Ok(sqlx::query_as(&format!(
            "UPDATE escalations SET outcome = $2, notes = $3, agent_id = $4, status = $5, updated_at = $6 \
             WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(outcome)
        .bind(notes)
        .bind(agent.0)
        .bind(if done { "done" } else { "open" })
        .bind(now)
        .fetch_optional(&self.writer)
        .await?)
    }
}
