//! The worker: reads the customer messages committed since its checkpoint,
//! translates those written in another language than the agents' (through
//! the `Translator`: cache, budget, protected terms), stores the
//! translations and tells the inbox. A provider outage leaves the
//! checkpoint where it is and retries with backoff; a text the provider
//! refuses for good is recorded as such and does not block the others.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use tracing::{debug, warn};

use super::provider::TranslateError;
use super::translator::Translator;
use crate::clock::Clock;
use crate::events::{Event, Events};
use crate::store::translations::{TranslationRow, Untranslated};

const BATCH: i64 = 50;

/// What the inbox says of translation.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
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
    pub translator: Arc<Translator>,
    pub clock: Clock,
    pub events: Events,
    /// Pause when there is nothing to do.
    pub poll: Duration,
}

impl TranslationWorker {
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

    /// One round for every language agents read (the configured one and
    /// those agents chose); how many messages it settled. A language chosen
    /// for the first time starts from the newest message: nobody pays for
    /// the whole history because an agent changed their profile.
    pub async fn round(&self) -> Result<usize, String> {
        let t = &self.translator;
        let mut targets = t.store.agent_languages().await.map_err(|e| e.to_string())?;
        targets.push(t.agents.clone());
        targets.sort();
        targets.dedup();
        let mut settled = 0;
        for target in &targets {
            settled += self.round_into(target).await?;
        }
        Ok(settled)
    }

    async fn round_into(&self, target: &str) -> Result<usize, String> {
        let t = &self.translator;
        let store = &t.store;
        let now = self.clock.now_ms();
        let after = store
            .translation_progress(target, now)
            .await
            .map_err(|e| e.to_string())?;
        let todo = store
            .untranslated(target, after, BATCH)
            .await
            .map_err(|e| e.to_string())?;
        if todo.is_empty() {
            // Nothing in another language: the checkpoint follows the newest message.
            let newest = store.newest_message_id().await.map_err(|e| e.to_string())?;
            if newest > after {
                store
                    .set_translation_progress(target, newest, now)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            return Ok(0);
        }
        // By source language, as providers want one per call.
        let mut by_source: BTreeMap<&str, Vec<&Untranslated>> = BTreeMap::new();
        for m in &todo {
            by_source.entry(m.language.as_str()).or_default().push(m);
        }
        let mut rows = Vec::with_capacity(todo.len());
        for (source, messages) in by_source {
            let texts: Vec<String> = messages.iter().map(|m| m.body.clone()).collect();
            let answers: Vec<Result<String, String>> = match t.translate(&texts, source, target, now).await {
                Ok(list) => list.into_iter().map(|a| Ok(a.text)).collect(),
                Err(TranslateError::Refused(reason)) => vec![Err(reason); texts.len()],
                Err(TranslateError::Unavailable(reason)) => {
                    t.set_status(|s| {
                        s.state = "unavailable";
                        s.last_error = Some(reason.clone());
                    });
                    return Err(reason);
                }
            };
            // The provider answered: say so before the translations are saved,
            // so nobody reads a translation beside a stale "unavailable".
            t.set_status(|s| {
                s.state = "ok";
                s.last_error = None;
            });
            for (m, answer) in messages.iter().zip(answers) {
                let (text, error) = match answer {
                    Ok(text) => (Some(text), None),
                    Err(reason) => (None, Some(reason)),
                };
                rows.push(TranslationRow {
                    message_id: m.id,
                    language: target.to_string(),
                    text,
                    error,
                    provider: t.provider.name().to_string(),
                });
            }
        }
        store.save_translations(&rows, now).await.map_err(|e| e.to_string())?;
        let last = todo.iter().map(|m| m.id).max().unwrap_or(after);
        store
            .set_translation_progress(target, last, now)
            .await
            .map_err(|e| e.to_string())?;
        let conversations: std::collections::BTreeSet<i64> = todo.iter().map(|m| m.conversation_id).collect();
        for conversation in conversations {
            self.events.publish(Event::ConversationUpdated { conversation });
        }
        debug!(messages = todo.len(), "translated");
        Ok(todo.len())
    }
}
