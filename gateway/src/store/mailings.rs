//! Summary mails not tied to a conversation (the weekly report): queued once
//! per week, retried with backoff until sent or given up.

use sqlx::FromRow;

use super::{Result, Store};

#[derive(Debug, Clone, FromRow)]
pub struct Mailing {
    pub week: String,
    /// JSON array of addresses.
    pub recipients: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

impl Store {
    /// Queues the week's mail unless it is queued already; whether this call queued it.
    pub async fn mailing_queue(
        &self,
        week: &str,
        recipients: &[String],
        subject: &str,
        body: &str,
        now: i64,
    ) -> Result<bool> {
        let recipients = serde_json::to_string(recipients).unwrap_or_else(|_| "[]".into());
        Ok(sqlx::query(
            "INSERT INTO report_mailings (week, recipients, subject, body, status, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $5) ON CONFLICT (week) DO NOTHING",
        )
        .bind(week)
        .bind(&recipients)
        .bind(subject)
        .bind(body)
        .bind(now)
        .execute(&self.writer)
        .await?
        .rows_affected()
            == 1)
    }

    pub async fn mailing_exists(&self, week: &str) -> Result<bool> {
        let found: Option<(String,)> = sqlx::query_as("SELECT week FROM report_mailings WHERE week = $1")
            .bind(week)
            .fetch_optional(self.reader())
            .await?;
        Ok(found.is_some())
    }

    pub async fn mailings_due(&self, now: i64) -> Result<Vec<Mailing>> {
        Ok(sqlx::query_as(
            "SELECT week, recipients, subject, body, attempts FROM report_mailings \
             WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY week",
        )
        .bind(now)
        .fetch_all(self.reader())
        .await?)
    }

    /// `Ok`: sent. `Err(reason, retry_at)`: failed, again at `retry_at`, or for good when `None`.
    pub async fn mailing_record(
        &self,
        week: &str,
        outcome: std::result::Result<(), (String, Option<i64>)>,
        now: i64,
    ) -> Result<()> {
        let (status, error, next) = match &outcome {
            Ok(()) => ("sent", None, now),
            Err((e, Some(at))) => ("pending", Some(e.as_str()), *at),
            Err((e, None)) => ("failed", Some(e.as_str()), now),
        };
        sqlx::query(
            "UPDATE report_mailings SET status = $2, last_error = $3, next_attempt_at = $4, attempts = attempts + 1, \
             sent_at = CASE WHEN $2 = 'sent' THEN $5 ELSE sent_at END WHERE week = $1",
        )
        .bind(week)
        .bind(status)
        .bind(error)
        .bind(next)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
