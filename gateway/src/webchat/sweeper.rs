//! Deletes uploads no message took within their expiry, and then their files
//! when nothing else names the same content (blobs are shared by hash).

use std::time::Duration;

use tokio::sync::watch;
use tracing::{info, warn};

use crate::blobs::Blobs;
use crate::clock::Clock;
use crate::store::{Store, StoreError, uploads};

/// Uploads expired per transaction.
const BATCH: i64 = 500;

pub struct UploadSweeper {
    pub store: Store,
    pub blobs: Blobs,
    pub clock: Clock,
    pub expiry: Duration,
    pub every: Duration,
}

/// What one sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub uploads: usize,
    pub files: usize,
}

impl UploadSweeper {
    pub async fn sweep_once(&self) -> Result<Swept, StoreError> {
        let before = self.clock.now_ms() - i64::try_from(self.expiry.as_millis()).unwrap_or(i64::MAX);
        let mut swept = Swept::default();
        loop {
            let mut tx = self.store.begin().await?;
            let mut shas = uploads::expire(&mut tx, before, BATCH).await?;
            tx.commit().await?;
            let expired = shas.len();
            swept.uploads += expired;
            shas.sort();
            shas.dedup();
            for sha in shas {
                let mut conn = self.store.begin().await?;
                let referenced = uploads::blob_referenced(&mut conn, &sha).await?;
                drop(conn);
                // A file written moments ago may belong to an upload or mail not
                // committed yet: only files older than the expiry go.
                if !referenced && self.blobs.remove_if_written_before(&sha, before).await {
                    swept.files += 1;
                }
            }
            if expired < usize::try_from(BATCH).unwrap_or(usize::MAX) {
                return Ok(swept);
            }
        }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            match self.sweep_once().await {
                Ok(s) if s.uploads > 0 => info!(uploads = s.uploads, files = s.files, "expired uploads removed"),
                Ok(_) => {}
                Err(e) => warn!(error = %e, "upload sweep failed; retrying"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.every) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
