//! The worth page on a seeded month: November 2026 fed through the pipeline
//! and the agent API on an injected clock, seen on 3 December. Every measured
//! variable and every figure of `GET /api/v1/reports/worth` (last month by
//! default) against values worked out by hand below; what a supervisor
//! enters is saved and used, the rest is marked assumed. Also the share of
//! answered conversations whose facts were all known before the first answer.

use e2e::{ADMIN_PASSWORD, AgentClient, TestApp, spawn_app_with};
use gateway::clock::Clock;
use gateway::level1::feedback::Answer;
use serde_json::{Value, json};

fn paris(m: u32, d: u32, h: u32, min: u32) -> i64 {
    e2e::paris(2026, m, d, h, min)
}

fn set(clock: &Clock, t: i64) {
    assert!(t >= clock.now_ms(), "the clock only moves forward");
    clock.advance(t - clock.now_ms());
}

async fn agent(app: &TestApp) -> anyhow::Result<AgentClient> {
    AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await
}

/// A customer's mail; its conversation and priority.
async fn mail(app: &TestApp, id: &str, text: &str) -> anyhow::Result<(i64, String)> {
    let accepted = app
        .state
        .pipeline
        .submit(e2e::inbound_email(id, &format!("{id}@usine.fr"), "SAV", text))
        .await?;
    Ok((accepted.conversation_id.0, accepted.priority.as_str().to_string()))
}

async fn reply(app: &TestApp, id: i64) -> anyhow::Result<()> {
    let (status, body) = agent(app)
        .await?
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "Nous regardons."}),
        )
        .await?;
    anyhow::ensure!(status == 200, "reply to {id}: {body}");
    Ok(())
}

/// Eight requests in November: four frequent questions (one solved by its
/// knowledge answer, two answered by an agent, one left), two line stops and
/// two degraded productions, all answered. Returns the conversation with a report.
async fn november(app: &TestApp, clock: &Clock) -> anyhow::Result<i64> {
    let cases = [
        // (id, text, priority, an agent answers)
        ("faq1", "Bonjour, où trouver la notice de la machine ?", "faq", false),
        ("faq2", "Où télécharger le manuel d'utilisation ?", "faq", true),
        // n1 needs the machine: "presse P200" names it.
        ("faq3", "Où trouver la notice de la presse P200 ?", "faq", true),
        ("faq4", "Où trouver la notice ?", "faq", false),
        // Critical needs a callback number: given in the first, not in the second.
        (
            "stop1",
            "La ligne est arrêtée, plus rien ne sort. Rappelez-moi au 06 12 34 56 78.",
            "critical",
            true,
        ),
        (
            "stop2",
            "Ligne complètement arrêtée depuis ce matin, urgent.",
            "critical",
            true,
        ),
        // The experts need machine, fault code, impact and a photo: never all four here.
        (
            "slow1",
            "Presse P200 : le défaut E-217 revient plusieurs fois par jour, la production est ralentie.",
            "important",
            true,
        ),
        (
            "slow2",
            "Nous constatons beaucoup de rebuts sur la presse P200 depuis le changement d'outil.",
            "important",
            true,
        ),
    ];
    let mut ids = Vec::new();
    for (day, (id, text, priority, answered)) in cases.iter().enumerate() {
        set(clock, paris(11, 2 + day as u32, 9, 0));
        let (conversation, got) = mail(app, id, text).await?;
        assert_eq!(&got, priority, "{id}: {text}");
        if *answered {
            set(clock, paris(11, 2 + day as u32, 9, 30));
            reply(app, conversation).await?;
        }
        ids.push(conversation);
    }
    // faq1: the customer clicks "yes, solved" in the acknowledgement.
    set(clock, paris(11, 20, 8, 0));
    let solved = app
        .state
        .store
        .feedback_answer(
            gateway::ids::ConversationId(ids[0]),
            Answer::Solved,
            None,
            "email",
            &app.state.feedback,
            clock.now_ms(),
        )
        .await?;
    assert_eq!(solved, gateway::store::feedback::Rated::Recorded);

    // stop1's report: drafted at 10:00, validated at 10:12.
    let stop1 = ids[4];
    let admin = agent(app).await?;
    set(clock, paris(11, 20, 10, 0));
    let proposed = admin.ok(&format!("/api/v1/conversations/{stop1}/report")).await?;
    let mut content = proposed["report"]["content"].clone();
    content["diagnosis"] = json!("Capteur de sécurité défaillant.");
    let (status, body) = admin
        .post(
            &format!("/api/v1/conversations/{stop1}/report"),
            json!({"content": content, "version": 0}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    set(clock, paris(11, 20, 10, 12));
    let (status, body) = admin
        .post(
            &format!("/api/v1/conversations/{stop1}/report/validate"),
            json!({"content": content, "version": 1}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    Ok(stop1)
}

fn variable(estimate: &Value, name: &str) -> (Value, Value) {
    let v = estimate["variables"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == name))
        .cloned()
        .unwrap_or_default();
    (v["value"].clone(), v["source"].clone())
}

fn figure(estimate: &Value, name: &str) -> f64 {
    estimate["figures"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == name))
        .and_then(|f| f["minutes"].as_f64())
        .unwrap_or(f64::NAN)
}

#[tokio::test]
async fn last_month_measured_and_entered_against_figures_by_hand() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = Clock::manual(paris(11, 2, 8, 0));
    let app = spawn_app_with(e2e::office_sla_config(dir.path()), clock.clone()).await?;
    november(&app, &clock).await?;
    // A December conversation is not November's.
    set(&clock, paris(12, 1, 9, 0));
    mail(&app, "dec", "Où trouver la notice ?").await?;
    set(&clock, paris(12, 3, 12, 0));

    let admin = agent(&app).await?;
    let page = admin.ok("/api/v1/reports/worth").await?;
    assert_eq!(page["period"], json!({"from": "2026-11-01", "to": "2026-11-30"}));
    let e = &page["estimate"];
    let measured = |name| (json!(name), variable(e, name));
    for (name, value) in [
        ("requests", json!(8.0)),
        // 4 FAQ of 8.
        ("faq_share", json!(0.5)),
        // 1 of the 4 FAQ solved without a person.
        ("level1_resolution_rate", json!(0.25)),
        // The two line stops got a callback.
        ("escalation_rate", json!(0.25)),
        ("reports", json!(1.0)),
        ("report_review_minutes", json!(12.0)),
        // Answered by an agent: faq2, faq3, stop1, stop2, slow1, slow2; with
        // every fact their queue needs: faq3 (the machine), stop1 (a number).
        ("arrived_complete", json!(2.0 / 6.0)),
    ] {
        assert_eq!(measured(name), (json!(name), (value, json!("measured"))), "{e}");
    }
    assert_eq!(variable(e, "phone_share").1, "assumed");

    // The supervisor enters what Switchyard cannot know.
    let (status, body) = admin
        .put(
            "/api/v1/reports/worth/inputs",
            json!({"phone_share": 0.75, "call_minutes": 20, "writeup_minutes": 8, "faq_minutes": 12, "report_minutes": 42}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let (status, body) = admin
        .put("/api/v1/reports/worth/inputs", json!({"phone_share": 3}))
        .await?;
    assert_eq!(status, 400, "a share above 1 is refused: {body}");
    let e = admin.ok("/api/v1/reports/worth").await?["estimate"].clone();
    assert_eq!(variable(&e, "phone_share"), (json!(0.75), json!("entered")));
    // By hand: 8 × 0.75 × (20 + 8) = 168.
    assert_eq!(figure(&e, "phone_time_before"), 168.0);
    // 8 × 0.75 × (1 − 0.25) × 20 = 90.
    assert_eq!(figure(&e, "calls_avoided"), 90.0);
    // 8 × 0.5 × 12 × 0.25 = 12.
    assert_eq!(figure(&e, "faq_absorbed"), 12.0);
    // 1 × (42 − 12) = 30.
    assert_eq!(figure(&e, "reports_drafted"), 30.0);
    assert_eq!(e["saved_minutes"], json!(132.0));

    // Agents do not see it.
    admin.create_agent("ana", "Ana", "a-long-password-1", "agent").await?;
    let ana = AgentClient::login(&app.base(), "ana", "a-long-password-1").await?;
    let (status, _) = ana.get("/api/v1/reports/worth").await?;
    assert_eq!(status, 403);
    app.stop().await;
    Ok(())
}
