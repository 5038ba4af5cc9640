//! Web chat end to end: a real server, a real websocket client, an agent over HTTP.

use e2e::{ADMIN_PASSWORD, AgentClient, TestApp, Visitor, spawn_app, spawn_app_pg, ticket_id};
use serde_json::{Value, json};

fn find_conversation(list: &Value, id: i64) -> Option<&Value> {
    list["conversations"].as_array()?.iter().find(|c| c["id"] == id)
}

#[tokio::test]
async fn chat_message_reaches_the_critical_queue_and_the_reply_comes_back() -> anyhow::Result<()> {
    chat_round_trip(spawn_app().await?).await
}

#[tokio::test]
async fn chat_round_trip_on_postgres() -> anyhow::Result<()> {
    let (app, db) = spawn_app_pg().await?;
    let outcome = chat_round_trip(app).await;
    db.drop_database().await?;
    outcome
}

/// The foundation's whole path on whichever store the app runs on.
async fn chat_round_trip(app: TestApp) -> anyhow::Result<()> {
    let (mut visitor, opened) = Visitor::open(&app.ws_url(), None).await?;
    assert_eq!(opened["conversation"], Value::Null);
    assert_eq!(opened["history"], json!([]));

    let ack = visitor
        .message("c-1", "Bonjour, la ligne 2 est arrêtée depuis ce matin, code E17")
        .await?;
    assert_eq!(ack["client_id"], "c-1");
    assert_eq!(ack["duplicate"], false);
    let conversation = ticket_id(&ack["conversation"]);
    assert!(conversation > 0, "{ack}");

    // The acknowledgement with what happens next arrives on the same socket.
    let auto = visitor.expect_message(|m| m["author"] == "system").await?;
    let auto_text = auto["text"].as_str().unwrap_or_default();
    assert!(auto_text.contains("priorité critique"), "{auto_text}");
    assert!(
        !auto_text.contains("numéro de série"),
        "on the widget Level 1 asks one question at a time, not a list in the acknowledgement: {auto_text}"
    );
    // Critical: escalated at once, and asked only for a number to call back (the visitor gave none).
    let question = visitor
        .expect_message(|m| m["author"] == "system" && m["text"].as_str().is_some_and(|t| t.contains("rappeler")))
        .await?;
    assert_eq!(
        question["choices"],
        Value::Null,
        "a number has no quick answer: {question}"
    );

    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let queues = agent.ok("/api/v1/queues").await?;
    let critical = &queues["queues"][0];
    assert_eq!(critical["name"], "critical");
    assert_eq!(critical["open"], 1);
    assert!(critical["oldest_waiting_since"].is_i64());

    let list = agent.ok("/api/v1/conversations?queue=critical").await?;
    let row = find_conversation(&list, conversation).ok_or_else(|| anyhow::anyhow!("not listed: {list}"))?;
    assert_eq!(row["priority"], "critical");
    assert_eq!(row["customer_name"], "Test Visitor");

    // The sender pushes the frame, then marks the row delivered: wait for the mark.
    let detail = agent
        .wait_json(
            &format!("/api/v1/conversations/{conversation}"),
            "the acknowledgement marked delivered",
            |d| d["messages"][1]["delivery_status"] == "delivered",
        )
        .await?;
    assert_eq!(detail["verdict"]["priority"], "critical");
    assert_eq!(detail["verdict"]["escalation"], "callback+visio");
    assert_eq!(detail["verdict"]["rules"][0]["rule"], "production_stopped");
    assert_eq!(detail["verdict"]["rules"][0]["spans"][0]["text"], "ligne 2 est arrêtée");
    assert_eq!(detail["verdict"]["fields"]["fault_codes"], json!(["E17"]));
    let messages = detail["messages"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        messages.len(),
        4,
        "customer message, acknowledgement, video-room link, Level 1's question: {messages:?}"
    );
    // Critical: a callback task and a video room, whose link the visitor got after the acknowledgement.
    let kinds: Vec<&str> = detail["escalations"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, ["callback", "visio"]);
    let room = detail["escalations"][1]["room_url"].as_str().unwrap_or_default();
    assert!(!room.is_empty() && messages[2]["body"].as_str().unwrap_or_default().contains(room));

    let (status, reply) = agent
        .post(
            &format!("/api/v1/conversations/{conversation}/reply"),
            json!({"text": "Nous vous rappelons tout de suite."}),
        )
        .await?;
    assert_eq!(status, 200, "{reply}");
    let pushed = visitor.expect_message(|m| m["author"] == "agent").await?;
    assert_eq!(pushed["text"], "Nous vous rappelons tout de suite.");
    assert_eq!(pushed["name"], "Administrator");

    // Answered: still queued (open) but no longer waiting.
    let queues = agent.ok("/api/v1/queues").await?;
    assert_eq!(queues["queues"][0]["oldest_waiting_since"], Value::Null);

    let (status, _) = agent
        .post(&format!("/api/v1/conversations/{conversation}/resolve"), json!({}))
        .await?;
    assert_eq!(status, 200);
    let list = agent.ok("/api/v1/conversations?queue=critical").await?;
    assert!(
        find_conversation(&list, conversation).is_none(),
        "resolved conversations leave the queue"
    );
    visitor.close().await;
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_resent_client_id_is_acknowledged_again_and_stored_once() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    let first = visitor.message("same-id", "machine HS").await?;
    let second = visitor.message("same-id", "machine HS").await?;
    assert_eq!(first["message_id"], second["message_id"]);
    assert_eq!(first["duplicate"], false);
    assert_eq!(second["duplicate"], true);

    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let id = ticket_id(&first["conversation"]);
    let detail = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    let customer: Vec<&Value> = detail["messages"]
        .as_array()
        .map(|m| m.iter().filter(|m| m["direction"] == "in").collect())
        .unwrap_or_default();
    assert_eq!(customer.len(), 1);

    // The same client id from another visitor is another message.
    let (mut other, _) = Visitor::open(&app.ws_url(), None).await?;
    let theirs = other.message("same-id", "machine HS").await?;
    assert_ne!(theirs["message_id"], first["message_id"]);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn resume_gives_the_history_and_another_token_sees_nothing() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    let token = visitor.token.clone().unwrap_or_default();
    visitor
        .message("m1", "Question sur la notice de la presse P200")
        .await?;
    visitor.close().await;

    let (_, resumed) = Visitor::open(&app.ws_url(), Some(&token)).await?;
    let history = resumed["history"].as_array().cloned().unwrap_or_default();
    assert!(
        history
            .iter()
            .any(|m| m["text"] == "Question sur la notice de la presse P200" && m["client_id"] == "m1")
    );
    assert!(
        history.iter().any(|m| m["author"] == "system"),
        "the acknowledgement is part of the history"
    );

    // A fresh visitor, and a well-formed token nobody was given, see nothing of it.
    let (_, fresh) = Visitor::open(&app.ws_url(), None).await?;
    assert_ne!(fresh["token"], json!(token));
    assert_eq!(fresh["history"], json!([]));
    let guessed = "A".repeat(42) + "E";
    let (_, other) = Visitor::open(&app.ws_url(), Some(&guessed)).await?;
    assert_eq!(other["history"], json!([]));
    assert_eq!(other["conversation"], Value::Null);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn photos_are_uploaded_attached_and_readable_by_the_agent_only_through_the_conversation() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    let token = visitor.token.clone().unwrap_or_default();
    let http = reqwest::Client::new();
    let png = b"\x89PNG\r\n\x1a\nfake-image-bytes".to_vec();
    let r = http
        .post(format!("{}/api/v1/chat/uploads?name=defaut.png", app.base()))
        .header("x-chat-token", &token)
        .header("content-type", "image/png")
        .body(png.clone())
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 200);
    let upload: Value = r.json().await?;
    let upload_id = upload["upload_id"].as_str().unwrap_or_default().to_string();

    visitor
        .send_json(&json!({"type": "message", "client_id": "p1", "text": "Ligne arrêtée, voici l'écran", "attachments": [upload_id]}))
        .await?;
    let ack = visitor.expect("ack").await?;
    let id = ticket_id(&ack["conversation"]);

    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let detail = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    let attachment = &detail["attachments"][0];
    assert_eq!(attachment["content_type"], "image/png");
    assert_eq!(attachment["name"], "defaut.png");
    assert_eq!(detail["verdict"]["fields"]["photos"], 1);
    let aid = attachment["id"].as_i64().unwrap_or_default();
    let bytes = agent
        .http
        .get(format!("{}/api/v1/conversations/{id}/attachments/{aid}", app.base()))
        .send()
        .await?
        .bytes()
        .await?;
    assert_eq!(bytes.as_ref(), png.as_slice());

    // The visitor reads it back with their own token, in its header.
    let r = http
        .get(format!("{}/api/v1/chat/files/{aid}", app.base()))
        .header("x-chat-token", &token)
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers().get("x-content-type-options").and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );

    // Too large: 413 with a JSON error, nothing kept.
    let r = http
        .post(format!("{}/api/v1/chat/uploads", app.base()))
        .header("x-chat-token", &token)
        .body(vec![0u8; 1024 * 1024 + 1])
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 413);
    let body: Value = r.json().await?;
    assert_eq!(body["error"]["code"], "too_large");

    // Someone else's upload id cannot be attached.
    let (mut stranger, _) = Visitor::open(&app.ws_url(), None).await?;
    stranger
        .send_json(&json!({"type": "message", "client_id": "x", "text": "hello", "attachments": [upload["upload_id"]]}))
        .await?;
    let err = stranger.expect("error").await?;
    assert_eq!(err["code"], "rejected");
    assert_eq!(err["client_id"], "x");

    // The file that exists and its owner reads is not readable with the token
    // of another visitor, who has a conversation of their own.
    stranger
        .send_json(&json!({"type": "message", "client_id": "y", "text": "Bonjour, une question"}))
        .await?;
    stranger.expect("ack").await?;
    let r = http
        .get(format!("{}/api/v1/chat/files/{aid}", app.base()))
        .header("x-chat-token", stranger.token.clone().unwrap_or_default())
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 404);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn many_visitors_at_once_are_all_acknowledged_and_stored() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let url = app.ws_url();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let (mut v, _) = Visitor::open(&url, None).await?;
            let mut acks = Vec::new();
            for j in 0..5 {
                acks.push(
                    v.message(&format!("{i}-{j}"), &format!("visiteur {i} message {j}"))
                        .await?,
                );
            }
            anyhow::Ok(acks)
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        for ack in t.await?? {
            assert_eq!(ack["duplicate"], false);
            ids.insert(ack["message_id"].as_i64().unwrap_or_default());
        }
    }
    assert_eq!(ids.len(), 200);
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let list = agent.ok("/api/v1/conversations?limit=1000").await?;
    assert_eq!(list["conversations"].as_array().map(Vec::len), Some(40));
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_question_the_knowledge_base_answers_gets_the_answer_and_a_check() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    let ack = visitor
        .message("q1", "Bonjour, où trouver la notice de la presse P200 ?")
        .await?;
    let auto = visitor.expect_message(|m| m["author"] == "system").await?;
    let text = auto["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("espace client"),
        "the answer is in the acknowledgement: {text}"
    );
    // The check comes as its own question, with the two quick answers.
    let check = visitor.expect_message(|m| m["choices"].is_array()).await?;
    assert_eq!(check["text"], "Cela a-t-il résolu votre problème ?", "{check}");
    assert_eq!(check["choices"][0]["id"], "feedback:solved");
    assert_eq!(check["choices"][1]["id"], "feedback:not_solved");

    // Still queued for a human, with the match explained.
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let id = ticket_id(&ack["conversation"]);
    let detail = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    assert_eq!(detail["verdict"]["faq"]["id"], "manual");
    assert_eq!(detail["conversation"]["status"], "open");
    assert_eq!(detail["conversation"]["queue"], "n1");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_agent_reply_with_a_photo_reaches_the_visitor_who_can_open_it() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    let token = visitor.token.clone().unwrap_or_default();
    let ack = visitor.message("p1", "Où est le fusible F3 ?").await?;
    let id = ticket_id(&ack["conversation"]);
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let image = b"\x89PNG schema".to_vec();
    let upload: Value = agent
        .http
        .post(format!("{}/api/v1/uploads?name=schema.png", app.base()))
        .header("x-csrf-token", &agent.csrf)
        .header("content-type", "image/png")
        .body(image.clone())
        .send()
        .await?
        .json()
        .await?;
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "Ici, en haut à gauche", "attachments": [upload["upload_id"]]}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let pushed = visitor.expect_message(|m| m["author"] == "agent").await?;
    let url = pushed["attachments"][0]["url"].as_str().unwrap_or_default().to_string();
    assert_eq!(pushed["attachments"][0]["content_type"], "image/png");
    // The link is signed for this file and short-lived; the token is not in it.
    assert!(url.contains("sig=") && !url.contains(&token), "{url}");
    let bytes = reqwest::get(format!("{}{url}", app.base())).await?.bytes().await?;
    assert_eq!(bytes.as_ref(), image.as_slice());
    app.stop().await;
    Ok(())
}
