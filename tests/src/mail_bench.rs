//! The email measurements of `sy-loadgen email`: real Dovecot, real SMTP sink,
//! the real gateway binary as a child process.
//! - pickup latency: IMAP APPEND → the conversation-created event (sent after
//!   the commit that stores the verdict), one mail at a time;
//! - backlog: mails appended while the gateway is down, then the time from its
//!   start until every one of them is committed.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::mail::{Dovecot, SmtpSink};
use crate::{ADMIN_PASSWORD, ChildServer};

pub struct Report {
    pub latencies: Vec<Duration>,
    pub backlog: usize,
    /// From the gateway process start to the last backlog mail committed.
    pub backlog_elapsed: Duration,
}

fn mail(run: &str, n: usize) -> String {
    format!(
        "From: Client {n} <client{n}@plant.test>\r\nTo: sav@maker.test\r\nSubject: Bench {run} {n}\r\n\
         Date: Mon, 23 Nov 2026 08:00:00 +0100\r\nMessage-ID: <bench-{run}-{n}@plant.test>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Bonjour, la ligne {n} est arrêtée, code E{n}. Merci de rappeler.\r\n\r\n\
         Le lun. 23 nov. 2026 à 08:00, SAV <sav@maker.test> a écrit :\r\n> Bonjour\r\n"
    )
}

/// The agent events socket, logged in as admin.
async fn events(
    base: &str,
) -> anyhow::Result<tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>> {
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await?;
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .collect::<Vec<_>>()
        .join("; ");
    if cookie.is_empty() {
        bail!("login gave no session cookie");
    }
    let mut request = format!("{}/api/v1/events", base.replace("http://", "ws://")).into_client_request()?;
    request.headers_mut().insert("cookie", cookie.parse()?);
    let (ws, _) = tokio_tungstenite::connect_async(request).await?;
    Ok(ws)
}

async fn ingested(base: &str) -> anyhow::Result<u64> {
    let (_, v) = crate::readiness(base).await?;
    Ok(v["mailboxes"]["sav"]["ingested"].as_u64().unwrap_or(0))
}

/// `gap`: pause between mails, so each one arrives while the reader sits in IDLE
/// (without it, the next mail is often found by the reader's own catch-up fetch).
pub async fn run(
    binary: &str,
    mails: usize,
    backlog: usize,
    batch: usize,
    gap: Duration,
    deadline: Duration,
) -> anyhow::Result<Report> {
    let dovecot = Dovecot::start().await?;
    let sink = SmtpSink::start().await?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let config = crate::mail::write_gateway_config(dir.path(), &dovecot, &sink, &format!("batch = {batch}"))?;
    let run = format!("{:x}", std::process::id());
    let mut server = ChildServer::start_with_config(binary, &data, &config).await?;
    let mut imap = dovecot.client().await?;
    let mut ws = events(&server.base()).await?;
    let started = Instant::now();

    let mut latencies = Vec::with_capacity(mails);
    for n in 0..mails {
        tokio::time::sleep(gap).await;
        let sent = Instant::now();
        imap.append("INBOX", None, None, mail(&run, n).as_bytes()).await?;
        loop {
            let remaining = deadline.saturating_sub(started.elapsed());
            let frame = tokio::time::timeout(remaining, ws.next())
                .await
                .context("no conversation event before the deadline")?
                .context("events socket closed")??;
            let Ok(text) = frame.to_text() else { continue };
            let event: Value = serde_json::from_str(text).unwrap_or_default();
            if event["type"] == "conversation_created" {
                latencies.push(sent.elapsed());
                break;
            }
        }
    }

    server.kill();
    for n in 0..backlog {
        imap.append("INBOX", None, None, mail(&run, mails + n).as_bytes())
            .await?;
    }
    let begin = Instant::now();
    let server = ChildServer::start_with_config(binary, &data, &config).await?;
    loop {
        if ingested(&server.base()).await? as usize >= backlog {
            break;
        }
        if started.elapsed() > deadline {
            bail!("the backlog was not ingested before the deadline");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let backlog_elapsed = begin.elapsed();
    let _ = imap.logout().await;
    drop(server);
    Ok(Report {
        latencies,
        backlog,
        backlog_elapsed,
    })
}
