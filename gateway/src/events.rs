//! Live events for agents' screens. In-process broadcast; a slow listener
//! misses events (and reloads) rather than slowing the pipeline down.

use serde::Serialize;
use tokio::sync::broadcast;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    ConversationCreated {
        conversation: i64,
        queue: String,
        priority: String,
    },
    MessageAdded {
        conversation: i64,
        message: i64,
        direction: String,
    },
    ConversationUpdated {
        conversation: i64,
    },
    DeliveryUpdated {
        conversation: i64,
        message: i64,
        status: String,
    },
    Typing {
        conversation: i64,
        on: bool,
    },
    /// A service-level target was missed: supervisors are told, the conversation is back on top of its queue.
    SlaBreached {
        conversation: i64,
        kind: String,
        due_at: i64,
    },
    /// A channel account needs an admin (a WhatsApp ban, a violation, a
    /// quality drop): shown to supervisors and admins only.
    ChannelAlert {
        channel: String,
        title: String,
        endpoint: String,
    },
}

impl Event {
    /// Whether an agent without supervisor rights receives it.
    pub fn for_agents(&self) -> bool {
        !matches!(self, Event::ChannelAlert { .. })
    }
}

#[derive(Clone)]
pub struct Events {
    tx: broadcast::Sender<Event>,
}

impl Events {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(1024);
        Events { tx }
    }

    pub fn publish(&self, event: Event) {
        // No listener is fine: nobody is looking at the inbox.
        let _ = self.tx.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}
