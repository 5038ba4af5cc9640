//! Translations of customer messages, the cache of what a provider already
//! translated, and how far the worker has read.

use serde::Serialize;

use super::{Result, Store};
use crate::ids::ConversationId;

/// A customer message the worker may translate.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Untranslated {
    pub id: i64,
    pub conversation_id: i64,
    pub body: String,
    pub language: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TranslationRow {
    pub message_id: i64,
    pub language: String,
    pub text: Option<String>,
    pub error: Option<String>,
    pub provider: String,
}

impl Store {
    /// Where the worker for `target` stands; the first time, the newest
    /// message now (history is not translated retroactively).
    pub async fn translation_progress(&self, target: &str, now: i64) -> Result<i64> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT last_message_id FROM translation_progress WHERE target = $1")
                .bind(target)
                .fetch_optional(self.reader())
                .await?;
        if let Some(last) = found {
            return Ok(last);
        }
        let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM messages")
            .fetch_one(self.reader())
            .await?;
        let newest = newest.unwrap_or(0);
        self.set_translation_progress(target, newest, now).await?;
        Ok(newest)
    }

    pub async fn set_translation_progress(&self, target: &str, last: i64, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO translation_progress (target, last_message_id, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (target) DO UPDATE SET last_message_id = excluded.last_message_id, updated_at = excluded.updated_at \
             WHERE translation_progress.last_message_id < excluded.last_message_id",
        )
        .bind(target)
        .bind(last)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Customer messages after `after` written in another language than `target`.
    pub async fn untranslated(&self, target: &str, after: i64, limit: i64) -> Result<Vec<Untranslated>> {
        Ok(sqlx::query_as(
            "SELECT m.id, m.conversation_id, m.body, c.language FROM messages m \
             JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.id > $1 AND m.direction = 'in' AND m.deleted_at IS NULL AND m.body <> '' \
             AND c.language IS NOT NULL AND c.language <> $2 ORDER BY m.id LIMIT $3",
        )
        .bind(after)
        .bind(target)
        .bind(limit)
        .fetch_all(self.reader())
        .await?)
    }

    /// The newest message id, for a worker with nothing to translate to move on.
    pub async fn newest_message_id(&self) -> Result<i64> {
        let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM messages")
            .fetch_one(self.reader())
            .await?;
        Ok(newest.unwrap_or(0))
    }

    /// The cached translations of these keys, in one read.
    pub async fn cached_translations(&self, keys: &[String]) -> Result<Vec<(String, String)>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT key, text FROM translation_cache WHERE key IN ({})",
            super::placeholders(1, keys.len())
        );
        let mut query = sqlx::query_as(&sql);
        for key in keys {
            query = query.bind(key);
        }
        Ok(query.fetch_all(self.reader()).await?)
    }

    /// What a provider answered, keyed as `translation::cache_key` says.
    pub async fn cache_translations(&self, cache: &[(String, String)], now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        for (key, text) in cache {
            sqlx::query(
                "INSERT INTO translation_cache (key, text, created_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(text)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Translations (or refusals) of messages.
    pub async fn save_translations(&self, rows: &[TranslationRow], now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        for r in rows {
            sqlx::query(
                "INSERT INTO message_translations (message_id, language, text, error, provider, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (message_id, language) DO NOTHING",
            )
            .bind(r.message_id)
            .bind(&r.language)
            .bind(r.text.as_deref())
            .bind(r.error.as_deref())
            .bind(&r.provider)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn translations_of(&self, conversation: ConversationId) -> Result<Vec<TranslationRow>> {
        Ok(sqlx::query_as(
            "SELECT t.message_id, t.language, t.text, t.error, t.provider FROM message_translations t \
             JOIN messages m ON m.id = t.message_id WHERE m.conversation_id = $1 ORDER BY t.message_id",
        )
        .bind(conversation.0)
        .fetch_all(self.reader())
        .await?)
    }
}
