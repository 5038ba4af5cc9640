//! WhatsApp end to end: signed webhooks into the real gateway, a local Graph
//! API stand-in for everything the gateway calls out to.

use std::time::Duration;

use e2e::graph_stub::{GraphStub, TOKEN};
use e2e::wa::{
    CUSTOMER, PNID, SECRET, customer_writes, msg, notification, now_secs, post, settled, sign, signed, start,
    start_on_postgres, wa_config, whatsapp_conversation,
};
use e2e::{ADMIN_PASSWORD, AgentClient, ChildServer, spawn_app_with};
use gateway::clock::Clock;
use gateway::config::WhatsappTemplate;
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_e2e-switchyard");

fn receipt(id: &str, status: &str, errors: Option<Value>) -> Value {
    let mut s = json!({"id": id, "status": status, "timestamp": now_secs().to_string(), "recipient_id": CUSTOMER});
    if let Some(e) = errors {
        s["errors"] = e;
    }
    s
}

/// Polls until `pred` holds on the conversation (bounded: 10 s).
async fn eventually(agent: &AgentClient, what: &str, pred: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
    for _ in 0..200 {
        let c = whatsapp_conversation(agent).await?;
        if pred(&c) {
            return Ok(c);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("never happened: {what}\n{}", whatsapp_conversation(agent).await?)
}

/// The first request sent to the Graph API that `pred` accepts (bounded: 10 s).
async fn sent_where(stub: &GraphStub, pred: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        if let Some(found) = stub.sends().into_iter().find(|s| pred(s)) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Value::Null
}

/// The message of a conversation view with this WhatsApp id (Null when absent).
fn message_by(c: &Value, wamid: &str) -> Value {
    c["messages"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["external_id"] == wamid).cloned())
        .unwrap_or_default()
}

fn delivery_of(c: &Value, body: &str) -> Option<String> {
    c["messages"]
        .as_array()?
        .iter()
        .find(|m| m["body"] == body)
        .and_then(|m| m["delivery_status"].as_str())
        .map(str::to_string)
}

#[tokio::test]
async fn the_verification_handshake_echoes_the_challenge_only_for_our_token() -> anyhow::Result<()> {
    let (app, _stub, _agent, _dir) = start().await?;
    let http = reqwest::Client::new();
    let ok = http
        .get(format!(
            "{}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444",
            app.base()
        ))
        .send()
        .await?;
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.text().await?, "1158201444");
    let bad = http
        .get(format!(
            "{}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1",
            app.base()
        ))
        .send()
        .await?;
    assert_eq!(bad.status().as_u16(), 403);
    let (_, readiness) = e2e::readiness(&app.base()).await?;
    assert_eq!(readiness["media_worker"], true, "{readiness}");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn only_correctly_signed_raw_bodies_are_accepted() -> anyhow::Result<()> {
    let (app, _stub, agent, _dir) = start().await?;
    // Escaped unicode as Meta sends it; a re-serialised body has other bytes and another signature.
    let raw = format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"1","phone_number_id":"{PNID}"}},"contacts":[{{"profile":{{"name":"J"}},"wa_id":"{CUSTOMER}"}}],"messages":[{{"from":"{CUSTOMER}","id":"wamid.sig","timestamp":"{}","type":"text","text":{{"body":"ligne arr\u00eat\u00e9e"}}}}]}}}}]}}]}}"#,
        now_secs()
    );
    let reserialised = serde_json::to_vec(&serde_json::from_str::<Value>(&raw)?)?;
    assert_ne!(raw.as_bytes(), reserialised.as_slice());
    assert_eq!(post(&app.base(), raw.as_bytes(), None).await?, 401, "missing");
    assert_eq!(
        post(&app.base(), raw.as_bytes(), Some(sign(b"something else"))).await?,
        401,
        "bad"
    );
    assert_eq!(
        post(&app.base(), raw.as_bytes(), Some("sha256=nothex".into())).await?,
        401,
        "malformed"
    );
    assert_eq!(
        post(&app.base(), &reserialised, Some(sign(raw.as_bytes()))).await?,
        401,
        "re-serialised"
    );
    let list = agent.ok("/api/v1/conversations").await?;
    assert_eq!(list["conversations"], json!([]), "nothing stored for refused bodies");
    assert_eq!(
        post(&app.base(), raw.as_bytes(), Some(sign(raw.as_bytes()))).await?,
        200
    );
    let c = whatsapp_conversation(&agent).await?;
    assert_eq!(c["messages"][0]["body"], "ligne arrêtée");
    assert_eq!(c["verdict"]["priority"], "critical");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn every_inbound_shape_is_stored_and_a_redelivery_stores_nothing_twice() -> anyhow::Result<()> {
    let (app, stub, agent, _dir) = start().await?;
    let jpeg = b"\xff\xd8\xff\xe0 fake jpeg bytes".to_vec();
    let ogg = b"OggS fake voice note".to_vec();
    let pdf = b"%PDF-1.4 fake".to_vec();
    let sha_jpeg = stub.add_media("media-img", "image/jpeg", &jpeg);
    stub.add_media("media-voice", "audio/ogg", &ogg);
    stub.add_media("media-pdf", "application/pdf", &pdf);
    let mut reply_ctx = msg("wamid.ctx", "text", json!({"body": "oui c'est ça"}));
    reply_ctx["context"] = json!({"from": "33186950001", "id": "wamid.unknown"});
    let mut unsupported = msg("wamid.poll", "unsupported", json!({"type": "poll_creation"}));
    unsupported["errors"] =
        json!([{"code": 131051, "title": "Message type unknown", "error_data": {"details": "not supported"}}]);
    let body = notification(
        vec![
            msg("wamid.text", "text", json!({"body": "Ligne L3 à l'arrêt, code E-217"})),
            msg(
                "wamid.img",
                "image",
                json!({"id": "media-img", "mime_type": "image/jpeg", "sha256": sha_jpeg, "caption": "écran HMI"}),
            ),
            msg(
                "wamid.voice",
                "audio",
                json!({"id": "media-voice", "mime_type": "audio/ogg", "voice": true}),
            ),
            msg(
                "wamid.pdf",
                "document",
                json!({"id": "media-pdf", "mime_type": "application/pdf", "filename": "journal.pdf"}),
            ),
            msg(
                "wamid.loc",
                "location",
                json!({"latitude": 45.764, "longitude": 4.8357, "name": "Usine"}),
            ),
            msg(
                "wamid.vcard",
                "contacts",
                json!([{"name": {"formatted_name": "Paul"}, "phones": [{"phone": "+33 6 11"}]}]),
            ),
            msg(
                "wamid.btn",
                "interactive",
                json!({"type": "button_reply", "button_reply": {"id": "cb", "title": "Rappelez-moi"}}),
            ),
            msg("wamid.tpl", "button", json!({"text": "Oui", "payload": "yes"})),
            reply_ctx,
            unsupported,
            msg(
                "wamid.react",
                "reaction",
                json!({"message_id": "wamid.text", "emoji": "👍"}),
            ),
        ],
        vec![],
    );
    assert_eq!(signed(&app.base(), &body).await?, 200);
    let value_errors =
        json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
        "value": {"metadata": {"phone_number_id": PNID}, "errors": [{"code": 130429, "title": "Rate limit hit",
        "error_data": {"details": "too many messages"}}]}}]}]})
        .to_string()
        .into_bytes();
    assert_eq!(signed(&app.base(), &value_errors).await?, 200);

    let c = eventually(&agent, "three media downloaded", |c| {
        c["attachments"]
            .as_array()
            .is_some_and(|a| a.len() == 3 && a.iter().all(|a| a["download_status"] == "done"))
    })
    .await?;
    let bodies: Vec<&str> = c["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["direction"] == "in")
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert_eq!(bodies.len(), 10, "{bodies:?}");
    assert!(bodies.contains(&"écran HMI"));
    assert!(bodies.contains(&"🎤"));
    assert!(bodies.iter().any(|b| b.contains("openstreetmap.org/?mlat=45.764000")));
    assert!(bodies.contains(&"Rappelez-moi"));
    assert!(
        bodies
            .iter()
            .any(|b| b.starts_with("[unsupported WhatsApp message: poll_creation] 131051"))
    );
    assert_eq!(c["conversation"]["customer_name"], "Jean-Luc Martin");
    assert_eq!(c["conversation"]["customer_phone"], "+33612345678");
    assert_eq!(c["conversation"]["priority"], "critical");
    assert_eq!(c["verdict"]["priority"], "critical", "the deciding verdict is shown");
    assert_eq!(c["verdict"]["fields"]["fault_codes"], json!(["E217"]));
    assert_eq!(
        c["reactions"],
        json!([{"target_external_id": "wamid.text", "sender": CUSTOMER, "emoji": "👍"}])
    );

    // The agent opens the files, and the gateway marked the chat as read.
    let image = c["attachments"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["content_type"] == "image/jpeg"))
        .cloned()
        .unwrap_or_default();
    let bytes = agent
        .http
        .get(format!(
            "{}/api/v1/conversations/{}/attachments/{}",
            app.base(),
            c["conversation"]["id"],
            image["id"]
        ))
        .send()
        .await?
        .bytes()
        .await?;
    assert_eq!(bytes.as_ref(), jpeg.as_slice());
    assert!(
        stub.requests().iter().all(|r| r.authorized),
        "every Graph call carries the bearer token"
    );
    // Opened again and again: one read receipt for the newest customer message.
    for _ in 0..3 {
        whatsapp_conversation(&agent).await?;
    }
    let reads = || {
        stub.requests()
            .iter()
            .filter(|r| r.body["status"] == "read" && r.body["message_id"] == "wamid.poll")
            .count()
    };
    for _ in 0..200 {
        if reads() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(reads(), 1, "one read receipt however often the conversation is opened");

    let errors = agent.ok("/api/v1/admin/channel-errors").await?;
    assert_eq!(errors["errors"][0]["code"], 130429);

    // Meta redelivers: 200 again, nothing new. Removing the reaction works.
    assert_eq!(signed(&app.base(), &body).await?, 200);
    let removal = notification(
        vec![msg(
            "wamid.react2",
            "reaction",
            json!({"message_id": "wamid.text", "emoji": ""}),
        )],
        vec![],
    );
    assert_eq!(signed(&app.base(), &removal).await?, 200);
    let again = whatsapp_conversation(&agent).await?;
    assert_eq!(
        again["messages"].as_array().map(Vec::len),
        c["messages"].as_array().map(Vec::len)
    );
    assert_eq!(again["attachments"].as_array().map(Vec::len), Some(3));
    assert_eq!(again["reactions"], json!([]));
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn replies_are_sent_and_receipts_only_move_forward() -> anyhow::Result<()> {
    let (app, stub, agent, _dir) = start().await?;
    signed(
        &app.base(),
        &notification(
            vec![msg("wamid.in1", "text", json!({"body": "Bonjour, une question"}))],
            vec![],
        ),
    )
    .await?;
    let c = whatsapp_conversation(&agent).await?;
    let id = c["conversation"]["id"].clone();
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "Voici la réponse"}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    eventually(&agent, "reply sent", |c| {
        delivery_of(c, "Voici la réponse").as_deref() == Some("sent")
    })
    .await?;
    let sent = stub.sends();
    let reply = sent
        .iter()
        .find(|s| s["text"]["body"] == "Voici la réponse")
        .cloned()
        .unwrap_or_default();
    assert_eq!(reply["to"], CUSTOMER);
    assert_eq!(reply["type"], "text");
    let wamid = format!("wamid.out.{}", sent.len());

    // Each receipt is processed before `signed` returns: "read" moves the
    // message forward, and "delivered" arriving late (never seen before, so
    // not a duplicate) does not move it back.
    for (status, expected) in [("read", "read"), ("delivered", "read")] {
        assert_eq!(
            signed(&app.base(), &notification(vec![], vec![receipt(&wamid, status, None)])).await?,
            200
        );
        let c = whatsapp_conversation(&agent).await?;
        assert_eq!(
            delivery_of(&c, "Voici la réponse").as_deref(),
            Some(expected),
            "after a {status:?} receipt"
        );
    }

    // Buttons, and a failure reported later by a status.
    let (status_code, _) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "Problème résolu ?", "buttons": [{"id": "y", "title": "Oui"}, {"id": "n", "title": "Non"}]}),
        )
        .await?;
    assert_eq!(status_code, 200);
    eventually(&agent, "buttons sent", |c| {
        delivery_of(c, "Problème résolu ?").as_deref() == Some("sent")
    })
    .await?;
    let buttons = stub.sends().last().cloned().unwrap_or_default();
    assert_eq!(buttons["interactive"]["action"]["buttons"][1]["reply"]["title"], "Non");
    let wamid2 = format!("wamid.out.{}", stub.sends().len());
    let failure = json!([{"code": 131026, "title": "Message undeliverable", "error_data": {"details": "recipient not on WhatsApp"}}]);
    signed(
        &app.base(),
        &notification(vec![], vec![receipt(&wamid2, "failed", Some(failure))]),
    )
    .await?;
    let c = whatsapp_conversation(&agent).await?;
    let failed = c["messages"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["body"] == "Problème résolu ?"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(failed["delivery_status"], "failed");
    assert!(
        failed["delivery_error"]
            .as_str()
            .is_some_and(|e| e.contains("131026") && e.contains("recipient not on WhatsApp")),
        "{failed}"
    );

    let (code, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "x".repeat(4097)}),
        )
        .await?;
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["error"]["code"], "text_too_long");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn outside_the_24_hour_window_only_a_template_goes() -> anyhow::Result<()> {
    let (app, stub, agent, _dir) = start().await?;
    let mut old = msg("wamid.old", "text", json!({"body": "Bonjour, une question"}));
    old["timestamp"] = json!((now_secs() - 25 * 3600).to_string());
    signed(&app.base(), &notification(vec![old], vec![])).await?;
    let c = whatsapp_conversation(&agent).await?;
    assert_eq!(c["whatsapp"]["window_open"], false);
    let id = c["conversation"]["id"].clone();
    let (status, body) = agent
        .post(&format!("/api/v1/conversations/{id}/reply"), json!({"text": "Bonjour"}))
        .await?;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"].as_str().is_some_and(|m| m.contains("24-hour")),
        "{body}"
    );

    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/template"),
            json!({"name": "sav_followup", "parameters": []}),
        )
        .await?;
    assert_eq!(status, 400, "{body}");
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/template"),
            json!({"name": "sav_followup", "parameters": ["Jean-Luc"]}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    eventually(&agent, "template sent", |c| {
        delivery_of(c, "Bonjour Jean-Luc, nous revenons vers vous.").as_deref() == Some("sent")
    })
    .await?;
    let sent = stub.sends().last().cloned().unwrap_or_default();
    assert_eq!(sent["type"], "template");
    assert_eq!(sent["template"]["name"], "sav_followup");
    assert_eq!(sent["template"]["language"]["code"], "fr");
    assert_eq!(sent["template"]["components"][0]["parameters"][0]["text"], "Jean-Luc");

    // Inside the window (the customer wrote now), with the warning when it is about to close.
    signed(
        &app.base(),
        &notification(vec![msg("wamid.new", "text", json!({"body": "Merci"}))], vec![]),
    )
    .await?;
    let c = whatsapp_conversation(&agent).await?;
    assert_eq!(c["whatsapp"]["window_open"], true);
    assert_eq!(c["whatsapp"]["window_closing_soon"], false);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn graph_errors_are_classified_transient_or_permanent() -> anyhow::Result<()> {
    let (app, stub, agent, _dir) = start().await?;
    signed(
        &app.base(),
        &notification(
            vec![msg("wamid.q", "text", json!({"body": "Bonjour, une question"}))],
            vec![],
        ),
    )
    .await?;
    let c = whatsapp_conversation(&agent).await?;
    let id = c["conversation"]["id"].clone();
    eventually(&agent, "acknowledgement sent", |c| {
        c["messages"].as_array().is_some_and(|m| {
            m.iter()
                .any(|m| m["author_kind"] == "system" && m["delivery_status"] == "sent")
        })
    })
    .await?;

    stub.fail_next_send(400, 130429, "Rate limit hit");
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "réponse A"}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    eventually(&agent, "A retried then sent", |c| {
        delivery_of(c, "réponse A").as_deref() == Some("sent")
    })
    .await?;
    let c = whatsapp_conversation(&agent).await?;
    let a = c["messages"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["body"] == "réponse A"))
        .cloned()
        .unwrap_or_default();
    assert!(
        a["delivery_error"].as_str().is_some_and(|e| e.contains("130429")),
        "the transient error is remembered: {a}"
    );

    stub.fail_next_send(400, 131026, "Message undeliverable");
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "réponse B"}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    eventually(&agent, "B failed", |c| {
        delivery_of(c, "réponse B").as_deref() == Some("failed")
    })
    .await?;

    stub.fail_next_send(400, 131047, "Re-engagement message");
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "réponse C"}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let c = eventually(&agent, "C failed", |c| {
        delivery_of(c, "réponse C").as_deref() == Some("failed")
    })
    .await?;
    let cmsg = c["messages"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["body"] == "réponse C"))
        .cloned()
        .unwrap_or_default();
    assert!(
        cmsg["delivery_error"].as_str().is_some_and(|e| e.contains("template")),
        "{cmsg}"
    );
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_media_download_that_fails_twice_then_succeeds_is_stored() -> anyhow::Result<()> {
    let (app, stub, agent, _dir) = start().await?;
    let sha = stub.add_media("media-x", "image/png", b"\x89PNG fake");
    stub.fail_downloads(2);
    let body = notification(
        vec![msg(
            "wamid.m",
            "image",
            json!({"id": "media-x", "mime_type": "image/png", "sha256": sha}),
        )],
        vec![],
    );
    assert_eq!(signed(&app.base(), &body).await?, 200);
    let c = eventually(&agent, "downloaded", |c| {
        c["attachments"][0]["download_status"] == "done"
    })
    .await?;
    assert_eq!(c["attachments"][0]["sha256"], json!(sha));
    let downloads = stub.requests().iter().filter(|r| r.path == "/download/media-x").count();
    assert_eq!(downloads, 3, "two failures then a success");
    let asked = stub.requests().iter().filter(|r| r.path == "/media-x").count();
    assert_eq!(asked, 3, "a fresh URL for every attempt");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn media_left_behind_by_a_kill_arrives_after_the_restart() -> anyhow::Result<()> {
    let stub = GraphStub::start().await?;
    let sha = stub.add_media("media-k", "image/jpeg", b"\xff\xd8 kill test");
    stub.fail_downloads(1_000_000);
    let dir = tempfile::tempdir()?;
    let env = vec![
        ("SWITCHYARD__WHATSAPP__ENABLED", "true".to_string()),
        ("SWITCHYARD__WHATSAPP__VERIFY_TOKEN", "verify-me".to_string()),
        ("SWITCHYARD__WHATSAPP__APP_SECRET", SECRET.to_string()),
        ("SWITCHYARD__WHATSAPP__ACCESS_TOKEN", TOKEN.to_string()),
        ("SWITCHYARD__WHATSAPP__GRAPH_URL", stub.url()),
        ("SWITCHYARD__WHATSAPP__MEDIA_RETRY_BASE_MS", "50".to_string()),
    ];
    let mut server = ChildServer::start_with_env(BINARY, dir.path(), &env).await?;
    let body = notification(
        vec![msg(
            "wamid.k",
            "image",
            json!({"id": "media-k", "mime_type": "image/jpeg", "sha256": sha}),
        )],
        vec![],
    );
    assert_eq!(signed(&server.base(), &body).await?, 200);
    server.kill();

    stub.fail_downloads(0);
    let server = ChildServer::start_with_env(BINARY, dir.path(), &env).await?;
    let agent = AgentClient::login(&server.base(), "admin", ADMIN_PASSWORD).await?;
    let c = eventually(&agent, "downloaded after restart", |c| {
        c["attachments"][0]["download_status"] == "done"
    })
    .await?;
    assert_eq!(c["attachments"][0]["sha256"], json!(sha));
    Ok(())
}

#[tokio::test]
async fn an_agent_sends_a_document_which_is_uploaded_then_sent_by_id() -> anyhow::Result<()> {
    let (app, stub, agent, _dir) = start().await?;
    signed(
        &app.base(),
        &notification(
            vec![msg("wamid.doc", "text", json!({"body": "Bonjour, une question"}))],
            vec![],
        ),
    )
    .await?;
    let c = whatsapp_conversation(&agent).await?;
    let id = c["conversation"]["id"].clone();
    let r = agent
        .http
        .post(format!("{}/api/v1/uploads?name=procedure.pdf", app.base()))
        .header("x-csrf-token", &agent.csrf)
        .header("content-type", "application/pdf")
        .body(b"%PDF-1.4 procedure".to_vec())
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 200);
    let upload: Value = r.json().await?;
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "La procédure", "attachments": [upload["upload_id"]]}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    eventually(&agent, "document sent", |c| {
        delivery_of(c, "La procédure").as_deref() == Some("sent")
    })
    .await?;
    let uploads: Vec<_> = stub
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/media"))
        .collect();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].body["multipart"], true);
    assert!(uploads[0].authorized);
    let sent = stub.sends().last().cloned().unwrap_or_default();
    assert_eq!(sent["type"], "document");
    assert!(
        sent["document"]["id"]
            .as_str()
            .is_some_and(|i| i.starts_with("uploaded-")),
        "{sent}"
    );
    assert_eq!(sent["document"]["filename"], "procedure.pdf");
    assert_eq!(sent["document"]["caption"], "La procédure");

    // An upload id that is not this agent's is refused.
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "x", "attachments": ["0123456789abcdef0123456789abcdef"]}),
        )
        .await?;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "unknown_upload");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_full_ingest_queue_answers_503_with_retry_after_and_loses_nothing_acknowledged() -> anyhow::Result<()> {
    let stub = GraphStub::start().await?;
    let dir = tempfile::tempdir()?;
    let mut config = wa_config(dir.path(), &stub);
    config.server.ingest_queue = 1;
    config.store.max_batch = 1;
    let app = spawn_app_with(config, Clock::system()).await?;
    let http = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (http, base) = (http.clone(), app.base());
        tasks.push(tokio::spawn(async move {
            let body = notification(
                vec![msg(
                    &format!("wamid.bp.{i}"),
                    "text",
                    json!({"body": format!("message {i}")}),
                )],
                vec![],
            );
            let r = http
                .post(format!("{base}/webhooks/whatsapp"))
                .header("x-hub-signature-256", sign(&body))
                .body(body)
                .send()
                .await?;
            let retry_after = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            anyhow::Ok((i, r.status().as_u16(), retry_after))
        }));
    }
    let mut accepted = Vec::new();
    let mut busy = 0;
    for t in tasks {
        let (i, status, retry_after) = t.await??;
        match status {
            200 => accepted.push(format!("message {i}")),
            503 => {
                busy += 1;
                assert_eq!(retry_after.as_deref(), Some("1"));
            }
            other => anyhow::bail!("unexpected status {other}"),
        }
    }
    assert!(busy > 0, "60 concurrent POSTs on a queue of 1 must push back");
    settled(&app.base()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let c = whatsapp_conversation(&agent).await?;
    let stored: Vec<String> = c["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["direction"] == "in")
        .filter_map(|m| m["body"].as_str().map(str::to_string))
        .collect();
    for text in &accepted {
        assert!(stored.contains(text), "acknowledged but not stored: {text}");
    }
    assert_eq!(stored.len(), accepted.len(), "only what was acknowledged is stored");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_accepted_notification_survives_a_stop_before_processing() -> anyhow::Result<()> {
    let stub = GraphStub::start().await?;
    let dir = tempfile::tempdir()?;
    let config = wa_config(dir.path(), &stub);
    // A gateway that accepts (the journal writer runs) but is stopped before any processing.
    let gateway = gateway::server::Gateway::start(config.clone(), Clock::system()).await?;
    let journal = gateway
        .state
        .whatsapp
        .as_ref()
        .map(|wa| wa.journal.clone())
        .ok_or_else(|| anyhow::anyhow!("WhatsApp is enabled"))?;
    let body = notification(
        vec![msg(
            "wamid.journal",
            "text",
            json!({"body": "Pompe arrêtée, code E-12"}),
        )],
        vec![],
    );
    journal.append(String::from_utf8(body)?).await?;
    let store = gateway.state.store.clone();
    assert_eq!(
        store.journal_pending_count("whatsapp").await?,
        1,
        "committed before the 200"
    );
    drop(journal);
    drop(gateway);
    store.close().await;

    // The next start processes it; a second round finds nothing and stores nothing twice.
    let gateway = gateway::server::Gateway::start(config, Clock::system()).await?;
    let processor = gateway
        .journal_processor()
        .ok_or_else(|| anyhow::anyhow!("WhatsApp is enabled"))?;
    assert_eq!(processor.process_round().await?, gateway::whatsapp::Round::Processed(1));
    assert_eq!(processor.process_round().await?, gateway::whatsapp::Round::Idle);
    let store = gateway.state.store.clone();
    assert_eq!(store.journal_pending_count("whatsapp").await?, 0);
    let conversations = store
        .conversation_list(&gateway::store::conversations::ListFilter {
            queue: None,
            status: None,
            assignee: None,
            limit: 10,
        })
        .await?;
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0].preview.as_deref(), Some("Pompe arrêtée, code E-12"));
    Ok(())
}

#[tokio::test]
async fn a_full_journal_answers_503_and_stores_nothing() -> anyhow::Result<()> {
    let stub = GraphStub::start().await?;
    let dir = tempfile::tempdir()?;
    let mut config = wa_config(dir.path(), &stub);
    config.whatsapp.max_backlog = 0;
    let app = spawn_app_with(config, Clock::system()).await?;
    let body = notification(vec![msg("wamid.full", "text", json!({"body": "x"}))], vec![]);
    let response = reqwest::Client::new()
        .post(format!("{}/webhooks/whatsapp", app.base()))
        .header("x-hub-signature-256", sign(&body))
        .body(body)
        .send()
        .await?;
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers().get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let list = agent.ok("/api/v1/conversations").await?;
    assert_eq!(list["conversations"], json!([]));
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_journal_works_on_postgres_and_replays_errors_once() -> anyhow::Result<()> {
    let (app, _stub, agent, _dir, db) = start_on_postgres().await?;
    let mut unsupported = msg("wamid.pg.poll", "unsupported", json!({"type": "poll_creation"}));
    unsupported["errors"] = json!([{"code": 131051, "title": "Message type unknown"}]);
    let mut body: Value = serde_json::from_slice(&notification(
        vec![
            msg("wamid.pg", "text", json!({"body": "Compresseur arrêté"})),
            unsupported,
        ],
        vec![],
    ))?;
    // An error about the number itself rides along with the messages.
    body["entry"][0]["changes"][0]["value"]["errors"] =
        json!([{"code": 130429, "title": "Rate limit hit", "error_data": {"details": "too many messages"}}]);
    let body = body.to_string().into_bytes();
    assert_eq!(signed(&app.base(), &body).await?, 200);
    // Meta redelivers the same notification: nothing is stored twice.
    assert_eq!(signed(&app.base(), &body).await?, 200);
    let c = whatsapp_conversation(&agent).await?;
    let incoming = c["messages"]
        .as_array()
        .map(|m| m.iter().filter(|m| m["direction"] == "in").count())
        .unwrap_or_default();
    assert_eq!(incoming, 2, "{c}");
    // The number's error is recorded once, not once per delivery.
    let errors = agent.ok("/api/v1/admin/channel-errors").await?;
    let recorded = errors["errors"]
        .as_array()
        .map(|e| e.iter().filter(|e| e["code"] == 130429).count())
        .unwrap_or_default();
    assert_eq!(recorded, 1, "{errors}");
    app.stop().await;
    db.drop_database().await?;
    Ok(())
}

/// A message PostgreSQL cannot store (a NUL character in its text) in the same
/// round as a good one: the good one is stored, the bad one is tried a few
/// rounds, then set aside with an error for the admin, and the journal drains.
#[tokio::test]
async fn a_message_the_store_refuses_is_set_aside_and_the_others_flow() -> anyhow::Result<()> {
    let (app, _stub, agent, _dir, db) = start_on_postgres().await?;
    let poison = notification(
        vec![msg("wamid.nul", "text", json!({"body": "code E\u{0}17 sur la presse"}))],
        vec![],
    );
    let good = notification(
        vec![msg(
            "wamid.good",
            "text",
            json!({"body": "Compresseur arrêté depuis ce matin"}),
        )],
        vec![],
    );
    // Both accepted before the processor runs, so they share a round and a batch.
    let http = reqwest::Client::new();
    for body in [&poison, &good] {
        let status = http
            .post(format!("{}/webhooks/whatsapp", app.base()))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sign(body))
            .body(body.clone())
            .send()
            .await?
            .status();
        assert_eq!(status, 200);
    }
    settled(&app.base()).await?;
    let c = whatsapp_conversation(&agent).await?;
    assert_eq!(
        message_by(&c, "wamid.good")["body"],
        "Compresseur arrêté depuis ce matin",
        "{c}"
    );
    assert_eq!(message_by(&c, "wamid.nul"), Value::Null, "{c}");
    let errors = agent.ok("/api/v1/admin/channel-errors").await?;
    let aside = errors["errors"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["title"] == "message not stored"))
        .cloned()
        .unwrap_or_default();
    let details = aside["details"].as_str().unwrap_or_default();
    assert!(
        details.contains("wamid.nul")
            && details.contains(&format!("after {} attempts", gateway::whatsapp::MAX_ATTEMPTS)),
        "{errors}"
    );
    // The journal keeps the body for the admin instead of pruning it as done.
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url).await?;
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_journal WHERE status = 'failed'")
        .fetch_one(&mut conn)
        .await?;
    assert_eq!(kept, 1);
    app.stop().await;
    db.drop_database().await?;
    Ok(())
}

/// A notification from a customer known only by business-scoped user id
/// (a username, no phone number in the payload), as Meta sends it since 2026.
fn from_user(bsuid: &str, phone: Option<&str>, name: &str, id: &str, text: &str) -> Vec<u8> {
    let mut contact =
        json!({"profile": {"name": name, "username": format!("@{}", name.to_lowercase())}, "user_id": bsuid});
    let mut m = json!({"from_user_id": bsuid, "id": id, "timestamp": now_secs().to_string(), "type": "text", "text": {"body": text}});
    if let Some(phone) = phone {
        contact["wa_id"] = json!(phone);
        m["from"] = json!(phone);
    }
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "33186950001", "phone_number_id": PNID},
        "contacts": [contact], "messages": [m]}}]}]})
    .to_string()
    .into_bytes()
}

async fn conversation_of(agent: &AgentClient, address: &str) -> anyhow::Result<Vec<Value>> {
    let list = agent.ok("/api/v1/conversations?limit=100").await?;
    Ok(list["conversations"]
        .as_array()
        .map(|c| c.iter().filter(|c| c["customer_address"] == address).cloned().collect())
        .unwrap_or_default())
}

#[tokio::test]
async fn customers_without_a_phone_number_are_kept_apart_answered_by_user_id_and_linked_later() -> anyhow::Result<()> {
    let (app, stub, agent, _dir) = start().await?;
    let base = app.base();
    assert_eq!(
        signed(
            &base,
            &from_user(
                "FR.111",
                None,
                "Alice",
                "wamid.a1",
                "Bonjour, une question sur la notice"
            )
        )
        .await?,
        200
    );
    assert_eq!(
        signed(
            &base,
            &from_user("DE.222", None, "Bernd", "wamid.b1", "Die Presse steht still")
        )
        .await?,
        200
    );
    settled(&base).await?;
    let alice = conversation_of(&agent, "FR.111").await?;
    let bernd = conversation_of(&agent, "DE.222").await?;
    assert_eq!((alice.len(), bernd.len()), (1, 1), "two customers, two conversations");
    assert_eq!(alice[0]["customer_name"], "Alice");
    assert_eq!(bernd[0]["customer_name"], "Bernd");
    assert_ne!(alice[0]["id"], bernd[0]["id"]);

    // A reply to a customer with no known number goes by user id.
    let id = alice[0]["id"].clone();
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "Voici la notice"}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let sent = sent_where(&stub, |s| s["text"]["body"] == "Voici la notice").await;
    assert_eq!(sent["recipient"], "FR.111", "{sent}");
    assert!(sent.get("to").is_none(), "{sent}");

    // Later Alice writes with her number too: same customer, same conversation,
    // and from now on she is answered on her number.
    assert_eq!(
        signed(
            &base,
            &from_user("FR.111", Some("33699887766"), "Alice", "wamid.a2", "Merci !")
        )
        .await?,
        200
    );
    settled(&base).await?;
    let alice_now = conversation_of(&agent, "FR.111").await?;
    assert_eq!(alice_now.len(), 1);
    assert_eq!(alice_now[0]["id"], id);
    assert!(conversation_of(&agent, "33699887766").await?.is_empty());
    let (status, _) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "Avec plaisir"}),
        )
        .await?;
    assert_eq!(status, 200);
    let second = sent_where(&stub, |s| s["text"]["body"] == "Avec plaisir").await;
    assert_eq!(second["to"], "33699887766");

    // A message that names nobody is not a conversation: a channel error.
    let nobody = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "metadata": {"phone_number_id": PNID},
        "messages": [{"id": "wamid.n1", "timestamp": now_secs().to_string(), "type": "text", "text": {"body": "?"}}]}}]}]});
    assert_eq!(signed(&base, nobody.to_string().as_bytes()).await?, 200);
    settled(&base).await?;
    let errors = agent.ok("/api/v1/admin/channel-errors").await?;
    assert!(
        errors.to_string().contains("no phone number and no user id"),
        "{errors}"
    );
    assert!(conversation_of(&agent, "").await?.is_empty());
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_critical_message_from_a_customer_without_a_number_asks_for_one_then_opens_the_callback() -> anyhow::Result<()>
{
    let (app, stub, agent, _dir) = start().await?;
    let base = app.base();
    let text = "Urgent : la ligne de production est à l'arrêt, plus rien ne sort depuis 10 minutes";
    assert_eq!(
        signed(&base, &from_user("FR.333", None, "Chloé", "wamid.c1", text)).await?,
        200
    );
    settled(&base).await?;
    let list = conversation_of(&agent, "FR.333").await?;
    let id = list.first().map(|c| c["id"].clone()).unwrap_or_default();
    let detail = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    assert_eq!(detail["conversation"]["priority"], "critical", "{detail}");
    let kinds: Vec<&str> = detail["escalations"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(!kinds.contains(&"callback"), "no callback without a number: {kinds:?}");
    assert!(kinds.contains(&"number_request"), "{kinds:?}");
    // The question reaches the customer, by user id.
    let asked = sent_where(&stub, |s| {
        s["text"]["body"]
            .as_str()
            .is_some_and(|b| b.contains("numéro de téléphone"))
    })
    .await;
    assert_eq!(asked["recipient"], "FR.333");

    // The number comes: the callback opens with it.
    let answer = from_user(
        "FR.333",
        None,
        "Chloé",
        "wamid.c2",
        "Oui, appelez-moi au +33 6 12 34 56 78",
    );
    assert_eq!(signed(&base, &answer).await?, 200);
    settled(&base).await?;
    let detail = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    let callback = detail["escalations"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["kind"] == "callback").cloned())
        .unwrap_or_default();
    assert_eq!(callback["status"], "open", "{detail}");
    assert!(
        callback["phone"]
            .as_str()
            .is_some_and(|p| p.replace(' ', "").contains("612345678")),
        "{callback}"
    );
    let request = detail["escalations"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["kind"] == "number_request").cloned())
        .unwrap_or_default();
    assert_eq!(request["status"], "done");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn edits_deletions_forms_and_other_fields_change_what_the_inbox_shows() -> anyhow::Result<()> {
    let (app, _stub, agent, _dir) = start().await?;
    let base = app.base();
    customer_writes(&base, "wamid.e1", "Code E-217 sur la ligne 3").await?;
    customer_writes(&base, "wamid.e2", "Mon mot de passe est 1234").await?;
    // The customer corrects the first message and deletes the second (Meta's edit and revoke shapes).
    let edit = msg(
        "wamid.e3",
        "edit",
        json!({"original_message_id": "wamid.e1", "message": {"type": "text", "text": {"body": "Code E-271 sur la ligne 3"}}}),
    );
    let revoke = msg("wamid.e4", "revoke", json!({"original_message_id": "wamid.e2"}));
    signed(&base, &notification(vec![edit.clone(), revoke], vec![])).await?;
    // A redelivery of the edit changes nothing twice.
    signed(&base, &notification(vec![edit], vec![])).await?;
    // A WhatsApp Flows answer, and a webhook field the gateway records without acting on it.
    let flow = msg(
        "wamid.e5",
        "interactive",
        json!({"type": "nfm_reply", "nfm_reply": {"name": "intervention", "body": "Sent",
               "response_json": "{\"machine\":\"P200\",\"serial\":\"SN-4471\",\"flow_token\":\"t\"}"}}),
    );
    signed(&base, &notification(vec![flow], vec![])).await?;
    let other = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "user_preferences",
        "value": {"metadata": {"phone_number_id": PNID}, "user_preferences": [{"wa_id": CUSTOMER, "category": "marketing_messages", "value": "stop"}]}}]}]});
    signed(&base, other.to_string().as_bytes()).await?;
    settled(&base).await?;

    let c = whatsapp_conversation(&agent).await?;
    let messages = c["messages"].as_array().cloned().unwrap_or_default();
    let by_id = |wamid: &str| {
        messages
            .iter()
            .find(|m| m["external_id"] == wamid)
            .cloned()
            .unwrap_or_default()
    };
    let edited = by_id("wamid.e1");
    assert_eq!(edited["body"], "Code E-271 sur la ligne 3");
    assert!(edited["edited_at"].as_i64().is_some(), "{edited}");
    let id = c["conversation"]["id"].clone();
    let versions = agent
        .ok(&format!(
            "/api/v1/conversations/{id}/messages/{}/versions",
            edited["id"]
        ))
        .await?;
    assert_eq!(versions["versions"].as_array().map(Vec::len), Some(1), "{versions}");
    assert_eq!(versions["versions"][0]["body"], "Code E-217 sur la ligne 3");
    let deleted = by_id("wamid.e2");
    assert!(deleted["deleted_at"].as_i64().is_some(), "{deleted}");
    assert_eq!(
        deleted["body"], "Mon mot de passe est 1234",
        "supervisors (admin) still read it"
    );
    assert!(
        messages
            .iter()
            .all(|m| m["external_id"] != "wamid.e3" && m["external_id"] != "wamid.e4")
    );
    let form = by_id("wamid.e5");
    let text = form["body"].as_str().unwrap_or_default();
    assert!(
        text.contains("machine: P200") && text.contains("serial: SN-4471") && !text.contains("flow_token"),
        "{text}"
    );

    // A plain agent does not see what the customer deleted.
    let (status, body) = agent
        .post(
            "/api/v1/agents",
            json!({"username": "paul", "display_name": "Paul", "password": "paul-password-1"}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let paul = AgentClient::login(&base, "paul", "paul-password-1").await?;
    let seen = paul.ok(&format!("/api/v1/conversations/{id}")).await?;
    assert_eq!(message_by(&seen, "wamid.e2")["body"], "");

    // The other field is information, not an error.
    let errors = agent.ok("/api/v1/admin/channel-errors").await?;
    let info = errors["errors"]
        .as_array()
        .and_then(|e| {
            e.iter()
                .find(|e| e["title"].as_str().is_some_and(|t| t.contains("user_preferences")))
                .cloned()
        })
        .unwrap_or_default();
    assert_eq!(info["kind"], "info", "{errors}");

    // Past its retention the deleted text is erased for everyone.
    let later = app.state.clock.now_ms() + 31 * 86_400_000;
    let retention = app.state.config.whatsapp.deleted_text_retention_days;
    let erased = app
        .state
        .store
        .whatsapp_forget_deleted(later - i64::try_from(retention)? * 86_400_000)
        .await?;
    assert_eq!(erased, 1);
    let after = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    assert_eq!(message_by(&after, "wamid.e2")["body"], "");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn what_the_business_writes_from_the_business_app_joins_the_conversation_as_an_answer() -> anyhow::Result<()> {
    let (app, _stub, agent, _dir) = start().await?;
    let base = app.base();
    customer_writes(&base, "wamid.q1", "Où est la notice de la P200 ?").await?;
    settled(&base).await?;
    let before = whatsapp_conversation(&agent).await?;
    assert!(before["conversation"]["first_response_at"].is_null(), "{before}");
    let echo = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "smb_message_echoes", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "33186950001", "phone_number_id": PNID},
        "message_echoes": [{"from": "33186950001", "to": CUSTOMER, "id": "wamid.echo1",
                            "timestamp": now_secs().to_string(), "type": "text", "text": {"body": "Je vous l'envoie tout de suite"}}]}}]}]});
    assert_eq!(signed(&base, echo.to_string().as_bytes()).await?, 200);
    assert_eq!(signed(&base, echo.to_string().as_bytes()).await?, 200, "a redelivery");
    settled(&base).await?;
    let after = whatsapp_conversation(&agent).await?;
    let echoes: Vec<Value> = after["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|m| m["external_id"] == "wamid.echo1")
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(echoes.len(), 1, "stored once: {after}");
    assert_eq!(echoes[0]["direction"], "out");
    assert_eq!(echoes[0]["author_name"], "WhatsApp Business app");
    assert_eq!(echoes[0]["body"], "Je vous l'envoie tout de suite");
    assert!(
        after["conversation"]["first_response_at"].as_i64().is_some(),
        "it counts as the answer"
    );
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn paused_templates_and_marketing_to_customers_who_stopped_it_are_refused() -> anyhow::Result<()> {
    let (app, stub, agent, _dir) = start().await?;
    let base = app.base();
    customer_writes(&base, "wamid.t1", "Bonjour").await?;
    // Meta pauses the follow-up template (quality), and the customer stops marketing messages.
    let events = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "message_template_status_update", "value": {"event": "PAUSED", "message_template_id": 1,
            "message_template_name": "sav_followup", "message_template_language": "fr", "reason": "LOW_QUALITY"}},
        {"field": "user_preferences", "value": {"metadata": {"phone_number_id": PNID},
            "user_preferences": [{"wa_id": CUSTOMER, "detail": "User requested to stop marketing messages",
                                  "category": "marketing_messages", "value": "stop", "timestamp": now_secs()}]}}]}]});
    assert_eq!(signed(&base, events.to_string().as_bytes()).await?, 200);
    settled(&base).await?;
    let c = whatsapp_conversation(&agent).await?;
    let id = c["conversation"]["id"].clone();
    let sends_before = stub.sends().len();
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/template"),
            json!({"name": "sav_followup", "parameters": ["Jean-Luc"]}),
        )
        .await?;
    assert_eq!(status, 409, "{body}");
    assert!(
        body.to_string().contains("paused") && body.to_string().contains("LOW_QUALITY"),
        "{body}"
    );
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/template"),
            json!({"name": "maintenance_offer", "parameters": []}),
        )
        .await?;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("stopped marketing"), "{body}");
    assert_eq!(stub.sends().len(), sends_before, "nothing was sent");

    // Meta approves it again: it goes.
    let approved = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "message_template_status_update", "value": {"event": "APPROVED",
            "message_template_name": "sav_followup", "message_template_language": "fr", "reason": "NONE"}}]}]});
    signed(&base, approved.to_string().as_bytes()).await?;
    settled(&base).await?;
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/template"),
            json!({"name": "sav_followup", "parameters": ["Jean-Luc"]}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn calls_account_bans_and_the_customers_identity_reach_the_inbox() -> anyhow::Result<()> {
    let stub = GraphStub::start().await?;
    let supervisors = e2e::webhook::WebhookReceiver::start().await?;
    let dir = tempfile::tempdir()?;
    let mut config = wa_config(dir.path(), &stub);
    config.sla.supervisor_webhook = supervisors.url.clone();
    let app = spawn_app_with(config, Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let base = app.base();
    signed(
        &base,
        &from_user("FR.444", Some(CUSTOMER), "Jean-Luc", "wamid.k1", "Bonjour"),
    )
    .await?;
    let calls = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "calls", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": PNID},
        "calls": [{"id": "wacid.1", "from": CUSTOMER, "to": "33186950001", "event": "terminate", "direction": "USER_INITIATED",
                   "timestamp": now_secs().to_string(), "status": "COMPLETED", "duration": 192}]}}]}]});
    signed(&base, calls.to_string().as_bytes()).await?;
    signed(&base, calls.to_string().as_bytes()).await?;
    // Watching live: the admin, and an agent without supervisor rights.
    agent.create_agent("marie", "Marie", "a-long-password", "agent").await?;
    let marie = AgentClient::login(&base, "marie", "a-long-password").await?;
    let mut admin_live = agent.events().await?;
    let mut agent_live = marie.events().await?;
    let ban = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "account_update",
        "value": {"event": "ACCOUNT_VIOLATION", "violation_info": {"violation_type": "SCAM"}}}]}]});
    signed(&base, ban.to_string().as_bytes()).await?;
    settled(&base).await?;
    let alert = e2e::next_event(&mut admin_live, &["channel_alert"]).await?;
    assert_eq!(alert["channel"], "whatsapp");
    assert_eq!(alert["title"], "account_update: ACCOUNT_VIOLATION");
    // And to the supervisor webhook, once, whatever the redeliveries.
    signed(&base, ban.to_string().as_bytes()).await?;
    let posted = supervisors
        .wait_for("the account alert", |b| b["event"] == "channel_alert")
        .await?;
    assert_eq!(posted["title"], "account_update: ACCOUNT_VIOLATION");
    assert!(
        posted["details"].as_str().is_some_and(|d| d.contains("SCAM")),
        "{posted}"
    );
    // The agent's socket goes on with conversation events, and never had the alert before them.
    signed(
        &base,
        &from_user("FR.444", Some(CUSTOMER), "Jean-Luc", "wamid.k2", "Toujours là ?"),
    )
    .await?;
    let next = e2e::next_event(&mut agent_live, &["channel_alert", "message_added"]).await?;
    assert_eq!(
        next["type"], "message_added",
        "agents do not get account alerts: {next}"
    );
    assert_eq!(
        supervisors
            .received()
            .iter()
            .filter(|b| b["event"] == "channel_alert")
            .count(),
        1,
        "a redelivered body alerts once"
    );

    let c = whatsapp_conversation(&agent).await?;
    let notes: Vec<&Value> = c["messages"]
        .as_array()
        .map(|m| m.iter().filter(|m| m["author_name"] == "WhatsApp call").collect())
        .unwrap_or_default();
    assert_eq!(notes.len(), 1, "{c}");
    assert_eq!(notes[0]["direction"], "note");
    assert!(
        notes[0]["body"]
            .as_str()
            .is_some_and(|b| b.contains("completed, 3 min 12 s")),
        "{}",
        notes[0]
    );
    // In the escalation panel: one call, its outcome and length, whatever the replays.
    let calls = c["calls"].as_array().cloned().unwrap_or_default();
    assert_eq!(calls.len(), 1, "{}", c["calls"]);
    assert_eq!(calls[0]["call_id"], "wacid.1");
    assert_eq!(calls[0]["direction"], "from_customer");
    assert_eq!(calls[0]["status"], "completed");
    assert_eq!(calls[0]["duration_secs"], 192);
    let who = &c["whatsapp"]["customer"];
    assert_eq!(who["bsuid"], "FR.444", "{who}");
    assert_eq!(who["username"], "@jean-luc");
    assert_eq!(who["phone"], CUSTOMER);

    let errors = agent.ok("/api/v1/admin/channel-errors").await?;
    let violation = errors["errors"]
        .as_array()
        .and_then(|e| {
            e.iter()
                .find(|e| e["title"] == "account_update: ACCOUNT_VIOLATION")
                .cloned()
        })
        .unwrap_or_default();
    assert_eq!(violation["kind"], "error", "an admin must act: {errors}");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_customer_who_changes_number_keeps_their_conversation_and_is_answered_on_the_new_one() -> anyhow::Result<()> {
    let (app, stub, agent, _dir) = start().await?;
    let base = app.base();
    customer_writes(&base, "wamid.n1", "Bonjour").await?;
    let change = msg(
        "wamid.n2",
        "system",
        json!({"body": "User Jean-Luc changed from 33612345678 to 33611112222", "wa_id": "33611112222",
               "type": "user_changed_number"}),
    );
    signed(&base, &notification(vec![change], vec![])).await?;
    let mut from_new = msg("wamid.n3", "text", json!({"body": "C'est mon nouveau numéro"}));
    from_new["from"] = json!("33611112222");
    signed(&base, &notification(vec![from_new], vec![])).await?;
    settled(&base).await?;
    let list = agent.ok("/api/v1/conversations?limit=100").await?;
    let whatsapp: Vec<&Value> = list["conversations"]
        .as_array()
        .map(|c| c.iter().filter(|c| c["channel"] == "whatsapp").collect())
        .unwrap_or_default();
    assert_eq!(whatsapp.len(), 1, "one customer, one conversation: {list}");
    let id = whatsapp[0]["id"].clone();
    let (status, _) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "Bien noté"}),
        )
        .await?;
    assert_eq!(status, 200);
    let sent = sent_where(&stub, |s| s["text"]["body"] == "Bien noté").await;
    assert_eq!(sent["to"], "33611112222", "{sent}");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_photo_and_a_fault_code_become_a_validated_pdf_report_sent_as_a_document() -> anyhow::Result<()> {
    let (app, stub, agent, _dir) = start().await?;
    let sha = stub.add_media("media-e17", "image/jpeg", b"\xff\xd8\xff\xe0 photo of the E17 screen");
    signed(
        &app.base(),
        &notification(
            vec![
                msg(
                    "wamid.r1",
                    "text",
                    json!({"body": "Presse P200 arrêtée sur la ligne 2, code E17 affiché"}),
                ),
                msg(
                    "wamid.r2",
                    "image",
                    json!({"id": "media-e17", "mime_type": "image/jpeg", "sha256": sha, "caption": "écran défaut"}),
                ),
            ],
            vec![],
        ),
    )
    .await?;
    let c = whatsapp_conversation(&agent).await?;
    let id = c["conversation"]["id"].as_i64().unwrap_or_default();
    let ticket = format!("SY-{id}");
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "Vérifiez le capteur de porte 3, nous vous rappelons."}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");

    // Proposed from the thread: the fault code, the photo, the people, the customer's words.
    let proposed = agent.ok(&format!("/api/v1/conversations/{id}/report")).await?;
    let report = &proposed["report"];
    assert_eq!(report["status"], "proposed");
    assert_eq!(report["version"], 0);
    let content = &report["content"];
    assert_eq!(content["language"], "fr");
    assert_eq!(content["fault_codes"], json!(["E17"]));
    assert_eq!(content["photos"].as_array().map(Vec::len), Some(1), "{content}");
    assert!(content["symptom"].as_str().is_some_and(|s| s.contains("code E17")));
    assert!(
        content["actions"]
            .as_str()
            .is_some_and(|s| s.contains("capteur de porte 3"))
    );
    assert!(
        content["people"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p == "Administrator"))
    );
    assert!(
        content["diagnosis"]
            .as_str()
            .is_some_and(|d| d.starts_with("Classé critical"))
    );

    // The expert corrects it and saves a draft; validating needs a result.
    let mut edited = content.clone();
    edited["diagnosis"] = json!("Capteur de porte 3 défectueux : la sécurité coupait le cycle.");
    edited["actions"] = json!("Capteur remplacé par le technicien du site, guidé en vidéo.");
    edited["result"] = json!("");
    edited["recommendations"] = json!("Contrôler les capteurs de porte tous les six mois.");
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/report/validate"),
            json!({"content": edited, "version": 0}),
        )
        .await?;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad_report")),
        "{body}"
    );
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/report"),
            json!({"content": edited, "version": 0}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["report"]["version"].as_i64(), body["report"]["status"].as_str()),
        (Some(1), Some("draft"))
    );
    // A save based on an older version is refused, not lost in silence.
    let (status, _) = agent
        .post(
            &format!("/api/v1/conversations/{id}/report"),
            json!({"content": edited, "version": 0}),
        )
        .await?;
    assert_eq!(status, 409);
    edited["result"] = json!("Ligne repartie à 10 h 40, production normale.");
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/report/validate"),
            json!({"content": edited, "version": 1}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["report"]["status"], "validated");
    assert_eq!(body["report"]["validated_by"], "Administrator");
    let versions = agent.ok(&format!("/api/v1/conversations/{id}/report/versions")).await?;
    let history: Vec<(i64, String, String)> = versions["versions"]
        .as_array()
        .map(|v| {
            v.iter()
                .map(|v| {
                    let s = |f: &str| v[f].as_str().unwrap_or("").to_string();
                    (v["version"].as_i64().unwrap_or(0), s("status"), s("agent"))
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        history,
        [
            (1, "draft".to_string(), "Administrator".to_string()),
            (2, "validated".to_string(), "Administrator".to_string())
        ]
    );

    // The PDF: its text as a reader extracts it, and its first page as a picture under target/reports/.
    let pdf = agent
        .download(&format!("/api/v1/conversations/{id}/report.pdf"))
        .await?;
    assert_eq!(pdf.content_type, "application/pdf");
    assert_eq!(pdf.file_name, format!("rapport-{ticket}.pdf"));
    let bytes = pdf.bytes;
    assert!(bytes.starts_with(b"%PDF-"));
    let dir = e2e::pdf::artifacts_dir()?;
    let path = dir.join("whatsapp-report.pdf");
    std::fs::write(&path, &bytes)?;
    let text = e2e::pdf::text(&path)?;
    for expected in [
        "Rapport d'intervention",
        "Validé par Administrator",
        "Codes défaut : E17",
        "Diagnostic",
        "Capteur de porte 3 défectueux",
        "Ligne repartie à 10 h 40",
        "Chronologie",
        "Intervenants",
    ] {
        assert!(text.contains(expected), "{expected:?} in the PDF's text:\n{text}");
    }
    let png = e2e::pdf::first_page_png(&path, &dir.join("whatsapp-report"))?;
    assert!(std::fs::metadata(&png)?.len() > 5_000, "a page with text on it");
    let markdown = String::from_utf8(
        agent
            .download(&format!("/api/v1/conversations/{id}/report.md"))
            .await?
            .bytes,
    )?;
    assert!(
        markdown.contains("## Diagnostic\n\nCapteur de porte 3 défectueux"),
        "{markdown}"
    );

    // Sent on the customer's own channel: a PDF document on WhatsApp.
    let (status, body) = agent
        .post(&format!("/api/v1/conversations/{id}/report/send"), json!({}))
        .await?;
    assert_eq!(status, 200, "{body}");
    let sent = sent_where(&stub, |s| s["type"] == "document").await;
    assert_eq!(sent["document"]["filename"], format!("rapport-{ticket}.pdf"));
    assert!(
        sent["document"]["caption"]
            .as_str()
            .is_some_and(|c| c.contains("rapport d'intervention")),
        "{sent}"
    );
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_edit_that_reports_a_stopped_line_raises_the_conversation_and_escalates_it() -> anyhow::Result<()> {
    let (app, _stub, agent, _dir) = start().await?;
    let base = app.base();
    customer_writes(&base, "wamid.q1", "Bonjour, où trouver la notice de la presse ?").await?;
    let c = whatsapp_conversation(&agent).await?;
    assert_eq!(c["conversation"]["priority"], "faq", "{}", c["conversation"]);
    assert_eq!(c["escalations"].as_array().map(Vec::len), Some(0));

    // The customer corrects the message: the line is stopped.
    let edit = |id: &str, text: &str| {
        msg(
            id,
            "edit",
            json!({"original_message_id": "wamid.q1", "message": {"type": "text", "text": {"body": text}}}),
        )
    };
    signed(
        &base,
        &notification(
            vec![edit("wamid.q2", "La ligne 2 est arrêtée, plus rien ne sort, code E17")],
            vec![],
        ),
    )
    .await?;
    let c = whatsapp_conversation(&agent).await?;
    assert_eq!(c["conversation"]["priority"], "critical", "{}", c["conversation"]);
    assert_eq!(c["verdicts"].as_array().map(Vec::len), Some(2), "both readings kept");
    assert_eq!(c["verdict"]["fields"]["fault_codes"], json!(["E17"]));
    let callback = c["escalations"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["kind"] == "callback").cloned())
        .unwrap_or_default();
    assert_eq!(callback["phone"], format!("+{CUSTOMER}"), "{}", c["escalations"]);
    let queues = agent.ok("/api/v1/queues").await?;
    let critical = queues["queues"]
        .as_array()
        .and_then(|q| q.iter().find(|q| q["name"] == "critical").cloned())
        .unwrap_or_default();
    assert_eq!(
        critical["open"], 1,
        "re-queued where critical conversations wait: {queues}"
    );

    // A later edit that sounds calmer does not lower it: an agent decides that.
    signed(
        &base,
        &notification(vec![edit("wamid.q3", "Merci, c'est reparti")], vec![]),
    )
    .await?;
    let c = whatsapp_conversation(&agent).await?;
    assert_eq!(c["conversation"]["priority"], "critical");
    assert_eq!(c["verdicts"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        c["escalations"]
            .as_array()
            .map(|e| e.iter().filter(|e| e["kind"] == "callback").count()),
        Some(1),
        "no second callback"
    );
    app.stop().await;
    Ok(())
}

/// The notification of `from_user`, sent `hours` ago.
fn from_user_hours_ago(bsuid: &str, name: &str, id: &str, text: &str, hours: i64) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&from_user(bsuid, None, name, id, text)).unwrap_or_default();
    body["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] =
        json!((now_secs() - hours * 3600).to_string());
    body.to_string().into_bytes()
}

#[tokio::test]
async fn an_agents_callback_without_a_number_asks_the_customer_in_words_or_with_the_contact_request_template()
-> anyhow::Result<()> {
    let stub = GraphStub::start().await?;
    let dir = tempfile::tempdir()?;
    let mut config = wa_config(dir.path(), &stub);
    config.whatsapp.templates.push(WhatsappTemplate {
        name: "contact_request".into(),
        language: "fr".into(),
        parameters: 0,
        description: "Pour qu'un expert vous rappelle, partagez votre numéro avec le bouton ci-dessous.".into(),
        category: "utility".into(),
    });
    let app = spawn_app_with(config.clone(), Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let base = app.base();

    // Inside the window, a customer known by user id only: asked in words, no callback to "+FR…".
    signed(
        &base,
        &from_user("FR.501", None, "Alice", "wamid.c1", "Bonjour, la presse vibre"),
    )
    .await?;
    let id = conversation_of(&agent, "FR.501").await?[0]["id"].clone();
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/escalate"),
            json!({"kind": "callback"}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["asked_for_number"], true);
    let kinds: Vec<&str> = body["escalations"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, ["number_request"], "no callback without a number: {body}");
    // (The acknowledgement went first; Level 1's question about the machine is an interactive message.)
    let asked = sent_where(&stub, |s| {
        s["recipient"] == "FR.501"
            && s["type"] == "text"
            && s["text"]["body"].as_str().is_some_and(|t| t.contains("numéro"))
    })
    .await;
    assert!(
        asked.is_object(),
        "the customer is asked for a number in words: {:?}",
        stub.sends()
    );

    // Outside the window, without a contact-request template: refused, with what to do.
    signed(
        &base,
        &from_user_hours_ago("DE.502", "Bernd", "wamid.c2", "Die Presse vibriert", 30),
    )
    .await?;
    let late = conversation_of(&agent, "DE.502").await?[0]["id"].clone();
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{late}/escalate"),
            json!({"kind": "callback"}),
        )
        .await?;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("contact_request_template"))
    );
    app.stop().await;

    // With the template configured: it goes, and the number it brings opens the callback.
    config.whatsapp.contact_request_template = "contact_request".into();
    let app = spawn_app_with(config, Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let base = app.base();
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{late}/escalate"),
            json!({"kind": "callback"}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["asked_for_number"], true);
    let template = sent_where(&stub, |s| s["recipient"] == "DE.502" && s["type"] == "template").await;
    assert_eq!(template["template"]["name"], "contact_request", "{template}");
    signed(
        &base,
        &from_user("DE.502", Some("4915112345678"), "Bernd", "wamid.c3", "+49 151 12345678"),
    )
    .await?;
    let c = agent.ok(&format!("/api/v1/conversations/{late}")).await?;
    let callback = c["escalations"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["kind"] == "callback").cloned())
        .unwrap_or_default();
    assert_eq!(callback["phone"], "+4915112345678", "{}", c["escalations"]);
    app.stop().await;
    Ok(())
}
