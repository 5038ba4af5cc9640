//! Which visitor sockets are open on this node, by conversation key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use channels::webchat::ServerFrame;
use tokio::sync::mpsc;

type Sockets = HashMap<String, Vec<(u64, mpsc::Sender<Push>)>>;

/// A frame pushed to a conversation's sockets: shared, and one pointer wide
/// in each socket's channel (whose first block of slots is allocated when the
/// socket opens: with the frame itself in the slots, an idle socket held
/// several kilobytes for nothing).
pub type Push = std::sync::Arc<ServerFrame>;

/// Sockets one conversation may have open at once (a visitor's tabs and
/// devices); the total is bounded by the listener's connection limit.
pub const MAX_SOCKETS_PER_CONVERSATION: usize = 8;

#[derive(Clone, Default)]
pub struct Hub {
    inner: Arc<Mutex<HubInner>>,
}

#[derive(Default)]
struct HubInner {
    next_id: u64,
    sockets: Sockets,
}

/// Unregisters the socket when dropped.
pub struct Registration {
    hub: Hub,
    key: String,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut inner = self.hub.lock();
        if let Some(list) = inner.sockets.get_mut(&self.key) {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                inner.sockets.remove(&self.key);
            }
        }
    }
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HubInner> {
        // A panic while holding this lock cannot leave the map half-updated.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `None` when the conversation already has its share of sockets.
    pub fn register(&self, key: &str, tx: mpsc::Sender<Push>) -> Option<Registration> {
        let mut inner = self.lock();
        if inner
            .sockets
            .get(key)
            .is_some_and(|list| list.len() >= MAX_SOCKETS_PER_CONVERSATION)
        {
            return None;
        }
        inner.next_id += 1;
        let id = inner.next_id;
        inner.sockets.entry(key.to_string()).or_default().push((id, tx));
        Some(Registration {
            hub: self.clone(),
            key: key.to_string(),
            id,
        })
    }

    /// Sends the frame to every socket of the conversation; how many took it.
    pub fn push(&self, key: &str, frame: &ServerFrame) -> usize {
        let senders: Vec<mpsc::Sender<Push>> = self
            .lock()
            .sockets
            .get(key)
            .map(|list| list.iter().map(|(_, tx)| tx.clone()).collect())
            .unwrap_or_default();
        let frame = Push::new(frame.clone());
        senders.iter().filter(|tx| tx.try_send(frame.clone()).is_ok()).count()
    }

    pub fn is_online(&self, key: &str) -> bool {
        self.lock().sockets.contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_conversation_holds_a_bounded_number_of_sockets() {
        let hub = Hub::default();
        let socket = || mpsc::channel::<Push>(1).0;
        let held: Vec<Registration> = (0..MAX_SOCKETS_PER_CONVERSATION)
            .filter_map(|_| hub.register("k", socket()))
            .collect();
        assert_eq!(held.len(), MAX_SOCKETS_PER_CONVERSATION);
        assert!(hub.register("k", socket()).is_none(), "one too many");
        assert!(
            hub.register("other", socket()).is_some(),
            "other conversations are not affected"
        );
        drop(held);
        assert!(!hub.is_online("k"));
        assert!(
            hub.register("k", socket()).is_some(),
            "closing sockets frees their places"
        );
    }
}
