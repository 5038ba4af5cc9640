//! Reports on an injected clock: a week of conversations fed through the
//! pipeline and the agent API (replies, a lunch break, a reopening by the
//! customer, a knowledge answer, a critical call-back), then every figure of
//! `GET /api/v1/reports/kpis` against values worked out by hand below, the
//! drill-downs, and the CSV row for row equal to the JSON. On SQLite and
//! PostgreSQL.

use e2e::{ADMIN_PASSWORD, AgentClient, TestApp, spawn_app_with};
use gateway::clock::Clock;
use gateway::config::Config;
use serde_json::{Value, json};

const MINUTE: i64 = 60_000;

/// Paris local time, November–December 2026.
fn paris(m: u32, d: u32, h: u32, min: u32) -> i64 {
    e2e::paris(2026, m, d, h, min)
}

fn config(dir: &std::path::Path) -> Config {
    e2e::office_sla_config(dir)
}

/// Moves the manual clock forward to `t`.
fn set(clock: &Clock, t: i64) {
    assert!(t >= clock.now_ms(), "the clock only moves forward");
    clock.advance(t - clock.now_ms());
}

async fn mail(app: &TestApp, id: &str, from: &str, subject: &str, text: &str) -> anyhow::Result<i64> {
    let accepted = app
        .state
        .pipeline
        .submit(e2e::inbound_email(id, from, subject, text))
        .await?;
    Ok(accepted.conversation_id.0)
}

/// A fresh login: a session lasts hours of the manual clock, and the week is longer.
async fn agent(app: &TestApp) -> anyhow::Result<AgentClient> {
    AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await
}

async fn act(app: &TestApp, id: i64, what: &str, body: Value) -> anyhow::Result<()> {
    let (status, answer) = agent(app)
        .await?
        .post(&format!("/api/v1/conversations/{id}/{what}"), body)
        .await?;
    anyhow::ensure!(status == 200, "{what} on {id}: {status} {answer}");
    Ok(())
}

/// The week of Monday 30 November 2026, seen on Thursday 3 December at noon.
/// Returns the conversations A, B, C, D.
async fn a_week(app: &TestApp, clock: &Clock) -> anyhow::Result<[i64; 4]> {
    // A: Monday 09:00, answered 09:30, resolved 10:00.
    set(clock, paris(11, 30, 9, 0));
    let a = mail(
        app,
        "a@x",
        "chef@usine.fr",
        "Rebuts presse",
        "Nous constatons beaucoup de rebuts sur la presse P200 depuis le changement d'outil.",
    )
    .await?;
    set(clock, paris(11, 30, 9, 30));
    act(app, a, "reply", json!({"text": "Nous regardons les réglages."})).await?;
    set(clock, paris(11, 30, 10, 0));
    act(app, a, "resolve", json!({})).await?;

    // B: Monday 11:30, answered 14:00 (after lunch), resolved 14:30; the
    // customer writes again Tuesday 09:00, answered 09:15, resolved 09:30.
    set(clock, paris(11, 30, 11, 30));
    let b = mail(
        app,
        "b@x",
        "qualite@usine.fr",
        "Dérive température",
        "La température du moule oscille de plus ou moins 15 degrés depuis hier, les pièces sont limites.",
    )
    .await?;
    set(clock, paris(11, 30, 14, 0));
    act(app, b, "reply", json!({"text": "Pouvez-vous vérifier la sonde ?"})).await?;
    set(clock, paris(11, 30, 14, 30));
    act(app, b, "resolve", json!({})).await?;
    set(clock, paris(12, 1, 9, 0));
    let again = mail(
        app,
        "b2@x",
        "qualite@usine.fr",
        &format!("Re: [SY-{b}] Dérive température"),
        "La température oscille de nouveau malgré la sonde changée.",
    )
    .await?;
    assert_eq!(again, b, "the reply continues B");
    set(clock, paris(12, 1, 9, 15));
    act(app, b, "reply", json!({"text": "Nous passons en revue la régulation."})).await?;
    set(clock, paris(12, 1, 9, 30));
    act(app, b, "resolve", json!({})).await?;

    // C: Tuesday 10:00, a question the knowledge base answers; resolved 10:05 without a reply.
    set(clock, paris(12, 1, 10, 0));
    let c = mail(
        app,
        "c@x",
        "achats@client.fr",
        "Notice",
        "Bonjour, où puis-je télécharger le manuel d'utilisation de la machine ?",
    )
    .await?;
    set(clock, paris(12, 1, 10, 5));
    act(app, c, "resolve", json!({})).await?;

    // D: Wednesday 16:00, a stopped line: call-back (reached at 16:10) and video; answered 16:20.
    set(clock, paris(12, 2, 16, 0));
    let d = mail(
        app,
        "d@x",
        "maintenance@usine.fr",
        "URGENT ligne arrêtée",
        "La ligne 2 est arrêtée, code E17, plus rien ne sort. Rappelez-moi au +33 6 12 34 56 78.",
    )
    .await?;
    let agent = agent(app).await?;
    let seen = agent.ok(&format!("/api/v1/conversations/{d}")).await?;
    assert_eq!(seen["conversation"]["priority"], "critical", "{seen}");
    let callback = seen["escalations"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["kind"] == "callback"))
        .and_then(|e| e["id"].as_i64())
        .ok_or_else(|| anyhow::anyhow!("no callback: {seen}"))?;
    set(clock, paris(12, 2, 16, 10));
    let (status, body) = agent
        .post(
            &format!("/api/v1/escalations/{callback}/outcome"),
            json!({"outcome": "reached"}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    set(clock, paris(12, 2, 16, 20));
    act(app, d, "reply", json!({"text": "Notre expert vous a rappelé."})).await?;

    set(clock, paris(12, 3, 12, 0));
    Ok([a, b, c, d])
}

const WEEK: &str = "from=2026-11-30&to=2026-12-06";

async fn check_the_week(app: &TestApp, clock: &Clock) -> anyhow::Result<()> {
    let [a, b, c, d] = a_week(app, clock).await?;
    let agent = agent(app).await?;
    let visio = {
        let seen = agent.ok(&format!("/api/v1/conversations/{d}")).await?;
        seen["escalations"]
            .as_array()
            .map_or(0, |e| e.iter().filter(|e| e["kind"] == "visio").count())
    };

    let r = agent.ok(&format!("/api/v1/reports/kpis?{WEEK}&by=priority")).await?;
    let k = &r["kpis"];
    assert_eq!(r["time_zone"], "Europe/Paris");
    assert_eq!(r["previous_period"]["from"], "2026-11-23");
    assert_eq!(r["previous"]["volume"], 0);
    assert_eq!(k["volume"], 4, "{k}");
    // First responses: D 20 min, A 30 min, B 150 min (business: 30 + 30 across lunch = 60); C none.
    assert_eq!(k["unanswered"], 1);
    assert_eq!(k["first_response"]["calendar"]["median_ms"], 30 * MINUTE);
    assert_eq!(k["first_response"]["calendar"]["p90_ms"], 150 * MINUTE);
    assert_eq!(k["first_response"]["business"]["median_ms"], 30 * MINUTE);
    assert_eq!(k["first_response"]["business"]["p90_ms"], 60 * MINUTE);
    // First resolutions: C 5 min, A 60 min, B 180 min (business 30 + 60 = 90).
    assert_eq!(k["resolved"], 3);
    assert_eq!(k["resolution"]["calendar"]["median_ms"], 60 * MINUTE);
    assert_eq!(k["resolution"]["calendar"]["p90_ms"], 180 * MINUTE);
    assert_eq!(k["resolution"]["business"]["p90_ms"], 90 * MINUTE);
    // A (one reply) and C (none) at first contact; B had two replies and a reopening.
    assert_eq!(
        k["first_contact_resolution"],
        json!({"count": 2, "of": 3, "rate": 2.0 / 3.0})
    );
    assert_eq!(k["reopened"]["count"], 1);
    // Thursday noon: D open for 20 hours.
    assert_eq!(k["backlog"]["at"], paris(12, 3, 12, 0));
    assert_eq!(k["backlog"]["open"], 1);
    assert_eq!(k["backlog"]["age"][2]["count"], 1, "4–24 h: {}", k["backlog"]);
    // First response: A, B met, D answered after 20 of its 15 minutes. Next response: B's
    // second answer. Resolution: A, B met; D still open 20 hours after its 4 hours ran out.
    let sla: Vec<(i64, i64, i64)> = k["sla"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|t| {
                    let n = |f: &str| t[f].as_i64().unwrap_or(-1);
                    (n("met"), n("breached"), n("running"))
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(sla, [(2, 1, 0), (1, 0, 0), (2, 1, 0)], "{}", k["sla"]);
    assert_eq!(k["escalated"]["count"], 1);
    assert_eq!(k["escalations_by_kind"]["callback"], 1);
    assert_eq!(k["escalations_by_kind"]["visio"].as_u64().unwrap_or(0), visio as u64);
    assert_eq!(k["callback_outcomes"], json!({"reached": 1}));
    assert_eq!(k["self_service"]["count"], 1);
    assert_eq!(k["knowledge_sent"]["count"], 1);
    let days: Vec<(i64, i64, Value)> = k["days"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|d| {
                    let n = |f: &str| d[f].as_i64().unwrap_or(-1);
                    (n("created"), n("resolved"), d["open_at_end"].clone())
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        days,
        [
            (2, 2, json!(0)),
            (1, 2, json!(0)),
            (1, 0, json!(1)),
            (0, 0, Value::Null),
            (0, 0, Value::Null),
            (0, 0, Value::Null),
            (0, 0, Value::Null),
        ]
    );
    let groups: Vec<(String, i64)> = r["groups"]
        .as_array()
        .map(|g| {
            g.iter()
                .map(|g| {
                    (
                        g["key"].as_str().unwrap_or("").to_string(),
                        g["kpis"]["volume"].as_i64().unwrap_or(-1),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        groups,
        [
            ("important".to_string(), 2),
            ("critical".to_string(), 1),
            ("faq".to_string(), 1)
        ]
    );

    // Drill-downs: the conversations behind a figure.
    let tickets = |v: &Value| -> Vec<String> {
        v["rows"]
            .as_array()
            .map(|r| {
                r.iter()
                    .map(|r| r["ticket"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let t = |id: i64| format!("SY-{id}");
    for (figure, expected) in [
        ("created", vec![t(a), t(b), t(c), t(d)]),
        ("reopened", vec![t(b)]),
        ("self_served", vec![t(c)]),
        ("unanswered", vec![t(c)]),
        ("backlog", vec![t(d)]),
        ("sla_breached", vec![t(d)]),
        ("first_contact_resolved", vec![t(a), t(c)]),
    ] {
        let rows = agent
            .ok(&format!("/api/v1/reports/conversations?{WEEK}&figure={figure}"))
            .await?;
        assert_eq!(tickets(&rows), expected, "{figure}");
    }
    let filtered = agent
        .ok(&format!("/api/v1/reports/kpis?{WEEK}&priority=important"))
        .await?;
    assert_eq!(filtered["kpis"]["volume"], 2);

    // The CSV holds the JSON's rows, field for field.
    let json_rows = agent.ok(&format!("/api/v1/reports/conversations?{WEEK}")).await?;
    let csv_file = agent
        .download(&format!("/api/v1/reports/conversations.csv?{WEEK}"))
        .await?;
    assert_eq!(csv_file.file_name, "switchyard-conversations-2026-11-30-2026-12-06.csv");
    assert_eq!(csv_file.content_type, "text/csv; charset=utf-8");
    let body = String::from_utf8(csv_file.bytes)?;
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
    let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>()?;
    let rows = json_rows["rows"].as_array().cloned().unwrap_or_default();
    assert_eq!(records.len(), rows.len());
    assert_eq!(rows.len(), 4);
    for (record, row) in records.iter().zip(&rows) {
        for (name, field) in header.iter().zip(record.iter()) {
            let expected = match &row[name.as_str()] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(field, expected, "{name} of {}", row["ticket"]);
        }
    }
    assert_eq!(rows[1]["first_response_business_minutes"], 60, "B across lunch");
    assert_eq!(rows[1]["reopens"], 1);
    let days = String::from_utf8(agent.download(&format!("/api/v1/reports/days.csv?{WEEK}")).await?.bytes)?;
    assert_eq!(days.lines().nth(1), Some("2026-11-30,2,2,0"));
    let groups = String::from_utf8(
        agent
            .download(&format!("/api/v1/reports/groups.csv?{WEEK}&by=channel"))
            .await?
            .bytes,
    )?;
    assert!(
        groups
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("email,email,4,30,60,60,3,")),
        "{groups}"
    );

    // 23:30 UTC is already tomorrow in Paris: the page's presets end with the
    // day the server names, whatever period was asked for.
    set(clock, paris(12, 4, 0, 30));
    let agent = self::agent(app).await?; // the earlier session has gone idle
    let old = agent.ok("/api/v1/reports/kpis?from=2020-01-06&to=2020-01-12").await?;
    assert_eq!(old["today"], "2026-12-04");
    let default = agent.ok("/api/v1/reports/kpis").await?;
    assert_eq!(default["today"], "2026-12-04");
    assert_eq!(default["period"]["to"], "2026-12-04");
    assert_eq!(default["kpis"]["days"][6]["date"], "2026-12-04");
    Ok(())
}

#[tokio::test]
async fn a_week_of_figures_on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = Clock::manual(paris(11, 30, 8, 0));
    let app = spawn_app_with(config(dir.path()), clock.clone()).await?;
    check_the_week(&app, &clock).await?;
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_week_of_figures_on_postgres() -> anyhow::Result<()> {
    let db = e2e::postgres::TestDatabase::create().await?;
    let dir = tempfile::tempdir()?;
    let mut config = config(dir.path());
    config.store.url = gateway::config::Secret::new(db.url.clone());
    let clock = Clock::manual(paris(11, 30, 8, 0));
    let app = spawn_app_with(config, clock.clone()).await?;
    let outcome = check_the_week(&app, &clock).await;
    app.stop().await;
    db.drop_database().await?;
    outcome
}

#[tokio::test]
async fn reports_are_for_supervisors_and_a_bad_period_is_explained() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let app = spawn_app_with(config(dir.path()), Clock::system()).await?;
    let admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    admin.create_agent("marie", "Marie", "a-long-password", "agent").await?;
    let marie = AgentClient::login(&app.base(), "marie", "a-long-password").await?;
    let (status, body) = marie.get("/api/v1/reports/kpis").await?;
    assert_eq!(status, 403, "{body}");
    let (status, _) = marie.get("/api/v1/reports/conversations.csv").await?;
    assert_eq!(status, 403);
    let (status, body) = admin.get("/api/v1/reports/kpis?from=2026-12-06&to=2026-11-30").await?;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "bad_period");
    let (status, body) = admin.get("/api/v1/reports/kpis?from=yesterday&to=2026-11-30").await?;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("bad_period")));
    let (status, body) = admin.get("/api/v1/reports/kpis?by=colour").await?;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("bad_dimension")));
    // Nothing yet: every figure is there, rates absent rather than divided by zero.
    let (status, body) = admin.get("/api/v1/reports/kpis").await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["kpis"]["volume"], 0);
    assert_eq!(body["kpis"]["first_contact_resolution"]["rate"], Value::Null);
    assert_eq!(body["kpis"]["days"].as_array().map(Vec::len), Some(7));
    app.stop().await;
    Ok(())
}
