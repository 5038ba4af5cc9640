//! Keys the gateway signs with, shared by every node on the same store.

use super::{Result, Store};

impl Store {
    /// The named server key, storing `fresh` first if there is none yet. Every
    /// node that starts on the same store gets the same value.
    pub async fn server_key(&self, name: &str, fresh: &str, now: i64) -> Result<String> {
        sqlx::query(
            "INSERT INTO server_keys (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(fresh)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(sqlx::query_scalar("SELECT value FROM server_keys WHERE name = $1")
            .bind(name)
            .fetch_one(&self.writer)
            .await?)
    }
}
