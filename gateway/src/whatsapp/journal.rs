//! Webhook acceptance decoupled from processing. The handler hands a verified
//! body to the [`JournalWriter`], which commits every body that arrived
//! meanwhile in one statement and only then lets the handlers answer 200. The
//! [`JournalProcessor`] reads the journal in order: messages go through the
//! pipeline (deduplicated by wamid, so a replay stores nothing twice), then
//! receipts, reactions and errors are applied in one transaction, then the
//! bodies are marked done. A crash anywhere replays from the journal, and every
//! effect is idempotent: receipts once per (message, status), reactions
//! replaced, errors keyed by the body's content.
//!
//! One bad body never holds up the others: a message the pipeline refuses is
//! recorded as a channel error, and a body whose message the store refuses is
//! retried a few rounds, then set aside (kept, with a channel error saying why).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use channels::whatsapp::{Notification, parse_notification};
use futures_util::future::join_all;
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tracing::{debug, error, warn};

use crate::clock::Clock;
use crate::config::WhatsappConfig;
use crate::events::{Event, Events};
use crate::ids::{ConversationId, MessageId};
use crate::pipeline::{IngestError, Pipeline};
use crate::store::whatsapp::{self, Receipt};
use crate::store::{Store, StoreError};

pub const SOURCE: &str = "whatsapp";
/// Bodies processed per round; their messages share the pipeline's group
/// commits (as many as one batch holds by default: a round's fixed costs,
/// not its messages, bounded a burst at 256).
const ROUND: i64 = 1024;
const PRUNE_EVERY: Duration = Duration::from_secs(600);
/// Rounds a body whose message the store refuses is tried before it is set aside.
pub const MAX_ATTEMPTS: i64 = 3;
/// The pause before retrying such a body.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

type Reply = oneshot::Sender<Result<(), IngestError>>;

/// Bodies accepted but not processed yet (what `/readyz` shows and the cap checks).
#[derive(Clone, Default)]
pub struct Backlog(Arc<AtomicI64>);

impl Backlog {
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
    fn add(&self, n: i64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    fn set(&self, n: i64) {
        self.0.store(n, Ordering::Relaxed);
    }
}

/// The handle the webhook appends through. Cheap to clone.
#[derive(Clone)]
pub struct JournalWriter {
    tx: mpsc::Sender<(String, Reply)>,
    backlog: Backlog,
    max_backlog: i64,
}

impl JournalWriter {
    /// Starts the writer task; `capacity` bodies may wait for it, `max_batch` go in one statement.
    pub fn spawn(
        store: Store,
        clock: Clock,
        wake: Arc<Notify>,
        backlog: Backlog,
        capacity: usize,
        max_batch: usize,
        max_backlog: i64,
    ) -> (JournalWriter, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<(String, Reply)>(capacity.max(1));
        let counted = backlog.clone();
        let task = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(max_batch.max(1));
            while rx.recv_many(&mut batch, max_batch.max(1)).await > 0 {
                let (bodies, replies): (Vec<String>, Vec<Reply>) = std::mem::take(&mut batch).into_iter().unzip();
                match store.journal_append(SOURCE, &bodies, clock.now_ms()).await {
                    Ok(()) => {
                        counted.add(bodies.len() as i64);
                        for r in replies {
                            let _ = r.send(Ok(()));
                        }
                        wake.notify_one();
                    }
                    Err(e) => {
                        error!(error = %e, bodies = bodies.len(), "webhook journal append failed; senders retry");
                        let answer = IngestError::batch_refusal(&e).unwrap_or(IngestError::Store);
                        for r in replies {
                            let _ = r.send(Err(answer.clone()));
                        }
                    }
                }
            }
        });
        (
            JournalWriter {
                tx,
                backlog,
                max_backlog,
            },
            task,
        )
    }

    /// Resolves once the body is committed, never before.
    pub async fn append(&self, body: String) -> Result<(), IngestError> {
        if self.backlog.get() >= self.max_backlog {
            return Err(IngestError::Busy);
        }
        let (reply, rx) = oneshot::channel();
        self.tx.try_send((body, reply)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => IngestError::Busy,
            mpsc::error::TrySendError::Closed(_) => IngestError::Stopped,
        })?;
        rx.await.map_err(|_| IngestError::Stopped)?
    }
}

pub struct JournalProcessor {
    pub store: Store,
    pub pipeline: Pipeline,
    pub events: Events,
    pub clock: Clock,
    pub config: Arc<WhatsappConfig>,
    pub wake: Arc<Notify>,
    pub media_wake: Arc<Notify>,
    pub backlog: Backlog,
    pub heartbeat: crate::health::Heartbeat,
    /// For triaging an edited message again (`revision.rs`).
    pub triage: Arc<crate::triage_service::TriageService>,
    pub escalation: crate::escalation::EscalationPolicy,
    pub outbox_wake: crate::outbox::OutboxWake,
    pub assign_wake: Arc<Notify>,
    /// Account alerts are POSTed here too (`sla.supervisor_webhook`), when set.
    pub supervisor_webhook: String,
    pub notice_wake: Arc<Notify>,
}

/// What one round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    Idle,
    Processed(usize),
    /// Some bodies are kept for another try (their message was refused by the store).
    Retrying(usize),
}

/// A short name for a body's content (the first 16 bytes of its SHA-256).
fn body_key(body: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(body.as_bytes())[..16])
}

impl JournalProcessor {
    /// Processes up to one round of pending bodies.
    pub async fn process_round(&self) -> Result<Round, StoreError> {
        let rows = self.store.journal_pending(SOURCE, ROUND).await?;
        if rows.is_empty() {
            return Ok(Round::Idle);
        }
        let now = self.clock.now_ms();
        let mut notifications = Vec::with_capacity(rows.len());
        let mut unreadable = Vec::new();
        for (id, body) in &rows {
            match parse_notification(body.as_bytes()) {
                Ok(n) => notifications.push((*id, body_key(body), n)),
                // Signed by Meta but unreadable: kept for a human rather than retried for days.
                Err(e) => unreadable.push((*id, e.to_string(), body.chars().take(20_000).collect::<String>())),
            }
        }
        let mut messages = Vec::new();
        let mut reactions = Vec::new();
        let mut statuses = Vec::new();
        let mut errors = Vec::new();
        let mut revisions = Vec::new();
        let mut echoes = Vec::new();
        let mut template_states = Vec::new();
        let mut preferences = Vec::new();
        let mut calls = Vec::new();
        let mut number_changes = Vec::new();
        let mut information = Vec::new();
        let mut alerts = Vec::new();
        for (id, key, n) in notifications {
            let Notification {
                messages: m,
                reactions: r,
                statuses: s,
                revisions: v,
                echoes: x,
                templates: t,
                preferences: p,
                calls: c,
                number_changes: nc,
                errors: e,
                account_alerts: a,
                information: i,
            } = n;
            alerts.extend(a.into_iter().enumerate().map(|(i, a)| (format!("alert:{key}:{i}"), a)));
            messages.extend(m.into_iter().map(|m| (id, m)));
            reactions.extend(r);
            statuses.extend(s);
            revisions.extend(v);
            echoes.extend(x);
            template_states.extend(t);
            preferences.extend(p);
            calls.extend(c);
            number_changes.extend(nc);
            // Keyed by the body's content and position: a replay of the entry,
            // or Meta delivering the same body again, records each one once.
            information.extend(
                i.into_iter()
                    .enumerate()
                    .map(|(n, i)| (format!("body:{key}:info:{n}"), i)),
            );
            errors.extend(e.into_iter().enumerate().map(|(i, e)| (format!("body:{key}:{i}"), e)));
        }
        // Each number's language answers when the text does not tell.
        for (_, m) in &mut messages {
            if let Some(n) = self
                .config
                .numbers
                .iter()
                .find(|n| n.phone_number_id == m.endpoint && !n.language.is_empty())
            {
                m.language.get_or_insert_with(|| n.language.clone());
            }
        }
        // A customer's new number must find their row before their next
        // message (possibly in this very round) is threaded.
        if !number_changes.is_empty() {
            let mut tx = self.store.begin().await?;
            for change in &number_changes {
                whatsapp::change_number(&mut tx, change, now).await?;
            }
            tx.commit().await?;
        }
        let with_media = messages.iter().any(|(_, m)| !m.attachments.is_empty());
        let sources: Vec<(i64, String)> = messages.iter().map(|(id, m)| (*id, m.external_id.clone())).collect();
        let results = join_all(messages.into_iter().map(|(_, m)| self.submit_patiently(m))).await;
        // A message the pipeline refuses is recorded and the body goes on; one
        // the store refuses keeps its body for a few rounds, then is set aside;
        // a store that does not answer replays the whole round.
        let mut refused = Vec::new();
        let mut unstorable: std::collections::BTreeMap<i64, String> = std::collections::BTreeMap::new();
        for ((entry, external_id), result) in sources.into_iter().zip(results) {
            match result {
                Ok(_) => {}
                Err(IngestError::Rejected(reason)) => refused.push((entry, external_id, reason)),
                Err(IngestError::Unstorable(reason)) => {
                    unstorable
                        .entry(entry)
                        .or_insert(format!("message {external_id}: {reason}"));
                }
                Err(e) => {
                    // Nothing is marked done: the round is replayed, and what did commit is a duplicate then.
                    warn!(error = %e, "journal round not stored; retrying");
                    return Err(StoreError::Corrupt(format!("pipeline: {e}")));
                }
            }
        }
        let mut held = Vec::new();
        let mut set_aside = Vec::new();
        for (entry, reason) in &unstorable {
            let attempts = self.store.journal_attempt_failed(*entry).await?;
            if attempts >= MAX_ATTEMPTS {
                warn!(entry, attempts, %reason, "webhook body set aside");
                set_aside.push((*entry, format!("{reason} (set aside after {attempts} attempts)")));
            } else {
                debug!(entry, attempts, %reason, "webhook body kept for another try");
                held.push(*entry);
            }
        }

        let mut tx = self.store.begin().await?;
        let mut applied = Vec::new();
        for st in &statuses {
            let first_error = st.errors.first();
            let receipt = Receipt {
                external_id: &st.message_id,
                status: st.kind.map(|k| k.as_str()).unwrap_or(st.raw_status.as_str()),
                at: st.at,
                recipient: &st.recipient,
                error_code: first_error.and_then(|e| e.code),
                error: first_error.map(|e| {
                    if e.details.is_empty() {
                        e.title.clone()
                    } else {
                        format!("{}: {}", e.title, e.details)
                    }
                }),
            };
            if let Some(a) = whatsapp::apply_receipt(&mut tx, &receipt, now).await? {
                applied.push(a);
            }
        }
        for r in &reactions {
            whatsapp::set_reaction(&mut tx, &r.target, &r.from, r.emoji.as_deref(), &r.external_id, r.at).await?;
        }
        let mut revised = Vec::new();
        let mut retriaged = super::revision::Retriaged::default();
        let retriage = super::revision::Retriage {
            triage: &self.triage,
            escalation: &self.escalation,
            now,
        };
        for r in &revisions {
            if let Some(changed) = whatsapp::apply_revision(&mut tx, r).await? {
                if let Some(text) = &r.text {
                    let (conversation, message) = (ConversationId(changed.0), MessageId(changed.1));
                    let outcome =
                        super::revision::retriage_edit(&mut tx, &retriage, conversation, message, text).await?;
                    retriaged.raised |= outcome.raised;
                    retriaged.outgoing += outcome.outgoing;
                }
                revised.push(changed);
            }
        }
        for echo in &echoes {
            match whatsapp::record_echo(&mut tx, echo, now).await? {
                Some(changed) => revised.push(changed),
                None => debug!(to = %echo.to, "message echo with no conversation, or replayed"),
            }
        }
        for call in &calls {
            if let Some(changed) = whatsapp::record_call(&mut tx, call, now).await? {
                revised.push(changed);
            }
        }
        for t in &template_states {
            whatsapp::set_template_state(&mut tx, t, now).await?;
        }
        for p in &preferences {
            whatsapp::set_preference(&mut tx, p, now).await?;
        }
        for (key, info) in &information {
            whatsapp::insert_channel_info(&mut tx, "whatsapp", info, key, now).await?;
        }
        for (key, e) in &errors {
            whatsapp::insert_channel_error(
                &mut tx,
                "whatsapp",
                &e.endpoint,
                e.code,
                &e.title,
                &e.details,
                Some(key),
                now,
            )
            .await?;
        }
        for (entry, external_id, reason) in &refused {
            whatsapp::insert_channel_error(
                &mut tx,
                "whatsapp",
                "",
                None,
                &format!("message refused: {reason}"),
                external_id,
                Some(&format!("journal:{entry}:refused:{external_id}")),
                now,
            )
            .await?;
        }
        for (entry, reason) in &set_aside {
            whatsapp::insert_channel_error(
                &mut tx,
                "whatsapp",
                "",
                None,
                "message not stored",
                reason,
                Some(&format!("journal:{entry}:set-aside")),
                now,
            )
            .await?;
        }
        for (id, reason, details) in &unreadable {
            whatsapp::insert_channel_error(
                &mut tx,
                "whatsapp",
                "",
                None,
                &format!("unreadable notification: {reason}"),
                details,
                Some(&format!("journal:{id}")),
                now,
            )
            .await?;
        }
        // Account alerts leave for the supervisor webhook once (keyed by body and position).
        let mut noticed = false;
        if !self.supervisor_webhook.is_empty() {
            for (key, a) in &alerts {
                let body = serde_json::json!({
                    "event": "channel_alert",
                    "channel": "whatsapp",
                    "title": a.title,
                    "endpoint": a.endpoint,
                    "details": a.details,
                })
                .to_string();
                let notice = crate::store::notices::NewNotice {
                    key,
                    kind: crate::store::notices::NoticeKind::Webhook,
                    target: &self.supervisor_webhook,
                    subject: &a.title,
                    body: &body,
                    now,
                };
                noticed |= crate::store::notices::queue(&mut tx, &notice).await?;
            }
        }
        tx.commit().await?;
        if noticed {
            self.notice_wake.notify_one();
        }
        let aside: Vec<i64> = set_aside.iter().map(|(id, _)| *id).collect();
        let ids: Vec<i64> = rows
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| !held.contains(id) && !aside.contains(id))
            .collect();
        self.store.journal_mark_done(&ids, now).await?;
        self.store.journal_set_aside(&aside, now).await?;
        self.backlog.add(-((ids.len() + aside.len()) as i64));
        for (conversation, _message) in revised {
            self.events.publish(Event::ConversationUpdated { conversation });
        }
        if retriaged.outgoing > 0 {
            self.outbox_wake.notify();
        }
        // Recorded above as channel errors; told to the admins watching now.
        for (_, a) in alerts {
            self.events.publish(Event::ChannelAlert {
                channel: "whatsapp".into(),
                title: a.title,
                endpoint: a.endpoint,
            });
        }
        if retriaged.raised {
            self.assign_wake.notify_one();
        }
        for a in applied {
            self.events.publish(Event::DeliveryUpdated {
                conversation: a.conversation_id,
                message: a.message_id,
                status: a.status,
            });
        }
        if with_media {
            self.media_wake.notify_one();
        }
        debug!(bodies = ids.len(), held = held.len(), "journal round processed");
        if held.is_empty() {
            Ok(Round::Processed(ids.len()))
        } else {
            Ok(Round::Retrying(ids.len()))
        }
    }

    /// The pipeline's queue is bounded; a full one means wait a moment, not fail the round
    /// (a round larger than the queue would otherwise never get through).
    async fn submit_patiently(&self, inbound: channels::Inbound) -> Result<crate::pipeline::Accepted, IngestError> {
        let mut pause = Duration::from_millis(2);
        loop {
            match self.pipeline.submit(inbound.clone()).await {
                Err(IngestError::Busy) => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(200));
                }
                other => return other,
            }
        }
    }

    /// Runs until `shutdown` turns true, between rounds.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        match self.store.journal_pending_count(SOURCE).await {
            Ok(n) => self.backlog.set(n),
            Err(e) => warn!(error = %e, "could not count the webhook journal"),
        }
        let mut last_prune = tokio::time::Instant::now();
        loop {
            if *shutdown.borrow() {
                return;
            }
            self.heartbeat.beat(self.clock.now_ms());
            let pause = match self.process_round().await {
                Ok(Round::Processed(_)) => continue,
                Ok(Round::Retrying(_)) => RETRY_PAUSE,
                Ok(Round::Idle) => Duration::from_secs(5),
                Err(e) => {
                    warn!(error = %e, "webhook journal round failed; retrying shortly");
                    Duration::from_millis(200)
                }
            };
            if last_prune.elapsed() >= PRUNE_EVERY {
                last_prune = tokio::time::Instant::now();
                let keep_ms =
                    i64::try_from(self.config.journal_retention_hours).unwrap_or(i64::MAX / 7_200_000) * 3_600_000;
                match self.store.journal_prune(self.clock.now_ms() - keep_ms).await {
                    Ok(n) if n > 0 => debug!(rows = n, "old webhook bodies pruned"),
                    Ok(_) => {}
                    Err(e) => warn!(error = %e, "pruning the webhook journal failed"),
                }
                let days = self.config.deleted_text_retention_days;
                if days > 0 {
                    let keep_ms = i64::try_from(days).unwrap_or(i64::MAX / 86_400_000 / 2) * 86_400_000;
                    match self.store.whatsapp_forget_deleted(self.clock.now_ms() - keep_ms).await {
                        Ok(n) if n > 0 => debug!(messages = n, "text of deleted messages erased"),
                        Ok(_) => {}
                        Err(e) => warn!(error = %e, "erasing the text of deleted messages failed"),
                    }
                }
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}
