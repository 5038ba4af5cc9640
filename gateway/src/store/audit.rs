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
        agent: Option<AgentId>,
        action: &str,
        subject: &str,
        detail: &serde_json::Value,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO audit_log (at, agent_id, action, subject, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(now)
            .bind(agent.map(|a| a.0))
            .bind(action)
            .bind(subject)
            .bind(detail.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// When an action was last recorded.
    pub async fn audit_last(&self, actions: &[&str]) -> Result<Option<i64>> {
        let sql = format!(
            "SELECT MAX(at) FROM audit_log WHERE action IN ({})",
            super::placeholders(1, actions.len())
        );
        let mut q = sqlx::query_scalar::<_, Option<i64>>(&sql);
        for a in actions {
            q = q.bind(*a);
        }
        Ok(q.fetch_one(self.reader()).await?)
    }

    /// Earlier entries about an address now erased name it by its digest.
    pub async fn audit_rename_subject(&self, addresses: &[String], digest: &str) -> Result<u64> {
        if addresses.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "UPDATE audit_log SET subject = $1 WHERE subject IN ({})",
            super::placeholders(2, addresses.len())
        );
        let mut q = sqlx::query(&sql).bind(digest);
        for a in addresses {
            q = q.bind(a.as_str());
        }
        let mut tx = self.begin().await?;
        let n = q.execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// Entries about one subject (an address, or the digest of an erased one), newest first.
    pub async fn audit_of(&self, subjects: &[String], limit: i64) -> Result<Vec<AuditRow>> {
        if subjects.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, at, agent_id, action, subject, detail FROM audit_log WHERE subject IN ({}) \
             ORDER BY id DESC LIMIT $1",
            super::placeholders(2, subjects.len())
        );
        let mut q = sqlx::query_as(&sql).bind(limit);
        for s in subjects {
            q = q.bind(s.as_str());
        }
        Ok(q.fetch_all(self.reader()).await?)
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
