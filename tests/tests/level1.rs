//! Level 1 asks the customer for what the experts need, one question at a
//! time, on the widget (chips) and on WhatsApp (reply buttons); a quick
//! answer that declines moves on (nothing is asked once WhatsApp's 24-hour
//! window has closed), an answer that reveals a stopped line
//! escalates at once and asks only for a number, an agent's reply or two
//! unanswered questions stop it. Email gets one list in the acknowledgement.

use e2e::wa::{customer_writes, msg, notification, now_secs, signed, start, whatsapp_conversation};
use e2e::{AgentClient, Visitor};
use serde_json::{Value, json};

/// The next message from Switchyard that carries a question (quick answers, or the callback number).
async fn question(visitor: &mut Visitor) -> anyhow::Result<Value> {
    visitor
        .expect_message(|m| {
            m["author"] == "system"
                && (m["choices"].is_array() || m["text"].as_str().is_some_and(|t| t.contains("rappeler")))
        })
        .await
}

fn titles(q: &Value) -> Vec<String> {
    q["choices"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|c| c["title"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn qualification(agent: &AgentClient, conversation: i64) -> anyhow::Result<Value> {
    Ok(agent.ok(&format!("/api/v1/conversations/{conversation}")).await?["qualification"].clone())
}

#[tokio::test]
async fn the_widget_asks_one_question_at_a_time_and_a_stopped_line_escalates_at_once() -> anyhow::Result<()> {
    let (app, _stub, agent, _dir) = start().await?;
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    let ack = visitor
        .message("c1", "Bonjour, notre machine fait un bruit anormal depuis hier")
        .await?;
    let conversation = e2e::ticket_id(&ack["conversation"]);

    // Important, for the experts: the impact is in the text, so the machine first.
    let q = question(&mut visitor).await?;
    assert!(q["text"].as_str().is_some_and(|t| t.contains("machine")), "{q}");
    assert_eq!(titles(&q), ["Je ne sais pas"]);
    let state = qualification(&agent, conversation).await?;
    assert_eq!(state["asked"], "machine", "{state}");
    assert_eq!(state["known"], json!(["impact"]), "{state}");

    // The model answers it; then the fault code, declined with its chip.
    visitor.message("c2", "C'est la presse P200").await?;
    let q = question(&mut visitor).await?;
    assert_eq!(titles(&q), ["Aucun code affiché"], "{q}");
    visitor.message("c3", "Aucun code affiché").await?;
    let q = question(&mut visitor).await?;
    assert_eq!(
        q["choices"][0]["photo"], true,
        "the photo question opens the picker: {q}"
    );

    // Instead of a photo: the whole line is stopped now. Critical at once, with a
    // callback task, and Level 1 only asks for a number to call back.
    visitor.message("c4", "Production arrêtée").await?;
    let q = question(&mut visitor).await?;
    assert!(q["text"].as_str().is_some_and(|t| t.contains("numéro")), "{q}");
    let detail = agent.ok(&format!("/api/v1/conversations/{conversation}")).await?;
    assert_eq!(detail["conversation"]["priority"], "critical", "{detail}");
    let kinds: Vec<&str> = detail["escalations"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        kinds.contains(&"callback"),
        "a callback task, opened before any answer: {detail}"
    );
    let state = &detail["qualification"];
    assert_eq!(state["asked"], "callback_number", "{state}");
    assert_eq!(state["unanswered"], 1, "the photo question went unanswered: {state}");

    visitor.close().await;
    app.stop().await;
    Ok(())
}

/// An agent's reply ends the questions while facts are still missing: the
/// customer's next message, which answers nothing, gets no question.
#[tokio::test]
async fn an_agents_reply_stops_the_questions() -> anyhow::Result<()> {
    let (app, _stub, agent, _dir) = start().await?;
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    let ack = visitor
        .message("c1", "Bonjour, notre machine fait un bruit anormal depuis hier")
        .await?;
    let conversation = e2e::ticket_id(&ack["conversation"]);
    question(&mut visitor).await?;
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{conversation}/reply"),
            json!({"text": "Je regarde votre dossier."}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let state = qualification(&agent, conversation).await?;
    assert_eq!(state["stopped"], "agent", "{state}");
    assert_eq!(state["asked"], Value::Null, "{state}");
    visitor.expect_message(|m| m["author"] == "agent").await?;
    // Not an answer to the machine question: without the agent it would be counted
    // unanswered and the fault code asked next.
    visitor.message("c2", "D'accord, merci").await?;
    let messages = agent.ok(&format!("/api/v1/conversations/{conversation}")).await?["messages"].clone();
    let last = messages.as_array().and_then(|m| m.last()).cloned().unwrap_or_default();
    assert_eq!(
        last["body"], "D'accord, merci",
        "no question after the agent's reply: {messages}"
    );
    visitor.close().await;
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn two_unanswered_questions_stop_the_questions() -> anyhow::Result<()> {
    let (app, _stub, agent, _dir) = start().await?;
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    let ack = visitor.message("c1", "Notre machine fait un bruit anormal").await?;
    let conversation = e2e::ticket_id(&ack["conversation"]);
    question(&mut visitor).await?;
    visitor.message("c2", "Vous pouvez nous aider ?").await?;
    let q = question(&mut visitor).await?;
    assert_eq!(
        titles(&q),
        ["Aucun code affiché"],
        "the machine is not asked twice: {q}"
    );
    visitor.message("c3", "Merci de nous rappeler").await?;
    let state = agent
        .wait_json(&format!("/api/v1/conversations/{conversation}"), "stopped", |d| {
            !d["qualification"]["stopped"].is_null()
        })
        .await?;
    assert_eq!(state["qualification"]["stopped"], "unanswered", "{state}");
    assert_eq!(state["qualification"]["asked"], Value::Null);
    visitor.close().await;
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn whatsapp_asks_with_reply_buttons_and_email_gets_one_list() -> anyhow::Result<()> {
    let (app, stub, agent, _dir) = start().await?;
    // Delivered 30 hours late: the 24-hour window is closed, no question is queued.
    let mut late = msg(
        "wamid.late",
        "text",
        json!({"body": "Notre machine fait un bruit anormal"}),
    );
    late["timestamp"] = json!((now_secs() - 30 * 3600).to_string());
    assert_eq!(signed(&app.base(), &notification(vec![late], vec![])).await?, 200);
    let conversation = whatsapp_conversation(&agent).await?;
    let questions: Vec<&Value> = conversation["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|m| m["body"].as_str().is_some_and(|b| b.contains("Sur quelle machine")))
                .collect()
        })
        .unwrap_or_default();
    assert!(questions.is_empty(), "{conversation}");
    assert_eq!(conversation["qualification"], Value::Null);

    // Written now: asked at once, with reply buttons.
    let status = customer_writes(&app.base(), "wamid.l1", "Notre machine fait un bruit anormal").await?;
    assert_eq!(status, 200);
    let (buttons, _) = stub.wait_for_send(|s| s["type"] == "interactive").await?;
    assert!(
        buttons["interactive"]["body"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("machine")),
        "{buttons}"
    );
    assert_eq!(
        buttons["interactive"]["action"]["buttons"][0]["reply"]["title"],
        "Je ne sais pas"
    );

    // Email: no dialogue; the acknowledgement lists what is missing, and nothing else is queued.
    let accepted = app
        .state
        .pipeline
        .submit(e2e::inbound_email(
            "l1@x",
            "maintenance@usine.fr",
            "Bruit",
            "Notre machine fait un bruit anormal depuis hier.",
        ))
        .await?;
    let id = accepted.conversation_id.0;
    let detail = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    let out: Vec<&str> = detail["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|m| m["direction"] == "out")
                .filter_map(|m| m["body"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(out.len(), 1, "the acknowledgement only: {out:?}");
    assert!(
        out[0].contains("le code défaut affiché"),
        "the list of what is missing: {}",
        out[0]
    );
    assert_eq!(detail["qualification"], Value::Null);

    // The customer's reply answers in one go: the facts are extracted from it.
    let mut reply = e2e::inbound_email(
        "l1-reply@x",
        "maintenance@usine.fr",
        &format!("Re: [SY-{id}] Bruit"),
        "C'est la presse P200, elle affiche le code E-217.",
    );
    reply.thread_hints.ticket_tag = Some(format!("SY-{id}"));
    let again = app.state.pipeline.submit(reply).await?;
    assert_eq!(again.conversation_id.0, id, "the reply continues the conversation");
    let detail = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    let fields = detail["verdicts"]
        .as_array()
        .and_then(|v| v.last())
        .map(|v| v["fields"].clone())
        .unwrap_or_default();
    assert_eq!(fields["models"], json!(["P200"]), "{fields}");
    // Codes are kept in one written form, whatever the customer typed.
    assert_eq!(fields["fault_codes"], json!(["E217"]), "{fields}");
    app.stop().await;
    Ok(())
}
