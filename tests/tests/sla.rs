//! SLA timers on an injected clock: business hours across a weekend and a
//! holiday, a pause while waiting for the customer, breaches fired once (also
//! after a restart), and the state the API shows.

use channels::Inbound;
use e2e::{ADMIN_PASSWORD, AgentClient, spawn_app_with};
use gateway::clock::Clock;
use gateway::config::Config;
use gateway::ids::{AgentId, ConversationId};
use gateway::server::Gateway;
use gateway::store::conversations::AgentMessage;
use gateway::store::messages::Direction;
use serde_json::json;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

use e2e::paris;

fn config(dir: &std::path::Path) -> Config {
    e2e::office_sla_config(dir)
}

fn mail(id: &str, from: &str, text: &str) -> Inbound {
    e2e::inbound_email(id, from, &format!("Demande {id}"), text)
}

const IMPORTANT: &str = "Nous constatons beaucoup de rebuts sur la presse P200 depuis le changement d'outil.";

async fn due(gateway: &Gateway, id: ConversationId, kind: &str) -> anyhow::Result<(String, Option<i64>)> {
    let timers = gateway.state.store.sla_timers(id).await?;
    let t = timers
        .into_iter()
        .find(|t| t.kind == kind)
        .ok_or_else(|| anyhow::anyhow!("no {kind} timer"))?;
    Ok((t.state, t.due_at))
}

#[tokio::test]
async fn business_time_crosses_a_holiday_and_a_weekend_and_a_breach_fires_once() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // Thursday 24 December 2026, 16:30 in Paris; Friday 25 is a holiday.
    let clock = Clock::manual(paris(2026, 12, 24, 16, 30));
    let mut c = config(dir.path());
    c.sla.supervisor_webhook = "http://127.0.0.1:9/supervisor".into();
    let gateway = Gateway::start(c, clock.clone()).await?;
    let accepted = gateway
        .state
        .pipeline
        .submit(mail("a@x", "chef@usine.fr", IMPORTANT))
        .await?;
    assert_eq!(accepted.priority, triage::Priority::Important);
    let id = accepted.conversation_id;
    // Two business hours: 16:30–17:30 on Thursday, then Monday 28 from 08:00.
    assert_eq!(
        due(&gateway, id, "first_response").await?,
        ("running".into(), Some(paris(2026, 12, 28, 9, 0)))
    );

    let worker = gateway.sla_worker();
    clock.advance(paris(2026, 12, 28, 8, 59) - clock.now_ms());
    assert!(worker.fire_due().await?.is_empty(), "not due yet");
    clock.advance(2 * MINUTE);
    let fired = worker.fire_due().await?;
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].kind, "first_response");
    assert!(worker.fire_due().await?.is_empty(), "a breach fires once");
    assert_eq!(due(&gateway, id, "first_response").await?.0, "breached");
    // Recorded as a private note for the agents.
    let messages = gateway.state.store.messages(id, true).await?;
    let note = messages
        .iter()
        .find(|m| m.direction == "note" && m.body.contains("SLA breached: the first response"))
        .ok_or_else(|| anyhow::anyhow!("no breach note"))?;
    // The supervisor's webhook notice is queued in the outbox with it (retried until delivered).
    assert_eq!(note.delivery_status.as_deref(), Some("pending"));
    Ok(())
}

#[tokio::test]
async fn timers_pending_at_a_restart_fire_once_after_it() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = Clock::manual(paris(2026, 11, 30, 10, 0));
    let gateway = Gateway::start(config(dir.path()), clock.clone()).await?;
    let critical = gateway
        .state
        .pipeline
        .submit(mail(
            "c@x",
            "usine@client.fr",
            "Ligne 2 arrêtée, production stoppée, code E17",
        ))
        .await?;
    assert_eq!(critical.priority, triage::Priority::Critical);
    let store = gateway.state.store.clone();
    drop(gateway);
    store.close().await;

    // Down for an hour: the 15-minute first response fell due meanwhile.
    clock.advance(HOUR);
    let gateway = Gateway::start(config(dir.path()), clock.clone()).await?;
    let worker = gateway.sla_worker();
    let fired = worker.fire_due().await?;
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0].conversation, critical.conversation_id);
    assert!(worker.fire_due().await?.is_empty());
    // A restart finds nothing left to fire: what fired is recorded in the store.
    let store = gateway.state.store.clone();
    drop(worker);
    drop(gateway);
    store.close().await;
    let again = Gateway::start(config(dir.path()), clock.clone()).await?;
    assert!(again.sla_worker().fire_due().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn waiting_for_the_customer_pauses_the_clock_and_the_api_shows_the_state() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = Clock::manual(paris(2026, 11, 30, 9, 0));
    let app = spawn_app_with(config(dir.path()), clock.clone()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    // A customer writes through the chat; an important request.
    let (mut visitor, _) = e2e::Visitor::open(&app.ws_url(), None).await?;
    visitor.message("v1", IMPORTANT).await?;
    let list = agent.ok("/api/v1/conversations").await?;
    let id = list["conversations"][0]["id"].as_i64().unwrap_or_default();
    let view = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    assert_eq!(view["sla"]["state"], "on_time", "{view}");

    // 1 h 45 of the 2 business hours gone: at risk.
    clock.advance(HOUR + 45 * MINUTE);
    let view = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    assert_eq!(view["sla"]["state"], "at_risk", "{}", view["sla"]);

    // The agent answers and asks a question; the customer answers; the agent asks again and waits.
    let (status, _) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "Quel outil ?"}),
        )
        .await?;
    assert_eq!(status, 200);
    visitor
        .message("v2", "Le nouvel outil de découpe, référence T-40.")
        .await?;
    let view = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    let next = view["sla"]["timers"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["kind"] == "next_response").cloned())
        .unwrap_or_default();
    assert_eq!(next["state"], "running", "{}", view["sla"]);
    clock.advance(HOUR);
    let (status, _) = agent
        .post(&format!("/api/v1/conversations/{id}/wait"), json!({}))
        .await?;
    assert_eq!(status, 200);
    let view = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    assert_eq!(view["sla"]["state"], "paused", "{}", view["sla"]);

    // Three days of silence count for nothing (read after the three days,
    // with a new session: they outlive the agent's).
    clock.advance(72 * HOUR);
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let view = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    assert_eq!(view["sla"]["state"], "paused", "{}", view["sla"]);
    let timers = view["sla"]["timers"].as_array().cloned().unwrap_or_default();
    let paused_next = timers
        .iter()
        .find(|t| t["kind"] == "next_response")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        paused_next["remaining_ms"],
        3 * HOUR,
        "1 of 4 business hours used before the wait"
    );
    visitor.message("v3", "Des nouvelles ?").await?;
    let view = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    let next = view["sla"]["timers"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["kind"] == "next_response").cloned())
        .unwrap_or_default();
    assert_eq!(next["state"], "running", "{}", view["sla"]);
    assert_eq!(next["used_ms"], HOUR);
    visitor.close().await;
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_agent_answer_meets_the_first_response_and_resolving_closes_the_rest() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = Clock::manual(paris(2026, 11, 30, 9, 0));
    let gateway = Gateway::start(config(dir.path()), clock.clone()).await?;
    let accepted = gateway
        .state
        .pipeline
        .submit(mail("m@x", "chef@usine.fr", IMPORTANT))
        .await?;
    let id = accepted.conversation_id;
    clock.advance(30 * MINUTE);
    gateway
        .state
        .store
        .add_agent_message(
            id,
            &AgentMessage {
                agent: AgentId(1),
                agent_name: "Admin",
                text: "Nous regardons.",
                direction: Direction::Out,
                payload: None,
                attachments: &[],
                upload_owner: "agent:1",
            },
            clock.now_ms(),
        )
        .await?;
    assert_eq!(due(&gateway, id, "first_response").await?.0, "met");
    gateway.state.store.set_status(id, true, None, clock.now_ms()).await?;
    assert_eq!(due(&gateway, id, "resolution").await?.0, "met");
    clock.advance(100 * HOUR);
    assert!(gateway.sla_worker().fire_due().await?.is_empty());
    Ok(())
}
