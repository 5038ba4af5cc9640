//! What an admin does to the team from the inbox's Team page, through the
//! API: a forgotten password reset (a one-time password, the sessions
//! ended), a role changed (in force on the next request), never on their own
//! account, never by a non-admin, each in the audit log.

use e2e::{ADMIN_PASSWORD, AgentClient, spawn_app};
use serde_json::json;

#[tokio::test]
async fn an_admin_resets_a_password_and_changes_a_role() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    admin.create_agent("dora", "Dora", "dora-password-1", "agent").await?;
    let dora = AgentClient::login(&app.base(), "dora", "dora-password-1").await?;
    let list = admin.ok("/api/v1/agents").await?;
    let id = list["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["username"] == "dora"))
        .and_then(|x| x["id"].as_i64())
        .unwrap_or_default();

    // Not by herself, not on one's own account.
    assert_eq!(
        dora.post(&format!("/api/v1/agents/{id}/password"), json!({})).await?.0,
        403
    );
    assert_eq!(
        dora.post(&format!("/api/v1/agents/{id}/role"), json!({"role": "admin"}))
            .await?
            .0,
        403
    );
    let (status, body) = admin.post("/api/v1/agents/1/role", json!({"role": "agent"})).await?;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("own_account")),
        "{body}"
    );
    let (status, body) = admin
        .post(&format!("/api/v1/agents/{id}/role"), json!({"role": "root"}))
        .await?;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad_role")),
        "{body}"
    );

    // A role takes effect on her next request.
    assert_eq!(dora.get("/api/v1/admin/rules").await?.0, 403);
    let (status, _) = admin
        .post(&format!("/api/v1/agents/{id}/role"), json!({"role": "supervisor"}))
        .await?;
    assert_eq!(status, 200);
    assert_eq!(dora.get("/api/v1/admin/rules").await?.0, 200);

    // A reset: her session ends, the old password no longer opens, the one-time one does and must be changed.
    let (status, reset) = admin.post(&format!("/api/v1/agents/{id}/password"), json!({})).await?;
    assert_eq!(status, 200, "{reset}");
    let one_time = reset["password"].as_str().unwrap_or_default().to_string();
    assert_eq!(one_time.len(), 20);
    assert_eq!(dora.get("/api/v1/queues").await?.0, 401);
    assert!(
        AgentClient::login(&app.base(), "dora", "dora-password-1")
            .await
            .is_err()
    );
    let again = AgentClient::login(&app.base(), "dora", &one_time).await?;
    assert_eq!(again.ok("/api/v1/me").await?["agent"]["must_change_password"], 1);
    assert_eq!(
        again.get("/api/v1/queues").await?.0,
        403,
        "nothing else until the password is changed"
    );

    let actions = admin.audit_actions().await?;
    assert!(
        ["password_reset", "role_changed"]
            .iter()
            .all(|a| actions.iter().any(|x| x == a)),
        "{actions:?}"
    );
    app.stop().await;
    Ok(())
}
