//! Capitalisation end to end: a resolved case's validated report becomes a
//! draft knowledge entry without the customer's details, a supervisor edits
//! and publishes it, and the next customer who asks in other words gets that
//! answer at once — and after a restart; its reuse is counted. The same
//! statements (report versions, entries, the notice queue) on PostgreSQL.

use e2e::{ADMIN_PASSWORD, AgentClient, TestApp, spawn_app_with, test_config};
use gateway::clock::Clock;
use serde_json::{Value, json};

async fn mail(app: &TestApp, id: &str, from: &str, subject: &str, text: &str) -> anyhow::Result<i64> {
    let accepted = app
        .state
        .pipeline
        .submit(e2e::inbound_email(id, from, subject, text))
        .await?;
    Ok(accepted.conversation_id.0)
}

/// The acknowledgement the customer got (the gateway's first outgoing message).
async fn acknowledgement(agent: &AgentClient, id: i64) -> anyhow::Result<(String, Value)> {
    let c = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    let ack = c["messages"]
        .as_array()
        .and_then(|m| {
            m.iter()
                .find(|m| m["author_kind"] == "system" && m["direction"] == "out")
        })
        .and_then(|m| m["body"].as_str())
        .unwrap_or_default()
        .to_string();
    Ok((ack, c["verdict"]["faq"].clone()))
}

const ANSWER: &str = "Tension de courroie réglée à 40 N";

#[tokio::test]
async fn a_resolved_case_becomes_the_answer_the_next_customer_receives() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().to_path_buf();
    let app = spawn_app_with(test_config(&data_dir), Clock::system()).await?;
    let admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;

    // The case: a recurring stop, answered, its report validated.
    let case = mail(
        &app,
        "k1@x",
        "jean.dupont@laiterie-test.fr",
        "Convoyeur 4",
        "Bonjour,\nle convoyeur 4 s'arrête plusieurs fois par jour, code W12. Appelez-moi au 06 12 34 56 78.\nJean Dupont",
    )
    .await?;
    let (status, body) = admin
        .post(
            &format!("/api/v1/conversations/{case}/reply"),
            json!({"text": "Vérifiez la tension de la courroie."}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let proposed = admin.ok(&format!("/api/v1/conversations/{case}/report")).await?;
    let mut content = proposed["report"]["content"].clone();
    content["diagnosis"] = json!("Courroie détendue.");
    content["actions"] = json!(format!("{ANSWER}, contrôle à la jauge."));
    content["result"] = json!("Plus d'arrêt depuis 48 h.");
    let (status, body) = admin
        .post(&format!("/api/v1/conversations/{case}/resolve"), json!({}))
        .await?;
    assert_eq!(status, 200, "{body}");
    let (status, body) = admin
        .post(&format!("/api/v1/conversations/{case}/report/knowledge"), json!({}))
        .await?;
    assert_eq!(status, 409, "a draft report is not knowledge yet: {body}");
    let (status, body) = admin
        .post(
            &format!("/api/v1/conversations/{case}/report/validate"),
            json!({"content": content, "version": 0}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");

    // The draft: the customer's words as questions, the resolution as the answer, no personal details.
    let (status, body) = admin
        .post(&format!("/api/v1/conversations/{case}/report/knowledge"), json!({}))
        .await?;
    assert_eq!(status, 200, "{body}");
    let entry = body["entry"].clone();
    let id = entry["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(id, format!("sy-{case}"));
    assert_eq!(entry["status"], "draft");
    let draft = entry["draft"].clone();
    let all = draft.to_string();
    assert!(
        all.contains("le convoyeur 4 s'arrête plusieurs fois par jour, code W12"),
        "{draft}"
    );
    assert!(all.contains(ANSWER), "{draft}");
    for private in ["Dupont", "06 12", "laiterie-test"] {
        assert!(!all.contains(private), "{private} left in {draft}");
    }

    // An agent cannot publish; the supervisor edits (a question in other words, sent without a human) and publishes.
    admin.create_agent("marie", "Marie", "a-long-password", "agent").await?;
    let marie = AgentClient::login(&app.base(), "marie", "a-long-password").await?;
    let (status, _) = marie
        .post(&format!("/api/v1/knowledge/{id}/publish"), json!({}))
        .await?;
    assert_eq!(status, 403);
    let mut edited = draft.clone();
    let (Some(questions), Some(keywords)) = (
        edited["questions"].as_array().cloned(),
        edited["keywords"].as_array().cloned(),
    ) else {
        panic!("a draft has questions and keywords: {draft}")
    };
    edited["questions"] = json!(
        [
            questions,
            vec![json!("comment régler la tension de la courroie du convoyeur")]
        ]
        .concat()
    );
    edited["keywords"] = json!([keywords, vec![json!("courroie")]].concat());
    edited["auto_send"] = json!(true);
    let (status, body) = admin
        .post(&format!("/api/v1/knowledge/{id}"), json!({"draft": edited}))
        .await?;
    assert_eq!(status, 200, "{body}");

    // Not published yet: the next question gets no such answer.
    let before = mail(
        &app,
        "k2@x",
        "achats@fromagerie-test.fr",
        "Courroie",
        "Bonjour, quelle tension faut-il donner à la courroie du convoyeur ?",
    )
    .await?;
    let (ack, _) = acknowledgement(&admin, before).await?;
    assert!(!ack.contains(ANSWER), "{ack}");

    let kb_before = admin.ok("/api/v1/admin/triage").await?["triage"]["kb_entries"].as_i64();
    assert!(kb_before.is_some_and(|n| n > 0), "the shipped entries are counted");
    let (status, body) = admin
        .post(&format!("/api/v1/knowledge/{id}/publish"), json!({}))
        .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["entry"]["status"], "published");
    assert_eq!(body["entry"]["published_by"], "Administrator");
    let kb_after = admin.ok("/api/v1/admin/triage").await?["triage"]["kb_entries"].as_i64();
    assert_eq!(kb_after, kb_before.map(|n| n + 1), "the matcher has it at once");

    // Published: another customer, other words, gets the answer in the acknowledgement.
    let after = mail(
        &app,
        "k3@x",
        "maintenance@biscuiterie-test.fr",
        "Réglage",
        "Bonjour, comment régler la tension de la courroie sur notre convoyeur ?",
    )
    .await?;
    let (ack, faq) = acknowledgement(&admin, after).await?;
    assert_eq!(faq["id"], id.as_str(), "{faq}");
    assert!(ack.contains(ANSWER), "{ack}");
    let listed = admin.ok("/api/v1/knowledge").await?;
    let entry = listed["entries"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["id"] == id.as_str()).cloned())
        .unwrap_or_default();
    assert_eq!(entry["sent"], 1, "reuse counted: {entry}");
    assert_eq!(entry["solved"], 0, "{entry}");
    // The customer follows the mail's "yes, solved" link: the entry solved a case.
    let solved = app
        .state
        .store
        .feedback_answer(
            gateway::ids::ConversationId(after),
            gateway::level1::feedback::Answer::Solved,
            None,
            "email",
            &app.state.feedback,
            app.state.clock.now_ms(),
        )
        .await?;
    assert_eq!(solved, gateway::store::feedback::Rated::Recorded);
    let listed = admin.ok("/api/v1/knowledge").await?;
    let entry = listed["entries"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["id"] == id.as_str()).cloned())
        .unwrap_or_default();
    assert_eq!(entry["solved"], 1, "{entry}");

    // After a restart the published entry still answers.
    app.stop().await;
    let app = spawn_app_with(test_config(&data_dir), Clock::system()).await?;
    let admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let again = mail(
        &app,
        "k4@x",
        "atelier@conserverie-test.fr",
        "Tension",
        "Bonjour, comment régler la tension de la courroie du convoyeur ?",
    )
    .await?;
    let (ack, _) = acknowledgement(&admin, again).await?;
    assert!(ack.contains(ANSWER), "{ack}");

    // The figures: the case's resolution and the one its answer solved are
    // linked to knowledge, and the entry was reused twice.
    let kpis = admin.ok("/api/v1/reports/kpis?days=2").await?;
    let k = &kpis["kpis"];
    assert_eq!(k["knowledge_reused"], 2, "{k}");
    assert_eq!(
        (
            k["knowledge_linked"]["count"].as_i64(),
            k["knowledge_linked"]["of"].as_i64()
        ),
        (Some(2), Some(2))
    );
    let reused = admin
        .ok("/api/v1/reports/conversations?days=2&figure=knowledge_reused")
        .await?;
    let tickets: Vec<&str> = reused["rows"]
        .as_array()
        .map(|r| r.iter().filter_map(|r| r["ticket"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(tickets, [format!("SY-{after}"), format!("SY-{again}")]);
    app.stop().await;
    Ok(())
}

/// The same statements on PostgreSQL: report versions, knowledge entries and
/// their publication, the weekly mail queue.
#[tokio::test]
async fn reports_knowledge_and_notices_on_postgres() -> anyhow::Result<()> {
    let (app, db) = e2e::spawn_app_pg().await?;
    let outcome = async {
        let admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
        let case = mail(
            &app,
            "pg1@x",
            "jean.dupont@laiterie-test.fr",
            "Convoyeur 4",
            "Bonjour,\nle convoyeur 4 s'arrête plusieurs fois par jour, code W12.",
        )
        .await?;
        let proposed = admin.ok(&format!("/api/v1/conversations/{case}/report")).await?;
        let mut content = proposed["report"]["content"].clone();
        content["result"] = json!(format!("{ANSWER}."));
        let (status, body) = admin
            .post(
                &format!("/api/v1/conversations/{case}/report"),
                json!({"content": content, "version": 0}),
            )
            .await?;
        anyhow::ensure!(status == 200, "{body}");
        let (status, _) = admin
            .post(
                &format!("/api/v1/conversations/{case}/report"),
                json!({"content": content, "version": 0}),
            )
            .await?;
        anyhow::ensure!(status == 409, "a stale save is refused on PostgreSQL too");
        let (status, body) = admin
            .post(
                &format!("/api/v1/conversations/{case}/report/validate"),
                json!({"content": content, "version": 1}),
            )
            .await?;
        anyhow::ensure!(
            status == 200 && body["report"]["validated_by"] == "Administrator",
            "{body}"
        );
        let versions = admin
            .ok(&format!("/api/v1/conversations/{case}/report/versions"))
            .await?;
        anyhow::ensure!(versions["versions"].as_array().map(Vec::len) == Some(2), "{versions}");
        let (status, body) = admin
            .post(&format!("/api/v1/conversations/{case}/report/knowledge"), json!({}))
            .await?;
        anyhow::ensure!(status == 200, "{body}");
        let id = body["entry"]["id"].as_str().unwrap_or_default().to_string();
        let (status, body) = admin
            .post(&format!("/api/v1/knowledge/{id}/publish"), json!({}))
            .await?;
        anyhow::ensure!(status == 200 && body["entry"]["status"] == "published", "{body}");
        let kpis = admin.ok("/api/v1/reports/kpis?days=2").await?;
        anyhow::ensure!(kpis["kpis"]["volume"] == 1, "{kpis}");
        let store = &app.state.store;
        let notice = |now| gateway::store::notices::NewNotice {
            key: "weekly:2026-11-30",
            kind: gateway::store::notices::NoticeKind::Mail,
            target: "[\"a@b.c\"]",
            subject: "s",
            body: "b",
            now,
        };
        anyhow::ensure!(store.notice_queue(&notice(1)).await?);
        anyhow::ensure!(!store.notice_queue(&notice(2)).await?, "once a week");
        anyhow::ensure!(store.notices_due(5, 10).await?.len() == 1);
        store
            .notice_record("weekly:2026-11-30", Err(("down".into(), Some(100))), 5)
            .await?;
        anyhow::ensure!(store.notices_due(50, 10).await?.is_empty(), "waits for its retry time");
        store.notice_record("weekly:2026-11-30", Ok(()), 100).await?;
        anyhow::ensure!(store.notices_due(1_000, 10).await?.is_empty(), "sent");
        anyhow::Ok(())
    }
    .await;
    app.stop().await;
    db.drop_database().await?;
    outcome
}

/// An entry written from scratch in the inbox (no case behind it) answers
/// once published, like one from a case; a mistake in it is refused.
#[tokio::test]
async fn an_entry_written_from_scratch_answers_once_published() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let app = spawn_app_with(test_config(dir.path()), Clock::system()).await?;
    let admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let draft = json!({
        "title": "Pression de la pompe doseuse",
        "language": "fr",
        "questions": ["Quelle pression régler sur la pompe doseuse ?", "La pompe doseuse n'a pas assez de pression"],
        "keywords": ["pompe doseuse"],
        "answer": "Réglez la pompe doseuse à 3,5 bar au manomètre de sortie.",
        "auto_send": true,
    });
    let mut broken = draft.clone();
    broken["questions"] = json!([]);
    let (status, refused) = admin.post("/api/v1/knowledge", json!({"draft": broken})).await?;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (400, Some("bad_entry")),
        "{refused}"
    );
    let (status, made) = admin.post("/api/v1/knowledge", json!({"draft": draft.clone()})).await?;
    assert_eq!(status, 200, "{made}");
    assert_eq!(made["entry"]["id"], "kb-pression-de-la-pompe-doseuse");
    assert_eq!(made["entry"]["conversation_id"], Value::Null);
    assert_eq!(made["entry"]["status"], "draft");
    // The same title again gets its own id.
    let (_, twin) = admin.post("/api/v1/knowledge", json!({"draft": draft})).await?;
    assert_eq!(twin["entry"]["id"], "kb-pression-de-la-pompe-doseuse-2");

    let (status, body) = admin
        .post("/api/v1/knowledge/kb-pression-de-la-pompe-doseuse/publish", json!({}))
        .await?;
    assert_eq!(status, 200, "{body}");
    let asked = mail(
        &app,
        "kb1@x",
        "atelier@conserverie-test.fr",
        "Pompe",
        "Bonjour, quelle pression faut-il régler sur la pompe doseuse ?",
    )
    .await?;
    let (ack, faq) = acknowledgement(&admin, asked).await?;
    assert_eq!(faq["id"], "kb-pression-de-la-pompe-doseuse", "{faq}");
    assert!(ack.contains("3,5 bar"), "{ack}");
    app.stop().await;
    Ok(())
}
