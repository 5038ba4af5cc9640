//! The versions of the triage rules saved from the inbox.

use serde::Serialize;
use sqlx::FromRow;

use super::{Result, Store};
use crate::ids::AgentId;

/// One saved version; `source` is `None` for "back to the configured file".
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct RuleVersion {
    pub id: i64,
    pub source: Option<String>,
    pub note: String,
    pub agent_id: Option<i64>,
    pub agent_name: Option<String>,
    pub restored_from: Option<i64>,
    pub created_at: i64,
}

const SELECT: &str = "SELECT v.id, v.source, v.note, v.agent_id, a.display_name AS agent_name, v.restored_from, v.created_at \
     FROM rule_versions v LEFT JOIN agents a ON a.id = v.agent_id";

impl Store {
    /// The version in force: the newest, if any was ever saved.
    pub async fn rule_version_latest(&self) -> Result<Option<RuleVersion>> {
        Ok(sqlx::query_as(&format!("{SELECT} ORDER BY v.id DESC LIMIT 1"))
            .fetch_optional(self.reader())
            .await?)
    }

    pub async fn rule_version(&self, id: i64) -> Result<Option<RuleVersion>> {
        Ok(sqlx::query_as(&format!("{SELECT} WHERE v.id = $1"))
            .bind(id)
            .fetch_optional(self.reader())
            .await?)
    }

    /// Newest first.
    pub async fn rule_versions(&self, limit: i64) -> Result<Vec<RuleVersion>> {
        Ok(sqlx::query_as(&format!("{SELECT} ORDER BY v.id DESC LIMIT $1"))
            .bind(limit)
            .fetch_all(self.reader())
            .await?)
    }

    pub async fn rule_version_add(
        &self,
        source: Option<&str>,
        note: &str,
        agent: Option<AgentId>,
        restored_from: Option<i64>,
        now: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO rule_versions (source, note, agent_id, restored_from, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(source)
        .bind(note)
        .bind(agent.map(|a| a.0))
        .bind(restored_from)
        .bind(now)
        .fetch_one(&self.writer)
        .await?)
    }
}
