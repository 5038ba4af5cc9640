//! Intervention reports: the current version of each conversation's report
//! and every version before it.

use serde::Serialize;

use super::conversations::ChangeError;
use super::{Result, Store};
use crate::ids::{AgentId, ConversationId};
use crate::intervention::ReportContent;

/// Where a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Draft,
    Validated,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Draft => "draft",
            ReportStatus::Validated => "validated",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredReport {
    pub version: i64,
    pub status: String,
    pub content: ReportContent,
    pub updated_by: Option<String>,
    pub updated_at: i64,
    pub validated_by: Option<String>,
    pub validated_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ReportVersion {
    pub version: i64,
    pub status: String,
    pub agent: Option<String>,
    pub at: i64,
    #[serde(skip)]
    pub content: String,
}

#[derive(sqlx::FromRow)]
struct ReportLine {
    version: i64,
    status: String,
    content: String,
    updated_by: Option<String>,
    updated_at: i64,
    validated_by: Option<String>,
    validated_at: Option<i64>,
}

impl Store {
    /// For each report validated in `[start, end)`: milliseconds from its
    /// first draft to its validation.
    pub async fn reports_validated(&self, start: i64, end: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT r.validated_at - COALESCE((SELECT MIN(v.at) FROM intervention_report_versions v \
             WHERE v.conversation_id = r.conversation_id), r.validated_at) FROM intervention_reports r \
             WHERE r.status = 'validated' AND r.validated_at >= $1 AND r.validated_at < $2",
        )
        .bind(start)
        .bind(end)
        .fetch_all(self.reader())
        .await?)
    }

    pub async fn report_get(&self, id: ConversationId) -> Result<Option<StoredReport>> {
        let line: Option<ReportLine> = sqlx::query_as(
            "SELECT r.version, r.status, r.content, u.display_name AS updated_by, r.updated_at, \
             v.display_name AS validated_by, r.validated_at FROM intervention_reports r \
             LEFT JOIN agents u ON u.id = r.updated_by LEFT JOIN agents v ON v.id = r.validated_by \
             WHERE r.conversation_id = $1",
        )
        .bind(id.0)
        .fetch_optional(self.reader())
        .await?;
        let Some(l) = line else { return Ok(None) };
        let content = serde_json::from_str(&l.content)
            .map_err(|e| super::StoreError::Corrupt(format!("report of conversation {}: {e}", id.0)))?;
        Ok(Some(StoredReport {
            version: l.version,
            status: l.status,
            content,
            updated_by: l.updated_by,
            updated_at: l.updated_at,
            validated_by: l.validated_by,
            validated_at: l.validated_at,
        }))
    }

    /// Saves a new version. `base`: the version the agent edited (0 for
    /// none); another agent's save since then is a conflict, not overwritten.
    pub async fn report_save(
        &self,
        id: ConversationId,
        content: &ReportContent,
        status: ReportStatus,
        base: i64,
        agent: AgentId,
        now: i64,
    ) -> Result<i64, ChangeError> {
        let json = serde_json::to_string(content).map_err(|e| super::StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.begin().await?;
        let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM conversations WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(ChangeError::NotFound);
        }
        let current: Option<(i64,)> =
            sqlx::query_as("SELECT version FROM intervention_reports WHERE conversation_id = $1")
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?;
        if current.map_or(0, |(v,)| v) != base {
            return Err(ChangeError::Changed);
        }
        let version = base + 1;
        let validated = (status == ReportStatus::Validated).then_some((agent.0, now));
        sqlx::query(
            "INSERT INTO intervention_reports (conversation_id, version, status, content, updated_by, updated_at, \
             validated_by, validated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (conversation_id) DO UPDATE SET version = $2, status = $3, content = $4, updated_by = $5, \
             updated_at = $6, validated_by = $7, validated_at = $8",
        )
        .bind(id.0)
        .bind(version)
        .bind(status.as_str())
        .bind(&json)
        .bind(agent.0)
        .bind(now)
        .bind(validated.map(|v| v.0))
        .bind(validated.map(|v| v.1))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO intervention_report_versions (conversation_id, version, status, content, agent_id, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.0)
        .bind(version)
        .bind(status.as_str())
        .bind(&json)
        .bind(agent.0)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Every version, oldest first.
    pub async fn report_versions(&self, id: ConversationId) -> Result<Vec<ReportVersion>> {
        Ok(sqlx::query_as(
            "SELECT r.version, r.status, a.display_name AS agent, r.at, r.content \
             FROM intervention_report_versions r LEFT JOIN agents a ON a.id = r.agent_id \
             WHERE r.conversation_id = $1 ORDER BY r.version",
        )
        .bind(id.0)
        .fetch_all(self.reader())
        .await?)
    }
}
