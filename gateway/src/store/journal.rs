//! The webhook journal: verified notification bodies, durable before the
//! sender gets its 200, processed in order afterwards and kept for a while as
//! proof of what arrived.

use sqlx::AnyConnection;

use super::{Result, Store};

impl Store {
    /// Appends bodies in one statement (one commit for the whole batch).
    pub async fn journal_append(&self, source: &str, bodies: &[String], now: i64) -> Result<()> {
        if bodies.is_empty() {
            return Ok(());
        }
        let values: Vec<String> = (0..bodies.len())
            .map(|i| format!("($1, ${}, $2, 'pending')", i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO webhook_journal (source, body, received_at, status) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(source).bind(now);
        for body in bodies {
            query = query.bind(body.as_str());
        }
        query.execute(&self.writer).await?;
        Ok(())
    }

    /// The oldest bodies still to process.
    pub async fn journal_pending(&self, source: &str, limit: i64) -> Result<Vec<(i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT id, body FROM webhook_journal WHERE status = 'pending' AND source = $1 ORDER BY id LIMIT $2",
        )
        .bind(source)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?)
    }

    pub async fn journal_pending_count(&self, source: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_journal WHERE status = 'pending' AND source = $1")
                .bind(source)
                .fetch_one(&self.reader)
                .await?,
        )
    }

    /// Processed bodies older than `before` are dropped.
    pub async fn journal_prune(&self, before: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM webhook_journal WHERE status = 'done' AND processed_at < $1")
                .bind(before)
                .execute(&self.writer)
                .await?
                .rows_affected(),
        )
    }
}

/// Marks bodies processed, inside the transaction that applied their effects.
pub async fn mark_done(conn: &mut AnyConnection, ids: &[i64], now: i64) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "UPDATE webhook_journal SET status = 'done', processed_at = $1 WHERE id IN ({})",
        list.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(now);
    for id in ids {
        query = query.bind(*id);
    }
    query.execute(conn).await?;
    Ok(())
}
