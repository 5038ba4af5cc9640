//! Delivers the notices that belong to no conversation (`store/notices.rs`):
//! mail over the SMTP transport, webhooks as JSON POSTs; retried with the
//! outbox's backoff, given up after its attempts or on a permanent refusal.

use std::sync::Arc;
use std::time::Duration;

use channels::Participant;
use channels::email::{AutoSubmitted, OutgoingMail, compose};
use tokio::sync::{Notify, watch};
use tracing::warn;

use crate::clock::Clock;
use crate::config::OutboxConfig;
use crate::outbox::Delivery;
use crate::store::notices::{Notice, NoticeKind};
use crate::store::{Store, StoreError};

/// Longest wait between two looks at the queue (a retry falls due on its own).
const POLL: Duration = Duration::from_secs(5);
/// Notices taken per turn.
const BATCH: i64 = 32;

#[derive(Clone)]
pub struct NoticeWorker {
    pub store: Store,
    /// The mail transport and sender, when `[email]` is enabled.
    pub smtp: Option<(crate::email::MailTransport, Participant)>,
    pub http: reqwest::Client,
    pub retry: OutboxConfig,
    pub clock: Clock,
    pub wake: Arc<Notify>,
}

/// What one turn delivered.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    pub failed: usize,
}

impl NoticeWorker {
    async fn send(&self, n: &Notice) -> Delivery {
        match NoticeKind::parse(&n.kind) {
            Some(NoticeKind::Mail) => {
                let Some((smtp, from)) = &self.smtp else {
                    return Delivery::Permanent("no [email] transport to send a mail with".into());
                };
                let recipients: Vec<String> = serde_json::from_str(&n.target).unwrap_or_default();
                let to: Vec<Participant> = recipients
                    .into_iter()
                    .map(|address| Participant { address, name: None })
                    .collect();
                let message_id = format!(
                    "notice-{}.{}",
                    n.key.replace([':', '@'], "."),
                    from.address.replace('@', ".")
                );
                let mail = OutgoingMail {
                    from,
                    to: &to,
                    cc: &[],
                    subject: &n.subject,
                    text: &n.body,
                    attachments: Vec::new(),
                    message_id: &message_id,
                    in_reply_to: None,
                    references: &[],
                    automatic: AutoSubmitted::Generated,
                    loop_value: "notice",
                };
                match compose(&mail) {
                    Err(e) => Delivery::Permanent(e.to_string()),
                    Ok(message) => match smtp.send(&message).await {
                        Ok(()) => Delivery::Delivered { external_id: None },
                        Err(e) if e.permanent => Delivery::Permanent(e.message),
                        Err(e) => Delivery::Transient(e.message),
                    },
                }
            }
            Some(NoticeKind::Webhook) => {
                let body: serde_json::Value = serde_json::from_str(&n.body).unwrap_or_default();
                crate::escalation::post_json(&self.http, &n.target, &body, "supervisor webhook").await
            }
            None => Delivery::Permanent(format!("unknown notice kind {:?}", n.kind)),
        }
    }

    /// Sends what is due and records each outcome.
    pub async fn deliver_due(&self) -> Result<Delivered, StoreError> {
        let now = self.clock.now_ms();
        let mut done = Delivered::default();
        for n in self.store.notices_due(now, BATCH).await? {
            let failure = match self.send(&n).await {
                Delivery::Delivered { .. } | Delivery::Sent { .. } => None,
                Delivery::Permanent(reason) => Some((reason, true)),
                Delivery::Transient(reason) => Some((reason, false)),
                Delivery::Waiting => Some(("not taken yet".to_string(), false)),
            };
            let recorded = match failure {
                None => {
                    done.sent += 1;
                    Ok(())
                }
                Some((reason, permanent)) => {
                    done.failed += 1;
                    let give_up = permanent || n.attempts + 1 >= self.retry.max_attempts;
                    let delay =
                        (self.retry.retry_base_secs.max(1) << n.attempts.clamp(0, 20)).min(self.retry.retry_max_secs);
                    warn!(notice = %n.key, error = %reason, give_up, "notice not delivered");
                    Err((reason, (!give_up).then_some(now + delay * 1000)))
                }
            };
            self.store.notice_record(&n.key, recorded, now).await?;
        }
        Ok(done)
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if let Err(e) = self.deliver_due().await {
                warn!(error = %e, "notices: store error, trying again shortly");
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = self.wake.notified() => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
