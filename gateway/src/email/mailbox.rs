//! One task per mailbox: connect, catch up from the stored UID checkpoint,
//! then wait with IDLE (or poll) and fetch again after every wake-up. A mail
//! is moved to the processed folder (or flagged) only after its commit, and
//! the checkpoint only moves past mails that are committed. Any network
//! failure drops the connection and reconnects with capped backoff; nothing
//! here can block another mailbox or channel.

use std::time::Duration;

use channels::email::{ImapError, ImapLogin, ImapSession, ImapSettings, Woke};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use super::oauth::TokenError;
use super::prepare::{MailSettings, prepare};
use super::status::MailboxStatuses;
use crate::blobs::Blobs;
use crate::clock::Clock;
use crate::config::MailboxConfig;
use crate::pipeline::{IngestError, Pipeline};
use crate::store::Store;

/// The keyword set on committed mail when there is no processed folder.
const PROCESSED_FLAG: &str = "$Switchyard";

#[derive(Debug, thiserror::Error)]
enum RoundError {
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("keeping the raw mail: {0}")]
    Blob(#[from] crate::blobs::BlobError),
    #[error("the pipeline did not take a mail: {0}")]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Token(#[from] super::oauth::TokenError),
}

#[derive(Clone)]
pub struct MailboxReader {
    pub config: MailboxConfig,
    /// Resolved password (the mailbox's own or `email.password`).
    pub password: String,
    /// With `auth = "oauth2"`: where its access tokens come from.
    pub tokens: Option<std::sync::Arc<super::oauth::TokenSource>>,
    pub own_addresses: Vec<String>,
    pub loop_id: String,
    pub max_attachment_bytes: usize,
    pub max_mail_bytes: u64,
    pub store: Store,
    pub pipeline: Pipeline,
    pub blobs: Blobs,
    pub clock: Clock,
    pub status: MailboxStatuses,
}

impl MailboxReader {
    /// The connection settings, with a fresh access token for an OAuth mailbox.
    async fn settings(&self) -> Result<ImapSettings, RoundError> {
        let login = match &self.tokens {
            Some(tokens) if self.config.oauth2.mechanism == "oauthbearer" => {
                ImapLogin::OAuthBearer(tokens.access_token().await?)
            }
            Some(tokens) => ImapLogin::XOAuth2(tokens.access_token().await?),
            None => ImapLogin::Password(self.password.clone()),
        };
        Ok(ImapSettings {
            host: self.config.host.clone(),
            port: self.config.port,
            security: super::security(self.config.security),
            user: self.config.user.clone(),
            login,
            folder: self.config.folder.clone(),
            timeout: Duration::from_secs(self.config.timeout_secs.max(1)),
        })
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let name = self.config.name.clone();
        let max = Duration::from_secs(self.config.max_backoff_secs.max(1));
        let mut backoff = Duration::from_millis(500);
        loop {
            if *shutdown.borrow() {
                return;
            }
            let mut connected = false;
            let outcome = self.session(&mut shutdown, &mut connected).await;
            self.status.update(&name, |s| s.connected = false);
            match outcome {
                Ok(()) => return,
                Err(e) => {
                    if connected {
                        backoff = Duration::from_millis(500);
                    }
                    warn!(mailbox = %name, error = %e, retry_in_ms = backoff.as_millis() as u64, "mailbox connection lost");
                    self.status.update(&name, |s| s.last_error = Some(e.to_string()));
                    if let (RoundError::Token(TokenError::NeedsReconnect(_)), Some(tokens)) = (&e, &self.tokens) {
                        // Only an admin can repair it: wait for them (the longest pause
                        // at most, in case the configuration or the consent was fixed elsewhere).
                        let reconnected = tokens.reconnected.clone();
                        tokio::select! {
                            _ = reconnected.notified() => {}
                            _ = tokio::time::sleep(max) => {}
                            _ = shutdown.changed() => return,
                        }
                        backoff = Duration::from_millis(500);
                        continue;
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = shutdown.changed() => return,
            }
            backoff = (backoff * 2).min(max);
        }
    }

    /// One connection's life. Ok only on shutdown.
    async fn session(&self, shutdown: &mut watch::Receiver<bool>, connected: &mut bool) -> Result<(), RoundError> {
        let name = &self.config.name;
        let settings = self.settings().await?;
        let mut imap = match ImapSession::connect(&settings).await {
            Ok(imap) => imap,
            Err(e) => {
                // A refused token is not offered again: the next attempt asks for a new one.
                if let (ImapError::TokenRefused(_), Some(tokens), Some(token)) =
                    (&e, &self.tokens, settings.login.token())
                {
                    tokens.refused(token).await;
                }
                return Err(e.into());
            }
        };
        let processed = self.config.processed_folder.trim().to_string();
        if !processed.is_empty() {
            imap.ensure_folder(&processed).await?;
        }
        let selected = imap.select().await?;
        *connected = true;
        let validity = i64::from(selected.uid_validity);
        let mut last = match self.store.mailbox_state(name).await? {
            Some((v, last)) if v == validity => last,
            Some((v, _)) => {
                // UIDs of the old validity mean nothing now: read the folder again; dedupe keeps it exactly-once.
                warn!(mailbox = %name, old = v, new = validity, "UIDVALIDITY changed; re-reading the folder");
                0
            }
            None => 0,
        };
        info!(mailbox = %name, uid_validity = validity, last_uid = last, exists = selected.exists, idle = imap.supports("IDLE"), "mailbox open");
        self.status.update(name, |s| {
            s.connected = true;
            s.last_error = None;
        });
        loop {
            // Catch up: everything above the checkpoint, in rounds, whatever the count.
            loop {
                let uids = imap
                    .uids_after(u32::try_from(last).unwrap_or(u32::MAX), self.config.batch.max(1))
                    .await?;
                if uids.is_empty() {
                    break;
                }
                last = self.round(&mut imap, &uids, validity, &processed).await?;
            }
            let now = self.clock.now_ms();
            self.status.update(name, |s| {
                s.last_ok_at = Some(now);
                s.last_uid = Some(last);
            });
            if *shutdown.borrow() {
                imap.logout().await;
                return Ok(());
            }
            if self.config.idle && imap.supports("IDLE") {
                let wait = Duration::from_secs(self.config.idle_secs.clamp(1, 29 * 60));
                tokio::select! {
                    r = imap.idle(wait) => {
                        let (session, woke) = r?;
                        imap = session;
                        debug!(mailbox = %name, ?woke, "idle ended");
                        if woke == Woke::Timeout {
                            // A quiet link may be a dead one: a command proves it is alive.
                            imap.noop().await?;
                        }
                    }
                    _ = shutdown.changed() => return Ok(()),
                }
            } else {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(self.config.poll_secs.max(1))) => {}
                    _ = shutdown.changed() => return Ok(()),
                }
                imap.noop().await?;
            }
        }
    }

    /// Fetches, commits and files one round of mails; returns the new checkpoint.
    async fn round(
        &self,
        imap: &mut ImapSession,
        uids: &[u32],
        validity: i64,
        processed: &str,
    ) -> Result<i64, RoundError> {
        let name = &self.config.name;
        let fetched = imap.fetch(uids, self.max_mail_bytes).await?;
        let settings = MailSettings {
            endpoint: name,
            own_addresses: &self.own_addresses,
            loop_id: &self.loop_id,
            max_attachment_bytes: self.max_attachment_bytes,
        };
        let uids_fetched: Vec<u32> = fetched.iter().map(|f| f.uid).collect();
        let mut prepared = Vec::with_capacity(fetched.len());
        for mail in fetched {
            let uid = mail.uid;
            let p = prepare(mail.raw, mail.oversized, self.max_mail_bytes, &settings, &self.blobs).await?;
            if !p.warnings.is_empty() {
                warn!(mailbox = %name, uid, warnings = ?p.warnings, "mail kept with warnings");
            }
            prepared.push((uid, p.inbound));
        }
        // All at once, so the committer takes the whole round in one transaction.
        let results = futures_util::future::join_all(
            prepared
                .into_iter()
                .map(|(uid, inbound)| async move { (uid, self.pipeline.submit(inbound).await) }),
        )
        .await;
        let mut committed = Vec::with_capacity(results.len());
        let mut failure = None;
        for (uid, result) in results {
            match result {
                Ok(accepted) => {
                    debug!(mailbox = %name, uid, conversation = accepted.conversation_id.0, duplicate = accepted.duplicate, "mail committed");
                    committed.push(uid);
                }
                // The store works but will not take this mail (or the pipeline
                // refuses it): it is filed with the others, stays in the
                // mailbox, and an admin sees why; the mails after it flow.
                Err(IngestError::Rejected(reason) | IngestError::Unstorable(reason)) => {
                    warn!(mailbox = %name, uid, %reason, "mail set aside");
                    self.store
                        .record_channel_error(
                            "email",
                            name,
                            "mail not stored",
                            &format!("UID {uid}: {reason}"),
                            &format!("mail:{name}:{validity}:{uid}"),
                            self.clock.now_ms(),
                        )
                        .await?;
                    committed.push(uid);
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        // UIDs asked for but not returned were expunged meanwhile: nothing to keep.
        let gone: Vec<u32> = uids.iter().copied().filter(|u| !uids_fetched.contains(u)).collect();
        let checkpoint = match failure {
            // Only past the committed prefix: the rest is fetched again next time.
            Some(_) => committed.iter().copied().max().map(i64::from),
            None => uids.iter().copied().max().map(i64::from),
        };
        if !committed.is_empty() {
            if processed.is_empty() {
                imap.flag(&committed, PROCESSED_FLAG).await?;
            } else {
                imap.move_to(&committed, processed).await?;
            }
        }
        let n = committed.len() as u64;
        let now = self.clock.now_ms();
        let mut last = 0;
        if let Some(checkpoint) = checkpoint {
            self.store.set_mailbox_state(name, validity, checkpoint, now).await?;
            last = checkpoint;
        }
        self.status.update(name, |s| {
            s.ingested += n;
            s.last_uid = Some(last);
        });
        if !gone.is_empty() {
            debug!(mailbox = %name, ?gone, "mails vanished before they could be fetched");
        }
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(last),
        }
    }
}
