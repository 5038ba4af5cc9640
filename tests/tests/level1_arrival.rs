//! What Level 1 changes for the experts, measured the way a supervisor sees
//! it (the worth page's "answered with every fact already given"): the same
//! four scripted widget customers, with Level 1 on and off, an agent
//! answering each once the customer has said what they will say.
//!
//! The customers, each about a degraded machine (the experts' queue needs
//! the machine, a fault code, the impact and a photo):
//! - Ana knows everything and answers each question, photo included;
//! - Ben gave all but the photo at once, and sends it when asked;
//! - Chloé knows the machine but has no code and cannot take a photo (she
//!   says so with the quick answers);
//! - Driss answers nothing.

use e2e::{ADMIN_PASSWORD, AgentClient, TestApp, Visitor, spawn_app_with, test_config};
use gateway::clock::Clock;
use serde_json::json;

#[derive(Clone, Copy)]
enum Customer {
    Ana,
    Ben,
    Chloe,
    Driss,
}

impl Customer {
    fn first_message(self) -> &'static str {
        match self {
            Customer::Ben => {
                "La presse P200 affiche le défaut E-217 plusieurs fois par jour, la production est ralentie."
            }
            _ => "Bonjour, notre machine fait un bruit anormal depuis hier.",
        }
    }

    /// Their answer to a question about `fact`: text, or a photo.
    fn answer(self, fact: &str) -> Option<(&'static str, bool)> {
        match (self, fact) {
            (Customer::Driss, _) => None,
            (_, "machine") => Some(("C'est la presse P200", false)),
            (Customer::Chloe, "fault_code") => Some(("Aucun code affiché", false)),
            (_, "fault_code") => Some(("Le code E-217", false)),
            (_, "impact") => Some(("Production ralentie", false)),
            (Customer::Chloe, "photo") => Some(("Pas possible", false)),
            (_, "photo") => Some(("Voici la photo", true)),
            _ => None,
        }
    }
}

async fn photo(app: &TestApp, visitor: &Visitor) -> anyhow::Result<String> {
    visitor
        .upload_png(&app.base(), "ecran.png", b"\x89PNG\r\n\x1a\nscreen")
        .await
}

/// One customer's conversation until they have said what they will say; its id.
async fn converse(app: &TestApp, agent: &AgentClient, who: Customer) -> anyhow::Result<i64> {
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    let ack = visitor.message("m0", who.first_message()).await?;
    let id = e2e::ticket_id(&ack["conversation"]);
    let mut silent = 0;
    for turn in 1..10 {
        let state = agent.ok(&format!("/api/v1/conversations/{id}")).await?["qualification"].clone();
        let Some(fact) = state["asked"].as_str().map(str::to_string) else {
            break;
        };
        let client_id = format!("m{turn}");
        match who.answer(&fact) {
            Some((text, true)) => {
                let upload = photo(app, &visitor).await?;
                visitor
                    .send_json(
                        &json!({"type": "message", "client_id": client_id, "text": text, "attachments": [upload]}),
                    )
                    .await?;
                visitor.expect("ack").await?;
            }
            Some((text, false)) => {
                visitor.message(&client_id, text).await?;
            }
            None => {
                silent += 1;
                visitor.message(&client_id, "Vous pouvez m'appeler ?").await?;
                if silent == 2 {
                    break;
                }
            }
        }
    }
    visitor.close().await;
    Ok(id)
}

/// The share the worth page reports, with Level 1 on or off.
async fn share(level1: bool) -> anyhow::Result<(usize, usize)> {
    let dir = tempfile::tempdir()?;
    let mut config = test_config(dir.path());
    config.level1.enabled = level1;
    let app = spawn_app_with(config, Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    for who in [Customer::Ana, Customer::Ben, Customer::Chloe, Customer::Driss] {
        let id = converse(&app, &agent, who).await?;
        let (status, body) = agent
            .post(
                &format!("/api/v1/conversations/{id}/reply"),
                json!({"text": "Je regarde votre dossier."}),
            )
            .await?;
        anyhow::ensure!(status == 200, "{body}");
    }
    let page = agent.ok("/api/v1/reports/worth?days=1").await?;
    let arrived = page["estimate"]["variables"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == "arrived_complete"))
        .and_then(|v| v["value"].as_f64())
        .unwrap_or(f64::NAN);
    app.stop().await;
    Ok(((arrived * 4.0).round() as usize, 4))
}

#[tokio::test]
async fn level1_brings_the_experts_conversations_with_their_facts() -> anyhow::Result<()> {
    // On: Ana and Ben give everything; Chloé gives the machine and declines the
    // rest with the quick answers (an expert could not get more); Driss nothing.
    assert_eq!(share(true).await?, (3, 4));
    // Off: only Ben's first message says anything, and not the photo.
    assert_eq!(share(false).await?, (0, 4));
    Ok(())
}
