//! Durable media downloads: one job per attachment, off the webhook's request
//! path. Ask the Graph API for a fresh URL, download with the bearer token
//! within the size limit for the kind, check the sha256, store content-addressed.
//! A failed attempt is retried later; a restart resumes interrupted jobs.

use std::sync::Arc;
use std::time::Duration;

use channels::whatsapp::GraphClient;
use sha2::{Digest, Sha256};
use tokio::sync::{Notify, watch};
use tracing::{info, warn};

use crate::blobs::Blobs;
use crate::clock::Clock;
use crate::config::WhatsappConfig;
use crate::events::{Event, Events};
use crate::store::whatsapp::MediaJob;
use crate::store::{Store, StoreError};

const MAX_ATTEMPTS: i64 = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaStep {
    Idle,
    Stored { attachment_id: i64 },
    Retry { attachment_id: i64, error: String },
    Failed { attachment_id: i64, error: String },
}

#[derive(Clone)]
pub struct MediaWorker {
    pub store: Store,
    pub graph: GraphClient,
    pub blobs: Blobs,
    pub clock: Clock,
    pub events: Events,
    pub config: Arc<WhatsappConfig>,
    pub wake: Arc<Notify>,
    pub heartbeat: crate::health::Heartbeat,
}

impl MediaWorker {
    fn limit(&self, content_type: &str) -> usize {
        let c = &self.config;
        match content_type.split('/').next().unwrap_or_default() {
            "image" => c.max_image_bytes,
            "audio" => c.max_audio_bytes,
            "video" => c.max_video_bytes,
            _ => c.max_document_bytes,
        }
    }

    async fn fetch(&self, job: &MediaJob) -> Result<(String, usize), (String, bool)> {
        let info = self
            .graph
            .media_info(&job.media_id)
            .await
            .map_err(|e| (e.to_string(), true))?;
        let limit = self.limit(&job.content_type);
        if info.file_size.is_some_and(|s| s > limit as u64) {
            return Err((
                format!(
                    "file of {} bytes is over the {limit}-byte limit",
                    info.file_size.unwrap_or(0)
                ),
                false,
            ));
        }
        // The URL lives minutes; a 401/404 here just means the next attempt asks again.
        let bytes = self.graph.download(&info.url, limit).await.map_err(|e| {
            let retry = e.class != channels::whatsapp::ErrorClass::Permanent;
            (e.to_string(), retry)
        })?;
        let actual = hex::encode(Sha256::digest(&bytes));
        let expected = job.expected_sha256.as_deref().or(info.sha256.as_deref());
        if expected.is_some_and(|e| !e.eq_ignore_ascii_case(&actual)) {
            return Err((format!("sha256 mismatch: got {actual}"), true));
        }
        let stored = self
            .blobs
            .put_bytes(&bytes, limit)
            .await
            .map_err(|e| (e.to_string(), true))?;
        Ok((stored.sha256, bytes.len()))
    }

    /// Works on the next due job, if any.
    pub async fn try_one(&self) -> Result<MediaStep, StoreError> {
        let now = self.clock.now_ms();
        let Some(job) = self.store.media_claim_due(now).await? else {
            return Ok(MediaStep::Idle);
        };
        let attachment_id = job.attachment_id;
        let step = match self.fetch(&job).await {
            Ok((sha256, size)) => {
                let size = i64::try_from(size).unwrap_or(i64::MAX);
                self.store.media_done(&job, &sha256, size, self.clock.now_ms()).await?;
                MediaStep::Stored { attachment_id }
            }
            Err((error, retry)) if retry && job.attempts < MAX_ATTEMPTS => {
                let exp = u32::try_from(job.attempts.saturating_sub(1)).unwrap_or(0).min(12);
                let delay = i64::try_from(self.config.media_retry_base_ms)
                    .unwrap_or(5_000)
                    .saturating_mul(1 << exp);
                let at = self.clock.now_ms() + delay.min(600_000);
                warn!(attachment_id, attempts = job.attempts, %error, "media download failed; will retry");
                self.store
                    .media_failed(&job, &error, Some(at), self.clock.now_ms())
                    .await?;
                MediaStep::Retry { attachment_id, error }
            }
            Err((error, _)) => {
                warn!(attachment_id, attempts = job.attempts, %error, "media download given up");
                self.store.media_failed(&job, &error, None, self.clock.now_ms()).await?;
                MediaStep::Failed { attachment_id, error }
            }
        };
        if let Some(conversation) = self.store.conversation_of_attachment(attachment_id).await? {
            self.events.publish(Event::ConversationUpdated {
                conversation: conversation.0,
            });
        }
        Ok(step)
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        match self.store.media_reset_running().await {
            Ok(0) => {}
            Ok(n) => info!(jobs = n, "media downloads interrupted by the last stop start again"),
            Err(e) => warn!(error = %e, "could not reset interrupted media downloads"),
        }
        loop {
            if *shutdown.borrow() {
                return;
            }
            self.heartbeat.beat(self.clock.now_ms());
            let pause = match self.try_one().await {
                Ok(MediaStep::Idle) => match self.store.media_next_due().await {
                    Ok(Some(at)) => {
                        Duration::from_millis(u64::try_from((at - self.clock.now_ms()).max(0)).unwrap_or(0))
                    }
                    _ => Duration::from_secs(5),
                }
                .min(Duration::from_secs(5)),
                Ok(_) => continue,
                Err(e) => {
                    warn!(error = %e, "media store error; retrying shortly");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}
