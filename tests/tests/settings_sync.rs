//! Two gateway nodes on one PostgreSQL: what an admin saves in the inbox on
//! node A — triage rules, the customer directory, hours and targets, a
//! published knowledge entry — is in force on node B within seconds, without
//! a restart; and going back to the file on A goes back on B too.

use e2e::{ADMIN_PASSWORD, AgentClient, spawn_app_with, test_config};
use gateway::clock::Clock;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_an_admin_saves_on_one_node_is_in_force_on_the_other() -> anyhow::Result<()> {
    let db = e2e::postgres::TestDatabase::create().await?;
    let (dir_a, dir_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let node = |dir: &std::path::Path| {
        let mut config = test_config(dir);
        config.store.url = gateway::config::Secret::new(db.url.clone());
        config
    };
    let a = spawn_app_with(node(dir_a.path()), Clock::system()).await?;
    let b = spawn_app_with(node(dir_b.path()), Clock::system()).await?;
    let outcome = async {
        let on_a = AgentClient::login(&a.base(), "admin", ADMIN_PASSWORD).await?;
        let on_b = AgentClient::login(&b.base(), "admin", ADMIN_PASSWORD).await?;

        // Rules: a new version saved on A is the one B runs.
        let rules = on_a.ok("/api/v1/admin/rules").await?;
        let source = format!("{}\n# saved on node A\n", rules["source"].as_str().unwrap_or_default());
        let (status, saved) = on_a
            .post("/api/v1/admin/rules", json!({"source": source, "note": "from A"}))
            .await?;
        anyhow::ensure!(status == 200, "{saved}");
        let version = saved["version"].as_i64().unwrap_or_default();
        let origin = format!("inbox version {version}");
        on_b.wait_json("/api/v1/admin/rules", "the rules saved on A, on B", |r| {
            r["origin"] == origin.as_str() && r["source"].as_str().is_some_and(|s| s.ends_with("# saved on node A\n"))
        })
        .await?;

        // The customer directory.
        let accounts = json!([{"name": "Fromagerie Alpine", "tier": "strategic", "domains": ["fromagerie-alpine.fr"], "addresses": [], "phones": []}]);
        let (status, body) = on_a.put("/api/v1/admin/accounts", json!({"accounts": accounts})).await?;
        anyhow::ensure!(status == 200, "{body}");
        on_b.wait_json("/api/v1/admin/accounts", "the accounts saved on A, on B", |r| {
            r["origin"] == "inbox" && r["accounts"][0]["name"] == "Fromagerie Alpine"
        })
        .await?;

        // Hours: a holiday saved on A.
        let mut sla = on_a.ok("/api/v1/admin/sla").await?["edit"].clone();
        sla["calendars"][0]["holidays"] = json!(["2026-12-25", "2027-01-01"]);
        let (status, body) = on_a.post("/api/v1/admin/sla", sla).await?;
        anyhow::ensure!(status == 200, "{body}");
        on_b.wait_json("/api/v1/admin/sla", "the hours saved on A, on B", |r| {
            r["origin"] == "inbox" && r["edit"]["calendars"][0]["holidays"] == json!(["2026-12-25", "2027-01-01"])
        })
        .await?;

        // Knowledge published on A answers on B.
        let before = kb_entries(&on_b.ok("/api/v1/admin/triage").await?);
        let draft = json!({
            "title": "Pression de la pompe doseuse",
            "language": "fr",
            "questions": ["Quelle pression régler sur la pompe doseuse ?"],
            "keywords": ["pompe doseuse"],
            "answer": "Réglez la pompe doseuse à 3,5 bar au manomètre de sortie.",
            "auto_send": true,
        });
        let (status, made) = on_a.post("/api/v1/knowledge", json!({"draft": draft})).await?;
        anyhow::ensure!(status == 200, "{made}");
        let id = made["entry"]["id"].as_str().unwrap_or_default().to_string();
        let (status, body) = on_a.post(&format!("/api/v1/knowledge/{id}/publish"), json!({})).await?;
        anyhow::ensure!(status == 200, "{body}");
        on_b.wait_json("/api/v1/admin/triage", "the entry published on A, on B", |t| {
            kb_entries(t) == before + 1
        })
        .await?;

        // Back to the file on A: back to the file on B.
        let (status, body) = on_a.post("/api/v1/admin/rules/file", json!({})).await?;
        anyhow::ensure!(status == 200, "{body}");
        on_b.wait_json("/api/v1/admin/rules", "the file's rules again, on B", |r| {
            r["origin"].as_str().is_some_and(|o| !o.starts_with("inbox"))
        })
        .await?;
        anyhow::Ok(())
    }
    .await;
    a.stop().await;
    b.stop().await;
    db.drop_database().await?;
    outcome
}

fn kb_entries(triage: &Value) -> i64 {
    triage["triage"]["kb_entries"].as_i64().unwrap_or_default()
}
