//! WhatsApp as Meta sends it: the gateway's WhatsApp configuration for
//! tests, signed notifications, and posting them until they are processed.

use std::time::Duration;

use gateway::config::{Config, Secret, WhatsappNumber, WhatsappTemplate};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::graph_stub::{GraphStub, TOKEN};
use crate::{ADMIN_PASSWORD, AgentClient, TestApp, spawn_app_with, test_config};

pub const PNID: &str = "106540352242922";
pub const SECRET: &str = "app-secret-for-tests";
pub const CUSTOMER: &str = "33612345678";

pub fn wa_config(dir: &std::path::Path, stub: &GraphStub) -> Config {
    let mut config = test_config(dir);
    let wa = &mut config.whatsapp;
    wa.enabled = true;
    wa.verify_token = Secret::new("verify-me");
    wa.app_secret = Secret::new(SECRET);
    wa.access_token = Secret::new(TOKEN);
    wa.graph_url = stub.url();
    wa.media_retry_base_ms = 50;
    wa.numbers = vec![WhatsappNumber {
        phone_number_id: PNID.into(),
        name: "SAV".into(),
        language: "fr".into(),
    }];
    wa.templates = vec![
        WhatsappTemplate {
            name: "sav_followup".into(),
            language: "fr".into(),
            parameters: 1,
            description: "Bonjour {{1}}, nous revenons vers vous.".into(),
            category: "utility".into(),
        },
        WhatsappTemplate {
            name: "maintenance_offer".into(),
            language: "fr".into(),
            parameters: 0,
            description: "Profitez de notre offre de maintenance préventive.".into(),
            category: "marketing".into(),
        },
    ];
    config.outbox.retry_base_secs = 1;
    config
}

pub fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap_or_else(|_| panic!("any key"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub fn notification(messages: Vec<Value>, statuses: Vec<Value>) -> Vec<u8> {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "33186950001", "phone_number_id": PNID},
        "contacts": [{"profile": {"name": "Jean-Luc Martin"}, "wa_id": CUSTOMER}],
        "messages": messages, "statuses": statuses}}]}]})
    .to_string()
    .into_bytes()
}

pub fn msg(id: &str, kind: &str, payload: Value) -> Value {
    let mut m = json!({"from": CUSTOMER, "id": id, "timestamp": now_secs().to_string(), "type": kind});
    m[kind] = payload;
    m
}

pub async fn post(base: &str, body: &[u8], signature: Option<String>) -> anyhow::Result<u16> {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(sig) = signature {
        request = request.header("x-hub-signature-256", sig);
    }
    let status = request.send().await?.status().as_u16();
    if status == 200 {
        settled(base).await?;
    }
    Ok(status)
}

/// Waits until every accepted notification is processed (the journal is empty).
pub async fn settled(base: &str) -> anyhow::Result<()> {
    for _ in 0..400 {
        let (_, ready) = crate::readiness(base).await?;
        if ready["whatsapp_backlog"] == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    anyhow::bail!("accepted notifications were not processed within 10 s")
}

pub async fn signed(base: &str, body: &[u8]) -> anyhow::Result<u16> {
    post(base, body, Some(sign(body))).await
}

/// The customer sends one text message (signed, processed before this returns).
pub async fn customer_writes(base: &str, wamid: &str, text: &str) -> anyhow::Result<u16> {
    signed(
        base,
        &notification(vec![msg(wamid, "text", json!({ "body": text }))], vec![]),
    )
    .await
}

/// A gateway with WhatsApp on (against `stub`), an admin logged in, and the data directory to keep.
pub async fn start() -> anyhow::Result<(TestApp, GraphStub, AgentClient, tempfile::TempDir)> {
    start_with(|_| {}).await
}

/// The same, with the configuration changed by `adjust` first.
pub async fn start_with(
    adjust: impl FnOnce(&mut Config),
) -> anyhow::Result<(TestApp, GraphStub, AgentClient, tempfile::TempDir)> {
    let stub = GraphStub::start().await?;
    let dir = tempfile::tempdir()?;
    let mut config = wa_config(dir.path(), &stub);
    adjust(&mut config);
    let app = spawn_app_with(config, gateway::clock::Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    Ok((app, stub, agent, dir))
}

/// The first WhatsApp conversation, as `GET /conversations/{id}` shows it.
pub async fn whatsapp_conversation(agent: &AgentClient) -> anyhow::Result<Value> {
    let list = agent.ok("/api/v1/conversations?limit=100").await?;
    let id = list["conversations"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["channel"] == "whatsapp"))
        .map(|c| c["id"].clone())
        .ok_or_else(|| anyhow::anyhow!("no WhatsApp conversation: {list}"))?;
    agent.ok(&format!("/api/v1/conversations/{id}")).await
}

/// The same gateway on a fresh PostgreSQL database (dropped by the caller).
pub async fn start_on_postgres() -> anyhow::Result<(
    TestApp,
    GraphStub,
    AgentClient,
    tempfile::TempDir,
    crate::postgres::TestDatabase,
)> {
    let db = crate::postgres::TestDatabase::create().await?;
    let stub = GraphStub::start().await?;
    let dir = tempfile::tempdir()?;
    let mut config = wa_config(dir.path(), &stub);
    config.store.url = Secret::new(db.url.clone());
    let app = spawn_app_with(config, gateway::clock::Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    Ok((app, stub, agent, dir, db))
}
