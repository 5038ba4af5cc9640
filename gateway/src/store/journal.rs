//! The webhook journal: verified notification bodies, durable before the
//! sender gets its 200, processed in order afterwards and kept for a while as
//! proof of what arrived. On SQLite it is a database file of its own (see
//! `Store::open`), so its commits never queue behind the pipeline's.

use sqlx::{AnyPool, Executor};

use super::{Result, Store};

/// The SQLite journal file's schema (PostgreSQL has it in migration 0004).
pub(super) async fn create_sqlite_table(pool: &AnyPool) -> Result<()> {
    pool.execute(
        "CREATE TABLE IF NOT EXISTS webhook_journal (id INTEGER PRIMARY KEY, source TEXT NOT NULL, \
         body TEXT NOT NULL, received_at BIGINT NOT NULL, status TEXT NOT NULL, processed_at BIGINT)",
    )
    .await?;
    pool.execute("CREATE INDEX IF NOT EXISTS webhook_journal_pending ON webhook_journal (status, id)")
        .await?;
    // Files written before attempts were counted get the column (PostgreSQL: migration 0013).
    let has_attempts: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pragma_table_info('webhook_journal') WHERE name = 'attempts'")
            .fetch_one(pool)
            .await?;
    if has_attempts == 0 {
        pool.execute("ALTER TABLE webhook_journal ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")
            .await?;
    }
    Ok(())
}

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
        query.execute(&self.journal).await?;
        Ok(())
    }

    /// The oldest bodies still to process.
    pub async fn journal_pending(&self, source: &str, limit: i64) -> Result<Vec<(i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT id, body FROM webhook_journal WHERE status = 'pending' AND source = $1 ORDER BY id LIMIT $2",
        )
        .bind(source)
        .bind(limit)
        .fetch_all(&self.journal)
        .await?)
    }

    pub async fn journal_pending_count(&self, source: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_journal WHERE status = 'pending' AND source = $1")
                .bind(source)
                .fetch_one(&self.journal)
                .await?,
        )
    }

    /// Counts one more failed attempt at a body; returns how many so far.
    pub async fn journal_attempt_failed(&self, id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "UPDATE webhook_journal SET attempts = attempts + 1 WHERE id = $1 RETURNING CAST(attempts AS BIGINT)",
        )
        .bind(id)
        .fetch_one(&self.journal)
        .await?)
    }

    /// Bodies given up on: out of the queue, and kept (pruning spares them)
    /// beside the channel error that tells an admin why.
    pub async fn journal_set_aside(&self, ids: &[i64], now: i64) -> Result<()> {
        for id in ids {
            sqlx::query("UPDATE webhook_journal SET status = 'failed', processed_at = $1 WHERE id = $2")
                .bind(now)
                .bind(*id)
                .execute(&self.journal)
                .await?;
        }
        Ok(())
    }

    /// Processed bodies older than `before` are dropped.
    pub async fn journal_prune(&self, before: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM webhook_journal WHERE status = 'done' AND processed_at < $1")
                .bind(before)
                .execute(&self.journal)
                .await?
                .rows_affected(),
        )
    }
}

impl Store {
    /// Marks bodies processed, after the transaction that applied their effects:
    /// a crash in between replays them, and every effect is idempotent.
    pub async fn journal_mark_done(&self, ids: &[i64], now: i64) -> Result<()> {
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
        query.execute(&self.journal).await?;
        Ok(())
    }
}
