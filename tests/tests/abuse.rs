//! The widget is open to anyone: one address may open only so many chats, a
//! chat and an address send only so many messages; over a limit the visitor
//! is told when to retry and nothing is stored. Other visitors are not held up.

use e2e::{Visitor, spawn_app_with, test_config};
use gateway::clock::Clock;
use gateway::webchat::LimitsConfig;
use serde_json::{Value, json};

async fn stored(app: &e2e::TestApp, client_id: &str) -> anyhow::Result<i64> {
    let row: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages WHERE client_id = $1")
        .bind(client_id)
        .fetch_one(app.state.store.reader())
        .await?;
    Ok(row.0)
}

async fn send(visitor: &mut Visitor, client_id: &str) -> anyhow::Result<Value> {
    visitor
        .send_json(&json!({"type": "message", "client_id": client_id, "text": format!("question {client_id}")}))
        .await?;
    // The answer to this frame: its ack or its error (the system's own messages skipped).
    loop {
        let frame = visitor.next().await?;
        if frame["client_id"] == client_id && (frame["type"] == "ack" || frame["type"] == "error") {
            return Ok(frame);
        }
    }
}

fn limited(frame: &Value) -> bool {
    frame["type"] == "error"
        && frame["code"] == "rate_limited"
        && frame["retry_after_ms"].as_u64().is_some_and(|ms| ms > 0)
}

#[tokio::test]
async fn over_a_limit_the_visitor_is_told_when_to_retry_and_nothing_is_stored() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = test_config(dir.path());
    config.webchat.limits = LimitsConfig {
        sessions_per_minute_per_address: 3,
        messages_per_minute_per_address: 8,
        messages_per_minute_per_chat: 5,
        typing_per_minute_per_chat: 2,
    };
    // The test's visitors say where they are through the local "proxy".
    config.server.trusted_proxies = vec![std::net::IpAddr::from([127, 0, 0, 1])];
    let app = spawn_app_with(config, Clock::system()).await?;
    let url = app.ws_url();
    let flooder = "203.0.113.66";

    // Three new chats from one address, then the fourth is refused and closed.
    let mut chats = Vec::new();
    for _ in 0..3 {
        let mut v = Visitor::connect_from(&url, flooder).await?;
        let opened = v.open_frame(None).await?;
        assert_eq!(opened["type"], "opened", "{opened}");
        chats.push(v);
    }
    let mut fourth = Visitor::connect_from(&url, flooder).await?;
    let refused = fourth.open_frame(None).await?;
    assert!(limited(&refused), "{refused}");
    // Closed by the gateway, not merely silent (a silent socket times out with another error).
    let Err(closed) = fourth.next().await else {
        panic!("a frame after the refusal")
    };
    assert!(
        closed.to_string().contains("closed"),
        "the refused socket is closed: {closed}"
    );
    // A made-up token (well formed, never issued) is a new chat too.
    let made_up = "A".repeat(43);
    let mut forged = Visitor::connect_from(&url, flooder).await?;
    let refused = forged.open_frame(Some(&made_up)).await?;
    assert!(limited(&refused), "{refused}");

    // One chat: five messages a minute, the sixth refused and not stored.
    let mut first = chats.remove(0);
    for i in 0..5 {
        let ack = send(&mut first, &format!("a{i}")).await?;
        assert_eq!(ack["type"], "ack", "{ack}");
    }
    let over = send(&mut first, "a5").await?;
    assert!(limited(&over), "{over}");
    assert_eq!(stored(&app, "a5").await?, 0);
    assert_eq!(stored(&app, "a4").await?, 1);

    // The address: eight a minute over all its chats (five spent above).
    let mut second = chats.remove(0);
    for i in 0..3 {
        assert_eq!(send(&mut second, &format!("b{i}")).await?["type"], "ack");
    }
    let over = send(&mut second, "b3").await?;
    assert!(limited(&over), "{over}");
    assert_eq!(stored(&app, "b3").await?, 0);

    // Coming back to one's own chat is not a new chat, even with the address spent.
    let token = first.token.clone().unwrap_or_default();
    first.close().await;
    let mut back = Visitor::connect_from(&url, flooder).await?;
    let opened = back.open_frame(Some(&token)).await?;
    assert_eq!(opened["type"], "opened", "{opened}");
    assert!(opened["history"].as_array().map(Vec::len).unwrap_or(0) >= 5, "{opened}");

    // Someone else, meanwhile, is not held up by the flood.
    let mut other = Visitor::connect_from(&url, "198.51.100.7").await?;
    assert_eq!(other.open_frame(None).await?["type"], "opened");
    for i in 0..5 {
        assert_eq!(send(&mut other, &format!("c{i}")).await?["type"], "ack");
    }
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn typing_frames_over_the_limit_are_dropped_not_passed_on() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = test_config(dir.path());
    config.webchat.limits = LimitsConfig {
        typing_per_minute_per_chat: 2,
        ..LimitsConfig::unlimited()
    };
    let app = spawn_app_with(config, Clock::system()).await?;
    let mut events = app.state.events.subscribe();
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    assert_eq!(send(&mut visitor, "t0").await?["type"], "ack");
    for _ in 0..6 {
        visitor.send_json(&json!({"type": "typing", "on": true})).await?;
    }
    // A ping answered means the typing frames before it were handled.
    visitor.send_json(&json!({"type": "ping"})).await?;
    visitor.expect("pong").await?;
    let mut typing = 0;
    while let Ok(event) = events.try_recv() {
        if matches!(event, gateway::events::Event::Typing { .. }) {
            typing += 1;
        }
    }
    assert_eq!(typing, 2, "two a minute reach the agents, the rest are dropped");
    visitor.close().await;
    app.stop().await;
    Ok(())
}
