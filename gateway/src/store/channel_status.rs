//! What the Channels page shows of the outbox: per channel, how many replies
//! wait, were handed over or were given up, and the last error met.

use serde::Serialize;

use super::{Result, Store};

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct OutboxChannel {
    pub channel: String,
    /// Committed, not handed over yet (`pending`, `sending`).
    pub waiting: i64,
    /// Retrying after an error (`pending` with an error recorded).
    pub retrying: i64,
    pub failed: i64,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Line {
    channel: String,
    waiting: i64,
    retrying: i64,
    failed: i64,
}

impl Store {
    pub async fn outbox_channels(&self) -> Result<Vec<OutboxChannel>> {
        let lines: Vec<Line> = sqlx::query_as(
            "SELECT channel, \
             SUM(CASE WHEN status IN ('pending', 'sending') THEN 1 ELSE 0 END) AS waiting, \
             SUM(CASE WHEN status = 'pending' AND last_error IS NOT NULL THEN 1 ELSE 0 END) AS retrying, \
             SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed \
             FROM outbox WHERE status IN ('pending', 'sending', 'failed') GROUP BY channel ORDER BY channel",
        )
        .fetch_all(self.reader())
        .await?;
        let mut out = Vec::with_capacity(lines.len());
        for l in lines {
            let last: Option<(Option<String>, i64)> = sqlx::query_as(
                "SELECT last_error, updated_at FROM outbox WHERE channel = $1 AND status IN ('pending', 'failed') \
                 AND last_error IS NOT NULL ORDER BY updated_at DESC LIMIT 1",
            )
            .bind(&l.channel)
            .fetch_optional(self.reader())
            .await?;
            let (last_error, last_error_at) = match last {
                Some((e, at)) => (e, Some(at)),
                None => (None, None),
            };
            out.push(OutboxChannel {
                channel: l.channel,
                waiting: l.waiting,
                retrying: l.retrying,
                failed: l.failed,
                last_error,
                last_error_at,
            });
        }
        Ok(out)
    }
}
