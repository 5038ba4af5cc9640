//! Knowledge entries from validated reports: drafts, published, retired; and
//! how often each was sent to a customer since (its reuse).

use serde::Serialize;

use super::conversations::ChangeError;
use super::{Result, Store, StoreError};
use crate::ids::{AgentId, ConversationId};
use crate::intervention::knowledge::KnowledgeDraft;
use crate::reports::facts::EventKind;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KnowledgeEntry {
    pub id: String,
    pub conversation_id: Option<i64>,
    pub status: String,
    pub draft: KnowledgeDraft,
    pub created_at: i64,
    pub updated_at: i64,
    pub published_by: Option<String>,
    pub published_at: Option<i64>,
    /// Knowledge answers of this entry sent to customers.
    pub sent: i64,
    /// Of them, those the customer said solved their problem.
    pub solved: i64,
}

#[derive(sqlx::FromRow)]
struct Line {
    id: String,
    conversation_id: Option<i64>,
    status: String,
    draft: String,
    created_at: i64,
    updated_at: i64,
    published_by: Option<String>,
    published_at: Option<i64>,
    sent: i64,
    solved: i64,
}

const SELECT: &str = "SELECT k.id, k.conversation_id, k.status, k.draft, k.created_at, k.updated_at, \
     a.display_name AS published_by, k.published_at, \
     (SELECT COUNT(*) FROM conversation_events e WHERE e.kind = 'knowledge_sent' AND e.detail = k.id) AS sent, \
     (SELECT COUNT(*) FROM conversation_events e WHERE e.kind = 'knowledge_solved' AND e.detail = k.id) AS solved \
     FROM knowledge_entries k LEFT JOIN agents a ON a.id = k.published_by";

fn entry(l: Line) -> Result<KnowledgeEntry> {
    let draft =
        serde_json::from_str(&l.draft).map_err(|e| StoreError::Corrupt(format!("knowledge entry {}: {e}", l.id)))?;
    Ok(KnowledgeEntry {
        id: l.id,
        conversation_id: l.conversation_id,
        status: l.status,
        draft,
        created_at: l.created_at,
        updated_at: l.updated_at,
        published_by: l.published_by,
        published_at: l.published_at,
        sent: l.sent,
        solved: l.solved,
    })
}

/// Entries written from reports are named for their conversation.
const FROM_CASE: &str = "sy-";

/// The id of the entry written from a conversation's report.
pub fn entry_id(conversation: ConversationId) -> String {
    format!("{FROM_CASE}{}", conversation.0)
}

/// The id of an entry written from scratch: `kb-` and its title's words.
pub fn new_entry_id(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'â' | 'ä' | 'á' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            'ß' => 's',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "kb-entry".into()
    } else {
        format!("kb-{slug}")
    }
}

/// Whether an entry id is one written from a resolved case.
pub fn is_from_case(id: &str) -> bool {
    id.strip_prefix(FROM_CASE).is_some_and(|n| n.parse::<i64>().is_ok())
}

impl Store {
    /// A draft from a conversation's report; an existing entry is kept (409).
    pub async fn knowledge_create(
        &self,
        conversation: ConversationId,
        draft: &KnowledgeDraft,
        agent: AgentId,
        now: i64,
    ) -> Result<String, ChangeError> {
        let id = entry_id(conversation);
        let mut tx = self.begin().await?;
        if !insert_draft(&mut tx, &id, Some(conversation), draft, agent, now).await? {
            return Err(ChangeError::Changed);
        }
        let created = EventKind::KnowledgeCreated;
        super::reporting::record_event(&mut tx, conversation, created, now, Some(agent), Some(&id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A draft written from scratch under `id`; false when the id is taken.
    pub async fn knowledge_create_standalone(
        &self,
        id: &str,
        draft: &KnowledgeDraft,
        agent: AgentId,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let inserted = insert_draft(&mut tx, id, None, draft, agent, now).await?;
        tx.commit().await?;
        Ok(inserted)
    }

    pub async fn knowledge_get(&self, id: &str) -> Result<Option<KnowledgeEntry>> {
        let line: Option<Line> = sqlx::query_as(&format!("{SELECT} WHERE k.id = $1"))
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        line.map(entry).transpose()
    }

    /// Every entry, newest first.
    pub async fn knowledge_list(&self) -> Result<Vec<KnowledgeEntry>> {
        let lines: Vec<Line> = sqlx::query_as(&format!("{SELECT} ORDER BY k.created_at DESC, k.id"))
            .fetch_all(self.reader())
            .await?;
        lines.into_iter().map(entry).collect()
    }

    pub async fn knowledge_update(&self, id: &str, draft: &KnowledgeDraft, now: i64) -> Result<bool> {
        let json = serde_json::to_string(draft).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(
            sqlx::query("UPDATE knowledge_entries SET draft = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(&json)
                .bind(now)
                .execute(&self.writer)
                .await?
                .rows_affected()
                == 1,
        )
    }

    /// `published` or `retired`.
    pub async fn knowledge_set_status(&self, id: &str, status: &str, agent: AgentId, now: i64) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE knowledge_entries SET status = $2, updated_at = $4, \
             published_by = CASE WHEN $2 = 'published' THEN $3 ELSE published_by END, \
             published_at = CASE WHEN $2 = 'published' THEN $4 ELSE published_at END WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(agent.0)
        .bind(now)
        .execute(&self.writer)
        .await?
        .rows_affected()
            == 1)
    }

    /// The published entries as knowledge-base files: `(name, source)`.
    pub async fn knowledge_published(&self) -> Result<Vec<(String, String)>> {
        let lines: Vec<(String, String)> =
            sqlx::query_as("SELECT id, draft FROM knowledge_entries WHERE status = 'published' ORDER BY id")
                .fetch_all(self.reader())
                .await?;
        let mut out = Vec::with_capacity(lines.len());
        for (id, json) in lines {
            let draft: KnowledgeDraft =
                serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("knowledge entry {id}: {e}")))?;
            let source = draft.to_markdown(&id).map_err(StoreError::Corrupt)?;
            out.push((format!("published:{id}"), source));
        }
        Ok(out)
    }
}

/// A draft entry under `id`, from a case or from scratch; false when the id is taken.
async fn insert_draft(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    conversation: Option<ConversationId>,
    draft: &KnowledgeDraft,
    agent: AgentId,
    now: i64,
) -> Result<bool> {
    let json = serde_json::to_string(draft).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(sqlx::query(
        "INSERT INTO knowledge_entries (id, conversation_id, status, draft, created_by, created_at, updated_at) \
         VALUES ($1, $2, 'draft', $3, $4, $5, $5) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(conversation.map(|c| c.0))
    .bind(&json)
    .bind(agent.0)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_entrys_id_is_its_titles_words() {
        assert_eq!(
            new_entry_id("Pression de la pompe doseuse"),
            "kb-pression-de-la-pompe-doseuse"
        );
        assert_eq!(
            new_entry_id("  Défaut E-301 : « bourrage » !"),
            "kb-defaut-e-301-bourrage"
        );
        assert_eq!(new_entry_id("???"), "kb-entry");
        assert!(new_entry_id(&"mot ".repeat(40)).len() <= 43);
    }
}
