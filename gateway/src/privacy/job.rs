//! The daily retention run: finds what each policy lets go of, writes the
//! report, and (unless `retention.dry_run`) applies exactly that report —
//! conversations anonymised as an erasure does, raw mails and files dropped,
//! logs pruned. Conversations under legal hold are never candidates. Each
//! run, dry or not, goes to the audit log; the last one decides when the
//! next is due, so a restart neither skips a day nor runs twice.

use std::time::Duration;

use tokio::sync::watch;
use tracing::{info, warn};

use super::eraser::{Eraser, real_now_ms};
use super::retention::{self, Found, Kind, Report};
use crate::blobs::Blobs;
use crate::clock::Clock;
use crate::config::RetentionConfig;
use crate::ids::AgentId;
use crate::store::{Store, StoreError};

pub const RUN: &str = "retention_run";
pub const DRY_RUN: &str = "retention_dry_run";

#[derive(Clone)]
pub struct RetentionJob {
    pub store: Store,
    pub blobs: Blobs,
    pub clock: Clock,
    pub config: RetentionConfig,
    pub journal_hours: u64,
    pub html: std::sync::Arc<crate::api::html_cache::HtmlCache>,
}

impl RetentionJob {
    /// What the policies would let go of now.
    pub async fn report(&self) -> Result<Report, StoreError> {
        let now = self.clock.now_ms();
        let s = &self.store;
        let mut policies = Vec::new();
        for cutoff in retention::cutoffs(&self.config, self.journal_hours, now) {
            let before = cutoff.before;
            policies.push(match cutoff.kind {
                Kind::ResolvedConversations => Found::listed(cutoff, s.retention_resolved(before).await?),
                Kind::AnonymousChats => Found::listed(cutoff, s.retention_anonymous_chats(before).await?),
                Kind::RawMails => Found::listed(cutoff, s.retention_raw_mails(before).await?),
                Kind::Attachments => Found::listed(cutoff, s.retention_attachments(before).await?),
                Kind::DeliveryLogs => Found::counted(cutoff, s.retention_delivery_logs(before).await?),
                Kind::WebhookJournal => Found::counted(cutoff, s.retention_journal(before).await?),
                Kind::TranslationCache => Found::counted(cutoff, s.retention_translation_cache(before).await?),
            });
        }
        Ok(Report {
            at: now,
            applied: false,
            policies,
            files_removed: 0,
        })
    }

    /// Applies a report: exactly the items it lists, the logs before its cutoffs.
    pub async fn apply(&self, mut report: Report) -> Result<Report, StoreError> {
        let started = real_now_ms();
        let eraser = Eraser {
            store: &self.store,
            blobs: &self.blobs,
            html: &self.html,
        };
        let mut blobs = Vec::new();
        let mut removed = 0;
        for found in &report.policies {
            let c = &found.cutoff;
            match c.kind {
                // One conversation at a time: a hold placed meanwhile refuses that one only.
                Kind::ResolvedConversations | Kind::AnonymousChats => {
                    for id in &found.items {
                        match eraser.erase(&[*id], &[], &[], report.at).await? {
                            Ok(done) => removed += done.counts.files_removed,
                            Err(refused) => {
                                info!(conversation = id, reason = %refused, "retention skipped a conversation")
                            }
                        }
                    }
                }
                Kind::RawMails => blobs.extend(self.store.drop_raw_mails(&found.items).await?),
                Kind::Attachments => blobs.extend(self.store.drop_attachments(&found.items, c.before).await?),
                Kind::DeliveryLogs => {
                    self.store.prune_delivery_logs(c.before).await?;
                }
                Kind::WebhookJournal => {
                    self.store.journal_prune(c.before).await?;
                }
                Kind::TranslationCache => {
                    self.store.prune_translation_cache(c.before).await?;
                }
            }
        }
        blobs.sort();
        blobs.dedup();
        removed += eraser.remove_unreferenced(&blobs, started).await?.0;
        report.applied = true;
        report.files_removed = removed;
        Ok(report)
    }

    /// One run: the report, applied unless `apply` is false; recorded in the audit log.
    pub async fn run_once(&self, apply: bool, agent: Option<AgentId>) -> Result<Report, StoreError> {
        let report = self.report().await?;
        let report = if apply { self.apply(report).await? } else { report };
        let action = if report.applied { RUN } else { DRY_RUN };
        let entry = crate::store::audit::Audit {
            agent,
            client: None,
            action,
            subject: "retention",
            detail: report.summary(),
        };
        self.store.record_audit(&entry, report.at).await?;
        Ok(report)
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let every = Duration::from_secs(self.config.check_secs.max(1));
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => return,
            }
            let last = match self.store.audit_last(&[RUN, DRY_RUN]).await {
                Ok(last) => last,
                Err(e) => {
                    warn!(error = %e, "retention: reading the last run failed; retrying");
                    continue;
                }
            };
            if !retention::due(last, self.clock.now_ms()) {
                continue;
            }
            match self.run_once(!self.config.dry_run, None).await {
                Ok(report) => info!(summary = %report.summary(), "retention run"),
                Err(e) => warn!(error = %e, "retention run failed; retrying at the next check"),
            }
        }
    }
}
