//! Notices that belong to no conversation (the weekly summary mail, account
//! alerts to the supervisor webhook): queued once under their key, retried
//! with backoff until delivered or given up.

use sqlx::{AnyConnection, FromRow};

use super::{Result, Store};

/// How a notice leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// `target`: a JSON array of addresses; `subject` and `body` the mail.
    Mail,
    /// `target`: the URL; `body` the JSON posted.
    Webhook,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Mail => "mail",
            NoticeKind::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "mail" => Some(NoticeKind::Mail),
            "webhook" => Some(NoticeKind::Webhook),
            _ => None,
        }
    }
}

pub struct NewNotice<'a> {
    pub key: &'a str,
    pub kind: NoticeKind,
    pub target: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub now: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct Notice {
    pub key: String,
    pub kind: String,
    pub target: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

/// Queues a notice in the caller's transaction unless its key is queued
/// already; whether this call queued it.
pub async fn queue(conn: &mut AnyConnection, n: &NewNotice<'_>) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO notices (key, kind, target, subject, body, status, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6) ON CONFLICT (key) DO NOTHING",
    )
    .bind(n.key)
    .bind(n.kind.as_str())
    .bind(n.target)
    .bind(n.subject)
    .bind(n.body)
    .bind(n.now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

impl Store {
    pub async fn notice_queue(&self, n: &NewNotice<'_>) -> Result<bool> {
        let mut conn = self.writer.acquire().await?;
        queue(&mut conn, n).await
    }

    pub async fn notice_exists(&self, key: &str) -> Result<bool> {
        let found: Option<(String,)> = sqlx::query_as("SELECT key FROM notices WHERE key = $1")
            .bind(key)
            .fetch_optional(self.reader())
            .await?;
        Ok(found.is_some())
    }

    pub async fn notices_due(&self, now: i64, limit: i64) -> Result<Vec<Notice>> {
        Ok(sqlx::query_as(
            "SELECT key, kind, target, subject, body, attempts FROM notices \
             WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, key LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.reader())
        .await?)
    }

    /// `Ok`: delivered. `Err((reason, retry_at))`: failed, again at `retry_at`, or for good when `None`.
    pub async fn notice_record(
        &self,
        key: &str,
        outcome: std::result::Result<(), (String, Option<i64>)>,
        now: i64,
    ) -> Result<()> {
        let (status, error, next) = match &outcome {
            Ok(()) => ("sent", None, now),
            Err((e, Some(at))) => ("pending", Some(e.as_str()), *at),
            Err((e, None)) => ("failed", Some(e.as_str()), now),
        };
        sqlx::query(
            "UPDATE notices SET status = $2, last_error = $3, next_attempt_at = $4, attempts = attempts + 1, \
             sent_at = CASE WHEN $2 = 'sent' THEN $5 ELSE sent_at END WHERE key = $1",
        )
        .bind(key)
        .bind(status)
        .bind(error)
        .bind(next)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
