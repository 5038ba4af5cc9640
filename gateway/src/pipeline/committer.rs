//! Group commit: one transaction for everything that arrived meanwhile.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::mpsc;
use tracing::{Instrument, debug, error, info_span, warn};

use super::accept::{self, Ctx, Stored};
use super::{IngestError, Job, MailPolicy, Pipeline};
use crate::clock::Clock;
use crate::dispatch::Dispatch;
use crate::store::{Store, StoreError};
use crate::triage_service::TriageService;

pub struct Committer {
    store: Store,
    triage: Arc<TriageService>,
    clock: Clock,
    dispatch: Dispatch,
    max_batch: usize,
    mail: MailPolicy,
    sla: crate::sla::SlaHandle,
    escalation: crate::escalation::EscalationPolicy,
    acks: super::accept::AckSettings,
    level1: crate::level1::Policy,
    feedback: crate::feedback::Settings,
    counters: Arc<super::Counters>,
    metrics: crate::metrics::Metrics,
}

impl Committer {
    pub fn new(store: Store, triage: Arc<TriageService>, clock: Clock, dispatch: Dispatch, max_batch: usize) -> Self {
        Committer {
            store,
            triage,
            clock,
            dispatch,
            max_batch: max_batch.max(1),
            mail: MailPolicy::default(),
            sla: crate::sla::SlaHandle::default(),
            escalation: crate::escalation::EscalationPolicy::default(),
            acks: super::accept::AckSettings::default(),
            level1: crate::level1::Policy::default(),
            feedback: crate::feedback::Settings::default(),
            counters: Arc::default(),
            metrics: crate::metrics::Metrics::default(),
        }
    }

    /// Acknowledgement templates and the handling time behind the answer time they promise.
    pub fn with_acks(mut self, acks: super::accept::AckSettings) -> Self {
        self.acks = acks;
        self
    }

    /// Which facts Level 1 asks for, per queue.
    pub fn with_level1(mut self, level1: crate::level1::Policy) -> Self {
        self.level1 = level1;
        self
    }

    /// How knowledge answers wait for the customer's verdict, and the satisfaction question.
    pub fn with_feedback(mut self, feedback: crate::feedback::Settings) -> Self {
        self.feedback = feedback;
        self
    }

    /// Room links, on-call hours and contacts for critical conversations.
    pub fn with_escalation(mut self, escalation: crate::escalation::EscalationPolicy) -> Self {
        self.escalation = escalation;
        self
    }

    /// Service levels the timers of new conversations follow.
    pub fn with_sla(mut self, sla: crate::sla::SlaHandle) -> Self {
        self.sla = sla;
        self
    }

    /// How mail is threaded and guarded against loops.
    pub fn with_mail_policy(mut self, mail: MailPolicy) -> Self {
        self.mail = mail;
        self
    }

    /// Where batch sizes, commit times and outcomes are counted.
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Starts the committer task; it ends when every [`Pipeline`] handle is dropped.
    pub fn spawn(self, capacity: usize) -> (Pipeline, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let counters = self.counters.clone();
        let metrics = self.metrics.clone();
        let handle = tokio::spawn(self.run(rx));
        (Pipeline::new(tx, counters, metrics), handle)
    }

    async fn run(self, mut rx: mpsc::Receiver<Job>) {
        let mut batch: Vec<Job> = Vec::with_capacity(self.max_batch);
        while rx.recv_many(&mut batch, self.max_batch).await > 0 {
            let span = info_span!("commit", batch = batch.len());
            self.commit(std::mem::take(&mut batch)).instrument(span).await;
        }
    }

    async fn commit(&self, jobs: Vec<Job>) {
        let now = self.clock.now_ms();
        match self.write(&jobs, now).await {
            Ok(outcomes) => {
                // Answer the senders first: the commit is durable, the rest is follow-up.
                let mut stored = Vec::with_capacity(outcomes.len());
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    self.count(&job, &outcome);
                    if let Ok(s) = &outcome {
                        stored.push(s.clone());
                    }
                    let _ = job.reply.send(outcome.map(|s| s.accepted));
                }
                self.dispatch.after_commit(&stored);
            }
            Err(e) => match IngestError::batch_refusal(&e) {
                // No message is at fault: every sender retries.
                Some(refusal) => {
                    error!(error = %e, batch = jobs.len(), "the store cannot take writes; senders are told to retry");
                    for job in jobs {
                        let outcome = Err(refusal.clone());
                        self.count(&job, &outcome);
                        let _ = job.reply.send(outcome.map(|s: Stored| s.accepted));
                    }
                }
                None => {
                    warn!(error = %e, batch = jobs.len(), "batch transaction failed; storing its messages one by one");
                    self.counters.split_batches.fetch_add(1, Ordering::Relaxed);
                    self.commit_one_by_one(jobs, now).await;
                }
            },
        }
    }

    /// After a failed batch: each message in a transaction of its own, so one
    /// message the store refuses (a NUL in a PostgreSQL text, a value out of
    /// range) does not take its batch-mates, from any channel, down with it.
    /// A message that fails alone while the store answers is `Unstorable`;
    /// when the store does not answer, every sender is told to retry.
    async fn commit_one_by_one(&self, jobs: Vec<Job>, now: i64) {
        let mut stored = Vec::new();
        // Once the store is found not answering (or full), the rest are not tried one by one.
        let mut store_down = None;
        for job in jobs {
            let outcome = if let Some(e) = &store_down {
                Err(IngestError::clone(e))
            } else {
                match self.write(std::slice::from_ref(&job), now).await {
                    Ok(mut outcomes) => outcomes.pop().unwrap_or(Err(IngestError::Store)),
                    Err(e) if let Some(refusal) = IngestError::batch_refusal(&e) => {
                        error!(error = %e, "the store cannot take writes; senders are told to retry");
                        store_down = Some(refusal.clone());
                        Err(refusal)
                    }
                    Err(e) if self.store.ping().await => {
                        warn!(channel = job.inbound.channel.as_str(), external_id = %job.inbound.external_id, error = %e, "message the store refuses; set aside");
                        Err(IngestError::Unstorable(e.to_string()))
                    }
                    Err(e) => {
                        error!(error = %e, "store unavailable; senders are told to retry");
                        store_down = Some(IngestError::Store);
                        Err(IngestError::Store)
                    }
                }
            };
            self.count(&job, &outcome);
            if let Ok(s) = &outcome {
                stored.push(s.clone());
            }
            let _ = job.reply.send(outcome.map(|s| s.accepted));
        }
        self.dispatch.after_commit(&stored);
    }

    fn count(&self, job: &Job, outcome: &Result<Stored, IngestError>) {
        let how = match outcome {
            Ok(s) if s.accepted.duplicate => "duplicate",
            Ok(_) => "stored",
            Err(_) => "refused",
        };
        self.metrics.processed(job.inbound.channel.as_str(), how);
    }

    async fn write(&self, jobs: &[Job], now: i64) -> Result<Vec<Result<Stored, IngestError>>, StoreError> {
        // One engine for the whole batch, even if the rules are reloaded meanwhile.
        let engine = self.triage.engine();
        let directory = self.triage.directory();
        let sla = self.sla.current();
        let escalation = self.escalation.with_calendars(&sla);
        let ctx = Ctx {
            engine: &engine,
            directory: &directory,
            triage: &self.triage,
            mail: &self.mail,
            sla: &sla,
            escalation: &escalation,
            acks: &self.acks,
            level1: &self.level1,
            feedback: &self.feedback,
            now,
        };
        let started = std::time::Instant::now();
        let mut tx = self.store.begin().await?;
        let begun = started.elapsed();
        let batch: Vec<&channels::Inbound> = jobs.iter().map(|j| &j.inbound).collect();
        let mut facts = super::facts::BatchFacts::read(&mut tx, &batch, now).await?;
        let read = started.elapsed();
        let mut outcomes = Vec::with_capacity(jobs.len());
        for job in jobs {
            facts.reserve_for_one(&mut tx).await?;
            let outcome = accept::accept(&mut tx, &ctx, &mut facts, &job.inbound).await?;
            if let Err(e) = &outcome {
                warn!(channel = job.inbound.channel.as_str(), external_id = %job.inbound.external_id, error = %e, "message refused");
            }
            outcomes.push(outcome);
        }
        let decided = started.elapsed();
        facts.plan.flush(&mut tx).await?;
        let written = started.elapsed();
        tx.commit().await?;
        self.metrics.batch(jobs.len(), started.elapsed());
        self.counters.batches.fetch_add(1, Ordering::Relaxed);
        self.counters
            .messages
            .fetch_add(u64::try_from(jobs.len()).unwrap_or(u64::MAX), Ordering::Relaxed);
        // Where a batch's time goes, cumulative from the start of the transaction.
        debug!(
            batch = jobs.len(),
            begin_us = begun.as_micros(),
            read_us = read.as_micros(),
            decided_us = decided.as_micros(),
            written_us = written.as_micros(),
            committed_us = started.elapsed().as_micros(),
            "committed"
        );
        Ok(outcomes)
    }
}
