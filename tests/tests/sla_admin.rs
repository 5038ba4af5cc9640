//! Hours and service levels edited from the inbox's API: a holiday added in
//! a draft moves the previewed due time; saved, it applies to the next
//! message's timers without a restart, survives one, and can be dropped for
//! the file again; a calendar the on-call hours need cannot be removed;
//! supervisors preview, admins save; each change audited.

use e2e::{ADMIN_PASSWORD, AgentClient, Visitor, office_sla_config, paris, spawn_app_with, ticket_id};
use gateway::clock::Clock;
use serde_json::{Value, json};

fn due(preview: &Value, priority: &str, timer: &str) -> String {
    preview
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["priority"] == priority && r["timer"] == timer))
        .and_then(|r| r["local"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_holiday_moves_the_due_time_and_applies_without_a_restart() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = office_sla_config(dir.path());
    // Friday 4 December 2026, 16:00 in Paris.
    let clock = Clock::manual(paris(2026, 12, 4, 16, 0));
    let app = spawn_app_with(config, clock.clone()).await?;
    let admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;

    let now = admin.ok("/api/v1/admin/sla").await?;
    assert_eq!(now["origin"], "file");
    // Two business hours from Friday 16:00: 1.5 h on Friday, then Monday 08:30.
    assert_eq!(
        due(&now["preview"], "important", "first_response"),
        "2026-12-07 08:30",
        "{now}"
    );
    assert_eq!(
        due(&now["preview"], "critical", "first_response"),
        "2026-12-04 15:15",
        "UTC: {now}"
    );

    // Monday made a holiday in a draft: the preview moves to Tuesday, nothing saved.
    let mut draft = now["edit"].clone();
    draft["calendars"][0]["holidays"] = json!(["2026-12-25", "2026-12-07"]);
    let (status, previewed) = admin.post("/api/v1/admin/sla/preview", draft.clone()).await?;
    assert_eq!(status, 200, "{previewed}");
    assert_eq!(
        due(&previewed["preview"], "important", "first_response"),
        "2026-12-08 08:30"
    );
    assert_eq!(
        due(
            &admin.ok("/api/v1/admin/sla").await?["preview"],
            "important",
            "first_response"
        ),
        "2026-12-07 08:30"
    );

    // A mistake is said, not saved.
    let mut broken = draft.clone();
    broken["calendars"][0]["monday"] = json!(["8h-12h"]);
    let (_, said) = admin.post("/api/v1/admin/sla/preview", broken.clone()).await?;
    assert_eq!(said["ok"], false);
    assert!(said["error"].as_str().is_some_and(|e| e.contains("8h-12h")), "{said}");
    let (status, refused) = admin.post("/api/v1/admin/sla", broken).await?;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (400, Some("invalid_sla")),
        "{refused}"
    );

    // Supervisors preview but do not save.
    admin.create_agent("sue", "Sue", "sue-password-1", "supervisor").await?;
    let sue = AgentClient::login(&app.base(), "sue", "sue-password-1").await?;
    assert_eq!(sue.post("/api/v1/admin/sla/preview", draft.clone()).await?.0, 200);
    assert_eq!(sue.post("/api/v1/admin/sla", draft.clone()).await?.0, 403);

    // Saved: the next important message's first-answer timer is due on Tuesday.
    let (status, saved) = admin.post("/api/v1/admin/sla", draft.clone()).await?;
    assert_eq!(status, 200, "{saved}");
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    let ack = visitor
        .message(
            "1",
            "La machine fait un bruit anormal depuis hier, pouvez-vous regarder ?",
        )
        .await?;
    let id = ticket_id(&ack["conversation"]);
    let detail = admin.ok(&format!("/api/v1/conversations/{id}")).await?;
    assert_eq!(detail["conversation"]["priority"], "important", "{detail}");
    let first = detail["sla"]["timers"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["kind"] == "first_response"))
        .and_then(|t| t["due_at"].as_i64())
        .unwrap_or_default();
    assert_eq!(first, paris(2026, 12, 8, 8, 30), "{detail}");

    // The saved version survives a restart.
    let (data_dir, kept) = app.stop().await;
    let mut config = office_sla_config(&data_dir);
    config.server.data_dir = data_dir.clone();
    let app = spawn_app_with(config, clock.clone()).await?;
    let admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let now = admin.ok("/api/v1/admin/sla").await?;
    assert_eq!(now["origin"], "inbox");
    assert_eq!(due(&now["preview"], "important", "first_response"), "2026-12-08 08:30");

    // Back to the file's calendars.
    let (status, back) = admin.post("/api/v1/admin/sla/file", json!({})).await?;
    assert_eq!(status, 200, "{back}");
    assert_eq!(due(&back["preview"], "important", "first_response"), "2026-12-07 08:30");
    assert_eq!(admin.ok("/api/v1/admin/sla").await?["origin"], "file");

    let actions = admin.audit_actions().await?;
    assert!(
        ["sla_changed", "sla_back_to_file"]
            .iter()
            .all(|a| actions.iter().any(|x| x == a)),
        "{actions:?}"
    );
    app.stop().await;
    drop(kept);
    Ok(())
}

#[tokio::test]
async fn the_on_call_calendar_cannot_be_removed() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = office_sla_config(dir.path());
    config.escalation.on_call_calendar = "office".into();
    let app = spawn_app_with(config, Clock::system()).await?;
    let admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let mut draft = admin.ok("/api/v1/admin/sla").await?["edit"].clone();
    draft["calendars"][0]["name"] = json!("bureau");
    for p in draft["policies"].as_array_mut().into_iter().flatten() {
        if p["calendar"] == "office" {
            p["calendar"] = json!("bureau");
        }
    }
    let (status, refused) = admin.post("/api/v1/admin/sla", draft).await?;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("on_call_calendar"))
    );
    app.stop().await;
    Ok(())
}
