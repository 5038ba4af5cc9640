//! Queues the weekly summary: once the week is due (`weekly::due`), its
//! figures are computed and the mail queued as a notice — once per week, on
//! whichever node gets there first; `notices.rs` sends it and retries.

use std::sync::Arc;
use std::time::Duration;

use chrono::Weekday;
use tokio::sync::{Notify, watch};
use tracing::{info, warn};

use super::facts::ConversationFacts;
use super::kpi;
use super::weekly;
use crate::clock::Clock;
use crate::store::notices::{NewNotice, NoticeKind};
use crate::store::{Store, StoreError};

/// How often the mailer looks whether a week is due.
const TICK: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct WeeklyMailer {
    pub store: Store,
    pub recipients: Vec<String>,
    pub day: Weekday,
    pub hour: u32,
    pub language: String,
    /// Where the inbox is, for the link in the mail.
    pub inbox_url: String,
    pub sla: crate::sla::SlaHandle,
    pub clock: Clock,
    /// Tells the notice worker there is something to send.
    pub notices: Arc<Notify>,
}

/// The notice key of a week's summary.
pub fn notice_key(week: &str) -> String {
    format!("weekly:{week}")
}

impl WeeklyMailer {
    /// Queues the due week's summary unless it is queued already; its week when this call queued it.
    pub async fn tick(&self) -> Result<Option<String>, StoreError> {
        let now = self.clock.now_ms();
        let sla = self.sla.current();
        let calendar = sla.reporting_calendar();
        let tz = calendar.time_zone();
        let Some(week) = weekly::due(now, tz, self.day, self.hour) else {
            return Ok(None);
        };
        let key = notice_key(&weekly::key(&week));
        if self.store.notice_exists(&key).await? {
            return Ok(None);
        }
        let before = week.previous(tz);
        let rows = self.store.report_facts(before.start, week.end).await?;
        let all: Vec<&ConversationFacts> = rows.iter().collect();
        let (k, p) = kpi::with_previous(&all, &week, &before, calendar, now);
        let (subject, body) = weekly::summary(&week, &k, &p, &self.language, &self.inbox_url);
        let target = serde_json::to_string(&self.recipients).unwrap_or_else(|_| "[]".into());
        let queued = self
            .store
            .notice_queue(&NewNotice {
                key: &key,
                kind: NoticeKind::Mail,
                target: &target,
                subject: &subject,
                body: &body,
                now,
            })
            .await?;
        if !queued {
            return Ok(None);
        }
        info!(week = %weekly::key(&week), "weekly summary queued");
        self.notices.notify_one();
        Ok(Some(weekly::key(&week)))
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
