//! The outbox worker: takes due rows in batches, hands each to its channel's
//! sender, records the outcomes. Retries transient failures with capped
//! exponential backoff; stops on permanent ones with the reason kept.

mod wake;
mod webchat;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::{StreamExt, stream};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::config::OutboxConfig;
use crate::events::{Event, Events};
use crate::ids::OutboxId;
use crate::store::conversations::ConversationRow;
use crate::store::messages::{AttachmentRow, MessageRow};
use crate::store::outbox::{OutboxItem, Recorded};
use crate::store::{Store, StoreError};

pub use wake::OutboxWake;
pub use webchat::WebchatSender;

/// Everything a channel sender needs about one outgoing message.
pub struct OutgoingMessage {
    pub item: OutboxItem,
    pub message: MessageRow,
    pub attachments: Vec<AttachmentRow>,
    pub conversation: ConversationRow,
}

/// How one attempt went, as the channel sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Delivered {
        external_id: Option<String>,
    },
    /// Accepted by the channel, which will report delivery later (WhatsApp receipts).
    Sent {
        external_id: String,
    },
    /// The recipient is not reachable now and will pick it up themselves.
    Waiting,
    Transient(String),
    Permanent(String),
}

#[async_trait]
pub trait ChannelSender: Send + Sync {
    async fn send(&self, msg: &OutgoingMessage) -> Delivery;
}

/// Rows taken per turn of the worker loop.
const BATCH: usize = 64;
/// Conversations sent to at once (a burst of acknowledgements to many
/// customers does not wait on each one's round trip in turn).
const PARALLEL_CONVERSATIONS: usize = 16;

/// A claimed row with what sending it needs, or without (deleted meanwhile).
enum Loaded {
    Ready(Box<OutgoingMessage>),
    Gone(OutboxItem),
}

/// The conversation and message whose delivery status changed.
type Notice = (i64, i64);

/// The delivery status the inbox shows for an outcome.
fn status_of(recorded: &Recorded) -> &'static str {
    match recorded {
        Recorded::Delivered { .. } => "delivered",
        Recorded::Sent { .. } => "sent",
        Recorded::Waiting => "waiting",
        Recorded::Retry { .. } => "retrying",
        Recorded::Failed { .. } => "failed",
    }
}

/// Claimed rows grouped by conversation, each group in outbox order.
fn by_conversation(loaded: Vec<Loaded>) -> Vec<Vec<Loaded>> {
    let mut index: HashMap<i64, usize> = HashMap::new();
    let mut groups: Vec<Vec<Loaded>> = Vec::new();
    for entry in loaded {
        let conversation = match &entry {
            Loaded::Ready(m) => m.item.conversation_id,
            Loaded::Gone(item) => item.conversation_id,
        };
        let slot = *index.entry(conversation).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[slot].push(entry);
    }
    groups
}

/// What `try_deliver_one` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Idle,
    Done { outbox: OutboxId, recorded: Recorded },
}

#[derive(Clone)]
pub struct Worker {
    store: Store,
    senders: Arc<HashMap<&'static str, Arc<dyn ChannelSender>>>,
    events: Events,
    clock: Clock,
    config: OutboxConfig,
    wake: OutboxWake,
    heartbeat: crate::health::Heartbeat,
    metrics: crate::metrics::Metrics,
    /// Only this channel's rows, so a slow SMTP server never delays a chat reply.
    channel: Option<&'static str>,
}

impl Worker {
    /// The channels that have a sender: one worker loop each.
    pub fn channels(&self) -> Vec<&'static str> {
        let mut c: Vec<&'static str> = self.senders.keys().copied().collect();
        c.sort_unstable();
        c
    }

    /// The same worker, limited to one channel's rows.
    pub fn for_channel(mut self, channel: &'static str) -> Self {
        self.channel = Some(channel);
        self
    }

    /// Beats on every loop turn, for `/readyz`.
    pub fn with_heartbeat(mut self, heartbeat: crate::health::Heartbeat) -> Self {
        self.heartbeat = heartbeat;
        self
    }

    /// Where deliveries, their latency and failures are counted.
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    pub fn new(
        store: Store,
        senders: HashMap<&'static str, Arc<dyn ChannelSender>>,
        events: Events,
        clock: Clock,
        config: OutboxConfig,
        wake: OutboxWake,
    ) -> Self {
        Worker {
            store,
            senders: Arc::new(senders),
            events,
            clock,
            config,
            wake,
            heartbeat: crate::health::Heartbeat::default(),
            metrics: crate::metrics::Metrics::default(),
            channel: None,
        }
    }

    /// Delivers the next due row, if there is one.
    pub async fn try_deliver_one(&self) -> Result<Step, StoreError> {
        Ok(match self.deliver_due(1).await?.pop() {
            Some((outbox, recorded)) => Step::Done { outbox, recorded },
            None => Step::Idle,
        })
    }

    /// Delivers up to `limit` due rows: claimed in one statement, read in three,
    /// their outcomes recorded in one transaction. Different conversations are
    /// sent to concurrently; one conversation's messages leave in the order
    /// they were written. Returns the outcomes in outbox order.
    pub async fn deliver_due(&self, limit: usize) -> Result<Vec<(OutboxId, Recorded)>, StoreError> {
        let items = self
            .store
            .outbox_claim_due(self.clock.now_ms(), self.channel, limit)
            .await?;
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let groups = by_conversation(self.load(items).await?);
        let mut done: Vec<(OutboxId, Recorded, Option<Notice>)> = stream::iter(groups)
            .map(|group| async move {
                let mut out = Vec::with_capacity(group.len());
                for entry in group {
                    out.push(match entry {
                        Loaded::Ready(msg) => {
                            let delivery = match self.senders.get(msg.item.channel.as_str()) {
                                Some(sender) => sender.send(&msg).await,
                                None => Delivery::Permanent(format!("no sender for channel {:?}", msg.item.channel)),
                            };
                            let notice = Some((msg.item.conversation_id, msg.item.message_id));
                            (OutboxId(msg.item.id), self.record(&msg.item, delivery), notice)
                        }
                        Loaded::Gone(item) => (
                            OutboxId(item.id),
                            Recorded::Failed {
                                error: "message or conversation no longer exists".into(),
                            },
                            None,
                        ),
                    });
                }
                out
            })
            .buffer_unordered(PARALLEL_CONVERSATIONS)
            .flat_map(stream::iter)
            .collect()
            .await;
        done.sort_by_key(|(id, _, _)| id.0);
        let (outcomes, notices): (Vec<(OutboxId, Recorded)>, Vec<_>) = done
            .into_iter()
            .map(|(id, recorded, notice)| {
                let notice = notice.map(|(c, m)| (c, m, status_of(&recorded)));
                ((id, recorded), notice)
            })
            .unzip();
        self.store.outbox_record(&outcomes, self.clock.now_ms()).await?;
        // Announced once stored: an inbox that reloads on the event reads the new status.
        for (conversation, message, status) in notices.into_iter().flatten() {
            self.events.publish(Event::DeliveryUpdated {
                conversation,
                message,
                status: status.into(),
            });
        }
        Ok(outcomes)
    }

    fn record(&self, item: &OutboxItem, delivery: Delivery) -> Recorded {
        let recorded = match delivery {
            Delivery::Delivered { external_id } => Recorded::Delivered { external_id },
            Delivery::Sent { external_id } => Recorded::Sent { external_id },
            Delivery::Waiting => Recorded::Waiting,
            Delivery::Permanent(error) => Recorded::Failed { error },
            Delivery::Transient(error) if item.attempts >= self.config.max_attempts => Recorded::Failed {
                error: format!("gave up after {} attempts: {error}", item.attempts),
            },
            Delivery::Transient(error) => {
                let exp = u32::try_from(item.attempts.saturating_sub(1))
                    .unwrap_or(u32::MAX)
                    .min(20);
                let delay = self
                    .config
                    .retry_base_secs
                    .saturating_mul(1 << exp)
                    .min(self.config.retry_max_secs);
                Recorded::Retry {
                    at: self.clock.now_ms() + delay * 1000,
                    error,
                }
            }
        };
        match &recorded {
            Recorded::Delivered { .. } | Recorded::Sent { .. } => self
                .metrics
                .delivered(&item.channel, self.clock.now_ms() - item.created_at),
            Recorded::Retry { .. } => self.metrics.delivery_failed(&item.channel, "retry"),
            Recorded::Failed { .. } => self.metrics.delivery_failed(&item.channel, "failed"),
            Recorded::Waiting => {}
        }
        if let Recorded::Failed { error } | Recorded::Retry { error, .. } = &recorded {
            let status = status_of(&recorded);
            warn!(outbox = item.id, channel = %item.channel, attempts = item.attempts, %error, status, "delivery did not succeed");
        }
        recorded
    }

    /// The messages, conversations and attachments of claimed rows, three queries for all.
    async fn load(&self, items: Vec<OutboxItem>) -> Result<Vec<Loaded>, StoreError> {
        let message_ids: Vec<i64> = items.iter().map(|i| i.message_id).collect();
        let mut conversation_ids: Vec<i64> = items.iter().map(|i| i.conversation_id).collect();
        conversation_ids.sort_unstable();
        conversation_ids.dedup();
        let mut messages: HashMap<i64, MessageRow> = self
            .store
            .messages_get(&message_ids)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let conversations: HashMap<i64, ConversationRow> = self
            .store
            .conversations_get(&conversation_ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let mut attachments: HashMap<i64, Vec<AttachmentRow>> = HashMap::new();
        for a in self.store.attachments_of_messages(&message_ids).await? {
            attachments.entry(a.message_id).or_default().push(a);
        }
        Ok(items
            .into_iter()
            .map(|item| {
                let message = messages.remove(&item.message_id);
                match (message, conversations.get(&item.conversation_id)) {
                    (Some(message), Some(conversation)) => Loaded::Ready(Box::new(OutgoingMessage {
                        attachments: attachments.remove(&item.message_id).unwrap_or_default(),
                        conversation: conversation.clone(),
                        message,
                        item,
                    })),
                    _ => Loaded::Gone(item),
                }
            })
            .collect())
    }

    /// Puts rows a crash left `sending` back in line; call once before the workers start.
    pub async fn recover(&self) {
        match self.store.outbox_reset_inflight().await {
            Ok(0) => {}
            Ok(n) => info!(rows = n, "outbox rows interrupted by the last stop will be sent again"),
            Err(e) => warn!(error = %e, "could not reset interrupted outbox rows"),
        }
    }

    /// Runs until `shutdown` turns true: drains due rows, then sleeps until the
    /// next one falls due or new work is committed.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut wake = self.wake.subscribe();
        loop {
            if *shutdown.borrow() {
                return;
            }
            self.heartbeat.beat(self.clock.now_ms());
            // A send stuck on a slow server is abandoned at shutdown: the row stays
            // `sending` and is sent again after the restart (at-least-once).
            let step = tokio::select! {
                step = self.deliver_due(BATCH) => step,
                _ = shutdown.changed() => return,
            };
            let pause = match step {
                Ok(done) if !done.is_empty() => continue,
                Ok(_) => self.until_next_due().await,
                Err(e) => {
                    warn!(error = %e, "outbox store error; retrying shortly");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                _ = wake.changed() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    async fn until_next_due(&self) -> Duration {
        let cap = Duration::from_secs(5);
        match self.store.outbox_next_due(self.channel).await {
            Ok(Some(at)) => {
                let ms = (at - self.clock.now_ms()).max(0);
                Duration::from_millis(u64::try_from(ms).unwrap_or(0)).min(cap)
            }
            _ => cap,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gone(id: i64, conversation: i64) -> Loaded {
        Loaded::Gone(OutboxItem {
            id,
            message_id: id,
            conversation_id: conversation,
            channel: "webchat".into(),
            attempts: 1,
            payload: None,
            created_at: 0,
        })
    }

    fn ids(groups: &[Vec<Loaded>]) -> Vec<Vec<i64>> {
        groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|l| match l {
                        Loaded::Ready(m) => m.item.id,
                        Loaded::Gone(i) => i.id,
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn one_conversation_is_one_group_in_outbox_order() {
        // Sent concurrently group by group: a conversation's rows must never be split.
        let groups = by_conversation(vec![
            gone(1, 7),
            gone(2, 8),
            gone(3, 7),
            gone(4, 9),
            gone(5, 7),
            gone(6, 8),
        ]);
        assert_eq!(ids(&groups), vec![vec![1, 3, 5], vec![2, 6], vec![4]]);
    }
}
