//! What each mailbox reader is doing, for `/readyz` and the admin. A mailbox
//! that cannot be reached is reported, not fatal: the other channels go on.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct MailboxStatus {
    pub connected: bool,
    /// Unix ms of the last successful round with the server.
    pub last_ok_at: Option<i64>,
    pub last_error: Option<String>,
    pub last_uid: Option<i64>,
    /// Mails committed since the gateway started.
    pub ingested: u64,
}

#[derive(Clone, Default)]
pub struct MailboxStatuses(Arc<Mutex<BTreeMap<String, MailboxStatus>>>);

impl MailboxStatuses {
    pub fn update(&self, mailbox: &str, f: impl FnOnce(&mut MailboxStatus)) {
        if let Ok(mut map) = self.0.lock() {
            f(map.entry(mailbox.to_string()).or_default());
        }
    }

    pub fn snapshot(&self) -> BTreeMap<String, MailboxStatus> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }
}
