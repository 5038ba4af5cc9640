//! OAuth 2 connections of mailboxes: the sealed refresh token an admin's
//! connection produced, and the connections under way (state → PKCE verifier).

use super::{Result, Store};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MailOAuthRow {
    /// Sealed (`email::oauth::vault`).
    pub refresh_token: Option<String>,
    pub connected_as: Option<String>,
    pub connected_at: i64,
}

/// How long a connection may take between the start and the callback.
const PENDING_MS: i64 = 15 * 60_000;

impl Store {
    pub async fn mail_oauth(&self, mailbox: &str) -> Result<Option<MailOAuthRow>> {
        Ok(
            sqlx::query_as("SELECT refresh_token, connected_as, connected_at FROM mail_oauth WHERE mailbox = $1")
                .bind(mailbox)
                .fetch_optional(self.reader())
                .await?,
        )
    }

    /// A new or rotated refresh token; `connected_as` only on a new connection.
    pub async fn set_mail_oauth(
        &self,
        mailbox: &str,
        sealed: &str,
        connected_as: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO mail_oauth (mailbox, refresh_token, connected_as, connected_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (mailbox) DO UPDATE SET refresh_token = excluded.refresh_token, \
             connected_as = COALESCE(excluded.connected_as, mail_oauth.connected_as), \
             connected_at = CASE WHEN excluded.connected_as IS NULL THEN mail_oauth.connected_at ELSE excluded.connected_at END, \
             updated_at = excluded.updated_at",
        )
        .bind(mailbox)
        .bind(sealed)
        .bind(connected_as)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn delete_mail_oauth(&self, mailbox: &str) -> Result<()> {
        sqlx::query("DELETE FROM mail_oauth WHERE mailbox = $1")
            .bind(mailbox)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn put_oauth_pending(
        &self,
        state: &str,
        mailbox: &str,
        verifier: &str,
        admin: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query("DELETE FROM oauth_pending WHERE created_at < $1")
            .bind(now - PENDING_MS)
            .execute(&self.writer)
            .await?;
        sqlx::query(
            "INSERT INTO oauth_pending (state, mailbox, verifier, admin, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(state)
        .bind(mailbox)
        .bind(verifier)
        .bind(admin)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The connection `state` names, taken once: (mailbox, verifier, admin).
    pub async fn take_oauth_pending(&self, state: &str, now: i64) -> Result<Option<(String, String, String)>> {
        Ok(sqlx::query_as(
            "DELETE FROM oauth_pending WHERE state = $1 AND created_at >= $2 RETURNING mailbox, verifier, admin",
        )
        .bind(state)
        .bind(now - PENDING_MS)
        .fetch_optional(&self.writer)
        .await?)
    }
}
