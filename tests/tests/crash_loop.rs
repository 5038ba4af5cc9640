//! The crash loop: chat visitors, WhatsApp webhooks, mail arriving in the
//! mailbox and agents replying on all three, while the real binary is killed
//! with SIGKILL at random moments and started again on the same data
//! directory. Then, once everything has settled:
//! - every message acknowledged (chat ack, webhook 200) and every mail put
//!   in the mailbox is stored exactly once, and the mailbox is empty;
//! - every reply the API committed (answered 200) reached its customer, and
//!   each customer sees it once: a chat visitor's history holds it once, every
//!   copy the SMTP server got carries one Message-ID, WhatsApp sends are
//!   counted (Graph has no idempotency key: a send cut by the kill before its
//!   success was recorded is sent again);
//! - every conversation has exactly one first-response and one resolution
//!   timer, and at most one open escalation of each kind.
//!
//! `SY_CRASH_KILLS` sets the number of kills (10 by default, as in CI; the
//! README's full run is 100) and `SY_CRASH_SEED` the random moments.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, ensure};
use e2e::graph_stub::{GraphStub, TOKEN};
use e2e::mail::{Dovecot, SmtpSink};
use e2e::{ADMIN_PASSWORD, AgentClient, ChildServer, Visitor, wa};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_e2e-switchyard");
const VISITORS: usize = 4;
const WA_CUSTOMERS: usize = 4;

/// What the outside world was told, as the load saw it.
#[derive(Default)]
struct Ledger {
    /// Chat client ids acknowledged.
    chat_acked: Vec<String>,
    /// Chat tokens, one per visitor (kept across kills).
    tokens: Vec<Option<String>>,
    /// WhatsApp message ids answered 200.
    wa_acked: Vec<String>,
    /// Message-IDs of the mails put in the mailbox.
    mails: Vec<String>,
    /// Replies the API committed: (conversation, channel, text).
    replies: Vec<(i64, String, String)>,
}

type Shared = Arc<Mutex<Ledger>>;

fn with<T>(ledger: &Shared, f: impl FnOnce(&mut Ledger) -> T) -> T {
    let mut guard = ledger.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    f(&mut guard)
}

/// The mail settings every mail test uses, then WhatsApp on the Graph stub,
/// no chat limits (every visitor is 127.0.0.1) and quick outbox retries.
fn write_config(
    dir: &std::path::Path,
    dovecot: &Dovecot,
    sink: &SmtpSink,
    graph: &GraphStub,
) -> anyhow::Result<std::path::PathBuf> {
    let path = e2e::mail::write_gateway_config(dir, dovecot, sink, "timeout_secs = 5\nmax_backoff_secs = 1")?;
    let mut config = std::fs::read_to_string(&path)?;
    config.push_str(&format!(
        r#"
[whatsapp]
enabled = true
verify_token = "verify-me"
app_secret = "{secret}"
access_token = "{TOKEN}"
graph_url = "{graph}"

[[whatsapp.numbers]]
phone_number_id = "{pnid}"
name = "SAV"
language = "fr"

[webchat.limits]
sessions_per_minute_per_address = 0
messages_per_minute_per_address = 0
messages_per_minute_per_chat = 0

[outbox]
retry_base_secs = 1
"#,
        secret = wa::SECRET,
        graph = graph.url(),
        pnid = wa::PNID,
    ));
    std::fs::write(&path, config)?;
    Ok(path)
}

const TEXTS: &[&str] = &[
    "La ligne 2 est arrêtée, production stoppée, code E-217",
    "Bonjour, où trouver la notice de la remplisseuse ?",
    "Le convoyeur fait un bruit anormal depuis ce matin",
    "Machine à l'arrêt, fumée sur le moteur principal",
];

/// One visitor until the server goes away: resume (or open) and send.
async fn visitor_round(ws: String, round: usize, v: usize, ledger: Shared) {
    let token = with(&ledger, |l| l.tokens[v].clone());
    let Ok((mut visitor, _)) = Visitor::open(&ws, token.as_deref()).await else {
        return;
    };
    with(&ledger, |l| l.tokens[v] = visitor.token.clone());
    for n in 0.. {
        let client_id = format!("r{round}-v{v}-{n}");
        match visitor.message(&client_id, TEXTS[(v + n) % TEXTS.len()]).await {
            Ok(ack) if ack["client_id"] == client_id.as_str() => with(&ledger, |l| l.chat_acked.push(client_id)),
            _ => return,
        }
    }
}

fn wa_customer(c: usize) -> String {
    format!("3369000{c:04}")
}

async fn whatsapp_round(base: String, round: usize, ledger: Shared) {
    let http = reqwest::Client::new();
    for n in 0.. {
        let from = wa_customer(n % WA_CUSTOMERS);
        let wamid = format!("wamid.crash.{round}.{n}");
        let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "33186950001", "phone_number_id": wa::PNID},
            "contacts": [{"profile": {"name": "Technicien"}, "wa_id": from}],
            "messages": [{"from": from, "id": wamid, "timestamp": wa::now_secs().to_string(),
                          "type": "text", "text": {"body": TEXTS[n % TEXTS.len()]}}]}}]}]})
        .to_string()
        .into_bytes();
        let sent = http
            .post(format!("{base}/webhooks/whatsapp"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", wa::sign(&body))
            .body(body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().as_u16() == 200 => with(&ledger, |l| l.wa_acked.push(wamid)),
            _ => return,
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn mail(id: &str, n: usize) -> String {
    format!(
        "From: Client {n} <client{c}@plant.test>\r\nTo: sav@maker.test\r\nSubject: Incident {id}\r\n\
         Date: Mon, 23 Nov 2026 09:00:00 +0100\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n",
        c = n % 5,
        text = TEXTS[n % TEXTS.len()],
    )
}

/// Replies on every channel to the conversations the agent sees, until the server goes away.
async fn agent_round(base: String, round: usize, ledger: Shared) {
    let Ok(agent) = AgentClient::login(&base, "admin", ADMIN_PASSWORD).await else {
        return;
    };
    let Ok(list) = agent.ok("/api/v1/conversations?limit=1000").await else {
        return;
    };
    let targets: Vec<(i64, String)> = list["conversations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c["id"].as_i64()?, c["channel"].as_str()?.to_string())))
        .collect();
    if targets.is_empty() {
        return;
    }
    for n in 0.. {
        let (id, channel) = targets[(n * 7 + round) % targets.len()].clone();
        let text = format!("Réponse r{round}-{n} : un technicien vous rappelle.");
        match agent
            .post(&format!("/api/v1/conversations/{id}/reply"), json!({"text": text}))
            .await
        {
            Ok((200, _)) => with(&ledger, |l| l.replies.push((id, channel, text))),
            _ => return,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn count<'a>(values: impl Iterator<Item = &'a str>) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for v in values {
        *out.entry(v.to_string()).or_insert(0) += 1;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_work_survives_a_crash_loop_exactly_once() -> anyhow::Result<()> {
    let kills: usize = std::env::var("SY_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let seed: u64 = std::env::var("SY_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().r#gen());
    println!("crash loop: {kills} kills, SY_CRASH_SEED={seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    let dovecot = Dovecot::start().await?;
    let sink = SmtpSink::start().await?;
    let graph = GraphStub::start().await?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let config = write_config(dir.path(), &dovecot, &sink, &graph)?;
    let mut server = ChildServer::start_with_config(BINARY, &data, &config).await?;
    let ledger: Shared = Arc::new(Mutex::new(Ledger {
        tokens: vec![None; VISITORS],
        ..Ledger::default()
    }));

    let mut mails = 0;
    for round in 0..kills {
        let mut tasks = Vec::new();
        for v in 0..VISITORS {
            tasks.push(tokio::spawn(visitor_round(server.ws_url(), round, v, ledger.clone())));
        }
        tasks.push(tokio::spawn(whatsapp_round(server.base(), round, ledger.clone())));
        tasks.push(tokio::spawn(agent_round(server.base(), round, ledger.clone())));
        // Mail arrives whatever the gateway's state.
        for _ in 0..3 {
            let id = format!("crash-{round}-{mails}@plant.test");
            dovecot.append("INBOX", mail(&id, mails).as_bytes()).await?;
            with(&ledger, |l| l.mails.push(id));
            mails += 1;
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(200..1500))).await;
        server.kill();
        for t in tasks {
            t.await.context("a load task panicked")?;
        }
        server = ChildServer::start_with_config(BINARY, &data, &config).await?;
    }

    // Settle: the mailbox read, the journal drained, every committed reply out.
    let agent = AgentClient::login(&server.base(), "admin", ADMIN_PASSWORD).await?;
    let (chat_acked, wa_acked, mail_ids, replies, tokens) = with(&ledger, |l| {
        (
            l.chat_acked.clone(),
            l.wa_acked.clone(),
            l.mails.clone(),
            l.replies.clone(),
            l.tokens.clone(),
        )
    });
    println!(
        "acknowledged: {} chat messages, {} WhatsApp messages, {} mails put in the mailbox, {} replies committed",
        chat_acked.len(),
        wa_acked.len(),
        mail_ids.len(),
        replies.len()
    );
    ensure!(
        !chat_acked.is_empty() && !wa_acked.is_empty() && !replies.is_empty(),
        "the load did not get through: nothing to check"
    );
    let mut settled = false;
    for _ in 0..600 {
        let (_, ready) = e2e::readiness(&server.base()).await?;
        if dovecot.count("INBOX").await? == 0 && ready["whatsapp_backlog"] == 0 {
            settled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure!(settled, "the mailbox or the webhook journal did not drain within 60 s");

    // What the store holds, conversation by conversation.
    let list = agent.ok("/api/v1/conversations?limit=5000").await?;
    let ids: Vec<i64> = list["conversations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["id"].as_i64())
        .collect();
    let mut details = HashMap::new();
    for id in &ids {
        details.insert(*id, agent.ok(&format!("/api/v1/conversations/{id}")).await?);
    }
    let incoming: Vec<&Value> = details
        .values()
        .flat_map(|d| d["messages"].as_array().into_iter().flatten())
        .filter(|m| m["direction"] == "in")
        .collect();
    let by_client_id = count(incoming.iter().filter_map(|m| m["client_id"].as_str()));
    let by_external_id = count(incoming.iter().filter_map(|m| m["external_id"].as_str()));

    let mut lost = Vec::new();
    let mut doubled = Vec::new();
    for id in &chat_acked {
        match by_client_id.get(id).copied().unwrap_or(0) {
            0 => lost.push(format!("chat {id}")),
            1 => {}
            n => doubled.push(format!("chat {id} x{n}")),
        }
    }
    for id in &wa_acked {
        match by_external_id.get(id).copied().unwrap_or(0) {
            0 => lost.push(format!("whatsapp {id}")),
            1 => {}
            n => doubled.push(format!("whatsapp {id} x{n}")),
        }
    }
    for id in &mail_ids {
        // A mail's key is its Message-ID and a digest of its content.
        let stored: usize = by_external_id
            .iter()
            .filter(|(key, _)| key.starts_with(&format!("{id}#")))
            .map(|(_, n)| n)
            .sum();
        match stored {
            0 => lost.push(format!("mail {id}")),
            1 => {}
            n => doubled.push(format!("mail {id} x{n}")),
        }
    }
    // Nothing stored twice, acknowledged or not (a message stored but not acknowledged is fine once).
    for (id, n) in by_client_id.iter().chain(by_external_id.iter()) {
        if *n > 1 && !doubled.iter().any(|d| d.contains(id.as_str())) {
            doubled.push(format!("{id} x{n} (not acknowledged)"));
        }
    }
    println!(
        "stored: {} chat, {} by external id; lost {}, doubled {}",
        by_client_id.len(),
        by_external_id.len(),
        lost.len(),
        doubled.len()
    );
    ensure!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    ensure!(doubled.is_empty(), "stored more than once: {doubled:?}");

    // Timers and escalations: neither lost nor doubled.
    for (id, d) in &details {
        let timers: Vec<&str> = d["sla"]["timers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["kind"].as_str())
            .collect();
        let kinds = count(timers.iter().copied());
        ensure!(
            kinds.get("first_response") == Some(&1) && kinds.get("resolution") == Some(&1),
            "conversation {id}: timers {timers:?}"
        );
        let open: Vec<&str> = d["escalations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["status"] == "open")
            .filter_map(|e| e["kind"].as_str())
            .collect();
        ensure!(
            count(open.iter().copied()).values().all(|n| *n == 1),
            "conversation {id}: open escalations {open:?}"
        );
    }

    // Every committed reply delivered, once as the customer sees it.
    let mut delivered = (0, 0, 0);
    let mut wa_resent = 0;
    for (conversation, channel, text) in &replies {
        let stored = details
            .get(conversation)
            .and_then(|d| d["messages"].as_array())
            .map(|m| m.iter().filter(|m| m["body"] == text.as_str()).count())
            .unwrap_or(0);
        ensure!(stored == 1, "reply {text:?} stored {stored} times in {conversation}");
        match channel.as_str() {
            "email" => {
                let copies = sink
                    .wait_for(&format!("the reply {text:?}"), |r| r.text().contains(text.as_str()))
                    .await
                    .map(|_| {
                        sink.received()
                            .into_iter()
                            .filter(|r| r.text().contains(text.as_str()))
                            .map(|r| r.header("Message-ID").unwrap_or_default())
                            .collect::<Vec<_>>()
                    })?;
                let distinct = count(copies.iter().map(String::as_str));
                ensure!(
                    distinct.len() == 1,
                    "{text:?} reached the customer as different mails: {copies:?}"
                );
                delivered.0 += 1;
            }
            "whatsapp" => {
                let mut sends = 0;
                for _ in 0..300 {
                    sends = graph
                        .sends()
                        .iter()
                        .filter(|s| s["text"]["body"] == text.as_str())
                        .count();
                    if sends > 0 {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                ensure!(sends >= 1, "{text:?} never sent to WhatsApp");
                wa_resent += sends - 1;
                delivered.1 += 1;
            }
            _ => {}
        }
    }
    // Chat: each visitor's history, on resuming, holds each reply to them once.
    for token in tokens.iter().flatten() {
        let (visitor, opened) = Visitor::open(&server.ws_url(), Some(token)).await?;
        let conversation = e2e::ticket_id(&opened["conversation"]);
        let history = opened["history"].as_array().cloned().unwrap_or_default();
        for (_, _, text) in replies
            .iter()
            .filter(|(c, ch, _)| *c == conversation && ch == "webchat")
        {
            let seen = history.iter().filter(|h| h["text"] == text.as_str()).count();
            ensure!(seen == 1, "visitor of {conversation} sees {text:?} {seen} times");
            delivered.2 += 1;
        }
        visitor.close().await;
    }
    // Every committed reply was one of the three and was checked above.
    ensure!(
        delivered.0 + delivered.1 + delivered.2 == replies.len(),
        "{delivered:?} checked of {} replies committed",
        replies.len()
    );
    println!(
        "replies delivered: {} email, {} WhatsApp ({} sent again after a kill), {} chat; {kills} kills",
        delivered.0, delivered.1, wa_resent, delivered.2
    );
    Ok(())
}
