//! Carries out an erasure: the store's transaction, then what lives outside
//! it — files no longer named by anything, webhook bodies in the journal,
//! the audit log's earlier mentions of the customer.

use crate::api::html_cache::HtmlCache;
use crate::blobs::Blobs;
use crate::store::{Store, StoreError};

use super::erasure::{Counts, Refused};

pub struct Eraser<'a> {
    pub store: &'a Store,
    pub blobs: &'a Blobs,
    /// Rendered mail bodies: an erased message's must not be served from memory.
    pub html: &'a HtmlCache,
}

/// What an erasure did, and the messages whose cached renderings must go.
#[derive(Debug)]
pub struct Done {
    pub counts: Counts,
    pub messages: Vec<i64>,
}

impl Eraser<'_> {
    /// Erases `conversations`; with the customer's `addresses` and WhatsApp
    /// `identities` (numbers, user ids) when a whole customer goes.
    pub async fn erase(
        &self,
        conversations: &[i64],
        addresses: &[String],
        identities: &[String],
        now: i64,
    ) -> Result<Result<Done, Refused>, StoreError> {
        // A file written after this instant may be someone's new upload of
        // the same content, not committed yet: it stays. File times are the
        // machine's, whatever clock the store runs on.
        let started = real_now_ms();
        let erased = match self.store.erase_conversations(conversations, addresses, now).await? {
            Ok(erased) => erased,
            Err(refused) => return Ok(Err(refused)),
        };
        self.html.forget(&erased.messages);
        let mut counts = erased.counts;
        let (removed, shared) = self.remove_unreferenced(&erased.blobs, started).await?;
        counts.files_removed = removed;
        counts.files_shared = shared;
        let mut forget: Vec<String> = addresses.to_vec();
        forget.extend(identities.iter().cloned());
        forget.sort();
        forget.dedup();
        counts.journal_rows = self.store.journal_forget(&forget).await?;
        Ok(Ok(Done {
            counts,
            messages: erased.messages,
        }))
    }

    /// Deletes the files nothing names any more; (removed, kept because shared).
    pub async fn remove_unreferenced(&self, shas: &[String], before_ms: i64) -> Result<(u64, u64), StoreError> {
        let (mut removed, mut shared) = (0, 0);
        for sha in shas {
            if self.store.blob_in_use(sha).await? {
                shared += 1;
            } else if self.blobs.remove_if_written_before(sha, before_ms).await {
                removed += 1;
            }
        }
        Ok((removed, shared))
    }
}

pub fn real_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .unwrap_or(i64::MAX)
}
