//! Agent accounts and their login sessions.

use serde::Serialize;
use sqlx::FromRow;

use super::{Result, Store};
use crate::ids::AgentId;

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct AgentRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: String,
    pub must_change_password: i64,
    pub disabled: i64,
    /// `fr`, `en`, `de`, `es` or `it`; None: the browser's, and the configured agents' language.
    pub language: Option<String>,
}

#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub agent_id: i64,
    pub csrf_token: String,
    pub expires_at: i64,
}

const AGENT_COLUMNS: &str = "id, username, display_name, password_hash, role, must_change_password, disabled, language";

impl Store {
    pub async fn agent_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM agents")
            .fetch_one(&self.reader)
            .await?)
    }

    pub async fn agent_create(
        &self,
        username: &str,
        display_name: &str,
        password_hash: &str,
        role: &str,
        must_change_password: bool,
        now: i64,
    ) -> Result<AgentId> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO agents (username, display_name, password_hash, role, must_change_password, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(username)
        .bind(display_name)
        .bind(password_hash)
        .bind(role)
        .bind(i64::from(must_change_password))
        .bind(now)
        .fetch_one(&self.writer)
        .await?;
        Ok(AgentId(id))
    }

    pub async fn agent_by_username(&self, username: &str) -> Result<Option<AgentRow>> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE username = $1");
        Ok(sqlx::query_as(&sql).bind(username).fetch_optional(&self.reader).await?)
    }

    pub async fn agent_by_id(&self, id: AgentId) -> Result<Option<AgentRow>> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = $1");
        Ok(sqlx::query_as(&sql).bind(id.0).fetch_optional(&self.reader).await?)
    }

    /// The agent's own choice of language (None: the browser's, and the default).
    pub async fn set_agent_language(&self, id: AgentId, language: Option<&str>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE agents SET language = $2 WHERE id = $1")
            .bind(id.0)
            .bind(language)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The languages active agents chose: what customer messages are translated into.
    pub async fn agent_languages(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT language FROM agents WHERE language IS NOT NULL AND disabled = 0 ORDER BY language",
        )
        .fetch_all(&self.reader)
        .await?)
    }

    pub async fn agent_list(&self) -> Result<Vec<AgentRow>> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents ORDER BY id");
        Ok(sqlx::query_as(&sql).fetch_all(&self.reader).await?)
    }

    pub async fn agent_set_password(&self, id: AgentId, password_hash: &str) -> Result<()> {
        sqlx::query("UPDATE agents SET password_hash = $2, must_change_password = 0 WHERE id = $1")
            .bind(id.0)
            .bind(password_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// An admin's reset: a one-time password to change at the next sign-in,
    /// and every session of the account ended, in one transaction.
    pub async fn agent_reset_password(&self, id: AgentId, password_hash: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        let found = sqlx::query("UPDATE agents SET password_hash = $2, must_change_password = 1 WHERE id = $1")
            .bind(id.0)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM sessions WHERE agent_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(found == 1)
    }

    pub async fn agent_set_role(&self, id: AgentId, role: &str) -> Result<bool> {
        Ok(sqlx::query("UPDATE agents SET role = $2 WHERE id = $1")
            .bind(id.0)
            .bind(role)
            .execute(&self.writer)
            .await?
            .rows_affected()
            == 1)
    }

    pub async fn session_create(
        &self,
        token_hash: &str,
        agent: AgentId,
        csrf_token: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        // Expired sessions are swept whenever someone logs in.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, agent_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(agent.0)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn session_get(&self, token_hash: &str) -> Result<Option<SessionRow>> {
        Ok(
            sqlx::query_as("SELECT agent_id, csrf_token, expires_at FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    /// Ends every session of the agent but `keep` (the one that asked).
    pub async fn sessions_delete_for_agent(&self, agent: AgentId, keep: Option<&str>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE agent_id = $1 AND token_hash <> $2")
            .bind(agent.0)
            .bind(keep.unwrap_or(""))
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }

    /// Disables or re-enables an account; disabling also ends its sessions and
    /// takes it offline. False when there is no such agent.
    pub async fn agent_set_disabled(&self, agent: AgentId, disabled: bool, now: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE agents SET disabled = $2 WHERE id = $1")
            .bind(agent.0)
            .bind(i64::from(disabled))
            .execute(&mut *tx)
            .await?;
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE agent_id = $1")
                .bind(agent.0)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE agents SET presence = 'offline', presence_at = $2 WHERE id = $1")
                .bind(agent.0)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn session_delete(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
