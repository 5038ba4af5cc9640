//! The audit log: who did what, when, from where, about whom — sign-ins,
//! account changes, raw-mail downloads, exports, erasures, legal holds,
//! retention runs — with counts, never the data itself. Append-only: the
//! API writes entries and reads them; the one change ever made to a row is
//! an erasure replacing an address by its digest.

use serde::Serialize;

use super::{Result, Store};
use crate::ids::AgentId;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub agent_id: Option<i64>,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub client: Option<String>,
}

/// One entry to append.
#[derive(Debug, Clone)]
pub struct Audit<'a> {
    /// None: the gateway itself (the retention job).
    pub agent: Option<AgentId>,
    pub client: Option<std::net::IpAddr>,
    pub action: &'a str,
    pub subject: &'a str,
    pub detail: serde_json::Value,
}

/// What the log can be narrowed to.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub agent: Option<i64>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

const COLUMNS: &str = "id, at, agent_id, action, subject, detail, client";

impl Store {
    pub async fn record_audit(&self, entry: &Audit<'_>, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO audit_log (at, agent_id, action, subject, detail, client) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(now)
        .bind(entry.agent.map(|a| a.0))
        .bind(entry.action)
        .bind(entry.subject)
        .bind(entry.detail.to_string())
        .bind(entry.client.map(|c| c.to_string()))
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
            "SELECT {COLUMNS} FROM audit_log WHERE subject IN ({}) ORDER BY id DESC LIMIT $1",
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
        self.audit_filtered(&AuditFilter::default(), limit).await
    }

    /// The newest entries first, narrowed by `f`.
    pub async fn audit_filtered(&self, f: &AuditFilter, limit: i64) -> Result<Vec<AuditRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log WHERE ($1 = '' OR action = $1) AND ($2 < 0 OR agent_id = $2) \
             AND at >= $3 AND at < $4 ORDER BY id DESC LIMIT $5"
        );
        Ok(sqlx::query_as(&sql)
            .bind(f.action.clone().unwrap_or_default())
            .bind(f.agent.unwrap_or(-1))
            .bind(f.since.unwrap_or(i64::MIN))
            .bind(f.until.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(self.reader())
            .await?)
    }
}
