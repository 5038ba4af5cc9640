//! The outbox worker: takes due rows one at a time, hands each to its channel's
//! sender, records the outcome. Retries transient failures with capped
//! exponential backoff; stops on permanent ones with the reason kept.

mod wake;
mod webchat;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::config::OutboxConfig;
use crate::events::{Event, Events};
use crate::ids::{ConversationId, MessageId, OutboxId};
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
            channel: None,
        }
    }

    /// Delivers the next due row, if there is one.
    pub async fn try_deliver_one(&self) -> Result<Step, StoreError> {
        let now = self.clock.now_ms();
        let Some(item) = self.store.outbox_claim_due(now, self.channel).await? else {
            return Ok(Step::Idle);
        };
        let outbox = OutboxId(item.id);
        let recorded = match self.load(item).await? {
            Some(msg) => {
                let delivery = match self.senders.get(msg.item.channel.as_str()) {
                    Some(sender) => sender.send(&msg).await,
                    None => Delivery::Permanent(format!("no sender for channel {:?}", msg.item.channel)),
                };
                self.record(&msg.item, delivery)
            }
            None => Recorded::Failed {
                error: "message or conversation no longer exists".into(),
            },
        };
        let now = self.clock.now_ms();
        self.store.outbox_record(outbox, &recorded, now).await?;
        Ok(Step::Done { outbox, recorded })
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
        let status = match &recorded {
            Recorded::Delivered { .. } => "delivered",
            Recorded::Sent { .. } => "sent",
            Recorded::Waiting => "waiting",
            Recorded::Retry { .. } => "retrying",
            Recorded::Failed { .. } => "failed",
        };
        if let Recorded::Failed { error } | Recorded::Retry { error, .. } = &recorded {
            warn!(outbox = item.id, channel = %item.channel, attempts = item.attempts, %error, status, "delivery did not succeed");
        }
        self.events.publish(Event::DeliveryUpdated {
            conversation: item.conversation_id,
            message: item.message_id,
            status: status.into(),
        });
        recorded
    }

    async fn load(&self, item: OutboxItem) -> Result<Option<OutgoingMessage>, StoreError> {
        let Some(message) = self.store.message(MessageId(item.message_id)).await? else {
            return Ok(None);
        };
        let Some(conversation) = self
            .store
            .conversation_get(ConversationId(item.conversation_id))
            .await?
        else {
            return Ok(None);
        };
        let attachments = self.store.message_attachments(MessageId(item.message_id)).await?;
        Ok(Some(OutgoingMessage {
            item,
            message,
            attachments,
            conversation,
        }))
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
                step = self.try_deliver_one() => step,
                _ = shutdown.changed() => return,
            };
            let pause = match step {
                Ok(Step::Done { .. }) => continue,
                Ok(Step::Idle) => self.until_next_due().await,
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
