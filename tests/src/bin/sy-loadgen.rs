//! Load generator against a running gateway on this machine. Bounded in count
//! and time; talks to loopback only.
//!
//!   sy-loadgen chat --url ws://127.0.0.1:8080/ws/chat --connections 64 --messages 200
//!   sy-loadgen hold --url ws://127.0.0.1:8080/ws/chat --sockets 19000 --pid "$(pgrep -f 'switchyard serve')"
//!   sy-loadgen whatsapp --url http://127.0.0.1:8080 --secret S --concurrency 32 --requests 20000 --per-post 10
//!   sy-loadgen email --binary target/release/switchyard --mails 100 --backlog 1000
//!   sy-loadgen translate --set ../shared/triage/devset.jsonl --replies 2
//!
//! The email mode starts its own Dovecot, SMTP sink and gateway (the binary given).
//!
//! Reports accepted messages (or requests) per second and latency percentiles.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use e2e::Visitor;
use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

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
    /// Web-chat visitors over websockets, each waiting for every ack (closed
    /// loop); with `--agent`, an agent answers each visitor meanwhile and the
    /// time from the reply's POST to its frame at the visitor is reported.
    Chat {
        #[arg(long, default_value = "ws://127.0.0.1:8080/ws/chat")]
        url: String,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        #[arg(long, default_value_t = 200)]
        messages: usize,
        /// The agent (username) who replies; the password from SY_AGENT_PASSWORD.
        #[arg(long)]
        agent: Option<String>,
        #[arg(long, env = "SY_AGENT_PASSWORD", default_value = "", hide_env_values = true)]
        agent_password: String,
        /// Replies per visitor, spread over its messages.
        #[arg(long, default_value_t = 5)]
        replies: usize,
    },
    /// Visitors from their own addresses at a steady pace, while (with
    /// `--flood`) one address sends as fast as its sockets allow: the normal
    /// visitors' ack latency with and without it, and what the flood got.
    /// The gateway must trust 127.0.0.1 as a proxy
    /// (SWITCHYARD__SERVER__TRUSTED_PROXIES='["127.0.0.1"]').
    Flood {
        #[arg(long, default_value = "ws://127.0.0.1:8080/ws/chat")]
        url: String,
        #[arg(long, default_value_t = 64)]
        visitors: usize,
        #[arg(long, default_value_t = 60)]
        messages: usize,
        /// Pause between a visitor's ack and its next message.
        #[arg(long, default_value_t = 100)]
        pace_ms: u64,
        /// Sockets of the flooding address (0: no flood, the baseline).
        #[arg(long, default_value_t = 4)]
        flood: usize,
    },
    /// Idle chat sessions held open: all answer a ping, and the gateway's
    /// resident memory per socket is read from /proc.
    Hold {
        #[arg(long, default_value = "ws://127.0.0.1:8080/ws/chat")]
        url: String,
        #[arg(long, default_value_t = 1000)]
        sockets: usize,
        /// The gateway's process id (its memory is read from /proc/PID/status).
        #[arg(long)]
        pid: u32,
        /// Sessions opened at once.
        #[arg(long, default_value_t = 200)]
        parallel: usize,
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
    /// What translation adds per text against a local DeepL stand-in, and the
    /// cache hit rate on a replayed conversation set.
    Translate {
        /// JSONL messages with `text` and `lang` (e.g. ../shared/triage/devset.jsonl); a small sample without.
        #[arg(long)]
        set: Option<String>,
        /// Agent replies (canned French ones) per customer message.
        #[arg(long, default_value_t = 2)]
        replies: usize,
    },
}

const TEXTS: &[&str] = &[
    "Bonjour, la ligne 2 est arrêtée depuis ce matin, code E17, merci de rappeler",
    "Hello, we see reduced rate on the packaging line since the last maintenance",
    "Où trouver la notice de la presse P200 ? Merci",
    "Line 3 is down, error 117 on the spindle drive, please call back +33 6 12 34 56 78",
];

/// The gateway's resident memory, bytes.
fn resident(pid: u32) -> anyhow::Result<u64> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).context("reading the gateway's /proc status")?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .context("no VmRSS in /proc status")?;
    Ok(kb * 1024)
}

/// A widget that opened its session and then sits idle, with small buffers
/// of its own (the load generator holds as many sockets as the gateway).
async fn idle_session(url: &str) -> anyhow::Result<WebSocketStream<MaybeTlsStream<TcpStream>>> {
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), false)
        .await
        .context("websocket connect")?;
    ws.send(Message::Text(
        json!({"type": "open", "prechat": {"name": "Idle Visitor"}, "lang": "fr"})
            .to_string()
            .into(),
    ))
    .await?;
    expect_frame(&mut ws, "opened").await?;
    Ok(ws)
}

async fn expect_frame(ws: &mut WebSocketStream<MaybeTlsStream<TcpStream>>, kind: &str) -> anyhow::Result<()> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .with_context(|| format!("no {kind} within 30 s"))?
            .context("socket closed")??;
        if let Message::Text(t) = msg
            && serde_json::from_str::<serde_json::Value>(t.as_str())?["type"] == kind
        {
            return Ok(());
        }
    }
}

async fn hold(url: &str, sockets: usize, pid: u32, parallel: usize, deadline: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    let before = resident(pid)?;
    let mut held = Vec::with_capacity(sockets);
    while held.len() < sockets {
        let n = parallel.min(sockets - held.len());
        let opened = futures_util::future::join_all((0..n).map(|_| idle_session(url))).await;
        for ws in opened {
            held.push(ws?);
        }
        if started.elapsed() > deadline {
            bail!("{} of {sockets} sessions opened before the deadline", held.len());
        }
    }
    let opened_in = started.elapsed();
    // Every socket still answers: a ping each, all at once.
    let pinged = Instant::now();
    let answers = futures_util::future::join_all(held.iter_mut().map(|ws| async move {
        ws.send(Message::Text(json!({"type": "ping"}).to_string().into()))
            .await?;
        expect_frame(ws, "pong").await
    }))
    .await;
    let failed = answers.iter().filter(|a| a.is_err()).count();
    let ping_all = pinged.elapsed();
    // Let the allocator settle, then read the gateway's memory with every socket idle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = resident(pid)?;
    let per_socket = after.saturating_sub(before) as f64 / sockets as f64;
    println!(
        "sockets={sockets} opened in {:.2}s; all pinged in {:.0}ms, {failed} failed",
        opened_in.as_secs_f64(),
        ping_all.as_secs_f64() * 1e3
    );
    println!(
        "gateway resident memory {:.0} MB before, {:.0} MB with the sockets held: {:.1} KB per socket",
        before as f64 / 1e6,
        after as f64 / 1e6,
        per_socket / 1024.0
    );
    if failed > 0 {
        bail!("{failed} sockets did not answer the ping");
    }
    Ok(())
}

/// Normal visitors (each from its own documentation address) beside a flood
/// from one address; see `Mode::Flood`.
async fn flood_run(
    url: &str,
    visitors: usize,
    messages: usize,
    pace: Duration,
    flood: usize,
    deadline: Duration,
) -> anyhow::Result<()> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let stop = Arc::new(AtomicBool::new(false));
    let (acked, limited, other) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let mut flooders = Vec::new();
    for f in 0..flood {
        let (url, stop, acked, limited, other) = (
            url.to_string(),
            stop.clone(),
            acked.clone(),
            limited.clone(),
            other.clone(),
        );
        flooders.push(tokio::spawn(async move {
            // The whole flood comes from one address, each socket a chat of its own.
            let Ok(mut v) = Visitor::connect_from(&url, "203.0.113.66").await else {
                return;
            };
            if v.open_frame(None).await.map(|f| f["type"] != "opened").unwrap_or(true) {
                limited.fetch_add(1, Ordering::Relaxed);
                return;
            }
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // Send without waiting; read what came back meanwhile.
                if v.send_json(&json!({"type": "message", "client_id": format!("f{f}-{n}"), "text": "spam spam spam"}))
                    .await
                    .is_err()
                {
                    return;
                }
                n += 1;
                while let Ok(Ok(frame)) = tokio::time::timeout(Duration::from_millis(1), v.next()).await {
                    let counter = match (frame["type"].as_str(), frame["code"].as_str()) {
                        (Some("ack"), _) => &acked,
                        (Some("error"), Some("rate_limited")) => &limited,
                        _ => &other,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(visitors);
    for c in 0..visitors {
        let url = url.to_string();
        tasks.push(tokio::spawn(async move {
            let address = format!("198.51.100.{}", c % 250 + 1);
            let mut v = Visitor::connect_from(&url, &address).await?;
            let opened = v.open_frame(None).await?;
            if opened["type"] != "opened" {
                bail!("visitor {c} refused: {opened}");
            }
            let mut latencies = Vec::with_capacity(messages);
            for m in 0..messages {
                let sent = Instant::now();
                let ack = v.message(&format!("n{c}-{m}"), TEXTS[(c + m) % TEXTS.len()]).await?;
                if ack["type"] != "ack" {
                    bail!("visitor {c} got {ack}");
                }
                latencies.push(sent.elapsed());
                tokio::time::sleep(pace).await;
            }
            v.close().await;
            anyhow::Ok(latencies)
        }));
    }
    let latencies = gather(tasks, started, deadline).await;
    stop.store(true, Ordering::Relaxed);
    for f in flooders {
        let _ = f.await;
    }
    let latencies = latencies?;
    println!(
        "visitors={visitors} messages_each={messages} pace_ms={} flood_sockets={flood}",
        pace.as_millis()
    );
    report("normal_acks", latencies.len(), started.elapsed(), latencies);
    if flood > 0 {
        println!(
            "flood: {} acknowledged, {} rate_limited, {} other frames",
            acked.load(Ordering::Relaxed),
            limited.load(Ordering::Relaxed),
            other.load(Ordering::Relaxed)
        );
    }
    Ok(())
}

/// The gateway's HTTP base for its chat websocket URL.
fn http_base(ws_url: &str) -> anyhow::Result<String> {
    let rest = ws_url.strip_prefix("ws://").context("a ws:// URL on this machine")?;
    let host = rest.split('/').next().unwrap_or(rest);
    Ok(format!("http://{host}"))
}

/// Refuses a gateway that is not on this machine.
fn require_loopback(url: &str) -> anyhow::Result<()> {
    if !loopback(url) {
        bail!("sy-loadgen only targets a gateway on this machine (loopback)");
    }
    Ok(())
}

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
            agent,
            agent_password,
            replies,
        } => {
            require_loopback(&url)?;
            let agent = match agent {
                Some(name) => Some(std::sync::Arc::new(
                    e2e::AgentClient::login(&http_base(&url)?, &name, &agent_password).await?,
                )),
                None => None,
            };
            // Every `every`-th message of a visitor is followed by an agent's reply.
            let every = messages.div_ceil(replies.max(1)).max(1);
            let started = Instant::now();
            let mut tasks = Vec::with_capacity(connections);
            for c in 0..connections {
                let (url, agent) = (url.clone(), agent.clone());
                tasks.push(tokio::spawn(async move {
                    let (mut visitor, _) = Visitor::open(&url, None).await?;
                    let mut acks = Vec::with_capacity(messages);
                    let mut deliveries = Vec::new();
                    for m in 0..messages {
                        let sent = Instant::now();
                        let ack = visitor
                            .message(&format!("{c}-{m}"), TEXTS[(c + m) % TEXTS.len()])
                            .await?;
                        acks.push(sent.elapsed());
                        if let Some(agent) = agent.as_ref().filter(|_| m % every == 0) {
                            let conversation = e2e::ticket_id(&ack["conversation"]);
                            let text = format!("reply {c}-{m}");
                            let posted = Instant::now();
                            let (status, body) = agent
                                .post(
                                    &format!("/api/v1/conversations/{conversation}/reply"),
                                    json!({"text": text}),
                                )
                                .await?;
                            if status != 200 {
                                bail!("reply refused: {status} {body}");
                            }
                            visitor
                                .expect_message(|f| f["author"] == "agent" && f["text"] == text.as_str())
                                .await?;
                            deliveries.push(posted.elapsed());
                        }
                    }
                    visitor.close().await;
                    anyhow::Ok((acks, deliveries))
                }));
            }
            let mut acks = Vec::new();
            let mut deliveries = Vec::new();
            for t in tasks {
                let remaining = deadline.saturating_sub(started.elapsed());
                let (a, d) = tokio::time::timeout(remaining, t)
                    .await
                    .context("load run timed out")???;
                acks.extend(a);
                deliveries.extend(d);
            }
            let elapsed = started.elapsed();
            println!("connections={connections} messages_per_connection={messages}");
            report("accepted_messages", acks.len(), elapsed, acks);
            // A chat message is acknowledged after its commit: stored, threaded and triaged.
            println!(
                "processed: every acknowledged message was stored and triaged when acknowledged ({} messages)",
                connections * messages
            );
            if agent.is_some() {
                println!("agent replies delivered to their visitor (from the reply's POST to its frame):");
                report("agent_replies", deliveries.len(), elapsed, deliveries);
            }
        }
        Mode::Flood {
            url,
            visitors,
            messages,
            pace_ms,
            flood,
        } => {
            require_loopback(&url)?;
            flood_run(
                &url,
                visitors,
                messages,
                Duration::from_millis(pace_ms),
                flood,
                deadline,
            )
            .await?;
        }
        Mode::Hold {
            url,
            sockets,
            pid,
            parallel,
        } => {
            require_loopback(&url)?;
            hold(&url, sockets, pid, parallel.max(1), deadline).await?;
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
            require_loopback(&url)?;
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
        Mode::Translate { set, replies } => {
            let messages = e2e::translate_bench::load(set.as_deref())?;
            let f = e2e::translate_bench::run(&messages, replies).await?;
            let (customer, agent) = (f.customer.len(), f.replies.len());
            let total = f.customer.iter().chain(&f.replies).sum();
            println!("customer messages into French ({customer}):");
            report("texts", customer, f.customer.iter().sum(), f.customer);
            println!("agent replies into the customer's language ({agent}):");
            report("texts", agent, f.replies.iter().sum(), f.replies);
            let all = f.cache_hits + f.sent;
            println!(
                "cache: {} of {all} texts answered from the cache ({:.1} %), {} sent to the provider; {:.2}s in all",
                f.cache_hits,
                100.0 * f.cache_hits as f64 / all.max(1) as f64,
                f.sent,
                Duration::as_secs_f64(&total)
            );
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
