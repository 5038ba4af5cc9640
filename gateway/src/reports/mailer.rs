//! Sends the weekly summary: once the week is due (`weekly::due`), its
//! figures are computed and the mail queued in the store — once per week, on
//! whichever node gets there first — then sent over SMTP, retried with the
//! outbox's backoff until sent or given up.

use std::sync::Arc;
use std::time::Duration;

use channels::Participant;
use channels::email::{AutoSubmitted, OutgoingMail, SmtpClient, compose};
use chrono::Weekday;
use tokio::sync::watch;
use tracing::{info, warn};

use super::facts::ConversationFacts;
use super::kpi;
use super::weekly;
use crate::clock::Clock;
use crate::config::OutboxConfig;
use crate::sla::SlaPolicies;
use crate::store::{Store, StoreError};

/// How often the mailer looks whether a week is due.
const TICK: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct WeeklyMailer {
    pub store: Store,
    pub smtp: SmtpClient,
    pub from: Participant,
    pub recipients: Vec<String>,
    pub day: Weekday,
    pub hour: u32,
    pub language: String,
    /// Where the inbox is, for the link in the mail.
    pub inbox_url: String,
    pub sla: Arc<SlaPolicies>,
    pub retry: OutboxConfig,
    pub clock: Clock,
}

/// What one turn did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Turn {
    pub queued: Option<String>,
    pub sent: usize,
    pub failed: usize,
}

impl WeeklyMailer {
    /// Queues the due week's mail if it is not yet, then sends what is due.
    pub async fn tick(&self) -> Result<Turn, StoreError> {
        let now = self.clock.now_ms();
        let mut turn = Turn::default();
        let calendar = self.sla.reporting_calendar();
        let tz = calendar.time_zone();
        if let Some(week) = weekly::due(now, tz, self.day, self.hour)
            && !self.store.mailing_exists(&weekly::key(&week)).await?
        {
            let before = week.previous(tz);
            let rows = self.store.report_facts(before.start, week.end).await?;
            let all: Vec<&ConversationFacts> = rows.iter().collect();
            let earlier: Vec<&ConversationFacts> = all.iter().copied().filter(|c| c.created_at < before.end).collect();
            let k = kpi::compute(&all, &week, calendar, now);
            let p = kpi::compute(&earlier, &before, calendar, now);
            let (subject, body) = weekly::summary(&week, &k, &p, &self.language, &self.inbox_url);
            let key = weekly::key(&week);
            if self
                .store
                .mailing_queue(&key, &self.recipients, &subject, &body, now)
                .await?
            {
                info!(week = %key, "weekly summary queued");
                turn.queued = Some(key);
            }
        }
        for m in self.store.mailings_due(now).await? {
            let recipients: Vec<String> = serde_json::from_str(&m.recipients).unwrap_or_default();
            let to: Vec<Participant> = recipients
                .iter()
                .map(|a| Participant {
                    address: a.clone(),
                    name: None,
                })
                .collect();
            let message_id = format!("weekly-{}.{}", m.week, self.from.address.replace('@', "."));
            let mail = OutgoingMail {
                from: &self.from,
                to: &to,
                cc: &[],
                subject: &m.subject,
                text: &m.body,
                attachments: Vec::new(),
                message_id: &message_id,
                in_reply_to: None,
                references: &[],
                automatic: AutoSubmitted::Generated,
                loop_value: "weekly-summary",
            };
            let outcome = match compose(&mail) {
                Err(e) => Err((e.to_string(), true)),
                Ok(message) => self.smtp.send(&message).await.map_err(|e| (e.message, e.permanent)),
            };
            let recorded = match outcome {
                Ok(()) => {
                    turn.sent += 1;
                    Ok(())
                }
                Err((reason, permanent)) => {
                    turn.failed += 1;
                    let give_up = permanent || m.attempts + 1 >= self.retry.max_attempts;
                    let delay =
                        (self.retry.retry_base_secs.max(1) << m.attempts.clamp(0, 20)).min(self.retry.retry_max_secs);
                    warn!(week = %m.week, error = %reason, give_up, "weekly summary not sent");
                    Err((reason, (!give_up).then_some(now + delay * 1000)))
                }
            };
            self.store.mailing_record(&m.week, recorded, now).await?;
        }
        Ok(turn)
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if let Err(e) = self.tick().await {
                warn!(error = %e, "weekly summary: store error, trying again at the next tick");
            }
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
