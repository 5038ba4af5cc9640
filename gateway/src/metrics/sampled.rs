//! How things stand at scrape time: read from the store and the workers'
//! statuses ([`read`]), then turned into gauges by a pure function
//! ([`Sampled::registry`]) that a fresh registry holds for one scrape.

use std::collections::{BTreeMap, HashMap};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::sla::SlaState;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::metrics::{Count, StoreCounts};

/// What a scrape reports besides the live counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sampled {
    pub counts: StoreCounts,
    /// WhatsApp notifications journaled and not processed (`None`: channel off).
    pub journal_backlog: Option<i64>,
    /// Customer messages not translated yet (`None`: no provider).
    pub translation_backlog: Option<i64>,
    /// Unresolved conversations per queue and SLA state (`at_risk`, `breached`, …).
    pub sla: BTreeMap<(String, &'static str), i64>,
    pub mailboxes: BTreeMap<String, MailboxSample>,
    pub rule_reloads: u64,
    pub failed_rule_reloads: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MailboxSample {
    pub connected: bool,
    /// Seconds since the last successful round with the server.
    pub since_last_ok_secs: Option<f64>,
    pub last_uid: Option<i64>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Labels1 {
    channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueuePriority {
    queue: String,
    priority: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueState {
    queue: String,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Kind {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Mailbox {
    mailbox: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadResult {
    result: &'static str,
}

fn sla_label(s: SlaState) -> &'static str {
    match s {
        SlaState::None => "none",
        SlaState::OnTime => "on_time",
        SlaState::AtRisk => "at_risk",
        SlaState::Breached => "breached",
        SlaState::Paused => "paused",
    }
}

/// Reads everything a scrape reports; one query per kind of count.
pub async fn read(state: &AppState) -> Result<Sampled, StoreError> {
    let now = state.clock.now_ms();
    let counts = state.store.metrics_counts().await?;
    let translation_backlog = match &state.translator {
        Some(t) => Some(state.store.translation_backlog(&t.agents).await?),
        None => None,
    };
    let mut timers: HashMap<i64, (String, Vec<crate::store::sla::TimerRow>)> = HashMap::new();
    for t in state.store.sla_timers_open().await? {
        timers
            .entry(t.timer.conversation_id)
            .or_insert_with(|| (t.queue, Vec::new()))
            .1
            .push(t.timer);
    }
    let mut sla = BTreeMap::new();
    let policies = state.sla.current();
    for (queue, rows) in timers.into_values() {
        let s = crate::sla::view(rows, &policies, now).state;
        *sla.entry((queue, sla_label(s))).or_insert(0) += 1;
    }
    let mailboxes = state
        .health
        .mailboxes
        .snapshot()
        .into_iter()
        .map(|(name, s)| {
            let sample = MailboxSample {
                connected: s.connected,
                since_last_ok_secs: s.last_ok_at.map(|at| (now - at).max(0) as f64 / 1000.0),
                last_uid: s.last_uid,
            };
            (name, sample)
        })
        .collect();
    let triage = state.triage.status();
    Ok(Sampled {
        counts,
        journal_backlog: state.whatsapp.as_ref().map(|wa| wa.backlog.get()),
        translation_backlog,
        sla,
        mailboxes,
        rule_reloads: triage.reloads,
        failed_rule_reloads: triage.failed_reloads,
    })
}

fn gauge_family<L>(registry: &mut Registry, name: &str, help: &str, rows: impl IntoIterator<Item = (L, i64)>)
where
    L: Clone + std::hash::Hash + Eq + EncodeLabelSet + std::fmt::Debug + Send + Sync + 'static,
{
    let family = Family::<L, Gauge>::default();
    for (labels, n) in rows {
        family.get_or_create(&labels).set(n);
    }
    registry.register(name, help, family);
}

fn single_gauge(registry: &mut Registry, name: &str, help: &str, n: i64) {
    let g = Gauge::<i64>::default();
    g.set(n);
    registry.register(name, help, g);
}

fn by_channel(rows: &[Count]) -> impl Iterator<Item = (Labels1, i64)> + '_ {
    rows.iter().map(|c| (Labels1 { channel: c.a.clone() }, c.n))
}

impl Sampled {
    /// The gauges of this reading, in a registry of their own.
    pub fn registry(&self) -> Registry {
        let mut r = Registry::with_prefix("switchyard");
        gauge_family(
            &mut r,
            "outbox_depth",
            "Outgoing messages committed and not handed to their channel yet",
            by_channel(&self.counts.outbox_depth),
        );
        gauge_family(
            &mut r,
            "outbox_failed",
            "Outgoing messages given up on (kept for agents to see)",
            by_channel(&self.counts.outbox_failed),
        );
        single_gauge(
            &mut r,
            "media_jobs_backlog",
            "WhatsApp media waiting to be downloaded",
            self.counts.media_backlog,
        );
        if let Some(n) = self.journal_backlog {
            single_gauge(
                &mut r,
                "webhook_journal_backlog",
                "WhatsApp notifications accepted (durable) and not processed yet",
                n,
            );
        }
        if let Some(n) = self.translation_backlog {
            single_gauge(
                &mut r,
                "translation_backlog",
                "Customer messages the translation worker has not reached yet",
                n,
            );
        }
        gauge_family(
            &mut r,
            "conversations_open",
            "Conversations not resolved, by queue and priority",
            self.counts.open_conversations.iter().map(|c| {
                let labels = QueuePriority {
                    queue: c.a.clone(),
                    priority: c.b.clone(),
                };
                (labels, c.n)
            }),
        );
        gauge_family(
            &mut r,
            "sla_conversations",
            "Unresolved conversations by queue and SLA state (at_risk, breached, on_time, paused)",
            self.sla.iter().map(|((queue, state), n)| {
                let labels = QueueState {
                    queue: queue.clone(),
                    state,
                };
                (labels, *n)
            }),
        );
        let escalations = Family::<Kind, Counter>::default();
        let open = Family::<Kind, Gauge>::default();
        for c in &self.counts.escalations {
            let labels = Kind { kind: c.a.clone() };
            escalations
                .get_or_create(&labels)
                .inc_by(u64::try_from(c.n).unwrap_or(0));
            if c.b == "open" {
                open.get_or_create(&labels).set(c.n);
            }
        }
        r.register(
            "escalations",
            "Escalations opened (callback, visio, on-call)",
            escalations,
        );
        r.register("escalations_open", "Escalations not done yet", open);
        let connected = Family::<Mailbox, Gauge>::default();
        let since_ok = Family::<Mailbox, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        let last_uid = Family::<Mailbox, Gauge>::default();
        for (name, m) in &self.mailboxes {
            let labels = Mailbox { mailbox: name.clone() };
            connected.get_or_create(&labels).set(i64::from(m.connected));
            if let Some(s) = m.since_last_ok_secs {
                since_ok.get_or_create(&labels).set(s);
            }
            if let Some(uid) = m.last_uid {
                last_uid.get_or_create(&labels).set(uid);
            }
        }
        r.register(
            "mailbox_connected",
            "1 while the mailbox reader is logged in",
            connected,
        );
        r.register(
            "mailbox_last_ok_age_seconds",
            "Seconds since the mailbox's last successful round with the server",
            since_ok,
        );
        r.register(
            "mailbox_last_uid",
            "The last UID the mailbox reader committed",
            last_uid,
        );
        let reloads = Family::<ReloadResult, Counter>::default();
        reloads
            .get_or_create(&ReloadResult { result: "ok" })
            .inc_by(self.rule_reloads);
        reloads
            .get_or_create(&ReloadResult { result: "refused" })
            .inc_by(self.failed_rule_reloads);
        r.register(
            "rule_reloads",
            "Triage rule reloads since the start: in force (ok) or refused (the old rules stay)",
            reloads,
        );
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(s: &Sampled) -> String {
        let mut out = String::new();
        let r = s.registry();
        prometheus_client::encoding::text::encode_registry(&mut out, &r).unwrap_or_default();
        out
    }

    #[test]
    fn each_count_becomes_its_labelled_gauge() {
        let count = |a: &str, b: &str, n| Count {
            a: a.into(),
            b: b.into(),
            n,
        };
        let s = Sampled {
            counts: StoreCounts {
                outbox_depth: vec![count("email", "", 4)],
                outbox_failed: vec![],
                media_backlog: 2,
                open_conversations: vec![count("expert", "important", 7), count("callback", "critical", 1)],
                escalations: vec![count("callback", "done", 3), count("callback", "open", 1)],
            },
            journal_backlog: Some(9),
            translation_backlog: None,
            sla: BTreeMap::from([(("expert".to_string(), "at_risk"), 2)]),
            mailboxes: BTreeMap::from([(
                "sav".to_string(),
                MailboxSample {
                    connected: true,
                    since_last_ok_secs: Some(1.5),
                    last_uid: Some(42),
                },
            )]),
            rule_reloads: 2,
            failed_rule_reloads: 1,
        };
        let text = render(&s);
        for line in [
            "switchyard_outbox_depth{channel=\"email\"} 4",
            "switchyard_media_jobs_backlog 2",
            "switchyard_webhook_journal_backlog 9",
            "switchyard_conversations_open{queue=\"expert\",priority=\"important\"} 7",
            "switchyard_sla_conversations{queue=\"expert\",state=\"at_risk\"} 2",
            "switchyard_escalations_total{kind=\"callback\"} 4",
            "switchyard_escalations_open{kind=\"callback\"} 1",
            "switchyard_mailbox_connected{mailbox=\"sav\"} 1",
            "switchyard_mailbox_last_ok_age_seconds{mailbox=\"sav\"} 1.5",
            "switchyard_mailbox_last_uid{mailbox=\"sav\"} 42",
            "switchyard_rule_reloads_total{result=\"ok\"} 2",
            "switchyard_rule_reloads_total{result=\"refused\"} 1",
        ] {
            assert!(text.contains(&format!("{line}\n")), "{line} not in\n{text}");
        }
        assert!(!text.contains("translation_backlog"), "{text}");
    }
}
