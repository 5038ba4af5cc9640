//! Retention: which policies are in force, the instant before which each
//! lets go of its data, when the daily run is due, and the report a run
//! (or a dry run) gives. The store finds the candidates; `job` applies
//! exactly what the report lists.

use serde::Serialize;

use crate::config::RetentionConfig;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// The kinds of data a policy covers, in the order a run applies them:
/// whole conversations first (their files go with them), then files of
/// conversations that stay, then logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    ResolvedConversations,
    AnonymousChats,
    RawMails,
    Attachments,
    DeliveryLogs,
    WebhookJournal,
    TranslationCache,
}

impl Kind {
    /// Whether the report lists the items themselves (ids), not only their number.
    pub fn listed(self) -> bool {
        matches!(
            self,
            Kind::ResolvedConversations | Kind::AnonymousChats | Kind::RawMails | Kind::Attachments
        )
    }
}

/// One policy in force: data older than `before` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Cutoff {
    pub kind: Kind,
    /// The period, in hours (the journal's is counted in hours, the rest in days).
    pub period_hours: u64,
    pub before: i64,
}

/// The policies in force at `now` (a period of 0 keeps that data for ever).
pub fn cutoffs(config: &RetentionConfig, journal_hours: u64, now: i64) -> Vec<Cutoff> {
    let days = [
        (Kind::ResolvedConversations, config.resolved_conversations_days),
        (Kind::AnonymousChats, config.anonymous_chats_days),
        (Kind::RawMails, config.raw_mails_days),
        (Kind::Attachments, config.attachments_days),
        (Kind::DeliveryLogs, config.delivery_logs_days),
    ];
    let mut out: Vec<Cutoff> = days
        .into_iter()
        .filter(|(_, d)| *d > 0)
        .map(|(kind, d)| Cutoff {
            kind,
            period_hours: d.saturating_mul(24),
            before: now.saturating_sub(i64::try_from(d).unwrap_or(i64::MAX).saturating_mul(DAY_MS)),
        })
        .collect();
    if journal_hours > 0 {
        out.push(Cutoff {
            kind: Kind::WebhookJournal,
            period_hours: journal_hours,
            before: now.saturating_sub(
                i64::try_from(journal_hours)
                    .unwrap_or(i64::MAX)
                    .saturating_mul(3600 * 1000),
            ),
        });
    }
    if config.translation_cache_days > 0 {
        let d = config.translation_cache_days;
        out.push(Cutoff {
            kind: Kind::TranslationCache,
            period_hours: d.saturating_mul(24),
            before: now.saturating_sub(i64::try_from(d).unwrap_or(i64::MAX).saturating_mul(DAY_MS)),
        });
    }
    out
}

/// Whether the daily run is due: never run, or the last one a day ago.
pub fn due(last_run: Option<i64>, now: i64) -> bool {
    last_run.is_none_or(|last| now - last >= DAY_MS)
}

/// What one policy found past its period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = RetentionFound)]
pub struct Found {
    #[serde(flatten)]
    pub cutoff: Cutoff,
    pub count: u64,
    /// The ids, for the kinds that list them (conversations, messages
    /// whose raw mail goes, attachments).
    pub items: Vec<i64>,
}

impl Found {
    pub fn listed(cutoff: Cutoff, items: Vec<i64>) -> Self {
        Found {
            cutoff,
            count: items.len() as u64,
            items,
        }
    }

    pub fn counted(cutoff: Cutoff, count: u64) -> Self {
        Found {
            cutoff,
            count,
            items: Vec::new(),
        }
    }
}

/// A run's report; a dry run is the same report, not applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = RetentionReport)]
pub struct Report {
    pub at: i64,
    pub applied: bool,
    pub policies: Vec<Found>,
    /// Files deleted from the blob directory (nothing else held the same content).
    pub files_removed: u64,
}

impl Report {
    /// Counts per kind, for the audit log (the ids are in the report, not the log).
    pub fn summary(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for f in &self.policies {
            let key = serde_json::to_value(f.cutoff.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            m.insert(key, f.count.into());
        }
        m.insert("files_removed".into(), self.files_removed.into());
        m.insert("applied".into(), self.applied.into());
        serde_json::Value::Object(m)
    }

    pub fn items(&self, kind: Kind) -> &[i64] {
        self.policies
            .iter()
            .find(|f| f.cutoff.kind == kind)
            .map_or(&[], |f| f.items.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_policy_counts_back_from_now_and_zero_keeps_for_ever() {
        let config = RetentionConfig {
            raw_mails_days: 90,
            attachments_days: 0,
            ..RetentionConfig::default()
        };
        let now = 400 * DAY_MS;
        let c = cutoffs(&config, 72, now);
        let find = |k: Kind| c.iter().find(|c| c.kind == k).copied();
        assert_eq!(find(Kind::RawMails).map(|c| c.before), Some(310 * DAY_MS));
        assert_eq!(find(Kind::Attachments), None);
        assert_eq!(
            find(Kind::WebhookJournal).map(|c| c.before),
            Some(now - 72 * 3600 * 1000)
        );
        assert_eq!(find(Kind::AnonymousChats).map(|c| c.period_hours), Some(30 * 24));
        assert_eq!(
            cutoffs(&config, 0, now)
                .iter()
                .filter(|c| c.kind == Kind::WebhookJournal)
                .count(),
            0
        );
        // Whole conversations go before the files of those that stay.
        assert_eq!(c.first().map(|c| c.kind), Some(Kind::ResolvedConversations));
    }

    #[test]
    fn the_run_is_due_once_a_day() {
        assert!(due(None, 5));
        assert!(!due(Some(DAY_MS), 2 * DAY_MS - 1));
        assert!(due(Some(DAY_MS), 2 * DAY_MS));
    }

    #[test]
    fn the_summary_counts_and_the_items_are_found_by_kind() {
        let cutoff = Cutoff {
            kind: Kind::RawMails,
            period_hours: 24,
            before: 0,
        };
        let report = Report {
            at: 1,
            applied: false,
            policies: vec![
                Found::listed(cutoff, vec![4, 9]),
                Found::counted(
                    Cutoff {
                        kind: Kind::DeliveryLogs,
                        ..cutoff
                    },
                    7,
                ),
            ],
            files_removed: 0,
        };
        assert_eq!(report.items(Kind::RawMails), [4, 9]);
        assert!(report.items(Kind::Attachments).is_empty());
        let s = report.summary();
        assert_eq!(s["raw_mails"], 2);
        assert_eq!(s["delivery_logs"], 7);
        assert_eq!(s["applied"], false);
    }
}
