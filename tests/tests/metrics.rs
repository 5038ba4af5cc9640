//! `/metrics` scraped after known traffic on two channels, parsed by the
//! Prometheus project's own OpenMetrics parser (python3-prometheus-client,
//! which `scripts/test.sh` installs), its counters checked against what the
//! test sent and against the store.

use std::collections::BTreeMap;
use std::time::Duration;

use e2e::wa::{customer_writes, msg, notification, signed};
use e2e::{HEALTH_TOKEN, Visitor, ticket_id};
use serde_json::json;

/// `name{label="v",…}` → value, for every sample of the scrape.
type Samples = BTreeMap<String, f64>;

const PARSER: &str = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(s.labels.items()))
        out["%s{%s}" % (s.name, labels)] = s.value
print(json.dumps(out))
"#;

/// Parses the exposition as Prometheus would, or fails saying why.
async fn parse(text: &str) -> anyhow::Result<Samples> {
    use tokio::io::AsyncWriteExt;
    let python = std::env::var("SWITCHYARD_TEST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let mut child = tokio::process::Command::new(python)
        .args(["-c", PARSER])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(text.as_bytes()).await?;
    }
    let out = child.wait_with_output().await?;
    anyhow::ensure!(
        out.status.success(),
        "the OpenMetrics parser refused the exposition (is python3-prometheus-client installed? scripts/test.sh installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

async fn scrape(base: &str, token: Option<&str>) -> anyhow::Result<(u16, String, String)> {
    let mut request = reqwest::Client::new().get(format!("{base}/metrics"));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    Ok((status, content_type, response.text().await?))
}

fn value(samples: &Samples, key: &str) -> f64 {
    samples.get(key).copied().unwrap_or(0.0)
}

fn sum_of(samples: &Samples, prefix: &str) -> f64 {
    samples
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(_, v)| v)
        .sum()
}

#[tokio::test]
async fn metrics_count_what_was_sent_and_prometheus_can_parse_them() -> anyhow::Result<()> {
    let (app, _stub, agent, _dir) = e2e::wa::start().await?;
    let base = app.base();

    // Two visitors, three chat messages each, both sockets left open.
    let mut visitors = Vec::new();
    let mut chats = Vec::new();
    for v in 0..2 {
        let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
        let mut conversation = 0;
        for i in 0..3 {
            let ack = visitor
                .message(
                    &format!("c-{v}-{i}"),
                    &format!("Question {i} sur le réglage du convoyeur"),
                )
                .await?;
            conversation = ticket_id(&ack["conversation"]);
        }
        chats.push(conversation);
        visitors.push(visitor);
    }
    // WhatsApp: four messages in four posts, the last one delivered twice by Meta.
    assert_eq!(
        customer_writes(
            &base,
            "wamid.M1",
            "La presse 3 est arrêtée, défaut F12, production bloquée"
        )
        .await?,
        200
    );
    assert_eq!(customer_writes(&base, "wamid.M2", "Photo suit").await?, 200);
    let last = notification(vec![msg("wamid.M3", "text", json!({"body": "Merci"}))], vec![]);
    assert_eq!(signed(&base, &last).await?, 200);
    assert_eq!(signed(&base, &last).await?, 200);

    // An agent's events socket, and a reply to the first chat.
    let _events = agent.events().await?;
    let (status, reply) = agent
        .post(
            &format!("/api/v1/conversations/{}/reply", chats[0]),
            json!({"text": "Vérifiez la tension de la courroie."}),
        )
        .await?;
    assert_eq!(status, 200, "{reply}");
    visitors[0].expect_message(|m| m["author"] == "agent").await?;

    // Everything handed over: the outbox is empty.
    let mut samples = Samples::new();
    for _ in 0..200 {
        let (status, content_type, text) = scrape(&base, Some(HEALTH_TOKEN)).await?;
        assert_eq!(status, 200, "{text}");
        assert!(
            content_type.starts_with("application/openmetrics-text"),
            "{content_type}"
        );
        samples = parse(&text).await?;
        if sum_of(&samples, "switchyard_outbox_depth{") == 0.0
            && value(&samples, "switchyard_websocket_sessions{kind=\"agent\"}") == 1.0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let v = |k: &str| value(&samples, k);
    assert_eq!(v("switchyard_messages_accepted_total{channel=\"webchat\"}"), 6.0);
    let wa_duplicates = v("switchyard_messages_processed_total{channel=\"whatsapp\",outcome=\"duplicate\"}");
    assert_eq!(
        v("switchyard_messages_accepted_total{channel=\"whatsapp\"}"),
        3.0 + wa_duplicates
    );
    assert_eq!(
        v("switchyard_messages_processed_total{channel=\"webchat\",outcome=\"stored\"}"),
        6.0
    );
    assert_eq!(
        v("switchyard_messages_processed_total{channel=\"whatsapp\",outcome=\"stored\"}"),
        3.0
    );
    assert_eq!(
        v("switchyard_messages_processed_total{channel=\"whatsapp\",outcome=\"refused\"}"),
        0.0
    );
    assert_eq!(v("switchyard_pipeline_batch_size_sum{}"), 9.0 + wa_duplicates);
    assert!(v("switchyard_pipeline_batch_size_count{}") >= 1.0);
    assert_eq!(
        v("switchyard_pipeline_commit_seconds_count{}"),
        v("switchyard_pipeline_batch_size_count{}")
    );
    assert_eq!(
        v("switchyard_http_requests_total{method=\"POST\",route=\"/webhooks/whatsapp\",status=\"200\"}"),
        4.0
    );
    assert_eq!(v("switchyard_websocket_sessions{kind=\"visitor\"}"), 2.0);
    assert_eq!(v("switchyard_websocket_sessions{kind=\"agent\"}"), 1.0);
    assert_eq!(v("switchyard_webhook_journal_backlog{}"), 0.0);

    // What the store holds, as the gauges say it.
    let open: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT queue, priority, COUNT(*) FROM conversations WHERE status <> 'resolved' GROUP BY queue, priority",
    )
    .fetch_all(app.state.store.reader())
    .await?;
    assert_eq!(open.iter().map(|(_, _, n)| n).sum::<i64>(), 3, "{open:?}");
    for (queue, priority, n) in &open {
        assert_eq!(
            v(&format!(
                "switchyard_conversations_open{{priority=\"{priority}\",queue=\"{queue}\"}}"
            )),
            *n as f64,
            "{queue}/{priority}"
        );
    }
    assert_eq!(sum_of(&samples, "switchyard_conversations_open{"), 3.0);
    let escalations: Vec<(String, i64)> = sqlx::query_as("SELECT kind, COUNT(*) FROM escalations GROUP BY kind")
        .fetch_all(app.state.store.reader())
        .await?;
    assert!(!escalations.is_empty(), "the stopped press escalates");
    for (kind, n) in &escalations {
        assert_eq!(
            v(&format!("switchyard_escalations_total{{kind=\"{kind}\"}}")),
            *n as f64,
            "{kind}"
        );
    }
    let handed: Vec<(String, i64)> = sqlx::query_as(
        "SELECT channel, COUNT(*) FROM outbox WHERE status IN ('sent', 'delivered', 'read') GROUP BY channel",
    )
    .fetch_all(app.state.store.reader())
    .await?;
    assert!(handed.iter().any(|(c, n)| c == "webchat" && *n >= 1), "{handed:?}");
    for (channel, n) in &handed {
        assert_eq!(
            v(&format!("switchyard_outbox_delivered_total{{channel=\"{channel}\"}}")),
            *n as f64,
            "{channel}"
        );
        assert_eq!(
            v(&format!(
                "switchyard_outbox_delivery_seconds_count{{channel=\"{channel}\"}}"
            )),
            *n as f64,
            "{channel}"
        );
    }
    assert_eq!(v("switchyard_rule_reloads_total{result=\"ok\"}"), 0.0);

    // No customer in any label: neither a phone number nor a conversation id.
    let (_, _, text) = scrape(&base, Some(HEALTH_TOKEN)).await?;
    assert!(!text.contains(e2e::wa::CUSTOMER), "a customer's number in the metrics");
    assert!(!text.contains("/conversations/1"), "a raw path in the metrics");

    // A token is configured: without it, nothing.
    let (status, _, body) = scrape(&base, None).await?;
    assert_eq!(status, 403, "{body}");
    let (status, _, _) = scrape(&base, Some("wrong")).await?;
    assert_eq!(status, 403);

    // A visitor's socket closing is seen.
    if let Some(v) = visitors.pop() {
        v.close().await;
    }
    let mut closed = false;
    for _ in 0..100 {
        let samples = parse(&scrape(&base, Some(HEALTH_TOKEN)).await?.2).await?;
        if value(&samples, "switchyard_websocket_sessions{kind=\"visitor\"}") == 1.0 {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(closed, "the closed socket is still counted");
    app.stop().await;
    Ok(())
}
