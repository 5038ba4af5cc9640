//! Fires SLA timers that ran out: each breach is recorded once (a private note
//! and the timer's state, in one transaction), the conversation goes back to
//! the top of its queue — unassigned when a response was late — and
//! supervisors get a live event. Timers live in the store, so the ones that
//! fell due while the gateway was down fire after the restart, once.

use std::time::Duration;

use tokio::sync::watch;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::events::{Event, Events};
use crate::ids::ConversationId;
use crate::store::messages::{self, Direction};
use crate::store::{Store, StoreError, sla};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    pub conversation: ConversationId,
    pub kind: String,
    pub due_at: i64,
}

#[derive(Clone)]
pub struct SlaWorker {
    pub store: Store,
    pub clock: Clock,
    pub events: Events,
    pub policies: super::SlaHandle,
    pub check: Duration,
    pub heartbeat: crate::health::Heartbeat,
    /// Where supervisors are told of breaches (empty: the live event only).
    pub supervisor_webhook: String,
    pub outbox_wake: crate::outbox::OutboxWake,
}

fn describe(kind: &str) -> &str {
    match kind {
        "first_response" => "first response",
        "next_response" => "next response",
        "resolution" => "resolution",
        other => other,
    }
}

impl SlaWorker {
    /// Breaches every timer due now; returns what it fired.
    pub async fn fire_due(&self) -> Result<Vec<Breach>, StoreError> {
        let now = self.clock.now_ms();
        let mut fired = Vec::new();
        for t in self.store.sla_due(now, 500).await? {
            let mut tx = self.store.begin().await?;
            if !sla::breach(&mut tx, t.conversation_id, &t.kind, now).await? {
                continue;
            }
            let conversation = ConversationId(t.conversation_id);
            let head: Option<(String, String)> =
                sqlx::query_as("SELECT channel, endpoint FROM conversations WHERE id = $1")
                    .bind(conversation.0)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((channel, endpoint)) = head else { continue };
            let due = t.due_at.unwrap_or(now);
            let note = format!(
                "SLA breached: the {} target ({} min of business time, calendar {}) was due at {} UTC.",
                describe(&t.kind),
                t.budget_ms / 60_000,
                t.calendar,
                chrono::DateTime::from_timestamp_millis(due)
                    .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default()
            );
            let note_id = messages::insert_system(
                &mut tx,
                &messages::SystemMessage {
                    conversation_id: conversation,
                    direction: Direction::Note,
                    author_name: Some("SLA"),
                    channel: &channel,
                    endpoint: &endpoint,
                    body: &note,
                    created_at: now,
                },
            )
            .await?;
            if !self.supervisor_webhook.is_empty() {
                let payload = serde_json::json!({
                    "url": self.supervisor_webhook,
                    "body": {
                        "event": "sla_breached",
                        "ticket": conversation.ticket(),
                        "conversation": conversation.0,
                        "kind": t.kind,
                        "due_at": due,
                        "calendar": t.calendar,
                    }
                })
                .to_string();
                crate::store::outbox::insert(&mut tx, note_id, conversation, "oncall_webhook", Some(&payload), now)
                    .await?;
            }
            // Back on top of its queue; a late answer goes to whoever is free, not only the assignee.
            sqlx::query("UPDATE queue_entries SET priority_rank = -1 WHERE conversation_id = $1")
                .bind(conversation.0)
                .execute(&mut *tx)
                .await?;
            if t.kind != "resolution" {
                sqlx::query("UPDATE conversations SET assignee_id = NULL, updated_at = $2 WHERE id = $1")
                    .bind(conversation.0)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            if !self.supervisor_webhook.is_empty() {
                self.outbox_wake.notify();
            }
            info!(conversation = conversation.0, kind = %t.kind, due_at = due, "SLA breached");
            self.events.publish(Event::SlaBreached {
                conversation: conversation.0,
                kind: t.kind.clone(),
                due_at: due,
            });
            self.events.publish(Event::ConversationUpdated {
                conversation: conversation.0,
            });
            fired.push(Breach {
                conversation,
                kind: t.kind,
                due_at: due,
            });
        }
        Ok(fired)
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            self.heartbeat.beat(self.clock.now_ms());
            if let Err(e) = self.fire_due().await {
                warn!(error = %e, "SLA check failed; retrying");
            }
            // Sleep until the next timer is due, at most `check` (a new timer may be sooner).
            let pause = match self.store.sla_next_due().await {
                Ok(Some(at)) => {
                    Duration::from_millis(u64::try_from((at - self.clock.now_ms()).max(0)).unwrap_or(0)).min(self.check)
                }
                _ => self.check,
            };
            tokio::select! {
                _ = tokio::time::sleep(pause.max(Duration::from_millis(50))) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
