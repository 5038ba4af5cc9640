//! The audit log records who did what, when and from where: sign-ins (and
//! failed ones, without keeping an unknown name as typed), sign-outs,
//! account and dispatch changes, raw-mail downloads, what agents do with a
//! conversation; admins read it, narrowed by action, agent or period;
//! nobody else reads it.

use e2e::{ADMIN_PASSWORD, AgentClient, spawn_app};
use serde_json::{Value, json};

fn entries(v: &Value) -> Vec<Value> {
    v["entries"].as_array().cloned().unwrap_or_default()
}

fn actions(v: &Value) -> Vec<String> {
    entries(v)
        .iter()
        .filter_map(|e| e["action"].as_str().map(str::to_string))
        .collect()
}

async fn login_fails(base: &str, username: &str) -> anyhow::Result<u16> {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": "not-the-password"}))
        .send()
        .await?;
    Ok(r.status().as_u16())
}

#[tokio::test]
async fn sign_ins_account_changes_and_raw_mail_downloads_are_on_record_with_where_from() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let base = app.base();
    assert_eq!(login_fails(&base, "admin").await?, 401);
    assert_eq!(login_fails(&base, "mallory.typed.her.password").await?, 401);
    let admin = AgentClient::login(&base, "admin", ADMIN_PASSWORD).await?;
    admin.create_agent("ana", "Ana", "ana-password-12", "agent").await?;
    let ana_id = admin.ok("/api/v1/agents").await?["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["username"] == "ana"))
        .and_then(|a| a["id"].as_i64())
        .unwrap_or_default();
    let (status, _) = admin
        .post(
            &format!("/api/v1/agents/{ana_id}/dispatch"),
            json!({"queues": ["experts"], "max_open": 3}),
        )
        .await?;
    assert_eq!(status, 200);
    let ana = AgentClient::login(&base, "ana", "ana-password-12").await?;
    // Agents do not read the log.
    assert_eq!(ana.get("/api/v1/admin/audit").await?.0, 403);
    let (status, _) = ana.post("/api/v1/auth/logout", json!({})).await?;
    assert_eq!(status, 200);
    for action in ["disable", "enable", "revoke-sessions"] {
        let (status, body) = admin
            .post(&format!("/api/v1/agents/{ana_id}/{action}"), json!({}))
            .await?;
        assert_eq!(status, 200, "{action}: {body}");
    }
    // A raw mail read by the admin.
    let raw = "From: client@usine.test\r\nSubject: Presse\r\n\r\nLa presse fuit.\r\n";
    let blob = app.state.blobs.put_bytes(raw.as_bytes(), 1 << 20).await?;
    let mut mail = e2e::inbound_email("audit@x", "client@usine.test", "Presse", "La presse fuit.");
    mail.raw_ref = Some(format!("sha256:{}", blob.sha256));
    let accepted = app.state.pipeline.submit(mail).await?;
    let (c, m) = (accepted.conversation_id.0, accepted.message_id.0);
    let download = admin
        .download(&format!("/api/v1/conversations/{c}/messages/{m}/raw"))
        .await?;
    assert_eq!(download.bytes, raw.as_bytes());
    // What agents do with a conversation.
    for (action, body) in [
        ("claim", json!({})),
        ("transfer", json!({"queue": "n1"})),
        ("resolve", json!({})),
        ("reopen", json!({})),
    ] {
        let (status, answer) = admin.post(&format!("/api/v1/conversations/{c}/{action}"), body).await?;
        assert_eq!(status, 200, "{action}: {answer}");
    }

    let all = admin.ok("/api/v1/admin/audit").await?;
    assert_eq!(
        actions(&all),
        [
            "conversation_reopened",
            "conversation_resolved",
            "conversation_transferred",
            "conversation_claimed",
            "raw_mail_download",
            "sessions_revoked",
            "agent_enabled",
            "agent_disabled",
            "logout",
            "login",
            "dispatch_changed",
            "agent_created",
            "login",
            "login_failed",
            "login_failed",
        ],
        "{all}"
    );
    for e in entries(&all) {
        assert_eq!(e["client"], "127.0.0.1", "where from: {e}");
    }
    let transferred = &entries(&all)[2];
    assert_eq!(transferred["subject"], format!("conversation:{c}"));
    assert!(
        transferred["detail"].as_str().unwrap_or_default().contains("\"n1\""),
        "{transferred}"
    );
    let raw_entry = &entries(&all)[4];
    assert_eq!(raw_entry["subject"], format!("conversation:{c}"));
    assert!(
        !raw_entry.to_string().contains("La presse"),
        "what was read is not copied"
    );

    // Failed sign-ins: the known account by name, an unknown name only hashed.
    let failed = admin.ok("/api/v1/admin/audit?action=login_failed").await?;
    let subjects: Vec<String> = entries(&failed)
        .iter()
        .filter_map(|e| e["subject"].as_str().map(str::to_string))
        .collect();
    assert_eq!(subjects.len(), 2, "{failed}");
    assert_eq!(subjects[1], "admin");
    assert!(
        subjects[0].starts_with("unknown:") && !subjects[0].contains("mallory"),
        "{failed}"
    );

    // By agent, and by period.
    let of_ana = admin.ok(&format!("/api/v1/admin/audit?agent={ana_id}")).await?;
    assert_eq!(actions(&of_ana), ["logout", "login"], "{of_ana}");
    let at = entries(&all)[0]["at"].as_i64().unwrap_or_default();
    let later = admin.ok(&format!("/api/v1/admin/audit?since={}", at + 1)).await?;
    assert_eq!(entries(&later).len(), 0, "{later}");
    let until = admin
        .ok(&format!("/api/v1/admin/audit?until={at}&action=login"))
        .await?;
    assert_eq!(actions(&until), ["login", "login"], "{until}");
    app.stop().await;
    Ok(())
}
