//! The audit log of what admins did with personal data: who, when, what,
//! about whom, with counts — never the data itself.

use serde::Serialize;

use super::{Result, Store};
use crate::ids::AgentId;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub agent_id: Option<i64>,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

impl Store {
    pub async fn record_audit(
        &self,
        agent: AgentId,
        action: &str,
        subject: &str,
        detail: &serde_json::Value,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO audit_log (at, agent_id, action, subject, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(now)
            .bind(agent.0)
            .bind(action)
            .bind(subject)
            .bind(detail.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest entries first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditRow>> {
        Ok(
            sqlx::query_as("SELECT id, at, agent_id, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT $1")
                .bind(limit)
                .fetch_all(self.reader())
                .await?,
        )
    }
}
