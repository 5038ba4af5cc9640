//! The inbound pipeline: dedupe → thread → triage → commit → dispatch → notify.
//!
//! Channels hand an [`Inbound`] to [`Pipeline::submit`] and get an answer only
//! after the transaction holding it has committed. One committer task drains
//! everything that arrived while the previous transaction ran into the next one
//! (group commit): one fsync for many messages.
//!
//! Invariant: a sender is never acknowledged before its message is committed.

mod accept;
mod ack;
mod committer;
mod eta;
mod facts;
mod feedback;
mod mail;
mod plan;
mod qualify;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use channels::Inbound;
use tokio::sync::{mpsc, oneshot};

use crate::ids::{ConversationId, MessageId};

pub use accept::{AckSettings, Stored};
pub use committer::Committer;
pub use mail::MailPolicy;

/// What the pipeline did with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    /// Seen before under the same idempotency key: nothing new was stored.
    pub duplicate: bool,
    pub new_conversation: bool,
    pub priority: triage::Priority,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum IngestError {
    #[error("too many messages waiting; retry shortly")]
    Busy,
    #[error("{0}")]
    Rejected(String),
    #[error("the message could not be stored; retry")]
    Store,
    /// The store works, but refused this message (alone, so not its batch's
    /// fault): retrying it as it is will not help for long.
    #[error("the message could not be stored: {0}")]
    Unstorable(String),
    #[error("the gateway is shutting down")]
    Stopped,
    /// The disk under the store is full: nothing was stored; retry once space returns.
    #[error("the gateway's storage is full; nothing was stored, retry later")]
    Full,
}

impl IngestError {
    /// A store failure no message is at fault for — the disk is full, the
    /// store does not answer — as the refusal every sender of the batch gets
    /// (retry later); `None` when the failure may be one message's.
    pub(crate) fn batch_refusal(e: &crate::store::StoreError) -> Option<IngestError> {
        if e.is_out_of_space() {
            Some(IngestError::Full)
        } else if e.is_unavailable() {
            Some(IngestError::Store)
        } else {
            None
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            IngestError::Busy => "busy",
            IngestError::Rejected(_) => "rejected",
            IngestError::Store => "store_unavailable",
            IngestError::Unstorable(_) => "unstorable",
            IngestError::Stopped => "shutting_down",
            IngestError::Full => "storage_full",
        }
    }
}

pub(crate) struct Job {
    pub inbound: Inbound,
    pub reply: oneshot::Sender<Result<Accepted, IngestError>>,
}

/// The handle channels submit to. Cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    tx: mpsc::Sender<Job>,
    counters: Arc<Counters>,
    metrics: crate::metrics::Metrics,
}

/// What the committer has done since start.
#[derive(Default)]
pub(crate) struct Counters {
    pub batches: AtomicU64,
    pub messages: AtomicU64,
    pub split_batches: AtomicU64,
}

/// A reading of the committer's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PipelineStats {
    /// Transactions committed (a batch retried one by one counts once per message).
    pub batches: u64,
    /// Messages those transactions held.
    pub messages: u64,
    /// Batches whose transaction failed and were stored one message at a time.
    pub split_batches: u64,
}

impl Pipeline {
    pub(crate) fn new(tx: mpsc::Sender<Job>, counters: Arc<Counters>, metrics: crate::metrics::Metrics) -> Self {
        Pipeline { tx, counters, metrics }
    }

    pub fn stats(&self) -> PipelineStats {
        PipelineStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            messages: self.counters.messages.load(Ordering::Relaxed),
            split_batches: self.counters.split_batches.load(Ordering::Relaxed),
        }
    }

    /// False once the committer task has stopped.
    pub fn is_running(&self) -> bool {
        !self.tx.is_closed()
    }

    /// Resolves once the message is committed (or known already), never before.
    pub async fn submit(&self, inbound: Inbound) -> Result<Accepted, IngestError> {
        let (reply, rx) = oneshot::channel();
        self.metrics.accepted(inbound.channel.as_str(), 1);
        self.tx.try_send(Job { inbound, reply }).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => IngestError::Busy,
            mpsc::error::TrySendError::Closed(_) => IngestError::Stopped,
        })?;
        rx.await.map_err(|_| IngestError::Stopped)?
    }
}
