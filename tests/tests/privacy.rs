//! An access request answered from the inbox: one customer who wrote by
//! email (with the raw mail kept), on WhatsApp and in the chat widget (with a
//! photo), merged into one record; the export archive holds every
//! conversation, message, file and raw mail of theirs and nothing of another
//! customer's, is for admins only, and is written to the audit log with its
//! counts.

use std::collections::BTreeMap;
use std::io::Read;

use e2e::wa::{CUSTOMER, customer_writes, start, whatsapp_conversation};
use e2e::{AgentClient, Visitor};
use serde_json::{Value, json};

const EMAIL: &str = "jean@plant.test";

/// The archive's files by name.
fn entries(bytes: &[u8]) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut archive = tar::Archive::new(bytes);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.display().to_string();
        let mut data = Vec::new();
        entry.read_to_end(&mut data)?;
        out.insert(name, data);
    }
    Ok(out)
}

#[tokio::test]
async fn an_access_request_exports_every_item_of_one_customer_and_nothing_else() -> anyhow::Result<()> {
    let (app, _graph, admin, _dir) = start().await?;

    // Email, with its raw bytes kept as the mailbox reader keeps them.
    let raw = format!("From: {EMAIL}\r\nSubject: Presse\r\n\r\nLa presse P200 fuit.\r\n");
    let blob = app.state.blobs.put_bytes(raw.as_bytes(), 1 << 20).await?;
    let mut mail = e2e::inbound_email("export@x", EMAIL, "Presse", "La presse P200 fuit.");
    mail.raw_ref = Some(format!("sha256:{}", blob.sha256));
    app.state.pipeline.submit(mail).await?;
    // WhatsApp.
    assert_eq!(
        customer_writes(&app.base(), "wamid.ex1", "Photo du défaut envoyée demain").await?,
        200
    );
    let wa = whatsapp_conversation(&admin).await?["conversation"]["id"]
        .as_i64()
        .unwrap_or_default();
    // The widget, with a photo.
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    let token = visitor.token.clone().unwrap_or_default();
    let upload: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/chat/uploads?name=fuite.png", app.base()))
        .header("x-chat-token", &token)
        .header("content-type", "image/png")
        .body(b"\x89PNG\r\n\x1a\nleak".to_vec())
        .send()
        .await?
        .json()
        .await?;
    visitor
        .send_json(&json!({"type": "message", "client_id": "p1", "text": "Voici la fuite", "attachments": [upload["upload_id"]]}))
        .await?;
    let ack = visitor.expect("ack").await?;
    let chat = e2e::ticket_id(&ack["conversation"]);
    visitor.close().await;
    // Someone else.
    app.state
        .pipeline
        .submit(e2e::inbound_email(
            "other@x",
            "autre@client.test",
            "Autre",
            "Secret d'un autre client",
        ))
        .await?;

    // One person: the WhatsApp number and the visitor merged into the email record.
    let chat_address = admin.ok(&format!("/api/v1/conversations/{chat}")).await?["conversation"]["customer_address"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for address in [CUSTOMER.to_string(), chat_address] {
        let (status, body) = admin
            .post("/api/v1/customers/merges", json!({"address": address, "into": EMAIL}))
            .await?;
        assert_eq!(status, 200, "{body}");
    }

    // Agents cannot export.
    admin.create_agent("ana", "Ana", "ana-password-12", "agent").await?;
    let ana = AgentClient::login(&app.base(), "ana", "ana-password-12").await?;
    assert_eq!(
        ana.get(&format!("/api/v1/customers/export?address={EMAIL}")).await?.0,
        403
    );

    let export = admin
        .download(&format!("/api/v1/customers/export?address={EMAIL}"))
        .await?;
    assert_eq!(export.content_type, "application/x-tar");
    let files = entries(&export.bytes)?;
    let customer: Value = serde_json::from_slice(files.get("customer.json").map(Vec::as_slice).unwrap_or_default())?;
    assert_eq!(customer["addresses"].as_array().map(Vec::len), Some(3), "{customer}");
    let conversations: Vec<&String> = files.keys().filter(|k| k.starts_with("conversations/")).collect();
    assert_eq!(conversations.len(), 3, "{:?}", files.keys());
    assert!(files.contains_key(&format!("conversations/{wa}.json")));
    let all = files
        .values()
        .map(|v| String::from_utf8_lossy(v).to_string())
        .collect::<Vec<_>>()
        .join("\n");
    for said in [
        "La presse P200 fuit.",
        "Photo du défaut envoyée demain",
        "Voici la fuite",
    ] {
        assert!(all.contains(said), "{said} in the export");
    }
    assert!(!all.contains("Secret d'un autre client"), "nothing of another customer");
    let photo = files
        .iter()
        .find(|(k, _)| k.starts_with("files/") && k.ends_with("fuite.png"));
    assert_eq!(photo.map(|(_, v)| v.as_slice()), Some(&b"\x89PNG\r\n\x1a\nleak"[..]));
    let raws: Vec<&Vec<u8>> = files
        .iter()
        .filter(|(k, _)| k.starts_with("raw/"))
        .map(|(_, v)| v)
        .collect();
    assert_eq!(raws, [&raw.as_bytes().to_vec()]);

    // Audited: who, about whom, how much — not what.
    let audit = admin.ok("/api/v1/admin/audit").await?;
    let entry = &audit["entries"][0];
    assert_eq!(
        (&entry["action"], &entry["subject"]),
        (&json!("customer_export"), &json!(EMAIL)),
        "{audit}"
    );
    let counts: Value = serde_json::from_str(entry["detail"].as_str().unwrap_or_default())?;
    assert_eq!(counts["conversations"], 3, "{counts}");
    assert_eq!(counts["files"], 2, "{counts}");
    assert!(!entry["detail"].as_str().unwrap_or_default().contains("fuit"));
    app.stop().await;
    Ok(())
}
