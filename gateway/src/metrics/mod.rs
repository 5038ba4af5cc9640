//! `/metrics` for Prometheus: what the gateway did since it started
//! (counters and histograms updated where the work happens, in [`Metrics`])
//! and how things stand now (backlogs, open conversations, SLA, mailboxes:
//! read at scrape time, in [`sampled`]).
//!
//! One registry per gateway rather than a process-wide recorder: the tests
//! run several gateways in one process, and each must count its own.
//! Labels only take bounded values: channels, queues, priorities, mailbox
//! names and route templates from the configuration and the code, never a
//! customer, a conversation or a raw path.

pub mod http;
pub mod route;
pub mod sampled;

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChannelLabel {
    pub channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProcessedLabels {
    pub channel: String,
    /// `stored`, `duplicate` or `refused`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    pub channel: String,
    /// `retry` (will be tried again) or `failed` (given up).
    pub class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SessionLabel {
    /// `visitor` (web chat) or `agent` (the inbox's live events).
    pub kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    /// The route's template (`/api/v1/conversations/{id}`), `unmatched` otherwise.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLatencyLabels {
    pub method: String,
    pub route: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Seconds, from 0.5 ms to about 16 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Seconds, from 10 ms to about 11 h: a reply waits for a retry, a WhatsApp
/// template, a customer's next session.
fn delivery_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 4.0, 11))
}

/// The live counters of one gateway. Cheap to clone.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    accepted: Family<ChannelLabel, Counter>,
    processed: Family<ProcessedLabels, Counter>,
    batch_size: Histogram,
    commit_seconds: Histogram,
    delivered: Family<ChannelLabel, Counter>,
    delivery_seconds: HistogramFamily<ChannelLabel>,
    delivery_failures: Family<FailureLabels, Counter>,
    sessions: Family<SessionLabel, Gauge>,
    http_requests: Family<RouteLabels, Counter>,
    http_seconds: HistogramFamily<RouteLatencyLabels>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("switchyard");
        let accepted = Family::<ChannelLabel, Counter>::default();
        registry.register(
            "messages_accepted",
            "Messages a channel handed to the pipeline (WhatsApp: notifications journaled)",
            accepted.clone(),
        );
        let processed = Family::<ProcessedLabels, Counter>::default();
        registry.register(
            "messages_processed",
            "Messages the pipeline committed or refused, by outcome",
            processed.clone(),
        );
        let batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 12));
        registry.register(
            "pipeline_batch_size",
            "Messages per pipeline transaction",
            batch_size.clone(),
        );
        let commit_seconds = latency_histogram();
        registry.register_with_unit(
            "pipeline_commit",
            "Time from a batch's first statement to its commit",
            Unit::Seconds,
            commit_seconds.clone(),
        );
        let delivered = Family::<ChannelLabel, Counter>::default();
        registry.register(
            "outbox_delivered",
            "Outgoing messages handed to their channel (sent or delivered)",
            delivered.clone(),
        );
        let delivery_seconds: HistogramFamily<ChannelLabel> = Family::new_with_constructor(delivery_histogram);
        registry.register_with_unit(
            "outbox_delivery",
            "Time from an outgoing message's commit to its hand-over to the channel",
            Unit::Seconds,
            delivery_seconds.clone(),
        );
        let delivery_failures = Family::<FailureLabels, Counter>::default();
        registry.register(
            "outbox_failures",
            "Delivery attempts that did not succeed, by what happens next",
            delivery_failures.clone(),
        );
        let sessions = Family::<SessionLabel, Gauge>::default();
        registry.register(
            "websocket_sessions",
            "Websockets open now on this node",
            sessions.clone(),
        );
        let http_requests = Family::<RouteLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template and status",
            http_requests.clone(),
        );
        let http_seconds: HistogramFamily<RouteLatencyLabels> = Family::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "http_request",
            "Time to answer an HTTP request (a websocket: until the upgrade)",
            Unit::Seconds,
            http_seconds.clone(),
        );
        Metrics(Arc::new(Inner {
            registry,
            accepted,
            processed,
            batch_size,
            commit_seconds,
            delivered,
            delivery_seconds,
            delivery_failures,
            sessions,
            http_requests,
            http_seconds,
        }))
    }

    pub fn accepted(&self, channel: &str, n: u64) {
        self.0
            .accepted
            .get_or_create(&ChannelLabel {
                channel: channel.to_string(),
            })
            .inc_by(n);
    }

    pub fn processed(&self, channel: &str, outcome: &'static str) {
        self.0
            .processed
            .get_or_create(&ProcessedLabels {
                channel: channel.to_string(),
                outcome,
            })
            .inc();
    }

    pub fn batch(&self, size: usize, commit: Duration) {
        self.0.batch_size.observe(size as f64);
        self.0.commit_seconds.observe(commit.as_secs_f64());
    }

    /// A row handed to its channel, `waited_ms` after it was committed.
    pub fn delivered(&self, channel: &str, waited_ms: i64) {
        let label = ChannelLabel {
            channel: channel.to_string(),
        };
        self.0.delivered.get_or_create(&label).inc();
        self.0
            .delivery_seconds
            .get_or_create(&label)
            .observe(waited_ms.max(0) as f64 / 1000.0);
    }

    pub fn delivery_failed(&self, channel: &str, class: &'static str) {
        self.0
            .delivery_failures
            .get_or_create(&FailureLabels {
                channel: channel.to_string(),
                class,
            })
            .inc();
    }

    /// Counts a websocket as open until the guard is dropped.
    pub fn session(&self, kind: &'static str) -> SessionGuard {
        let gauge = self.0.sessions.get_or_create_owned(&SessionLabel { kind });
        gauge.inc();
        SessionGuard(gauge)
    }

    pub fn http(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.0
            .http_requests
            .get_or_create(&RouteLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .inc();
        self.0
            .http_seconds
            .get_or_create(&RouteLatencyLabels {
                method: method.to_string(),
                route: route.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    /// The live counters and what was sampled now, in the OpenMetrics text format.
    pub fn render(&self, sampled: &Registry) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(16 * 1024);
        prometheus_client::encoding::text::encode_registry(&mut out, &self.0.registry)?;
        prometheus_client::encoding::text::encode_registry(&mut out, sampled)?;
        prometheus_client::encoding::text::encode_eof(&mut out)?;
        Ok(out)
    }
}

/// Keeps a websocket counted in `switchyard_websocket_sessions`.
pub struct SessionGuard(Gauge);

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_sessions_show_in_the_text() {
        let m = Metrics::new();
        m.accepted("webchat", 3);
        m.processed("webchat", "stored");
        m.batch(3, Duration::from_millis(2));
        m.delivered("email", 1500);
        m.delivery_failed("email", "retry");
        let open = m.session("visitor");
        let _agent = m.session("agent");
        let text = m.render(&Registry::default()).unwrap_or_default();
        assert!(
            text.contains("switchyard_messages_accepted_total{channel=\"webchat\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("switchyard_messages_processed_total{channel=\"webchat\",outcome=\"stored\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("switchyard_pipeline_batch_size_count 1\n"), "{text}");
        assert!(
            text.contains("switchyard_outbox_delivery_seconds_sum{channel=\"email\"} 1.5\n"),
            "{text}"
        );
        assert!(
            text.contains("switchyard_outbox_failures_total{channel=\"email\",class=\"retry\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("switchyard_websocket_sessions{kind=\"visitor\"} 1\n"),
            "{text}"
        );
        drop(open);
        let text = m.render(&Registry::default()).unwrap_or_default();
        assert!(
            text.contains("switchyard_websocket_sessions{kind=\"visitor\"} 0\n"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    /// The sample dashboard in `deploy/` only queries series the gateway exposes.
    #[test]
    fn the_sample_dashboard_queries_only_exposed_series() {
        let m = Metrics::new();
        m.accepted("webchat", 1);
        m.processed("webchat", "stored");
        m.batch(1, Duration::from_millis(1));
        m.delivered("webchat", 1);
        m.delivery_failed("webchat", "retry");
        let _s = m.session("agent");
        m.http("GET", "/readyz", 200, Duration::from_millis(1));
        let count = |a: &str, b: &str| crate::store::metrics::Count {
            a: a.into(),
            b: b.into(),
            n: 1,
        };
        let sampled = sampled::Sampled {
            journal_backlog: Some(0),
            translation_backlog: Some(0),
            mailboxes: [(
                "sav".to_string(),
                sampled::MailboxSample {
                    connected: true,
                    since_last_ok_secs: Some(1.0),
                    last_uid: Some(1),
                },
            )]
            .into(),
            counts: crate::store::metrics::StoreCounts {
                outbox_depth: vec![count("email", "")],
                open_conversations: vec![count("expert", "important")],
                escalations: vec![count("callback", "open")],
                ..Default::default()
            },
            sla: [(("expert".to_string(), "at_risk"), 1)].into(),
            ..Default::default()
        };
        let text = m.render(&sampled.registry()).unwrap_or_default();
        let dashboard = include_str!("../../../deploy/grafana-dashboard.json");
        let names = regex::Regex::new(r"switchyard_[a-z_]+").unwrap_or_else(|e| panic!("{e}"));
        let mut checked = 0;
        for name in names.find_iter(dashboard).map(|m| m.as_str()) {
            if name == "switchyard_" {
                continue;
            }
            assert!(text.contains(&format!("\n{name}")), "{name} is not exposed");
            checked += 1;
        }
        assert!(checked >= 14, "{checked}");
    }
}
