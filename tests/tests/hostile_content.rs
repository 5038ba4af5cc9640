//! Hostile content in the inbox: every payload of
//! `tests/fixtures/hostile/payloads.json` (script tags, event handlers,
//! `javascript:`/`data:` URLs, SVG with script, CSS expressions, bidi
//! overrides, homoglyphs, `../` and control characters, header injection…)
//! arrives through email (HTML body, subject, sender name, attachment name),
//! chat (text, pre-chat name and company, upload name) and WhatsApp (profile
//! name, text). `tests/browser/hostile.test.mjs` then opens every resulting
//! conversation in Chromium with a trap for script execution, dialogs,
//! navigation and requests to `trap.invalid`, and checks each text is shown as
//! text. SVG and HTML uploads must be downloads, never shown in place, and a
//! reply under a subject carrying CR LF must not gain headers.

use std::path::Path;

use anyhow::{Context, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use e2e::browser::{artifacts_dir, check_prerequisites, run_flows};
use e2e::graph_stub::GraphStub;
use e2e::mail::{Dovecot, SAV, SmtpSink, email_config};
use e2e::{AgentClient, Visitor, spawn_app_with, wa};
use gateway::clock::Clock;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
struct Payload {
    id: String,
    kind: String,
    text: String,
}

fn payloads() -> anyhow::Result<Vec<Payload>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hostile/payloads.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let payloads: Vec<Payload> = serde_json::from_str(&text).context("payloads.json")?;
    ensure!(payloads.len() >= 30, "{} payloads", payloads.len());
    Ok(payloads)
}

/// RFC 2047: any text, CR LF included, in a header.
fn encoded_word(text: &str) -> String {
    format!("=?utf-8?b?{}?=", B64.encode(text))
}

/// RFC 2231: any text as a file name.
fn encoded_param(text: &str) -> String {
    let mut out = String::from("utf-8''");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn wrapped_base64(bytes: &[u8]) -> String {
    let encoded = B64.encode(bytes);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    lines.join("\r\n")
}

/// The payload as a customer's HTML mail: in the body, the subject (after the
/// marker), the sender's name and an attachment's name.
fn hostile_mail(p: &Payload) -> String {
    let html = format!("<html><body><p>{} mail</p>{}<p>fin</p></body></html>", p.id, p.text);
    let plain = format!("{} mail\r\n{}\r\n", p.id, p.text);
    format!(
        "From: {name} <hostile-{id}@attacker.test>\r\nTo: SAV Maker <{SAV}>\r\n\
         Subject: {id} {subject}\r\nDate: Mon, 23 Nov 2026 09:00:00 +0100\r\n\
         Message-ID: <hostile-{id}@attacker.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n\
         --m\r\nContent-Type: multipart/alternative; boundary=\"a\"\r\n\r\n\
         --a\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{plain}\r\n\
         --a\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{html}\r\n--a--\r\n\
         --m\r\nContent-Type: application/octet-stream; name*={file}\r\n\
         Content-Disposition: attachment; filename*={file}\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         {body}\r\n--m--\r\n",
        id = p.id,
        name = encoded_word(&p.text),
        subject = encoded_word(&p.text),
        plain = wrapped_base64(plain.as_bytes()),
        html = wrapped_base64(html.as_bytes()),
        file = encoded_param(&p.text),
        body = wrapped_base64(b"not a program"),
    )
}

/// The first bytes of a PNG: enough for an upload's type.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\nnot-really-an-image";

const SVG_WITH_SCRIPT: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"__pwn('SVG')\">\
     <script>__pwn('SVG')</script><rect width=\"10\" height=\"10\"/></svg>";
const HTML_WITH_SCRIPT: &str = "<html><body><script>__pwn('HTML')</script>page</body></html>";

/// SVG and HTML attachments with script, and an oversized, deeply nested HTML body.
fn attachments_and_nesting_mail() -> String {
    let nested = format!(
        "{}deep{}{}",
        "<div>".repeat(5_000),
        "</div>".repeat(5_000),
        "<p>long line of text</p>".repeat(20_000)
    );
    format!(
        "From: Files <files@attacker.test>\r\nTo: {SAV}\r\nSubject: FILES svg html nesting\r\n\
         Date: Mon, 23 Nov 2026 09:00:00 +0100\r\nMessage-ID: <hostile-files@attacker.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n\
         --m\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{nested}\r\n\
         --m\r\nContent-Type: image/svg+xml; name=\"schema.svg\"\r\nContent-Disposition: inline; filename=\"schema.svg\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{svg}\r\n\
         --m\r\nContent-Type: text/html; name=\"page.html\"\r\nContent-Disposition: attachment; filename=\"page.html\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{page}\r\n--m--\r\n",
        nested = wrapped_base64(format!("<html><body>{nested}</body></html>").as_bytes()),
        svg = wrapped_base64(SVG_WITH_SCRIPT.as_bytes()),
        page = wrapped_base64(HTML_WITH_SCRIPT.as_bytes()),
    )
}

/// A WhatsApp customer per payload: the payload as profile name and text.
fn whatsapp_notification(i: usize, p: &Payload) -> (String, Vec<u8>) {
    let from = format!("3361000{i:04}");
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "33186950001", "phone_number_id": wa::PNID},
        "contacts": [{"profile": {"name": p.text}, "wa_id": from}],
        "messages": [{"from": from, "id": format!("wamid.hostile.{}", p.id), "timestamp": wa::now_secs().to_string(),
                      "type": "text", "text": {"body": format!("{} whatsapp {}", p.id, p.text)}}]}}]}]});
    (from, body.to_string().into_bytes())
}

/// What the browser must find shown as text in each conversation.
#[derive(serde::Serialize)]
struct Expect {
    conversation: i64,
    channel: &'static str,
    payload: String,
    texts: Vec<String>,
}

fn header_of(raw: &str, name: &str) -> bool {
    let head = raw.split("\r\n\r\n").next().unwrap_or_default();
    head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with(&format!("{}:", name.to_ascii_lowercase()))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_content_is_inert_and_shown_as_text_in_chromium() -> anyhow::Result<()> {
    check_prerequisites()?;
    let payloads = payloads()?;
    let dovecot = Dovecot::start().await?;
    let sink = SmtpSink::start().await?;
    let graph = GraphStub::start().await?;
    let dir = tempfile::tempdir()?;
    let mut config = email_config(dir.path(), &dovecot, &sink);
    config.whatsapp = wa::wa_config(dir.path(), &graph).whatsapp;
    let app = spawn_app_with(config, Clock::system()).await?;
    let admin = AgentClient::login(&app.base(), "admin", e2e::ADMIN_PASSWORD).await?;

    // Email: one mail per payload, then the attachments and nesting mail.
    for p in &payloads {
        dovecot.append("INBOX", hostile_mail(p).as_bytes()).await?;
    }
    dovecot
        .append("INBOX", attachments_and_nesting_mail().as_bytes())
        .await?;

    // Chat: one visitor per payload, in the pre-chat form, the text and an upload's name.
    let mut chats = Vec::new();
    for p in &payloads {
        let prechat: String = p.text.chars().take(200).collect();
        let (mut visitor, _) =
            Visitor::open_with(&app.ws_url(), None, json!({"name": prechat, "company": prechat})).await?;
        let upload = visitor.upload(&app.base(), &p.text, "image/png", PNG).await?;
        let text = format!("{} chat {}", p.id, p.text);
        visitor
            .send_json(&json!({"type": "message", "client_id": p.id, "text": text, "attachments": [upload]}))
            .await?;
        let ack = visitor.expect("ack").await?;
        chats.push((e2e::ticket_id(&ack["conversation"]), p, prechat, text));
        visitor.close().await;
    }
    // SVG and HTML uploads with script, from a visitor.
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    let svg = visitor
        .upload(&app.base(), "schema.svg", "image/svg+xml", SVG_WITH_SCRIPT.as_bytes())
        .await?;
    let page = visitor
        .upload(&app.base(), "page.html", "text/html", HTML_WITH_SCRIPT.as_bytes())
        .await?;
    visitor
        .send_json(&json!({"type": "message", "client_id": "files", "text": "FILES chat svg html", "attachments": [svg, page]}))
        .await?;
    let files_chat = e2e::ticket_id(&visitor.expect("ack").await?["conversation"]);
    visitor.close().await;

    // WhatsApp: a customer per payload.
    let mut whatsapp = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        let (from, body) = whatsapp_notification(i, p);
        ensure!(wa::signed(&app.base(), &body).await? == 200, "webhook {}", p.id);
        whatsapp.push((from, p));
    }

    // Every mail becomes a conversation (the mailbox reader is asynchronous).
    let mails = payloads.len() + 1;
    let list = admin
        .wait_json("/api/v1/conversations?limit=1000", "every hostile conversation", |l| {
            l["conversations"]
                .as_array()
                .is_some_and(|cs| cs.iter().filter(|c| c["channel"] == "email").count() >= mails)
        })
        .await?;
    let conversations = list["conversations"].as_array().context("conversations")?;
    let mut expect = Vec::new();
    for p in &payloads {
        let marker = format!("{} ", p.id);
        let c = conversations
            .iter()
            .find(|c| c["channel"] == "email" && c["subject"].as_str().is_some_and(|s| s.starts_with(&marker)))
            .with_context(|| format!("the email conversation of {} ({})", p.id, p.kind))?;
        expect.push(Expect {
            conversation: c["id"].as_i64().context("id")?,
            channel: "email",
            payload: p.id.clone(),
            texts: vec![format!("{} {}", p.id, p.text)],
        });
    }
    for (id, p, prechat, text) in &chats {
        expect.push(Expect {
            conversation: *id,
            channel: "webchat",
            payload: p.id.clone(),
            texts: vec![prechat.clone(), text.clone()],
        });
    }
    for (from, p) in &whatsapp {
        let c = conversations
            .iter()
            .find(|c| c["channel"] == "whatsapp" && c["customer_address"].as_str() == Some(from.as_str()))
            .with_context(|| format!("the WhatsApp conversation of {}", p.id))?;
        expect.push(Expect {
            conversation: c["id"].as_i64().context("id")?,
            channel: "whatsapp",
            payload: p.id.clone(),
            texts: vec![format!("{} whatsapp {}", p.id, p.text)],
        });
    }
    let files_mail = conversations
        .iter()
        .find(|c| c["subject"] == "FILES svg html nesting")
        .and_then(|c| c["id"].as_i64())
        .context("the attachments mail")?;
    for (conversation, channel) in [(files_mail, "email"), (files_chat, "webchat")] {
        expect.push(Expect {
            conversation,
            channel,
            payload: "FILES".into(),
            texts: vec![],
        });
    }

    // SVG and HTML, from a mail or an upload, are downloads, never shown in place.
    let mut checked_files = 0;
    for conversation in [files_mail, files_chat] {
        let view: Value = admin.ok(&format!("/api/v1/conversations/{conversation}")).await?;
        let attachments: Vec<i64> = view["attachments"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| {
                let t = a["content_type"].as_str().unwrap_or_default();
                t.contains("svg") || t.contains("html")
            })
            .filter_map(|a| a["id"].as_i64())
            .collect();
        ensure!(
            attachments.len() == 2,
            "conversation {conversation}: {attachments:?} in {}",
            view["attachments"]
        );
        for a in attachments {
            let d = admin
                .download(&format!("/api/v1/conversations/{conversation}/attachments/{a}"))
                .await?;
            ensure!(
                d.disposition.starts_with("attachment;"),
                "attachment {a} of {conversation} is served with {:?}",
                d.disposition
            );
            ensure!(d.security_policy.contains("sandbox"), "attachment {a}: no sandbox");
            checked_files += 1;
        }
    }
    ensure!(checked_files == 4, "{checked_files} files checked");

    // The browser: every conversation opened under the trap.
    let manifest = artifacts_dir().join("hostile-manifest.json");
    std::fs::create_dir_all(artifacts_dir())?;
    std::fs::write(&manifest, serde_json::to_vec(&expect)?)?;
    let payload_count = payloads.len().to_string();
    run_flows(
        "hostile.test.mjs",
        &app.base(),
        &[
            ("SY_HOSTILE_MANIFEST", manifest.to_str().context("manifest path")?),
            ("SY_HOSTILE_PAYLOADS", &payload_count),
        ],
    )
    .await?;

    // A reply under the subject carrying CR LF: one mail, no header gained.
    let injection = payloads
        .iter()
        .find(|p| p.text.contains("\r\n"))
        .context("a header-injection payload")?;
    let conversation = expect
        .iter()
        .find(|e| e.channel == "email" && e.payload == injection.id)
        .map(|e| e.conversation)
        .context("its conversation")?;
    let (status, body) = admin
        .post(
            &format!("/api/v1/conversations/{conversation}/reply"),
            json!({"text": "Réponse sous un sujet piégé."}),
        )
        .await?;
    ensure!(status == 200, "reply: {status} {body}");
    let reply = sink
        .wait_for("the reply under the injected subject", |r| {
            r.raw.contains("sujet pi") && r.rcpt_tos.iter().any(|t| t.contains(&injection.id.to_lowercase()))
        })
        .await?;
    ensure!(
        reply.rcpt_tos.iter().all(|t| !t.contains("victime")),
        "the injected Bcc received the reply: {:?}",
        reply.rcpt_tos
    );
    ensure!(
        !header_of(&reply.raw, "X-Injected") && !header_of(&reply.raw, "Bcc"),
        "the reply gained headers:\n{}",
        reply.raw.split("\r\n\r\n").next().unwrap_or_default()
    );
    app.stop().await;
    Ok(())
}
