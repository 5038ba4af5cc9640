//! Triage inside the gateway: rules from a file, reloaded only when valid,
//! account tiers from the config, history from the store, and the CLI.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use channels::Inbound;
use e2e::{ADMIN_PASSWORD, AgentClient, Visitor, spawn_app_with, test_config};
use gateway::clock::Clock;
use gateway::config::AccountConfig;
use gateway::server::Gateway;
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_e2e-switchyard");

const RULES_V1: &str = r#"
version = 1
[keywords.boom]
fr = ["boum"]
[[rules]]
name = "boom_v1"
priority = "critical"
queue = "critical"
when = { keywords = "boom" }
"#;

const RULES_V2: &str = r#"
version = 1
[keywords.boom]
fr = ["boum"]
[[rules]]
name = "boom_v2"
priority = "important"
queue = "experts"
when = { keywords = "boom" }
"#;

async fn verdict_of(app_ws: &str, agent: &AgentClient, text: &str) -> anyhow::Result<Value> {
    let (mut v, _) = Visitor::open(app_ws, None).await?;
    let ack = v.message("1", text).await?;
    let id = ack["conversation"]
        .as_str()
        .and_then(|t| t.strip_prefix("SY-"))
        .unwrap_or("0")
        .to_string();
    let detail = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    Ok(detail["verdict"].clone())
}

async fn wait_for_status(agent: &AgentClient, pred: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
    for _ in 0..100 {
        let status = agent.ok("/api/v1/admin/triage").await?;
        if pred(&status["triage"]) {
            return Ok(status["triage"].clone());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("triage status never changed as expected")
}

#[tokio::test]
async fn a_changed_rule_file_applies_only_when_it_validates() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, RULES_V1)?;
    let mut config = test_config(&dir.path().join("data"));
    config.triage.rules = rules.clone();
    config.triage.reload_check_secs = 1;
    let app = spawn_app_with(config, Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;

    let status = agent.ok("/api/v1/admin/triage").await?;
    assert_eq!(status["triage"]["rules"], 1);
    assert_eq!(status["triage"]["rules_source"], json!(rules.display().to_string()));
    let v = verdict_of(&app.ws_url(), &agent, "boum dans l'atelier").await?;
    assert_eq!(v["rules"][0]["rule"], "boom_v1");

    // A broken file: refused, reported, the running rules stay.
    std::fs::write(
        &rules,
        "version = 1\n[[rules]]\nname = \"x\"\npriority = \"urgent\"\nwhen = { keywords = \"nope\" }\n",
    )?;
    let (status, body) = agent.post("/api/v1/admin/triage/reload", json!({})).await?;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_rules");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("line 4, column 12: unknown priority"), "{message}");
    let status = agent.ok("/api/v1/admin/triage").await?;
    assert!(
        status["triage"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("unknown priority"))
    );
    assert!(
        status["triage"]["failed_reloads"].as_u64().unwrap_or_default() >= 1,
        "{status}"
    );
    assert_eq!(status["triage"]["reloads"], 0, "{status}");
    let v = verdict_of(&app.ws_url(), &agent, "encore boum").await?;
    assert_eq!(v["rules"][0]["rule"], "boom_v1", "the old rules still run");

    // A good file is picked up by the watcher, without being asked.
    let before = status["triage"]["loaded_at"].as_i64().unwrap_or_default();
    tokio::time::sleep(Duration::from_millis(20)).await;
    std::fs::write(&rules, RULES_V2)?;
    let now = wait_for_status(&agent, |t| t["loaded_at"].as_i64().unwrap_or_default() > before).await?;
    assert_eq!(now["last_error"], Value::Null);
    let v = verdict_of(&app.ws_url(), &agent, "boum").await?;
    assert_eq!(v["rules"][0]["rule"], "boom_v2");
    assert_eq!(v["priority"], "important");
    // Monitoring sees both outcomes.
    let metrics = reqwest::Client::new()
        .get(format!("{}/metrics", app.base()))
        .bearer_auth(e2e::HEALTH_TOKEN)
        .send()
        .await?
        .text()
        .await?;
    let now = agent.ok("/api/v1/admin/triage").await?;
    for (result, field) in [("ok", "reloads"), ("refused", "failed_reloads")] {
        let line = format!(
            "switchyard_rule_reloads_total{{result=\"{result}\"}} {}\n",
            now["triage"][field]
        );
        assert!(now["triage"][field].as_u64().unwrap_or_default() >= 1, "{now}");
        assert!(metrics.contains(&line), "{line} not in {metrics}");
    }
    app.stop().await;
    Ok(())
}

/// Twenty reloads at once compile one at a time off the runtime: each answers,
/// and a chat message sent meanwhile is acknowledged and triaged.
#[tokio::test]
async fn a_burst_of_reloads_leaves_the_chat_flowing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, RULES_V2)?;
    let mut config = test_config(&dir.path().join("data"));
    config.triage.rules = rules.clone();
    let app = spawn_app_with(config, Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let reloads = futures_util::future::join_all((0..20).map(|_| agent.post("/api/v1/admin/triage/reload", json!({}))));
    let ws = app.ws_url();
    let chat = verdict_of(&ws, &agent, "boum pendant les rechargements");
    let (reloads, verdict) = tokio::join!(reloads, chat);
    for r in reloads {
        let (status, body) = r?;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["triage"]["rules"], 1);
    }
    assert_eq!(verdict?["rules"][0]["rule"], "boom_v2");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn strategic_accounts_from_the_config_are_critical() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = test_config(dir.path());
    config.accounts = vec![AccountConfig {
        name: "Key Account".into(),
        tier: "strategic".into(),
        domains: vec!["key-account.com".into()],
        ..AccountConfig::default()
    }];
    let app = spawn_app_with(config, Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let (mut v, _) = Visitor::connect(&app.ws_url()).await.map(|v| (v, ()))?;
    v.send_json(&json!({"type": "open", "token": null, "prechat": {"email": "buyer@key-account.com"}}))
        .await?;
    v.expect("opened").await?;
    let ack = v.message("1", "Bonjour, pouvez-vous m'envoyer un devis ?").await?;
    let id = ack["conversation"]
        .as_str()
        .and_then(|t| t.strip_prefix("SY-"))
        .unwrap_or("0")
        .to_string();
    let detail = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    assert_eq!(detail["verdict"]["priority"], "critical");
    assert_eq!(detail["verdict"]["rules"][0]["rule"], "strategic_customer");
    assert_eq!(detail["conversation"]["queue"], "critical");
    app.stop().await;
    Ok(())
}

fn email(id: &str, from: &str, text: &str) -> Inbound {
    e2e::inbound_email(id, from, "Presse P200", text)
}

#[tokio::test]
async fn an_earlier_incident_with_the_same_fault_code_makes_a_recurring_one() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let gateway = Gateway::start(test_config(dir.path()), Clock::system()).await?;
    let pipeline = gateway.state.pipeline.clone();
    let store = gateway.state.store.clone();

    let first = pipeline
        .submit(email(
            "<a@x>",
            "chef@usine.fr",
            "Bonjour, le défaut E42 s'affiche au démarrage.",
        ))
        .await?;
    let other = pipeline
        .submit(email("<b@x>", "autre@ailleurs.fr", "Bonjour, le défaut E42 s'affiche."))
        .await?;
    let second = pipeline
        .submit(email(
            "<c@x>",
            "chef@usine.fr",
            "Bonjour, le défaut E42 s'affiche au démarrage.",
        ))
        .await?;
    assert_ne!(first.conversation_id, second.conversation_id);

    let verdicts = store.verdicts(second.conversation_id).await?;
    let rules: Vec<&str> = verdicts[0]["rules"]
        .as_array()
        .map(|r| r.iter().filter_map(|r| r["rule"].as_str()).collect())
        .unwrap_or_default();
    assert!(rules.contains(&"recurring_incident"), "{verdicts:?}");
    assert_eq!(second.priority, triage::Priority::Important);
    let fired = |v: &[Value]| -> Vec<String> {
        v[0]["rules"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|r| r["rule"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let first_rules = fired(&store.verdicts(first.conversation_id).await?);
    assert!(
        !first_rules.iter().any(|r| r == "recurring_incident"),
        "{first_rules:?}"
    );
    let other_rules = fired(&store.verdicts(other.conversation_id).await?);
    assert!(
        !other_rules.iter().any(|r| r == "recurring_incident"),
        "another customer's history does not count: {other_rules:?}"
    );
    Ok(())
}

#[test]
fn triage_check_reports_mistakes_and_exits_non_zero() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let good = dir.path().join("good.toml");
    let out = Command::new(BINARY).args(["triage", "defaults"]).output()?;
    std::fs::write(&good, &out.stdout)?;
    let out = Command::new(BINARY).args(["triage", "check"]).arg(&good).output()?;
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(": ok ("));

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "version = 1\n[[rules]]\nname = \"x\"\npriority = \"faq\"\nwhen = { keywords = \"nope\" }\n",
    )?;
    let out = Command::new(BINARY).args(["triage", "check"]).arg(&bad).output()?;
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("bad.toml:5:21: unknown keyword set or concept \"nope\""),
        "{text}"
    );
    assert!(text.contains("hint:"), "{text}");
    Ok(())
}

#[test]
fn triage_classify_reads_json_lines_and_writes_one_verdict_each() -> anyhow::Result<()> {
    let mut child = Command::new(BINARY)
        .args(["triage", "classify"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    if let Some(stdin) = child.stdin.as_mut() {
        writeln!(
            stdin,
            r#"{{"id": "m1", "channel": "whatsapp", "from": "+33612345678", "subject": null, "text": "ligne arete code E-217", "extra": true}}"#
        )?;
        writeln!(stdin, "this is not json")?;
        writeln!(
            stdin,
            r#"{{"id": "m3", "channel": "email", "from": "a@b.c", "subject": "Notice", "text": "Where can I download the user manual?"}}"#
        )?;
    }
    drop(child.stdin.take());
    let out = child.wait_with_output()?;
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["id"], "m1");
    assert_eq!(lines[0]["priority"], "critical");
    assert_eq!(lines[0]["escalation"], "callback+visio");
    assert_eq!(lines[0]["fields"]["fault_codes"], json!(["E217"]));
    assert_eq!(lines[0]["ask_for"], json!(["machine", "photo"]));
    for key in [
        "id",
        "priority",
        "queue",
        "escalation",
        "rules",
        "fields",
        "ask_for",
        "faq",
    ] {
        assert!(lines[0].get(key).is_some(), "missing {key}");
    }
    assert!(lines[1]["error"].as_str().is_some_and(|e| e.contains("not a message")));
    assert_eq!(lines[2]["priority"], "faq");
    assert_eq!(lines[2]["faq"]["id"], "manual");
    Ok(())
}

#[test]
fn triage_eval_scores_labelled_lines_and_lists_the_misses() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("history.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"id": "a", "channel": "webchat", "text": "Ligne 2 arrêtée, code E17", "expected": "critical"}"#,
            "\n",
            r#"{"id": "b", "channel": "email", "subject": "Notice", "text": "Where can I download the user manual?", "expected": "faq"}"#,
            "\n",
            // Labelled wrong on purpose: a miss to be listed with its rule and words.
            r#"{"id": "c", "channel": "whatsapp", "text": "le convoyeur est bloqué depuis 6h", "expected": "faq"}"#,
            "\n",
        ),
    )?;
    let out = Command::new(BINARY).args(["triage", "eval"]).arg(&file).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("accuracy 0.667 on 3 messages"), "{text}");
    let row = |class: &str, c: u32, i: u32, f: u32| format!("{class:<16} {c:>8} {i:>9} {f:>5}");
    assert!(text.contains(&row("critical", 1, 0, 0)), "{text}");
    assert!(text.contains(&row("faq", 1, 0, 1)), "{text}");
    assert!(
        text.contains("c: expected faq, got critical (production_stopped [\"convoyeur est bloqué\"]"),
        "{text}"
    );

    // A line that is not a labelled message: reported with its number, exit 1, the rest scored.
    std::fs::write(
        &file,
        "{\"id\": \"x\", \"channel\": \"fax\", \"text\": \"?\", \"expected\": \"faq\"}\nnot json\n",
    )?;
    let out = Command::new(BINARY).args(["triage", "eval"]).arg(&file).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(":line 1: unknown channel \"fax\""), "{text}");
    assert!(text.contains(":line 2: not a labelled message"), "{text}");
    Ok(())
}
