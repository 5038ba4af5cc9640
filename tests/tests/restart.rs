//! Kill -9 the real binary and start it again on the same data directory.

use e2e::{ADMIN_PASSWORD, AgentClient, ChildServer, Visitor};
use serde_json::json;

const BINARY: &str = env!("CARGO_BIN_EXE_e2e-switchyard");

#[tokio::test]
async fn acknowledged_messages_and_pending_replies_survive_a_kill() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut server = ChildServer::start(BINARY, dir.path()).await?;

    let (mut visitor, _) = Visitor::open(&server.ws_url(), None).await?;
    let token = visitor.token.clone().unwrap_or_default();
    let ack = visitor
        .message("k1", "Production stopped on line 4, smoke from the motor")
        .await?;
    let ticket = ack["conversation"].as_str().unwrap_or_default().to_string();
    let id = ticket.trim_start_matches("SY-").to_string();
    visitor.close().await;

    // The visitor is gone: the agent's reply waits in the outbox for them.
    let agent = AgentClient::login(&server.base(), "admin", ADMIN_PASSWORD).await?;
    let (status, reply) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "Technician on the way"}),
        )
        .await?;
    assert_eq!(status, 200, "{reply}");
    let reply_id = reply["message_id"].clone();
    let mut waited = false;
    for _ in 0..100 {
        let detail = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
        let status = detail["messages"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["id"] == reply_id))
            .map(|m| m["delivery_status"].clone());
        if status == Some(json!("waiting")) {
            waited = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(waited, "the reply waits for the offline visitor");

    server.kill();
    let server = ChildServer::start(BINARY, dir.path()).await?;

    let agent = AgentClient::login(&server.base(), "admin", ADMIN_PASSWORD).await?;
    let detail = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    assert_eq!(detail["conversation"]["priority"], "critical");
    let messages = detail["messages"].as_array().cloned().unwrap_or_default();
    assert!(messages.iter().any(|m| m["client_id"] == "k1"));
    assert!(
        messages
            .iter()
            .any(|m| m["id"] == reply_id && m["delivery_status"] == "waiting")
    );

    let (_, opened) = Visitor::open(&server.ws_url(), Some(&token)).await?;
    assert_eq!(opened["conversation"], json!(ticket));
    let history = opened["history"].as_array().cloned().unwrap_or_default();
    assert!(
        history
            .iter()
            .any(|m| m["id"] == reply_id && m["text"] == "Technician on the way")
    );

    // Marked right after the history went out: poll, bounded.
    let mut delivered = None;
    for _ in 0..100 {
        let detail = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
        delivered = detail["messages"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["id"] == reply_id))
            .map(|m| m["delivery_status"].clone());
        if delivered == Some(json!("delivered")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(delivered, Some(json!("delivered")));
    Ok(())
}

#[tokio::test]
async fn an_acknowledged_message_is_never_stored_twice_across_a_kill() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut server = ChildServer::start(BINARY, dir.path()).await?;
    let (mut visitor, _) = Visitor::open(&server.ws_url(), None).await?;
    let token = visitor.token.clone().unwrap_or_default();
    let first = visitor.message("r1", "ligne 3 à l'arrêt").await?;
    server.kill();

    // The widget did not see the ack (say) and resends after the restart.
    let server = ChildServer::start(BINARY, dir.path()).await?;
    let (mut visitor, _) = Visitor::open(&server.ws_url(), Some(&token)).await?;
    let again = visitor.message("r1", "ligne 3 à l'arrêt").await?;
    assert_eq!(again["message_id"], first["message_id"]);
    assert_eq!(again["duplicate"], true);
    Ok(())
}
