//! Heartbeats of the background workers, so `/readyz` can tell a gateway
//! whose outbox or media worker has died from a healthy one.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use serde::Serialize;

/// A worker loop wakes at least this often; twice that without a beat is dead.
pub const MAX_SILENCE_MS: i64 = 15_000;

#[derive(Clone, Default)]
pub struct Heartbeat(Arc<AtomicI64>);

impl Heartbeat {
    pub fn beat(&self, now_ms: i64) {
        self.0.store(now_ms, Ordering::Relaxed);
    }

    /// Never beat counts as alive until the worker had time to start.
    pub fn alive(&self, now_ms: i64, started_ms: i64) -> bool {
        let last = self.0.load(Ordering::Relaxed);
        let since = if last == 0 { started_ms } else { last };
        now_ms - since <= MAX_SILENCE_MS
    }
}

#[derive(Clone, Default)]
pub struct Health {
    pub started_ms: i64,
    pub outbox: Heartbeat,
    pub media: Heartbeat,
    pub journal: Heartbeat,
    pub sla: Heartbeat,
    pub assigner: Heartbeat,
    pub media_enabled: bool,
    /// Mailbox readers report here; an unreachable mail server does not make the gateway unready.
    pub mailboxes: crate::email::MailboxStatuses,
}

#[derive(Debug, Serialize)]
pub struct Readiness {
    pub store: bool,
    pub pipeline: bool,
    pub outbox_worker: bool,
    pub sla_worker: bool,
    pub media_worker: Option<bool>,
    pub journal_worker: Option<bool>,
    /// WhatsApp notifications accepted (durable) and not processed yet.
    pub whatsapp_backlog: Option<i64>,
    /// Free space on the data directory's disk, in MB (`None`: unknown).
    pub disk_free_mb: Option<u64>,
    /// At least `server.min_free_disk_mb` free (true when unknown).
    pub disk: bool,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub mailboxes: std::collections::BTreeMap<String, crate::email::MailboxStatus>,
    /// OAuth 2 mailboxes: `needs_reconnect` means an admin must act; the gateway stays ready.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub mail_authorisations: std::collections::BTreeMap<String, crate::email::oauth::OAuthStatus>,
}

impl Readiness {
    pub fn ready(&self) -> bool {
        self.store
            && self.disk
            && self.pipeline
            && self.outbox_worker
            && self.sla_worker
            && self.media_worker.unwrap_or(true)
            && self.journal_worker.unwrap_or(true)
    }
}

/// Free space, in MB, on the disk holding `dir` (`None` when it cannot be read).
pub fn free_disk_mb(dir: &std::path::Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(dir).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize) / (1024 * 1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_that_stops_beating_is_dead() {
        let h = Heartbeat::default();
        assert!(h.alive(10_000, 0), "grace period after start");
        assert!(!h.alive(MAX_SILENCE_MS + 1, 0), "never beat, past the grace period");
        h.beat(100_000);
        assert!(h.alive(100_000 + MAX_SILENCE_MS, 0));
        assert!(!h.alive(100_000 + MAX_SILENCE_MS + 1, 0));
    }
}
