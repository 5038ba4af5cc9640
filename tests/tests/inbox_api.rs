//! What the inbox page reads besides the conversation API: the pages and
//! modules themselves, each queue's SLA state, a mail's HTML as a document of
//! its own (sanitised, no script allowed), and the canned replies.

use e2e::{ADMIN_PASSWORD, AgentClient, Visitor, spawn_app, spawn_app_with, test_config, ticket_id};
use gateway::clock::Clock;
use gateway::config::CannedReply;
use serde_json::Value;

#[tokio::test]
async fn the_inbox_page_and_its_modules_are_served_with_a_csp_that_forbids_inline_script() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let http = reqwest::Client::new();
    let page = http.get(format!("{}/inbox", app.base())).send().await?;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str()?.to_string();
    assert!(csp.split(';').any(|d| d.trim() == "script-src 'self'"), "{csp}");
    let html = page.text().await?;
    assert!(html.contains(r#"<script type="module" src="/inbox/v/"#));
    assert!(html.contains(r#"/app.js"></script>"#));
    assert!(!html.contains("<script>"), "no inline script in the page");

    // Every module the page imports is served, as JavaScript.
    for module in [
        "app.js",
        "api.js",
        "composer.js",
        "conversation.js",
        "dom.js",
        "list.js",
        "live.js",
        "queues.js",
    ] {
        let r = http.get(format!("{}/inbox/{module}", app.base())).send().await?;
        assert_eq!(r.status(), 200, "{module}");
        assert!(r.headers()["content-type"].to_str()?.starts_with("text/javascript"));
        let body = r.text().await?;
        for import in body.lines().filter_map(|l| l.strip_prefix("import ")) {
            let target = import.split('"').nth(1).unwrap_or_default().trim_start_matches("./");
            let r = http.get(format!("{}/inbox/{target}", app.base())).send().await?;
            assert_eq!(r.status(), 200, "{module} imports {target}");
        }
    }
    let css = http.get(format!("{}/inbox/inbox.css", app.base())).send().await?;
    assert!(css.headers()["content-type"].to_str()?.starts_with("text/css"));
    let missing = http.get(format!("{}/inbox/../Cargo.toml", app.base())).send().await?;
    assert_eq!(missing.status(), 404);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn queues_and_the_list_carry_the_service_level_state() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let (mut v, _) = Visitor::open(&app.ws_url(), None).await?;
    v.message("1", "Ligne 2 arrêtée, code E17").await?;

    let queues = agent.ok("/api/v1/queues").await?;
    let critical = queues["queues"]
        .as_array()
        .and_then(|qs| qs.iter().find(|q| q["name"] == "critical"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(critical["open"], 1, "{queues}");
    // A fresh critical conversation: its first-response clock runs, well within budget.
    assert_eq!(critical["sla_state"], "on_time", "{critical}");
    assert_eq!(critical["sla"]["on_time"], 1);
    assert_eq!(critical["sla"]["breached"], 0);
    let empty = queues["queues"]
        .as_array()
        .and_then(|qs| qs.iter().find(|q| q["open"] == 0))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(empty["sla_state"], "none", "{queues}");

    let list = agent.ok("/api/v1/conversations?queue=critical").await?;
    assert_eq!(list["conversations"][0]["sla_state"], "on_time", "{list}");

    // "Mine" is counted by the queues call.
    assert_eq!(queues["mine"], 0);
    let id = list["conversations"][0]["id"].as_i64().unwrap_or_default();
    let (status, _) = agent
        .post(&format!("/api/v1/conversations/{id}/claim"), serde_json::json!({}))
        .await?;
    assert_eq!(status, 200);
    assert_eq!(agent.ok("/api/v1/queues").await?["mine"], 1);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_mail_body_is_served_sanitised_under_a_csp_without_script() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let mut mail = e2e::inbound_email("html@x", "client@plant.test", "Vibrations", "Le moteur vibre.");
    // As if an older version had stored it unsanitised: it is cleaned again on the way out.
    mail.html = Some(
        "<p onclick=\"steal()\">Le moteur <b>vibre</b>.</p><script>steal()</script>\
         <img src=\"https://tracker.example/pixel.gif\"><a href=\"javascript:steal()\">lien</a>"
            .into(),
    );
    let accepted = app.state.pipeline.submit(mail).await?;
    let conversation = accepted.conversation_id.0;
    let view = agent.ok(&format!("/api/v1/conversations/{conversation}")).await?;
    let message = view["messages"][0]["id"].as_i64().unwrap_or_default();

    let r = agent
        .http
        .get(format!(
            "{}/api/v1/conversations/{conversation}/messages/{message}/html",
            app.base()
        ))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str()?.to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("sandbox"), "{csp}");
    assert!(!csp.contains("script-src"), "no script source at all: {csp}");
    assert!(
        csp.contains("img-src 'self' data:"),
        "remote images (read receipts) blocked: {csp}"
    );
    let body = r.text().await?;
    assert!(body.contains("<b>vibre</b>"), "{body}");
    for bad in ["<script", "onclick", "javascript:"] {
        assert!(!body.contains(bad), "{bad} in {body}");
    }

    // Another conversation's id in the path finds nothing.
    let (status, _) = agent
        .get(&format!(
            "/api/v1/conversations/{}/messages/{message}/html",
            conversation + 1
        ))
        .await?;
    assert_eq!(status, 404);
    // A chat message has no HTML body.
    let (mut v, _) = Visitor::open(&app.ws_url(), None).await?;
    let ack = v.message("1", "Bonjour").await?;
    let chat = ticket_id(&ack["conversation"]);
    let chat_view = agent.ok(&format!("/api/v1/conversations/{chat}")).await?;
    let chat_message = chat_view["messages"][0]["id"].as_i64().unwrap_or_default();
    let (status, _) = agent
        .get(&format!("/api/v1/conversations/{chat}/messages/{chat_message}/html"))
        .await?;
    assert_eq!(status, 404);
    // Agents only.
    let anonymous = reqwest::get(format!(
        "{}/api/v1/conversations/{conversation}/messages/{message}/html",
        app.base()
    ))
    .await?;
    assert_eq!(anonymous.status(), 401);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn canned_replies_are_built_in_until_the_config_lists_some() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let built_in = agent.ok("/api/v1/canned-replies").await?;
    let keywords: Vec<&str> = built_in["canned_replies"]
        .as_array()
        .map(|l| l.iter().filter_map(|c| c["keyword"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        keywords.contains(&"photo") && keywords.contains(&"serial"),
        "{built_in}"
    );
    app.stop().await;

    let dir = tempfile::tempdir()?;
    let mut config = test_config(dir.path());
    config.canned_replies = vec![CannedReply {
        keyword: "pieces".into(),
        language: "fr".into(),
        text: "La pièce part aujourd'hui.".into(),
    }];
    let app = spawn_app_with(config, Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let configured = agent.ok("/api/v1/canned-replies").await?;
    assert_eq!(configured["canned_replies"].as_array().map(Vec::len), Some(1));
    assert_eq!(configured["canned_replies"][0]["keyword"], "pieces");
    app.stop().await;
    Ok(())
}
