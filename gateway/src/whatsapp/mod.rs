//! The WhatsApp channel inside the gateway: the webhook, delivery receipts and
//! reactions, durable media downloads, and sending through the Graph API.

pub mod identity;
mod journal;
mod media;
mod pacer;
pub mod read_marks;
mod revision;
mod sender;
mod webhook;

use std::sync::Arc;
use std::time::Duration;

use channels::whatsapp::GraphClient;
use tokio::sync::Notify;

use crate::config::WhatsappConfig;

pub use journal::{Backlog, JournalProcessor, JournalWriter, MAX_ATTEMPTS, Round};
pub use media::{MediaStep, MediaWorker};
pub use pacer::Pacer;
pub use sender::{Button, MAX_TEXT_CHARS, Payload, WINDOW_MS, WhatsappSender};
pub use webhook::router;

/// What the webhook and the API need of the channel.
pub struct WhatsappRuntime {
    pub config: Arc<WhatsappConfig>,
    pub graph: GraphClient,
    pub media_wake: Arc<Notify>,
    /// Where the webhook commits verified bodies before answering.
    pub journal: JournalWriter,
    pub journal_wake: Arc<Notify>,
    pub backlog: Backlog,
    /// Read receipts already sent from this node.
    pub read_marks: Arc<read_marks::ReadMarks>,
}

impl WhatsappRuntime {
    /// Must run inside the runtime: it starts the journal writer.
    pub fn new(
        config: &WhatsappConfig,
        store: crate::store::Store,
        clock: crate::clock::Clock,
        capacity: usize,
        max_batch: usize,
    ) -> Result<Self, String> {
        let graph = GraphClient::new(
            &config.graph_url,
            config.access_token.expose(),
            Duration::from_secs(config.timeout_secs.max(1)),
        )?;
        let journal_wake = Arc::new(Notify::new());
        let backlog = Backlog::default();
        let (journal, _writer) = JournalWriter::spawn(
            store,
            clock,
            journal_wake.clone(),
            backlog.clone(),
            capacity,
            max_batch,
            config.max_backlog,
        );
        Ok(WhatsappRuntime {
            config: Arc::new(config.clone()),
            graph,
            media_wake: Arc::new(Notify::new()),
            journal,
            journal_wake,
            backlog,
            read_marks: Arc::default(),
        })
    }

    pub fn template(&self, name: &str) -> Option<&crate::config::WhatsappTemplate> {
        self.config.templates.iter().find(|t| t.name == name)
    }
}
