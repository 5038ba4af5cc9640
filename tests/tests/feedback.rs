//! Knowledge answers that close, and satisfaction, on every channel. A
//! knowledge answer asks "did this solve it?" and holds the conversation from
//! the agents meanwhile; "yes" resolves it as self-service, "no" hands it to
//! a person at once. After a resolution the customer is asked once whether
//! they are satisfied: chips and a comment in the widget, reply buttons on
//! WhatsApp, signed single-use links in a mail (refused the second time,
//! or when tampered with). Automatic mail is never asked.

use e2e::wa::{msg, notification, signed, start};
use e2e::{AgentClient, Visitor};
use serde_json::{Value, json};

const FAQ: &str = "Bonjour, où trouver la notice de la machine ?";

fn titles(m: &Value) -> Vec<String> {
    m["choices"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|c| c["title"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn detail(agent: &AgentClient, conversation: i64) -> anyhow::Result<Value> {
    agent.ok(&format!("/api/v1/conversations/{conversation}")).await
}

/// The visitor asks a frequent question: the acknowledgement carries the
/// knowledge answer, then "did this solve it?" comes with two chips.
async fn ask_faq(visitor: &mut Visitor) -> anyhow::Result<i64> {
    let ack = visitor.message("q1", FAQ).await?;
    let conversation = e2e::ticket_id(&ack["conversation"]);
    let answer = visitor
        .expect_message(|m| m["author"] == "system" && m["text"].as_str().is_some_and(|t| t.contains("Documentation")))
        .await?;
    assert!(
        !answer["text"]
            .as_str()
            .unwrap_or_default()
            .contains("répondez simplement"),
        "the question comes as chips, not as a sentence to reply to: {answer}"
    );
    let question = visitor.expect_message(|m| m["choices"].is_array()).await?;
    assert_eq!(question["text"], "Cela a-t-il résolu votre problème ?");
    assert_eq!(titles(&question), ["Oui, résolu", "Non"]);
    Ok(conversation)
}

async fn kpis(agent: &AgentClient) -> anyhow::Result<Value> {
    Ok(agent.ok("/api/v1/reports/kpis?days=1").await?["kpis"].clone())
}

#[tokio::test]
async fn yes_in_the_widget_resolves_as_self_service_and_the_rating_comes_inline() -> anyhow::Result<()> {
    let (app, _stub, agent, _dir) = start().await?;
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    let conversation = ask_faq(&mut visitor).await?;
    let d = detail(&agent, conversation).await?;
    assert_eq!(d["feedback"]["knowledge"]["entry"], "manual", "{d}");
    assert_eq!(d["feedback"]["knowledge"]["outcome"], Value::Null);

    visitor.message("q2", "Oui, résolu").await?;
    let d = detail(&agent, conversation).await?;
    assert_eq!(d["conversation"]["status"], "resolved", "{d}");
    assert_eq!(d["feedback"]["knowledge"]["outcome"], "solved", "{d}");
    let k = kpis(&agent).await?;
    assert_eq!(k["self_service"]["count"], 1, "{k}");

    // Then the satisfaction question, whose chips open a comment box in the widget.
    let rating = visitor.expect_message(|m| m["choices"].is_array()).await?;
    assert_eq!(titles(&rating), ["👍 Satisfait", "👎 Pas satisfait"], "{rating}");
    visitor
        .send_json(&json!({"type": "rate", "rating": "good", "comment": "Trouvé en 2 minutes"}))
        .await?;
    assert_eq!(visitor.expect("rated").await?["recorded"], true);
    visitor.send_json(&json!({"type": "rate", "rating": "bad"})).await?;
    assert_eq!(
        visitor.expect("rated").await?["recorded"],
        false,
        "one rating per conversation"
    );

    let d = detail(&agent, conversation).await?;
    let s = &d["feedback"]["satisfaction"];
    assert_eq!(
        (&s["rating"], &s["comment"], &s["answered_via"]),
        (&json!("good"), &json!("Trouvé en 2 minutes"), &json!("webchat")),
        "{d}"
    );
    assert_eq!(d["conversation"]["status"], "resolved", "a rating reopens nothing");
    let k = kpis(&agent).await?;
    assert_eq!(
        (&k["satisfaction"]["count"], &k["satisfaction"]["of"]),
        (&json!(1), &json!(1)),
        "{k}"
    );
    visitor.close().await;
    app.stop().await;
    Ok(())
}

/// While the customer has not answered, an online agent is not offered the
/// conversation; their "no" hands it over at once.
#[tokio::test]
async fn no_hands_over_to_a_person_at_once() -> anyhow::Result<()> {
    let (app, _stub, agent, _dir) = start().await?;
    let me = agent.ok("/api/v1/me").await?["agent"]["id"]
        .as_i64()
        .unwrap_or_default();
    let (status, body) = agent
        .post(
            &format!("/api/v1/agents/{me}/dispatch"),
            json!({"queues": ["n1", "experts", "critical"], "max_open": 5}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let (status, _) = agent.post("/api/v1/me/presence", json!({"presence": "online"})).await?;
    assert_eq!(status, 200);

    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    let conversation = ask_faq(&mut visitor).await?;
    let now = app.state.clock.now_ms();
    let pass = app.state.store.assignment_pass(now, 60_000).await?;
    assert!(
        pass.assigned.iter().all(|(c, _)| c.0 != conversation),
        "held while the customer decides: {pass:?}"
    );
    assert_eq!(
        detail(&agent, conversation).await?["conversation"]["assignee_id"],
        Value::Null
    );

    visitor.message("q2", "Non").await?;
    let d = agent
        .wait_json(&format!("/api/v1/conversations/{conversation}"), "assigned", |d| {
            !d["conversation"]["assignee_id"].is_null()
        })
        .await?;
    assert_eq!(d["conversation"]["assignee_id"], json!(me), "{d}");
    assert_eq!(d["conversation"]["status"], "open");
    assert_eq!(d["feedback"]["knowledge"]["outcome"], "not_solved", "{d}");
    assert_eq!(kpis(&agent).await?["self_service"]["count"], 0);

    // The agent resolves: the satisfaction question follows in the widget.
    let (status, body) = agent
        .post(&format!("/api/v1/conversations/{conversation}/resolve"), json!({}))
        .await?;
    assert_eq!(status, 200, "{body}");
    let rating = visitor
        .expect_message(|m| titles(m).first().is_some_and(|t| t.starts_with('👍')))
        .await?;
    assert_eq!(
        rating["text"],
        "Votre demande est résolue. Êtes-vous satisfait de notre aide ?"
    );
    let d = detail(&agent, conversation).await?;
    assert_eq!(d["feedback"]["satisfaction"]["agent_id"], json!(me), "{d}");
    visitor.close().await;
    app.stop().await;
    Ok(())
}

fn button_reply(wamid: &str, context: &str, id: &str, title: &str) -> Value {
    let mut m = msg(
        wamid,
        "interactive",
        json!({"type": "button_reply", "button_reply": {"id": id, "title": title}}),
    );
    m["context"] = json!({"from": "33186950001", "id": context});
    m
}

#[tokio::test]
async fn whatsapp_buttons_close_the_question_and_rate_without_reopening() -> anyhow::Result<()> {
    let (app, stub, agent, _dir) = start().await?;
    // Written an hour ago (delivered now): the taps below move the 24-hour window on.
    let mut first = msg("wamid.faq", "text", json!({ "body": FAQ }));
    let hour_ago = e2e::wa::now_secs() - 3600;
    first["timestamp"] = json!(hour_ago.to_string());
    assert_eq!(signed(&app.base(), &notification(vec![first], vec![])).await?, 200);
    let is_buttons = |title: &'static str| {
        move |s: &Value| {
            s["type"] == "interactive" && s["interactive"]["action"]["buttons"][0]["reply"]["title"] == title
        }
    };
    let (_, question) = stub.wait_for_send(is_buttons("Oui, résolu")).await?;
    let sent = stub.sends();
    let interactive = sent
        .iter()
        .find(|s| s["type"] == "interactive")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        interactive["interactive"]["body"]["text"], "Cela a-t-il résolu votre problème ?",
        "{interactive}"
    );
    assert_eq!(
        interactive["interactive"]["action"]["buttons"][1]["reply"]["id"],
        "feedback:not_solved"
    );

    let reply = button_reply("wamid.yes", &question, "feedback:solved", "Oui, résolu");
    assert_eq!(signed(&app.base(), &notification(vec![reply], vec![])).await?, 200);
    let resolved = agent.ok("/api/v1/conversations?status=resolved").await?;
    let id = resolved["conversations"][0]["id"].as_i64().unwrap_or_default();
    assert_eq!(
        resolved["conversations"][0]["channel"], "whatsapp",
        "resolved by the tap: {resolved}"
    );

    // The rating question as two buttons; the tap is recorded on this
    // conversation, which stays resolved (no new one, no reopening).
    let (_, rating) = stub.wait_for_send(is_buttons("👍 Satisfait")).await?;
    let tap = button_reply("wamid.rate", &rating, "feedback:bad", "👎 Pas satisfait");
    assert_eq!(signed(&app.base(), &notification(vec![tap], vec![])).await?, 200);
    let d = detail(&agent, id).await?;
    assert_eq!(d["conversation"]["status"], "resolved", "{d}");
    assert_eq!(d["feedback"]["satisfaction"]["rating"], "bad", "{d}");
    assert_eq!(d["feedback"]["satisfaction"]["answered_via"], "whatsapp");
    let last = d["conversation"]["last_customer_at"].as_i64().unwrap_or_default();
    assert!(
        last > (hour_ago + 60) * 1000,
        "the tap counts as the customer's last message: {last}"
    );
    for status in ["open", "resolved"] {
        let list = agent.ok(&format!("/api/v1/conversations?status={status}")).await?;
        let expected = usize::from(status == "resolved");
        assert_eq!(
            list["conversations"].as_array().map(Vec::len),
            Some(expected),
            "the taps made no new conversation: {list}"
        );
    }
    // A supervisor finds it behind the CSAT figure.
    let bad = agent
        .ok("/api/v1/reports/conversations?days=1&figure=rated_bad")
        .await?;
    assert_eq!(bad["rows"].as_array().map(Vec::len), Some(1), "{bad}");
    app.stop().await;
    Ok(())
}

/// A WhatsApp conversation whose customer last wrote 30 hours ago: the
/// satisfaction question could not leave, so none is queued when it is resolved.
#[tokio::test]
async fn no_satisfaction_question_once_the_whatsapp_window_has_closed() -> anyhow::Result<()> {
    let (app, stub, agent, _dir) = start().await?;
    let mut late = msg(
        "wamid.old",
        "text",
        json!({"body": "La presse P200 fait un bruit anormal"}),
    );
    late["timestamp"] = json!((e2e::wa::now_secs() - 30 * 3600).to_string());
    assert_eq!(signed(&app.base(), &notification(vec![late], vec![])).await?, 200);
    let id = e2e::wa::whatsapp_conversation(&agent).await?["conversation"]["id"]
        .as_i64()
        .unwrap_or_default();
    let (status, body) = agent
        .post(&format!("/api/v1/conversations/{id}/resolve"), json!({}))
        .await?;
    assert_eq!(status, 200, "{body}");
    let d = detail(&agent, id).await?;
    assert_eq!(d["feedback"]["satisfaction"], Value::Null, "{d}");
    assert!(
        stub.sends().iter().all(|s| s["type"] != "interactive"),
        "{:?}",
        stub.sends()
    );
    app.stop().await;
    Ok(())
}

/// The links of a mail, in order, pointed at the test's server (the
/// configuration's public address is the listen address, port 0 in tests).
fn links(app: &e2e::TestApp, body: &str) -> Vec<String> {
    body.split_whitespace()
        .filter(|w| w.starts_with("http://") && w.contains("/feedback/"))
        .map(|w| w.replacen("http://127.0.0.1:0", &app.base(), 1))
        .collect()
}

async fn out_bodies(agent: &AgentClient, conversation: i64) -> anyhow::Result<Vec<String>> {
    let d = detail(agent, conversation).await?;
    Ok(d["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|m| m["direction"] == "out")
                .filter_map(|m| m["body"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

#[tokio::test]
async fn email_links_answer_once_and_refuse_a_second_click_or_a_forgery() -> anyhow::Result<()> {
    let (app, _stub, agent, _dir) = start().await?;
    email_links(&app, &agent).await?;
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn email_links_on_postgres() -> anyhow::Result<()> {
    let (app, _stub, agent, _dir, db) = e2e::wa::start_on_postgres().await?;
    let outcome = email_links(&app, &agent).await;
    app.stop().await;
    db.drop_database().await?;
    outcome
}

async fn email_links(app: &e2e::TestApp, agent: &AgentClient) -> anyhow::Result<()> {
    let accepted = app
        .state
        .pipeline
        .submit(e2e::inbound_email("kb@x", "atelier@usine.fr", "Notice", FAQ))
        .await?;
    let id = accepted.conversation_id.0;
    let bodies = out_bodies(agent, id).await?;
    assert_eq!(
        bodies.len(),
        1,
        "one mail: the acknowledgement with its links: {bodies:?}"
    );
    let verdict = links(app, &bodies[0]);
    assert_eq!(verdict.len(), 2, "{}", bodies[0]);
    assert!(
        verdict[0].contains("/solved?") && verdict[1].contains("/not_solved?"),
        "{verdict:?}"
    );
    assert!(bodies[0].contains("Oui, résolu: http"), "{}", bodies[0]);

    let http = reqwest::Client::new();
    // Opening the link shows the answer; only the form's POST records it (mail
    // scanners open links too).
    let page = http.get(&verdict[0]).send().await?;
    assert_eq!(page.status(), 200);
    let html = page.text().await?;
    assert!(
        html.contains("<form method=\"post\"") && html.contains("Oui, résolu"),
        "{html}"
    );
    assert_eq!(detail(agent, id).await?["conversation"]["status"], "open");
    let forged = verdict[0].replace("sig=", "sig=A");
    let empty = [("comment", "")];
    assert_eq!(http.post(&forged).form(&empty).send().await?.status(), 410);
    let other = verdict[1].replace(&format!("/feedback/{id}/"), &format!("/feedback/{}/", id + 1));
    assert_eq!(
        http.post(&other).form(&empty).send().await?.status(),
        410,
        "a link names its conversation"
    );

    let solved = http.post(&verdict[0]).form(&empty).send().await?;
    assert_eq!(solved.status(), 200);
    let d = detail(agent, id).await?;
    assert_eq!(d["conversation"]["status"], "resolved", "{d}");
    assert_eq!(d["feedback"]["knowledge"]["outcome"], "solved");
    assert_eq!(
        http.post(&verdict[1]).form(&empty).send().await?.status(),
        409,
        "already answered"
    );

    // Self-service, then the satisfaction mail with its two links.
    let bodies = out_bodies(agent, id).await?;
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    let rating = links(app, &bodies[1]);
    assert!(bodies[1].starts_with("Votre demande est résolue."), "{}", bodies[1]);
    assert!(
        rating[0].contains("/good?") && rating[1].contains("/bad?"),
        "{rating:?}"
    );
    let html = http.get(&rating[0]).send().await?.text().await?;
    assert!(html.contains("<textarea"), "a rating takes a comment: {html}");
    let first = http
        .post(&rating[0])
        .form(&[("comment", "Très clair <merci>")])
        .send()
        .await?;
    assert_eq!(first.status(), 200);
    let second = http.post(&rating[1]).form(&empty).send().await?;
    assert_eq!(second.status(), 409, "single use: the other answer is refused too");
    let s = detail(agent, id).await?["feedback"]["satisfaction"].clone();
    assert_eq!(
        (&s["rating"], &s["comment"]),
        (&json!("good"), &json!("Très clair <merci>")),
        "{s}"
    );

    // An automatic mail's conversation, resolved by an agent: nobody to ask.
    let mut auto = e2e::inbound_email("auto@x", "noreply@fournisseur.fr", "Absence", "Je suis absent.");
    auto.auto.auto_reply = true;
    let auto_id = app.state.pipeline.submit(auto).await?.conversation_id.0;
    let (status, body) = agent
        .post(&format!("/api/v1/conversations/{auto_id}/resolve"), json!({}))
        .await?;
    assert_eq!(status, 200, "{body}");
    let d = detail(agent, auto_id).await?;
    assert_eq!(d["feedback"]["satisfaction"], Value::Null, "{d}");
    Ok(())
}
