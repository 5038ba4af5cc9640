//! What follows a commit: tell the agents' screens, wake the outbox for the
//! acknowledgements the transaction queued. Queue placement itself is part of
//! the transaction (the queue entry), so a crash here loses no work.

mod assigner;
pub mod holding;
pub mod offer;

use std::sync::Arc;

use tokio::sync::Notify;

pub use assigner::Assigner;

use crate::events::{Event, Events};
use crate::outbox::OutboxWake;
use crate::pipeline::Stored;

#[derive(Clone)]
pub struct Dispatch {
    events: Events,
    outbox_wake: OutboxWake,
    assign_wake: Arc<Notify>,
}

impl Dispatch {
    pub fn new(events: Events, outbox_wake: OutboxWake, assign_wake: Arc<Notify>) -> Self {
        Dispatch {
            events,
            outbox_wake,
            assign_wake,
        }
    }

    pub fn after_commit(&self, stored: &[Stored]) {
        let mut wake = false;
        for s in stored.iter().filter(|s| !s.accepted.duplicate) {
            let conversation = s.accepted.conversation_id.0;
            if s.accepted.new_conversation {
                self.assign_wake.notify_one();
                self.events.publish(Event::ConversationCreated {
                    conversation,
                    queue: s.queue.clone(),
                    priority: s.accepted.priority.as_str().to_string(),
                });
            }
            self.events.publish(Event::MessageAdded {
                conversation,
                message: s.accepted.message_id.0,
                direction: "in".into(),
            });
            if let Some((conversation, message)) = s.bounced {
                self.events.publish(Event::DeliveryUpdated {
                    conversation: conversation.0,
                    message: message.0,
                    status: "failed".into(),
                });
            }
            if s.escalation_outgoing > 0 {
                wake = true;
            }
            if s.answered {
                // Resolved by the customer, or released to the agents by their "no".
                self.events.publish(Event::ConversationUpdated { conversation });
                self.assign_wake.notify_one();
            }
            // What Switchyard queued for the customer: acknowledgement, question, satisfaction question.
            for out in [s.ack, s.question, s.survey].into_iter().flatten() {
                self.events.publish(Event::MessageAdded {
                    conversation,
                    message: out.0,
                    direction: "out".into(),
                });
                wake = true;
            }
        }
        if wake {
            self.outbox_wake.notify();
        }
    }
}
