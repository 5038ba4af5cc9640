//! The triage rules edited from the inbox's API: a draft checked with its
//! mistakes at line and column, tried on a message, saved as a version in
//! force at once (and after a restart), restored, dropped for the file again;
//! supervisors read and try but do not change; every change audited.

use e2e::{ADMIN_PASSWORD, AgentClient, Visitor, spawn_app_with, test_config};
use gateway::clock::Clock;
use serde_json::{Value, json};

const BOOM: &str = r#"version = 1
[keywords.boom]
fr = ["boum"]
[[rules]]
name = "boom_inbox"
priority = "important"
queue = "experts"
when = { keywords = "boom" }
"#;

const BROKEN: &str = "version = 1\n[[rules]]\nname = \"x\"\npriority = \"urgent\"\nwhen = { keywords = \"nope\" }\n";

async fn verdict_of(ws: &str, agent: &AgentClient, text: &str) -> anyhow::Result<Value> {
    let (mut v, _) = Visitor::open(ws, None).await?;
    let ack = v.message("1", text).await?;
    let id = e2e::ticket_id(&ack["conversation"]);
    Ok(agent.ok(&format!("/api/v1/conversations/{id}")).await?["verdict"].clone())
}

#[tokio::test]
async fn rules_are_checked_tried_saved_restored_and_audited() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = test_config(dir.path());
    let app = spawn_app_with(config.clone(), Clock::system()).await?;
    let admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;

    let now = admin.ok("/api/v1/admin/rules").await?;
    assert_eq!(now["origin"], "built-in");
    assert!(now["source"].as_str().is_some_and(|s| s.contains("[[rules]]")));
    assert_eq!(now["versions"], json!([]));
    assert_eq!(now["can_edit"], true);

    // A mistake is named where it is.
    let (status, checked) = admin
        .post("/api/v1/admin/rules/check", json!({"source": BROKEN}))
        .await?;
    assert_eq!(status, 200, "{checked}");
    assert_eq!(checked["ok"], false);
    let first = &checked["errors"][0];
    assert_eq!(
        (first["line"].as_i64(), first["column"].as_i64()),
        (Some(4), Some(12)),
        "{checked}"
    );
    assert!(
        first["message"]
            .as_str()
            .is_some_and(|m| m.contains("unknown priority"))
    );
    let (_, checked) = admin.post("/api/v1/admin/rules/check", json!({"source": BOOM})).await?;
    assert_eq!(
        (&checked["ok"], &checked["rules"]),
        (&json!(true), &json!(1)),
        "{checked}"
    );

    // Tried before saving: the draft's verdict, the rules in force untouched.
    let (_, tried) = admin
        .post(
            "/api/v1/admin/rules/try",
            json!({"source": BOOM, "text": "boum dans l'atelier", "channel": "email", "subject": "bruit"}),
        )
        .await?;
    assert_eq!(tried["verdict"]["priority"], "important", "{tried}");
    assert_eq!(tried["verdict"]["rules"][0]["rule"], "boom_inbox", "{tried}");
    let before = verdict_of(&app.ws_url(), &admin, "boum dans l'atelier").await?;
    assert_ne!(before["rules"][0]["rule"], "boom_inbox", "nothing saved yet: {before}");

    // A broken draft is refused and leaves no version behind.
    let (status, refused) = admin.post("/api/v1/admin/rules", json!({"source": BROKEN})).await?;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_rules");
    assert_eq!(admin.ok("/api/v1/admin/rules").await?["versions"], json!([]));

    // A supervisor reads and tries, but does not change what is in force.
    admin.create_agent("sue", "Sue", "sue-password-1", "supervisor").await?;
    let sue = AgentClient::login(&app.base(), "sue", "sue-password-1").await?;
    assert_eq!(sue.ok("/api/v1/admin/rules").await?["can_edit"], false);
    assert_eq!(
        sue.post("/api/v1/admin/rules/check", json!({"source": BOOM})).await?.0,
        200
    );
    assert_eq!(sue.post("/api/v1/admin/rules", json!({"source": BOOM})).await?.0, 403);

    // Saved: in force at once.
    let (status, saved) = admin
        .post(
            "/api/v1/admin/rules",
            json!({"source": BOOM, "note": "boum goes to the experts"}),
        )
        .await?;
    assert_eq!(status, 200, "{saved}");
    let v1 = saved["version"].as_i64().unwrap_or_default();
    assert_eq!(saved["status"]["rules_source"], format!("inbox version {v1}"));
    let after = verdict_of(&app.ws_url(), &admin, "boum dans l'atelier").await?;
    assert_eq!(after["rules"][0]["rule"], "boom_inbox", "{after}");
    assert_eq!(after["priority"], "important");

    // A second version, then the first restored as a third.
    let v2_source = BOOM
        .replace("boom_inbox", "boom_v2")
        .replace("important", "critical")
        .replace("experts", "critical");
    let (_, saved) = admin
        .post("/api/v1/admin/rules", json!({"source": v2_source, "note": "v2"}))
        .await?;
    let v2 = saved["version"].as_i64().unwrap_or_default();
    assert_eq!(
        verdict_of(&app.ws_url(), &admin, "boum").await?["rules"][0]["rule"],
        "boom_v2"
    );
    let (status, restored) = admin
        .post(&format!("/api/v1/admin/rules/versions/{v1}/restore"), json!({}))
        .await?;
    assert_eq!(status, 200, "{restored}");
    let v3 = restored["version"].as_i64().unwrap_or_default();
    assert!(v3 > v2);
    assert_eq!(
        verdict_of(&app.ws_url(), &admin, "boum").await?["rules"][0]["rule"],
        "boom_inbox"
    );
    let history = admin.ok("/api/v1/admin/rules").await?;
    let ids: Vec<i64> = history["versions"]
        .as_array()
        .map(|v| v.iter().filter_map(|x| x["id"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(ids, [v3, v2, v1], "newest first");
    assert_eq!(history["versions"][0]["restored_from"], v1);
    assert_eq!(history["versions"][0]["agent"], "Administrator");
    let old = admin.ok(&format!("/api/v1/admin/rules/versions/{v2}")).await?;
    assert_eq!(old["version"]["source"], v2_source.as_str());

    // The version in force survives a restart.
    let (data_dir, kept) = app.stop().await;
    let mut config = test_config(&data_dir);
    config.server.data_dir = data_dir.clone();
    let app = spawn_app_with(config, Clock::system()).await?;
    let admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    assert_eq!(
        admin.ok("/api/v1/admin/triage").await?["triage"]["rules_source"],
        format!("inbox version {v3}")
    );
    assert_eq!(
        verdict_of(&app.ws_url(), &admin, "boum").await?["rules"][0]["rule"],
        "boom_inbox"
    );

    // Back to the configured (here built-in) rules.
    let (status, back) = admin.post("/api/v1/admin/rules/file", json!({})).await?;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["status"]["rules_source"], "built-in");
    assert_ne!(
        verdict_of(&app.ws_url(), &admin, "boum").await?["rules"][0]["rule"],
        "boom_inbox"
    );

    // Every change, with who made it.
    let actions = admin.audit_actions().await?;
    assert_eq!(
        actions.iter().filter(|a| *a == "rules_changed").count(),
        2,
        "{actions:?}"
    );
    assert!(actions.iter().any(|a| a == "rules_restored"), "{actions:?}");
    assert!(actions.iter().any(|a| a == "rules_back_to_file"), "{actions:?}");
    app.stop().await;
    drop(kept);
    Ok(())
}
