//! Load generator against a running gateway on this machine. Bounded in count
//! and time; talks to loopback only.
//!
//!   sy-loadgen chat --url ws://127.0.0.1:8080/ws/chat --connections 64 --messages 200
//!   sy-loadgen whatsapp --url http://127.0.0.1:8080 --secret S --concurrency 32 --requests 20000 --per-post 10
//!   sy-loadgen email --binary target/release/switchyard --mails 100 --backlog 1000
//!
//! The email mode starts its own Dovecot, SMTP sink and gateway (the binary given).
//!
//! Reports accepted messages (or requests) per second and latency percentiles.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use e2e::Visitor;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

#[derive(Parser)]
#[command(about = "Measure message acceptance against a running gateway")]
struct Args {
    #[command(subcommand)]
    mode: Mode,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300, global = true)]
    timeout_secs: u64,
}

#[derive(Subcommand)]
enum Mode {
    /// Web-chat visitors over websockets, each waiting for every ack (closed loop).
    Chat {
        #[arg(long, default_value = "ws://127.0.0.1:8080/ws/chat")]
        url: String,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        #[arg(long, default_value_t = 200)]
        messages: usize,
    },
    /// Signed WhatsApp webhook POSTs (closed loop per worker).
    Whatsapp {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// The gateway's whatsapp.app_secret.
        #[arg(long)]
        secret: String,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        #[arg(long, default_value_t = 10_000)]
        requests: usize,
        /// Messages in each notification.
        #[arg(long, default_value_t = 1)]
        per_post: usize,
        #[arg(long, default_value = "106540352242922")]
        phone_number_id: String,
        /// The gateway's server.health_token (to watch the journal drain in /readyz).
        #[arg(long, env = "SWITCHYARD__SERVER__HEALTH_TOKEN", default_value = e2e::HEALTH_TOKEN)]
        health_token: String,
    },
    /// IMAP pickup latency (one mail at a time) and the ingest rate of a backlog after downtime.
    Email {
        /// The switchyard binary to run.
        #[arg(long)]
        binary: String,
        #[arg(long, default_value_t = 100)]
        mails: usize,
        #[arg(long, default_value_t = 1000)]
        backlog: usize,
        /// Mails fetched and committed per round (mailbox `batch`).
        #[arg(long, default_value_t = 100)]
        batch: usize,
        /// Pause before each mail of the latency run, so it finds the reader in IDLE.
        #[arg(long, default_value_t = 250)]
        gap_ms: u64,
    },
}

const TEXTS: &[&str] = &[
    "Bonjour, la ligne 2 est arrêtée depuis ce matin, code E17, merci de rappeler",
    "Hello, we see reduced rate on the packaging line since the last maintenance",
    "Où trouver la notice de la presse P200 ? Merci",
    "Line 3 is down, error 117 on the spindle drive, please call back +33 6 12 34 56 78",
];

fn loopback(url: &str) -> bool {
    [
        "ws://127.",
        "ws://localhost",
        "ws://[::1]",
        "http://127.",
        "http://localhost",
        "http://[::1]",
    ]
    .iter()
    .any(|p| url.starts_with(p))
}

fn report(what: &str, total: usize, elapsed: Duration, mut latencies: Vec<Duration>) {
    latencies.sort();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(i).copied().unwrap_or_default().as_secs_f64() * 1e3
    };
    println!(
        "{what}={total} elapsed={:.2}s rate={:.0}/s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency p50={:.2}ms p95={:.2}ms p99={:.2}ms max={:.2}ms",
        pct(0.5),
        pct(0.95),
        pct(0.99),
        pct(1.0)
    );
}

type Worker = tokio::task::JoinHandle<anyhow::Result<Vec<Duration>>>;

/// Every worker's latencies, or the first failure; the whole run within `deadline`.
async fn gather(tasks: Vec<Worker>, started: Instant, deadline: Duration) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::new();
    for t in tasks {
        let remaining = deadline.saturating_sub(started.elapsed());
        latencies.extend(
            tokio::time::timeout(remaining, t)
                .await
                .context("load run timed out")???,
        );
    }
    Ok(latencies)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let deadline = Duration::from_secs(args.timeout_secs);
    match args.mode {
        Mode::Chat {
            url,
            connections,
            messages,
        } => {
            if !loopback(&url) {
                bail!("sy-loadgen only targets a gateway on this machine (loopback)");
            }
            let started = Instant::now();
            let mut tasks = Vec::with_capacity(connections);
            for c in 0..connections {
                let url = url.clone();
                tasks.push(tokio::spawn(async move {
                    let (mut visitor, _) = Visitor::open(&url, None).await?;
                    let mut latencies = Vec::with_capacity(messages);
                    for m in 0..messages {
                        let sent = Instant::now();
                        visitor
                            .message(&format!("{c}-{m}"), TEXTS[(c + m) % TEXTS.len()])
                            .await?;
                        latencies.push(sent.elapsed());
                    }
                    visitor.close().await;
                    anyhow::Ok(latencies)
                }));
            }
            let latencies = gather(tasks, started, deadline).await?;
            println!("connections={connections} messages_per_connection={messages}");
            report("accepted_messages", latencies.len(), started.elapsed(), latencies);
        }
        Mode::Whatsapp {
            url,
            secret,
            concurrency,
            requests,
            per_post,
            phone_number_id,
            health_token,
        } => {
            if !loopback(&url) {
                bail!("sy-loadgen only targets a gateway on this machine (loopback)");
            }
            let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
            let run = format!(
                "{:x}",
                Instant::now().elapsed().as_nanos() ^ u128::from(std::process::id())
            );
            let started = Instant::now();
            let per_worker = requests.div_ceil(concurrency.max(1));
            let mut tasks = Vec::new();
            for w in 0..concurrency {
                let (http, url, secret, pnid, run) = (
                    http.clone(),
                    url.clone(),
                    secret.clone(),
                    phone_number_id.clone(),
                    run.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    let mut latencies = Vec::with_capacity(per_worker);
                    for r in 0..per_worker {
                        let messages: Vec<_> = (0..per_post)
                            .map(|m| {
                                // A few hundred customers, so conversations grow as in real life.
                                let from = format!("33600{:06}", (w * 7 + r) % 500);
                                json!({"from": from, "id": format!("wamid.load.{run}.{w}.{r}.{m}"), "timestamp": "1767346200",
                                       "type": "text", "text": {"body": TEXTS[(w + r + m) % TEXTS.len()]}})
                            })
                            .collect();
                        let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
                            "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "1", "phone_number_id": pnid},
                                      "contacts": [{"profile": {"name": "Load"}, "wa_id": "33600000000"}], "messages": messages}}]}]})
                        .to_string();
                        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).context("key")?;
                        mac.update(body.as_bytes());
                        let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
                        let sent = Instant::now();
                        let response = http
                            .post(format!("{url}/webhooks/whatsapp"))
                            .header("content-type", "application/json")
                            .header("x-hub-signature-256", signature)
                            .body(body)
                            .send()
                            .await?;
                        if !response.status().is_success() {
                            bail!("gateway answered {}", response.status());
                        }
                        latencies.push(sent.elapsed());
                    }
                    anyhow::Ok(latencies)
                }));
            }
            let latencies = gather(tasks, started, deadline).await?;
            let total = latencies.len();
            println!(
                "concurrency={concurrency} messages_per_post={per_post} messages={}",
                total * per_post
            );
            report("accepted_requests", total, started.elapsed(), latencies);
            // Accepted means durable in the journal; processing (pipeline, triage) follows.
            // What was still waiting when the last POST was answered drains
            // with the machine to itself: the pipeline's own rate.
            let sending_done = std::time::Instant::now();
            let mut left_after_sending = None;
            loop {
                let ready: serde_json::Value = http
                    .get(format!("{url}/readyz"))
                    .bearer_auth(&health_token)
                    .send()
                    .await?
                    .json()
                    .await?;
                let backlog = ready["whatsapp_backlog"].as_i64().unwrap_or(0);
                left_after_sending.get_or_insert(backlog);
                if backlog == 0 {
                    break;
                }
                if started.elapsed() > deadline {
                    bail!("the journal did not drain before the deadline");
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let all = started.elapsed();
            println!(
                "processed: all {} messages stored and triaged {:.2}s after the start ({:.0} messages/s end to end)",
                total * per_post,
                all.as_secs_f64(),
                (total * per_post) as f64 / all.as_secs_f64()
            );
            let left = usize::try_from(left_after_sending.unwrap_or(0)).unwrap_or(0) * per_post;
            if left > 0 {
                let drain = sending_done.elapsed();
                println!(
                    "drained: {left} messages still in the journal after the last POST, processed in {:.2}s ({:.0} messages/s)",
                    drain.as_secs_f64(),
                    left as f64 / drain.as_secs_f64()
                );
            }
        }
        Mode::Email {
            binary,
            mails,
            backlog,
            batch,
            gap_ms,
        } => {
            let gap = Duration::from_millis(gap_ms);
            let r = e2e::mail_bench::run(&binary, mails, backlog, batch, gap, deadline).await?;
            let total: Duration = r.latencies.iter().sum();
            println!("pickup: APPEND -> committed verdict, one mail at a time, {gap_ms} ms apart");
            report("mails", r.latencies.len(), total, r.latencies);
            println!(
                "backlog: {} mails committed {:.2}s after the gateway started, {:.0} mails/s (batch {batch})",
                r.backlog,
                r.backlog_elapsed.as_secs_f64(),
                r.backlog as f64 / r.backlog_elapsed.as_secs_f64()
            );
        }
    }
    Ok(())
}
