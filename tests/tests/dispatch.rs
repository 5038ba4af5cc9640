//! Automatic assignment on an injected clock: caps, presence, fewest-open
//! balancing, oldest first when capacity frees, offers withdrawn when nobody
//! answers, nothing for agents who are not online, manual claims untouched.

use channels::Inbound;
use e2e::test_config;
use gateway::clock::Clock;
use gateway::ids::{AgentId, ConversationId};
use gateway::server::Gateway;
use gateway::store::conversations::AgentMessage;
use gateway::store::messages::Direction;

const IMPORTANT: &str = "Nous constatons beaucoup de rebuts sur la presse P200 depuis le changement d'outil.";
const START: i64 = 1_795_000_000_000;

fn mail(n: usize) -> Inbound {
    e2e::inbound_email(
        &format!("d{n}@x"),
        &format!("client{n}@plant.test"),
        &format!("Rebuts {n}"),
        IMPORTANT,
    )
}

struct Setup {
    gateway: Gateway,
    clock: Clock,
    a: AgentId,
    b: AgentId,
    _dir: tempfile::TempDir,
}

async fn setup(cap: i64) -> anyhow::Result<Setup> {
    let dir = tempfile::tempdir()?;
    let clock = Clock::manual(START);
    let gateway = Gateway::start(test_config(dir.path()), clock.clone()).await?;
    let store = &gateway.state.store;
    let a = store.agent_create("anna", "Anna", "x", "agent", false, START).await?;
    let b = store.agent_create("bruno", "Bruno", "x", "agent", false, START).await?;
    for agent in [a, b] {
        store.set_agent_dispatch(agent, &["experts".to_string()], cap).await?;
    }
    Ok(Setup {
        gateway,
        clock,
        a,
        b,
        _dir: dir,
    })
}

async fn new_conversation(s: &Setup, n: usize) -> anyhow::Result<ConversationId> {
    let accepted = s.gateway.state.pipeline.submit(mail(n)).await?;
    assert_eq!(accepted.priority, triage::Priority::Important);
    Ok(accepted.conversation_id)
}

#[tokio::test]
async fn caps_presence_balance_and_oldest_first() -> anyhow::Result<()> {
    let s = setup(2).await?;
    let store = s.gateway.state.store.clone();
    let assigner = s.gateway.assigner();
    store.set_presence(s.a, "online", START).await?;
    let c: Vec<ConversationId> = {
        let mut v = Vec::new();
        for n in 0..3 {
            s.clock.advance(1_000);
            v.push(new_conversation(&s, n).await?);
        }
        v
    };
    // Anna is the only one online: two up to her cap, the third waits.
    let pass = assigner.run_once().await?;
    assert_eq!(pass.assigned, vec![(c[0], s.a), (c[1], s.a)]);
    // Bruno comes online: the waiting one is his.
    store.set_presence(s.b, "online", START).await?;
    assert_eq!(assigner.run_once().await?.assigned, vec![(c[2], s.b)]);
    // A new one goes to whoever has fewer open: Bruno (1) rather than Anna (2, her cap).
    s.clock.advance(1_000);
    let c3 = new_conversation(&s, 3).await?;
    assert_eq!(assigner.run_once().await?.assigned, vec![(c3, s.b)]);
    // Both full: two more wait, the older first in line.
    s.clock.advance(1_000);
    let c4 = new_conversation(&s, 4).await?;
    s.clock.advance(1_000);
    let c5 = new_conversation(&s, 5).await?;
    assert!(assigner.run_once().await?.assigned.is_empty());
    // Anna resolves one: the oldest waiting is hers.
    store.set_status(c[0], true, None, s.clock.now_ms()).await?;
    assert_eq!(assigner.run_once().await?.assigned, vec![(c4, s.a)]);
    // Everyone away or offline: nothing is assigned.
    store.set_presence(s.a, "away", START).await?;
    store.set_presence(s.b, "offline", START).await?;
    store.set_status(c[1], true, None, s.clock.now_ms()).await?;
    assert!(assigner.run_once().await?.assigned.is_empty());
    let view = store.conversation_get(c5).await?.map(|c| c.assignee_id);
    assert_eq!(view, Some(None), "still waiting in the queue");
    Ok(())
}

#[tokio::test]
async fn an_offer_nobody_answers_goes_to_the_next_agent_and_claims_stay() -> anyhow::Result<()> {
    let s = setup(5).await?;
    let store = s.gateway.state.store.clone();
    let assigner = s.gateway.assigner();
    store.set_presence(s.a, "online", START).await?;
    store.set_presence(s.b, "online", START).await?;
    let first = new_conversation(&s, 0).await?;
    let second = new_conversation(&s, 1).await?;
    let third = new_conversation(&s, 2).await?;
    let pass = assigner.run_once().await?;
    assert_eq!(pass.assigned, vec![(first, s.a), (second, s.b), (third, s.a)]);
    // Anna answers the third; Bruno claims the second by hand (no timeout on a claim).
    s.clock.advance(60_000);
    store
        .add_agent_message(
            third,
            &AgentMessage {
                agent: s.a,
                agent_name: "Anna",
                text: "Je regarde.",
                direction: Direction::Out,
                payload: None,
                attachments: &[],
                upload_owner: "agent:1",
            },
            s.clock.now_ms(),
        )
        .await?;
    let supervisor = gateway::dispatch::holding::Actor {
        id: s.b,
        supervisor: true,
    };
    store
        .assign(second, Some(s.b), supervisor, false, s.clock.now_ms())
        .await?;
    // Five minutes pass: only the first, unanswered offer moves — to Bruno.
    s.clock.advance(300_000);
    let pass = assigner.run_once().await?;
    assert_eq!(pass.withdrawn, vec![(first, s.a)]);
    assert_eq!(pass.assigned, vec![(first, s.b)]);
    let notes = store.messages(first, true).await?;
    assert!(
        notes
            .iter()
            .any(|m| m.direction == "note" && m.body.contains("Offered to Anna"))
    );
    // Bruno does not answer either; Anna already let it go, so it waits for someone else.
    s.clock.advance(301_000);
    let pass = assigner.run_once().await?;
    assert_eq!(pass.withdrawn, vec![(first, s.b)]);
    assert!(pass.assigned.is_empty());
    Ok(())
}

#[tokio::test]
async fn an_online_agent_gets_new_conversations_through_the_api() -> anyhow::Result<()> {
    use serde_json::json;
    let app = e2e::spawn_app().await?;
    let agent = e2e::AgentClient::login(&app.base(), "admin", e2e::ADMIN_PASSWORD).await?;
    let me = agent.ok("/api/v1/me").await?;
    let id = me["agent"]["id"].as_i64().unwrap_or_default();
    let (status, _) = agent
        .post("/api/v1/agents/999/dispatch", json!({"queues": ["n1"], "max_open": 1}))
        .await?;
    assert_eq!(status, 404, "no such agent");
    let (status, body) = agent
        .post(
            &format!("/api/v1/agents/{id}/dispatch"),
            json!({"queues": ["experts", "n1", "critical"], "max_open": 3}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let (status, body) = agent.post("/api/v1/me/presence", json!({"presence": "busy"})).await?;
    assert_eq!(status, 400, "{body}");
    let (status, _) = agent.post("/api/v1/me/presence", json!({"presence": "online"})).await?;
    assert_eq!(status, 200);

    let (mut visitor, _) = e2e::Visitor::open(&app.ws_url(), None).await?;
    visitor.message("1", IMPORTANT).await?;
    let mut assignee = serde_json::Value::Null;
    for _ in 0..100 {
        let list = agent.ok("/api/v1/conversations").await?;
        assignee = list["conversations"][0]["assignee_id"].clone();
        if !assignee.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(assignee, json!(id), "assigned as soon as it was committed");
    let agents = agent.ok("/api/v1/agents/dispatch").await?;
    assert_eq!(agents["agents"][0]["open"], 1, "{agents}");
    assert_eq!(agents["agents"][0]["presence"], "online");

    // Transfer to another queue, back in its pool.
    let conversation = agent.ok("/api/v1/conversations").await?["conversations"][0]["id"].clone();
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{conversation}/transfer"),
            json!({"queue": "n1"}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["conversation"]["queue"], "n1");
    visitor.close().await;
    app.stop().await;
    Ok(())
}

/// The acknowledgement's text, as queued for the customer.
async fn ack_of(gateway: &Gateway, id: ConversationId) -> anyhow::Result<String> {
    let messages = gateway.state.store.messages(id, false).await?;
    Ok(messages
        .into_iter()
        .find(|m| m.author_kind == "system" && m.direction == "out")
        .map(|m| m.body)
        .unwrap_or_default())
}

fn paris(d: u32, h: u32, m: u32) -> i64 {
    use chrono::TimeZone;
    chrono_tz::Europe::Paris
        .with_ymd_and_hms(2026, 11, d, h, m, 0)
        .single()
        .map(|t| t.timestamp_millis())
        .unwrap_or_default()
}

#[tokio::test]
async fn acknowledgements_promise_an_eta_from_load_and_sla_and_ask_for_what_is_missing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // Friday 27 November 2026, 17:00 in Paris; nobody online.
    let clock = Clock::manual(paris(27, 17, 0));
    let mut config = test_config(dir.path());
    config.ack_templates = vec![gateway::config::AckTemplate {
        priority: "faq".into(),
        language: "en".into(),
        text: "Hello! Reference {ticket}; our team answers {eta}.".into(),
    }];
    let gateway = Gateway::start(config, clock.clone()).await?;
    let pipeline = gateway.state.pipeline.clone();

    // French, critical, around the clock: the 15-minute SLA; the serial and a photo are asked for.
    let mut m = mail(1);
    m.text = "Bonjour, la ligne 2 est arrêtée, production stoppée, code E17.".into();
    let critical = pipeline.submit(m).await?;
    let ack = ack_of(&gateway, critical.conversation_id).await?;
    assert!(ack.contains("dans les 15 minutes"), "{ack}");
    assert!(ack.contains("numéro de série"), "{ack}");

    // English, important, office hours: 2 business hours from Friday 17:00 is Monday 09:00.
    let mut m = mail(2);
    m.text = "Hello, we get a lot of scrap parts on the P200 press since the tool change.".into();
    let important = pipeline.submit(m).await?;
    assert_eq!(important.priority, triage::Priority::Important);
    let ack = ack_of(&gateway, important.conversation_id).await?;
    assert!(ack.contains("on Monday 30/11 before 09:00"), "{ack}");
    assert!(ack.contains("please send us"), "asks for what is missing: {ack}");

    // Two experts online, nobody waiting ahead: within one handling time, 15 minutes.
    let store = gateway.state.store.clone();
    for name in ["eva", "marc"] {
        let id = store
            .agent_create(name, name, "x", "agent", false, clock.now_ms())
            .await?;
        store.set_agent_dispatch(id, &["experts".to_string()], 5).await?;
        store.set_presence(id, "online", clock.now_ms()).await?;
    }
    let mut m = mail(3);
    m.text = "Hello, recurring jams on the labeller, could an expert look at it? Serial SN-12345, model L200.".into();
    let quiet = pipeline.submit(m).await?;
    let ack = ack_of(&gateway, quiet.conversation_id).await?;
    // (One important conversation waits ahead, for two agents: still the first round.)
    assert!(ack.contains("within 15 minutes"), "{ack}");

    // A configured template replaces the opening.
    let mut m = mail(4);
    m.subject = Some("Manual".into());
    m.text = "Hello, where can I find the user manual of the P200?".into();
    let faq = pipeline.submit(m).await?;
    assert_eq!(faq.priority, triage::Priority::Faq);
    let ack = ack_of(&gateway, faq.conversation_id).await?;
    assert!(
        ack.starts_with(&format!(
            "Hello! Reference SY-{}; our team answers",
            faq.conversation_id.0
        )),
        "{ack}"
    );
    Ok(())
}
