//! The lists and the channel status from the inbox's API: queues, canned
//! replies and the customer directory saved in the inbox, in force at once (a
//! strategic account's line stop becomes critical without a restart),
//! refused when wrong, dropped for the file again, audited; the channel
//! status says how the outbox and the mailboxes are doing.

use e2e::{ADMIN_PASSWORD, AgentClient, Visitor, spawn_app, ticket_id};
use serde_json::{Value, json};

async fn chat_verdict(app: &e2e::TestApp, agent: &AgentClient, email: &str, text: &str) -> anyhow::Result<Value> {
    let (mut v, _) = Visitor::open_with(&app.ws_url(), None, json!({"name": "Test Visitor", "email": email})).await?;
    let ack = v.message("1", text).await?;
    let id = ticket_id(&ack["conversation"]);
    Ok(agent.ok(&format!("/api/v1/conversations/{id}")).await?["verdict"].clone())
}

#[tokio::test]
async fn queues_canned_replies_and_accounts_are_kept_in_the_inbox() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;

    // Canned replies: built-in until saved; then the saved list is what agents get.
    let now = admin.ok("/api/v1/admin/canned-replies").await?;
    assert_eq!(now["origin"], "built-in");
    let (status, refused) = admin
        .put(
            "/api/v1/admin/canned-replies",
            json!({"canned_replies": [{"keyword": "two words", "language": "fr", "text": "x"}]}),
        )
        .await?;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (400, Some("invalid_list")),
        "{refused}"
    );
    let (status, saved) = admin
        .put(
            "/api/v1/admin/canned-replies",
            json!({"canned_replies": [{"keyword": "/pompe", "language": "FR", "text": "Pouvez-vous relever la pression de la pompe ?"}]}),
        )
        .await?;
    assert_eq!(status, 200, "{saved}");
    let agents_see = admin.ok("/api/v1/canned-replies").await?;
    assert_eq!(
        agents_see["canned_replies"],
        json!([{"keyword": "pompe", "language": "fr", "text": "Pouvez-vous relever la pression de la pompe ?"}])
    );
    let (status, back) = admin.post("/api/v1/admin/canned-replies/file", json!({})).await?;
    assert_eq!((status, back["origin"].as_str()), (200, Some("built-in")), "{back}");
    assert!(
        admin.ok("/api/v1/canned-replies").await?["canned_replies"]
            .as_array()
            .is_some_and(|l| l.len() > 1)
    );

    // Queues: a new one is listed in the inbox at once, even empty.
    let (status, refused) = admin
        .put("/api/v1/admin/queues", json!({"queues": ["critical", "Critical"]}))
        .await?;
    assert_eq!(status, 400, "{refused}");
    let (status, saved) = admin
        .put(
            "/api/v1/admin/queues",
            json!({"queues": ["critical", "hydraulique", "experts", "n1"]}),
        )
        .await?;
    assert_eq!(status, 200, "{saved}");
    let listed = admin.ok("/api/v1/queues").await?;
    let hydraulics = listed["queues"]
        .as_array()
        .and_then(|q| q.iter().find(|q| q["name"] == "hydraulique"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(hydraulics["open"], 0, "{listed}");
    let (_, back) = admin.post("/api/v1/admin/queues/file", json!({})).await?;
    assert_eq!(back["origin"], "file");
    assert!(
        !admin.ok("/api/v1/queues").await?["queues"]
            .as_array()
            .is_some_and(|q| q.iter().any(|q| q["name"] == "hydraulique"))
    );

    // Accounts: a customer becomes strategic without a restart.
    let before = chat_verdict(
        &app,
        &admin,
        "jean@fromagerie-alpine.fr",
        "Une question sur le réglage du convoyeur",
    )
    .await?;
    let (status, refused) = admin
        .put("/api/v1/admin/accounts", json!({"accounts": [{"name": "Fromagerie", "tier": "strategic", "domains": [], "addresses": [], "phones": []}]}))
        .await?;
    assert_eq!(status, 400, "{refused}");
    let (status, saved) = admin
        .put(
            "/api/v1/admin/accounts",
            json!({"accounts": [{"name": "Fromagerie Alpine", "tier": "Strategic", "domains": ["fromagerie-alpine.fr"], "addresses": [], "phones": []}]}),
        )
        .await?;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["accounts"][0]["tier"], "strategic");
    let after = chat_verdict(
        &app,
        &admin,
        "marie@fromagerie-alpine.fr",
        "Une question sur le réglage du convoyeur",
    )
    .await?;
    assert_eq!(admin.ok("/api/v1/admin/accounts").await?["origin"], "inbox");
    let fired = |v: &Value| {
        v["rules"]
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x["rule"] == "strategic_customer"))
    };
    assert!(!fired(&before), "{before}");
    assert!(fired(&after), "the account's tier reaches the triage at once: {after}");
    assert_eq!(after["priority"], "critical");

    // Kept across a restart.
    let (data_dir, kept) = app.stop().await;
    let app = e2e::spawn_app_with(e2e::test_config(&data_dir), gateway::clock::Clock::system()).await?;
    let admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    assert_eq!(admin.ok("/api/v1/admin/accounts").await?["origin"], "inbox");
    let again = chat_verdict(
        &app,
        &admin,
        "paul@fromagerie-alpine.fr",
        "Une question sur le réglage du convoyeur",
    )
    .await?;
    assert!(fired(&again), "{again}");
    let (status, back) = admin.post("/api/v1/admin/accounts/file", json!({})).await?;
    assert_eq!((status, back["origin"].as_str()), (200, Some("file")), "{back}");

    // Supervisors read, do not change.
    admin.create_agent("sue", "Sue", "sue-password-1", "supervisor").await?;
    let sue = AgentClient::login(&app.base(), "sue", "sue-password-1").await?;
    assert_eq!(sue.ok("/api/v1/admin/accounts").await?["can_edit"], false);
    assert_eq!(sue.put("/api/v1/admin/accounts", json!({"accounts": []})).await?.0, 403);

    let actions = admin.audit_actions().await?;
    for a in [
        "queues_changed",
        "canned_replies_changed",
        "canned_replies_back_to_file",
        "accounts_changed",
        "accounts_back_to_file",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} not in {actions:?}");
    }
    app.stop().await;
    drop(kept);
    Ok(())
}

/// The Channels page's figures: a WhatsApp reply the Graph API refused
/// shows as retrying with its error, the journal and media backlogs are
/// there; agents may not look.
#[tokio::test]
async fn the_channel_status_shows_a_refused_reply_with_its_error() -> anyhow::Result<()> {
    let (app, stub, admin, _dir) = e2e::wa::start().await?;
    assert_eq!(
        e2e::wa::customer_writes(&app.base(), "wamid.S1", "Bonjour, une question sur le dosage").await?,
        200
    );
    let conversation = e2e::wa::whatsapp_conversation(&admin).await?;
    let id = conversation["conversation"]["id"].as_i64().unwrap_or_default();
    stub.fail_next_send(500, 131000, "Something went wrong");
    // The acknowledgement may already be out; the agent's reply meets the failure.
    let (status, _) = admin
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "Quel produit dosez-vous ?"}),
        )
        .await?;
    assert_eq!(status, 200);
    let state = admin
        .wait_json("/api/v1/admin/channels", "the refused reply counted", |s| {
            s["outbox"].as_array().is_some_and(|o| {
                o.iter()
                    .any(|c| c["channel"] == "whatsapp" && c["last_error"].is_string())
            })
        })
        .await?;
    let wa = state["outbox"]
        .as_array()
        .and_then(|o| o.iter().find(|c| c["channel"] == "whatsapp"))
        .cloned()
        .unwrap_or_default();
    assert!(
        wa["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("Something went wrong")),
        "{wa}"
    );
    assert!(wa["last_error_at"].is_i64(), "{wa}");
    assert_eq!(state["whatsapp"]["journal_backlog"], 0, "{state}");
    assert_eq!(state["whatsapp"]["numbers"][0]["phone_number_id"], e2e::wa::PNID);
    assert_eq!(state["mailboxes"], json!([]), "email is off");
    admin.create_agent("ann", "Ann", "ann-password-1", "agent").await?;
    let ann = AgentClient::login(&app.base(), "ann", "ann-password-1").await?;
    assert_eq!(ann.get("/api/v1/admin/channels").await?.0, 403);
    app.stop().await;
    Ok(())
}
