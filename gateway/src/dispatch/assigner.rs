//! Automatic assignment: runs a pass when new conversations are committed,
//! when an agent comes online or frees capacity, and every `check_secs` for
//! offers nobody answered. Nothing goes to an agent who is not online.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tracing::{info, warn};

use crate::clock::Clock;
use crate::events::{Event, Events};
use crate::store::dispatch::Pass;
use crate::store::{Store, StoreError};

#[derive(Clone)]
pub struct Assigner {
    pub store: Store,
    pub clock: Clock,
    pub events: Events,
    pub wake: Arc<Notify>,
    pub answer_timeout: Duration,
    pub check: Duration,
    pub heartbeat: crate::health::Heartbeat,
}

impl Assigner {
    pub async fn run_once(&self) -> Result<Pass, StoreError> {
        let timeout_ms = i64::try_from(self.answer_timeout.as_millis()).unwrap_or(i64::MAX);
        let pass = self.store.assignment_pass(self.clock.now_ms(), timeout_ms).await?;
        for (conversation, agent) in &pass.withdrawn {
            info!(
                conversation = conversation.0,
                agent = agent.0,
                "offer withdrawn: no answer in time"
            );
            self.events.publish(Event::ConversationUpdated {
                conversation: conversation.0,
            });
        }
        for (conversation, agent) in &pass.assigned {
            info!(conversation = conversation.0, agent = agent.0, "assigned");
            self.events.publish(Event::ConversationUpdated {
                conversation: conversation.0,
            });
        }
        Ok(pass)
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            self.heartbeat.beat(self.clock.now_ms());
            let pause = match self.run_once().await {
                // Withdrawn offers may go to someone else right away.
                Ok(p) if !p.withdrawn.is_empty() => continue,
                Ok(_) => self.check,
                Err(e) => {
                    warn!(error = %e, "assignment pass failed; retrying");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
