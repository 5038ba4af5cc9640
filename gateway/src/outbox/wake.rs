//! Waking the outbox workers when new rows are committed. Every worker (one
//! per channel) sees every wake-up, and one that arrives while a worker is busy
//! is not lost: it is a version counter, not a one-shot permit.

use std::sync::Arc;

use tokio::sync::watch;

#[derive(Clone)]
pub struct OutboxWake(Arc<watch::Sender<u64>>);

impl Default for OutboxWake {
    fn default() -> Self {
        OutboxWake(Arc::new(watch::channel(0).0))
    }
}

impl OutboxWake {
    pub fn new() -> Self {
        Self::default()
    }

    /// New rows are committed: every worker looks.
    pub fn notify(&self) {
        self.0.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }
}
