//! Bad input gets a clear error, and the server keeps serving.

use e2e::{ADMIN_PASSWORD, AgentClient, Visitor, spawn_app};
use serde_json::json;

#[tokio::test]
async fn bad_frames_get_error_frames_and_the_socket_keeps_working() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let mut v = Visitor::connect(&app.ws_url()).await?;

    v.send_json(&json!({"type": "message", "client_id": "a", "text": "too early"}))
        .await?;
    assert_eq!(v.expect("error").await?["code"], "not_open");
    v.send_json(&json!({"type": "open", "token": "not-a-token"})).await?;
    assert_eq!(v.expect("error").await?["code"], "bad_token");
    v.send_json(&json!({"type": "open", "token": null})).await?;
    v.expect("opened").await?;

    let cases = [
        ("{not json".to_string(), "malformed_frame"),
        (r#"{"no_type": 1}"#.to_string(), "missing_type"),
        (r#"{"type": "self_destruct"}"#.to_string(), "unknown_type"),
        (
            r#"{"type": "message", "text": "no client id"}"#.to_string(),
            "invalid_frame",
        ),
        (r#"{"type": "open", "token": null}"#.to_string(), "already_open"),
        (
            format!(
                r#"{{"type":"message","client_id":"big","text":"{}"}}"#,
                "x".repeat(70_000)
            ),
            "frame_too_large",
        ),
    ];
    for (frame, code) in cases {
        v.send_text(frame).await?;
        let err = v.expect("error").await?;
        assert_eq!(err["code"], code, "{err}");
        assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    v.send_binary(vec![1, 2, 3]).await?;
    assert_eq!(v.expect("error").await?["code"], "binary_not_supported");

    v.send_json(&json!({"type": "ping"})).await?;
    v.expect("pong").await?;
    let ack = v.message("ok-1", "toujours là ?").await?;
    assert_eq!(ack["duplicate"], false);

    let health = reqwest::get(format!("{}/healthz", app.base())).await?;
    assert_eq!(health.status().as_u16(), 200);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn unauthenticated_and_forged_agent_calls_are_refused_with_json_errors() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let http = reqwest::Client::new();
    let base = app.base();

    for path in [
        "/api/v1/queues",
        "/api/v1/conversations",
        "/api/v1/conversations/1",
        "/api/v1/me",
    ] {
        let r = http.get(format!("{base}{path}")).send().await?;
        assert_eq!(r.status().as_u16(), 401, "{path}");
        let body: serde_json::Value = r.json().await?;
        assert_eq!(body["error"]["code"], "unauthenticated");
    }
    let r = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": "wrong"}))
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 401);
    let r = http
        .post(format!("{base}/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{broken")
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 400);
    let body: serde_json::Value = r.json().await?;
    assert_eq!(body["error"]["code"], "bad_json");

    let agent = AgentClient::login(&base, "admin", ADMIN_PASSWORD).await?;
    // A state-changing call without the CSRF header is refused even with the cookie.
    let r = agent
        .http
        .post(format!("{base}/api/v1/conversations/1/claim"))
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 403);
    let (status, body) = agent
        .post("/api/v1/conversations/999/reply", json!({"text": "hi"}))
        .await?;
    assert_eq!(status, 404, "{body}");
    let (status, body) = agent
        .post("/api/v1/conversations/999/reply", json!({"text": ""}))
        .await?;
    assert_eq!(status, 400, "{body}");

    let (status, _) = agent.post("/api/v1/auth/logout", json!({})).await?;
    assert_eq!(status, 200);
    let (status, _) = agent.get("/api/v1/queues").await?;
    assert_eq!(status, 401, "the session is gone after logout");

    let health = http.get(format!("{base}/readyz")).send().await?;
    assert_eq!(health.status().as_u16(), 200);
    let public: serde_json::Value = health.json().await?;
    assert_eq!(
        public,
        json!({"status": "ready"}),
        "anyone sees the status, not the details"
    );
    let (status, mut readiness) = e2e::readiness(&base).await?;
    assert_eq!(status, 200);
    // Free space differs per machine: present, and enough.
    assert_eq!(readiness["disk"], true, "{readiness}");
    assert!(readiness["disk_free_mb"].as_u64().is_some(), "{readiness}");
    if let Some(details) = readiness.as_object_mut() {
        details.remove("disk");
        details.remove("disk_free_mb");
    }
    assert_eq!(
        readiness,
        json!({"status": "ready", "store": true, "pipeline": true, "outbox_worker": true, "sla_worker": true,
               "media_worker": null, "journal_worker": null, "whatsapp_backlog": null})
    );
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_second_agent_cannot_claim_what_the_first_holds() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let base = app.base();
    let admin = AgentClient::login(&base, "admin", ADMIN_PASSWORD).await?;
    let (status, body) = admin
        .post(
            "/api/v1/agents",
            json!({"username": "marie", "display_name": "Marie", "password": "a-long-password", "role": "agent"}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let marie = AgentClient::login(&base, "marie", "a-long-password").await?;
    let (status, _) = marie
        .post(
            "/api/v1/agents",
            json!({"username": "x", "display_name": "X", "password": "a-long-password"}),
        )
        .await?;
    assert_eq!(status, 403, "agents cannot create accounts");

    let (mut v, _) = Visitor::open(&app.ws_url(), None).await?;
    let ack = v.message("1", "fumée sur l'armoire électrique").await?;
    let id = ack["conversation"]
        .as_str()
        .and_then(|t| t.strip_prefix("SY-"))
        .unwrap_or("0")
        .to_string();

    let (status, _) = admin
        .post(&format!("/api/v1/conversations/{id}/claim"), json!({}))
        .await?;
    assert_eq!(status, 200);
    let (status, body) = marie
        .post(&format!("/api/v1/conversations/{id}/claim"), json!({}))
        .await?;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "conflict");
    let seen = marie.ok(&format!("/api/v1/conversations/{id}")).await?;
    assert_eq!(seen["conversation"]["assignee_name"], "Administrator");

    let mine = admin.ok("/api/v1/conversations?mine=true").await?;
    assert_eq!(mine["conversations"].as_array().map(Vec::len), Some(1));
    let (status, _) = admin
        .post(&format!("/api/v1/conversations/{id}/unassign"), json!({}))
        .await?;
    assert_eq!(status, 200);
    let (status, _) = marie
        .post(&format!("/api/v1/conversations/{id}/claim"), json!({}))
        .await?;
    assert_eq!(status, 200);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn repeated_wrong_passwords_are_slowed_down() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = gateway::clock::Clock::manual(1_800_000_000_000);
    let app = e2e::spawn_app_with(e2e::test_config(dir.path()), clock.clone()).await?;
    let http = reqwest::Client::new();
    let login = |password: &'static str| {
        let (http, base) = (http.clone(), app.base());
        async move {
            let r = http
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"username": "admin", "password": password}))
                .send()
                .await?;
            let retry = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            anyhow::Ok((r.status().as_u16(), retry))
        }
    };
    for _ in 0..5 {
        assert_eq!(login("wrong").await?.0, 401);
    }
    let (status, retry) = login("wrong").await?;
    assert_eq!(status, 429);
    assert_eq!(retry.as_deref(), Some("1"));
    // Even the right password waits its turn.
    assert_eq!(login(ADMIN_PASSWORD).await?.0, 429);
    clock.advance(1_000);
    assert_eq!(login(ADMIN_PASSWORD).await?.0, 200);
    app.stop().await;
    Ok(())
}
