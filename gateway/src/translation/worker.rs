//! The worker: reads the customer messages committed since its checkpoint,
//! translates those written in another language than the agents' (cache
//! first, then the provider in batches, within the budget), stores the
//! translations and tells the inbox. A provider outage leaves the
//! checkpoint where it is and retries with backoff; a text the provider
//! refuses for good is recorded as such and does not block the others.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use tracing::{debug, warn};

use super::budget::Budget;
use super::provider::{Provider, TranslateError};
use crate::clock::Clock;
use crate::events::{Event, Events};
use crate::store::Store;
use crate::store::translations::TranslationRow;

const BATCH: i64 = 50;

/// What the inbox says of translation.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct TranslationStatus {
    /// `ok` or `unavailable` (the provider failed; retrying).
    pub state: &'static str,
    pub provider: &'static str,
    /// The agents' language, what customer messages are translated into.
    pub target: String,
    pub last_error: Option<String>,
    /// Texts served from the cache, and sent to the provider, since the start.
    pub cache_hits: u64,
    pub translated: u64,
}

#[derive(Clone)]
pub struct TranslationWorker {
    pub store: Store,
    pub provider: Provider,
    pub http: reqwest::Client,
    pub target: String,
    pub clock: Clock,
    pub events: Events,
    pub budget: Arc<Mutex<Budget>>,
    pub status: Arc<Mutex<TranslationStatus>>,
    /// Pause when there is nothing to do.
    pub poll: Duration,
}

impl TranslationWorker {
    fn set_status(&self, f: impl FnOnce(&mut TranslationStatus)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = Duration::from_secs(1);
        loop {
            if *shutdown.borrow() {
                return;
            }
            let pause = match self.round().await {
                Ok(0) => {
                    backoff = Duration::from_secs(1);
                    self.poll
                }
                Ok(_) => {
                    backoff = Duration::from_secs(1);
                    continue;
                }
                Err(e) => {
                    warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "translation round failed");
                    let pause = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                    pause
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// One round; how many messages it settled.
    pub async fn round(&self) -> Result<usize, String> {
        let now = self.clock.now_ms();
        let after = self
            .store
            .translation_progress(&self.target, now)
            .await
            .map_err(|e| e.to_string())?;
        let todo = self
            .store
            .untranslated(&self.target, after, BATCH)
            .await
            .map_err(|e| e.to_string())?;
        if todo.is_empty() {
            // Nothing in another language: the checkpoint follows the newest message.
            let newest = self.store.newest_message_id().await.map_err(|e| e.to_string())?;
            if newest > after {
                self.store
                    .set_translation_progress(&self.target, newest, now)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            return Ok(0);
        }
        let provider = self.provider.name();
        let mut rows = Vec::with_capacity(todo.len());
        let mut cached = Vec::new();
        // By source language, as providers want one per call.
        let mut by_source: BTreeMap<&str, Vec<&crate::store::translations::Untranslated>> = BTreeMap::new();
        for m in &todo {
            by_source.entry(m.language.as_str()).or_default().push(m);
        }
        for (source, messages) in by_source {
            let keys: Vec<String> = messages
                .iter()
                .map(|m| super::cache_key(provider, source, &self.target, &m.body))
                .collect();
            let hits: BTreeMap<String, String> = self
                .store
                .cached_translations(&keys)
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .collect();
            let misses: Vec<usize> = (0..messages.len()).filter(|i| !hits.contains_key(&keys[*i])).collect();
            let texts: Vec<String> = misses.iter().map(|i| messages[*i].body.clone()).collect();
            let translated = if texts.is_empty() {
                Ok(Vec::new())
            } else if !self.budget.lock().map(|mut b| b.take(now)).unwrap_or(false) {
                Err(TranslateError::Unavailable("the per-minute budget is spent".into()))
            } else {
                self.provider
                    .translate(&self.http, &texts, Some(source), &self.target)
                    .await
            };
            let refused = match translated {
                Ok(list) => {
                    for (i, text) in misses.iter().zip(list) {
                        cached.push((keys[*i].clone(), text));
                    }
                    None
                }
                Err(TranslateError::Refused(reason)) => Some(reason),
                Err(TranslateError::Unavailable(reason)) => {
                    self.set_status(|s| {
                        s.state = "unavailable";
                        s.last_error = Some(reason.clone());
                    });
                    return Err(reason);
                }
            };
            let fresh: BTreeMap<&String, &String> = cached.iter().map(|(k, t)| (k, t)).collect();
            self.set_status(|s| {
                s.cache_hits += hits.len() as u64;
                if refused.is_none() {
                    s.translated += misses.len() as u64;
                }
            });
            for (i, m) in messages.iter().enumerate() {
                let text = hits.get(&keys[i]).or_else(|| fresh.get(&keys[i]).copied()).cloned();
                rows.push(TranslationRow {
                    message_id: m.id,
                    language: self.target.clone(),
                    error: text.is_none().then(|| refused.clone().unwrap_or_default()),
                    text,
                    provider: provider.to_string(),
                });
            }
        }
        self.store
            .save_translations(&rows, &cached, now)
            .await
            .map_err(|e| e.to_string())?;
        let last = todo.iter().map(|m| m.id).max().unwrap_or(after);
        self.store
            .set_translation_progress(&self.target, last, now)
            .await
            .map_err(|e| e.to_string())?;
        self.set_status(|s| {
            s.state = "ok";
            s.last_error = None;
        });
        let conversations: std::collections::BTreeSet<i64> = todo.iter().map(|m| m.conversation_id).collect();
        for conversation in conversations {
            self.events.publish(Event::ConversationUpdated { conversation });
        }
        debug!(messages = todo.len(), "translated");
        Ok(todo.len())
    }
}
