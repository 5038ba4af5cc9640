//! Settings changed in the inbox: a JSON document per key.

use super::{Result, Store};
use crate::ids::AgentId;

impl Store {
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(self.reader())
            .await?)
    }

    pub async fn set_setting(&self, key: &str, value: &str, agent: Option<AgentId>, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value, agent_id, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, agent_id = excluded.agent_id, \
             updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(agent.map(|a| a.0))
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn delete_setting(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM settings WHERE key = $1")
            .bind(key)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
