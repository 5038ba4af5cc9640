//! Which visitor sockets are open on this node, by conversation key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use channels::webchat::ServerFrame;
use tokio::sync::mpsc;

type Sockets = HashMap<String, Vec<(u64, mpsc::Sender<ServerFrame>)>>;

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

    pub fn register(&self, key: &str, tx: mpsc::Sender<ServerFrame>) -> Registration {
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        inner.sockets.entry(key.to_string()).or_default().push((id, tx));
        Registration {
            hub: self.clone(),
            key: key.to_string(),
            id,
        }
    }

    /// Sends the frame to every socket of the conversation; how many took it.
    pub fn push(&self, key: &str, frame: &ServerFrame) -> usize {
        let senders: Vec<mpsc::Sender<ServerFrame>> = self
            .lock()
            .sockets
            .get(key)
            .map(|list| list.iter().map(|(_, tx)| tx.clone()).collect())
            .unwrap_or_default();
        senders.iter().filter(|tx| tx.try_send(frame.clone()).is_ok()).count()
    }

    pub fn is_online(&self, key: &str) -> bool {
        self.lock().sockets.contains_key(key)
    }
}
