//! Critical escalation end to end on an injected clock: a WhatsApp message
//! stops a line at 03:00 on a Saturday → critical conversation, a callback task
//! with the sender's number, a video room whose link reaches the customer on
//! WhatsApp, the on-call webhook (a local HTTP server) notified because it is
//! out of hours; the agent records the call's outcome. The same during
//! business hours notifies nobody. An agent escalates an important one in one action.

use std::time::Duration;

use chrono::TimeZone;
use e2e::graph_stub::{GraphStub, TOKEN};
use e2e::{ADMIN_PASSWORD, AgentClient, spawn_app_with, test_config};
use gateway::clock::Clock;
use gateway::config::{Config, Secret, WhatsappNumber};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

const PNID: &str = "106540352242922";
const SECRET: &str = "app-secret-for-tests";

fn paris(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
    chrono_tz::Europe::Paris
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .map(|t| t.timestamp_millis())
        .unwrap_or_default()
}

/// A local on-call endpoint that records what it is sent.
async fn on_call_server() -> anyhow::Result<(String, e2e::webhook::WebhookReceiver)> {
    let receiver = e2e::webhook::WebhookReceiver::start().await?;
    Ok((receiver.url.clone(), receiver))
}

fn config(dir: &std::path::Path, stub: &GraphStub, on_call: &str) -> Config {
    let mut c = test_config(dir);
    c.whatsapp.enabled = true;
    c.whatsapp.verify_token = Secret::new("verify-me");
    c.whatsapp.app_secret = Secret::new(SECRET);
    c.whatsapp.access_token = Secret::new(TOKEN);
    c.whatsapp.graph_url = stub.url();
    c.whatsapp.numbers = vec![WhatsappNumber {
        phone_number_id: PNID.into(),
        name: "SAV".into(),
        language: "fr".into(),
    }];
    c.escalation.on_call_webhook = on_call.into();
    c.escalation.visio_url_template = "https://visio.maker.test/room/{room}".into();
    c.outbox.retry_base_secs = 1;
    c
}

async fn send_whatsapp(base: &str, from: &str, id: &str, at_ms: i64, text: &str) -> anyhow::Result<()> {
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "33186950001", "phone_number_id": PNID},
        "contacts": [{"profile": {"name": "Technicien"}, "wa_id": from}],
        "messages": [{"from": from, "id": id, "timestamp": (at_ms / 1000).to_string(), "type": "text", "text": {"body": text}}]}}]}]})
    .to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes())?;
    mac.update(body.as_bytes());
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let status = reqwest::Client::new()
        .post(format!("{base}/webhooks/whatsapp"))
        .header("x-hub-signature-256", signature)
        .body(body)
        .send()
        .await?
        .status();
    anyhow::ensure!(status == 200, "webhook answered {status}");
    Ok(())
}

async fn conversation_from(agent: &AgentClient, customer: &str) -> anyhow::Result<Value> {
    for _ in 0..200 {
        let list = agent.ok("/api/v1/conversations").await?;
        if let Some(id) = list["conversations"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["customer_address"] == customer))
            .map(|c| c["id"].clone())
        {
            return agent.ok(&format!("/api/v1/conversations/{id}")).await;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    anyhow::bail!("no conversation from {customer}")
}

async fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> anyhow::Result<T> {
    for _ in 0..200 {
        if let Some(v) = f() {
            return Ok(v);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    anyhow::bail!("never happened: {what}")
}

#[tokio::test]
async fn a_critical_whatsapp_message_out_of_hours_escalates_end_to_end() -> anyhow::Result<()> {
    let stub = GraphStub::start().await?;
    let (on_call, calls) = on_call_server().await?;
    let dir = tempfile::tempdir()?;
    // Saturday 28 November 2026, 03:00 in Paris: outside the office calendar.
    let clock = Clock::manual(paris(2026, 11, 28, 3, 0));
    let app = spawn_app_with(config(dir.path(), &stub, &on_call), clock.clone()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;

    send_whatsapp(
        &app.base(),
        "33612345678",
        "wamid.crit.1",
        clock.now_ms(),
        "Ligne 2 arrêtée, code E17 sur la presse, production stoppée",
    )
    .await?;
    let c = conversation_from(&agent, "33612345678").await?;
    assert_eq!(c["conversation"]["priority"], "critical", "{c}");
    let escalations = c["escalations"].as_array().cloned().unwrap_or_default();
    let callback = escalations
        .iter()
        .find(|e| e["kind"] == "callback")
        .cloned()
        .unwrap_or_default();
    let visio = escalations
        .iter()
        .find(|e| e["kind"] == "visio")
        .cloned()
        .unwrap_or_default();
    assert_eq!(callback["phone"], "+33612345678", "{c}");
    assert_eq!(callback["status"], "open");
    let room = visio["room_url"].as_str().unwrap_or_default().to_string();
    let name = room.trim_start_matches("https://visio.maker.test/room/");
    assert_eq!(name.len(), 32, "128-bit room name: {room}");
    assert!(name.chars().all(|ch| ch.is_ascii_hexdigit()));

    // The room link reaches the customer on WhatsApp.
    let sent = eventually("the room link sent on WhatsApp", || {
        stub.sends()
            .into_iter()
            .find(|s| s["text"]["body"].as_str().is_some_and(|b| b.contains(&room)))
    })
    .await?;
    assert_eq!(sent["to"], "33612345678");
    // Out of hours: the on-call webhook got the summary.
    let call = eventually("the on-call webhook", || calls.received().first().cloned()).await?;
    assert_eq!(call["event"], "critical_out_of_hours");
    assert_eq!(call["callback_number"], "+33612345678");
    assert_eq!(call["fault_codes"], json!(["E17"]));

    // The callback is at the top of the inbox; the agent calls and records the outcome.
    let open = agent.ok("/api/v1/escalations").await?;
    assert_eq!(open["escalations"][0]["kind"], "callback");
    let callback_id = open["escalations"][0]["id"].as_i64().unwrap_or_default();
    let (status, body) = agent
        .post(
            &format!("/api/v1/escalations/{callback_id}/outcome"),
            json!({"outcome": "no_answer"}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["escalation"]["status"], "open", "no answer: try again");
    let (status, body) = agent
        .post(
            &format!("/api/v1/escalations/{callback_id}/outcome"),
            json!({"outcome": "reached", "notes": "Capteur de sécurité porte 3 shunté, ligne repartie 03:40"}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["escalation"]["status"], "done");
    let id = c["conversation"]["id"].clone();
    let c = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    let callback = c["escalations"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["kind"] == "callback").cloned())
        .unwrap_or_default();
    assert_eq!(callback["outcome"], "reached");
    assert_eq!(
        callback["notes"],
        "Capteur de sécurité porte 3 shunté, ligne repartie 03:40"
    );
    // The conversation is the record: the on-call notice is in it.
    assert!(c["messages"].as_array().is_some_and(|m| {
        m.iter()
            .any(|m| m["direction"] == "note" && m["delivery_status"] == "delivered")
    }));
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({"conversation": c["conversation"], "escalations": c["escalations"]}))?
    );

    // Monday 10:00, in business hours: a second critical line stop notifies no one on call.
    clock.advance(paris(2026, 11, 30, 10, 0) - clock.now_ms());
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    send_whatsapp(
        &app.base(),
        "33698765432",
        "wamid.crit.2",
        clock.now_ms(),
        "Ligne 4 arrêtée, production stoppée",
    )
    .await?;
    let c2 = conversation_from(&agent, "33698765432").await?;
    assert_eq!(c2["conversation"]["priority"], "critical");
    // The on-call notice would be a note committed with the message: there is none.
    let notices = c2["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|m| m["body"].as_str().is_some_and(|b| b.starts_with("On-call:")))
                .count()
        })
        .unwrap_or_default();
    assert_eq!(notices, 0, "in hours: no on-call notice: {c2}");
    // And by the time this conversation's room link went out, no second call either.
    let room2 = c2["escalations"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["kind"] == "visio"))
        .and_then(|e| e["room_url"].as_str())
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no video room for the second line stop: {c2}"))?;
    eventually("the second room link sent", || {
        stub.sends()
            .into_iter()
            .find(|s| s["text"]["body"].as_str().is_some_and(|b| b.contains(&room2)))
    })
    .await?;
    assert_eq!(calls.received().len(), 1, "in hours: no on-call");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_agent_escalates_an_important_conversation_in_one_action() -> anyhow::Result<()> {
    let stub = GraphStub::start().await?;
    let dir = tempfile::tempdir()?;
    let clock = Clock::manual(paris(2026, 11, 30, 10, 0));
    let app = spawn_app_with(config(dir.path(), &stub, ""), clock.clone()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    send_whatsapp(
        &app.base(),
        "33611112222",
        "wamid.imp.1",
        clock.now_ms(),
        "Nous constatons beaucoup de rebuts sur la presse P200 depuis le changement d'outil.",
    )
    .await?;
    let c = conversation_from(&agent, "33611112222").await?;
    assert_eq!(c["conversation"]["priority"], "important");
    assert_eq!(c["escalations"], json!([]));
    let id = c["conversation"]["id"].clone();
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/escalate"),
            json!({"kind": "video"}),
        )
        .await?;
    assert_eq!(status, 400, "{body}");
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/escalate"),
            json!({"kind": "callback+visio", "slot": "demain 8h"}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let escalations = body["escalations"].as_array().cloned().unwrap_or_default();
    assert_eq!(escalations.len(), 2);
    let callback = escalations
        .iter()
        .find(|e| e["kind"] == "callback")
        .cloned()
        .unwrap_or_default();
    assert_eq!(callback["phone"], "+33611112222");
    assert_eq!(callback["preferred_slot"], "demain 8h");
    let room = escalations
        .iter()
        .find(|e| e["kind"] == "visio")
        .and_then(|e| e["room_url"].as_str().map(str::to_string))
        .filter(|r| !r.is_empty())
        .ok_or_else(|| anyhow::anyhow!("no video room opened: {body}"))?;
    eventually("the room link on WhatsApp", || {
        stub.sends()
            .into_iter()
            .find(|s| s["text"]["body"].as_str().is_some_and(|b| b.contains(&room)))
    })
    .await?;
    // Asking again opens nothing twice.
    let (_, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/escalate"),
            json!({"kind": "callback"}),
        )
        .await?;
    assert_eq!(body["opened"], json!([]));
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_follow_up_without_answer_escalates_but_a_burst_does_not() -> anyhow::Result<()> {
    let stub = GraphStub::start().await?;
    let dir = tempfile::tempdir()?;
    let clock = Clock::manual(paris(2026, 11, 30, 10, 0));
    let app = spawn_app_with(config(dir.path(), &stub, ""), clock.clone()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let who = "33633334444";
    send_whatsapp(
        &app.base(),
        who,
        "wamid.q.1",
        clock.now_ms(),
        "Où trouver la notice de la presse P200 ?",
    )
    .await?;
    // The same question in two pieces a minute apart is not a follow-up.
    clock.advance(60_000);
    send_whatsapp(
        &app.base(),
        who,
        "wamid.q.2",
        clock.now_ms(),
        "C'est pour le réglage du capteur.",
    )
    .await?;
    let c = conversation_from(&agent, who).await?;
    let id = c["conversation"]["id"].clone();
    // Both pieces stored and triaged (a verdict each), or the test fails here.
    let c = agent
        .wait_json(
            &format!("/api/v1/conversations/{id}"),
            "the second piece triaged",
            |v| {
                v["messages"]
                    .as_array()
                    .is_some_and(|m| m.iter().filter(|m| m["direction"] == "in").count() == 2)
                    && v["verdicts"].as_array().is_some_and(|v| v.len() == 2)
            },
        )
        .await?;
    let second = c["verdicts"][1]["rules"].to_string();
    assert!(!second.contains("follow_up_without_answer"), "{second}");
    assert_eq!(c["conversation"]["priority"], "faq", "{}", c["conversation"]);
    assert_eq!(c["escalations"], json!([]));

    // 40 minutes without an answer, the customer asks again: important, and a callback.
    clock.advance(40 * 60_000);
    send_whatsapp(&app.base(), who, "wamid.q.3", clock.now_ms(), "Des nouvelles ?").await?;
    let mut c = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    for _ in 0..400 {
        // (The view's parts are read one after the other: wait for all of them.)
        if c["escalations"].as_array().is_some_and(|e| !e.is_empty()) && c["conversation"]["priority"] == "important" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        c = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    }
    assert_eq!(c["conversation"]["priority"], "important", "{}", c["conversation"]);
    assert_eq!(c["escalations"][0]["kind"], "callback");
    assert_eq!(c["escalations"][0]["phone"], format!("+{who}"));
    let last = c["verdicts"]
        .as_array()
        .and_then(|v| v.last().cloned())
        .unwrap_or_default();
    assert_eq!(last["rules"][0]["rule"], "follow_up_without_answer", "{last}");
    app.stop().await;
    Ok(())
}
