//! Load generator: N concurrent widget sockets, each sending M messages and
//! waiting for each ack (closed loop). Reports accepted messages per second and
//! ack latency percentiles. Bounded in count and time; talks to one URL only.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use e2e::Visitor;

#[derive(Parser)]
#[command(about = "Measure web-chat message acceptance against a running gateway")]
struct Args {
    /// Websocket URL of the gateway's chat endpoint.
    #[arg(long, default_value = "ws://127.0.0.1:8080/ws/chat")]
    url: String,
    /// Concurrent visitor sockets.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Messages per socket.
    #[arg(long, default_value_t = 200)]
    messages: usize,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout_secs: u64,
}

const TEXTS: &[&str] = &[
    "Bonjour, la ligne 2 est arrêtée depuis ce matin, code E17, merci de rappeler",
    "Hello, we see reduced rate on the packaging line since the last maintenance",
    "Où trouver la notice de la presse P200 ? Merci",
    "Line 3 is down, error 117 on the spindle drive, please call back +33 6 12 34 56 78",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !args.url.starts_with("ws://127.")
        && !args.url.starts_with("ws://localhost")
        && !args.url.starts_with("ws://[::1]")
    {
        bail!("sy-loadgen only targets a gateway on this machine (loopback)");
    }
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(args.connections);
    for c in 0..args.connections {
        let url = args.url.clone();
        let messages = args.messages;
        tasks.push(tokio::spawn(async move {
            let (mut visitor, _) = Visitor::open(&url, None).await?;
            let mut latencies = Vec::with_capacity(messages);
            for m in 0..messages {
                let text = TEXTS[(c + m) % TEXTS.len()];
                let sent = Instant::now();
                visitor.message(&format!("{c}-{m}"), text).await?;
                latencies.push(sent.elapsed());
            }
            visitor.close().await;
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::with_capacity(args.connections * args.messages);
    let deadline = Duration::from_secs(args.timeout_secs);
    for t in tasks {
        let remaining = deadline.saturating_sub(started.elapsed());
        let result = tokio::time::timeout(remaining, t).await.context("load run timed out")?;
        latencies.extend(result??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(i).copied().unwrap_or_default()
    };
    let total = latencies.len();
    println!(
        "connections={} messages_per_connection={} accepted={total}",
        args.connections, args.messages
    );
    println!(
        "elapsed={:.2}s rate={:.0} msg/s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    println!(
        "ack latency p50={:.2}ms p95={:.2}ms p99={:.2}ms max={:.2}ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.95).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        pct(1.0).as_secs_f64() * 1e3
    );
    Ok(())
}
