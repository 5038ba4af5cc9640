//! Access and erasure requests answered from the inbox, for one customer
//! who wrote by email (with the raw mail kept), on WhatsApp and in the chat
//! widget (with a photo), merged into one record.
//!
//! The export archive holds every conversation, message, file and raw mail
//! of theirs and nothing of another customer's, is for admins only, and is
//! written to the audit log with its counts. The erasure is refused whole
//! while a conversation is under legal hold; once done, nothing of theirs
//! is found through the API, search, the blob directory, the webhook
//! journal or the outbox, a photo another customer sent too survives, the
//! KPIs of the period count the same, and the audit log names them by a
//! digest only an admin who knows the address can match.

use std::collections::BTreeMap;
use std::io::Read;

use e2e::wa::{CUSTOMER, customer_writes, start, whatsapp_conversation};
use e2e::{AgentClient, TestApp, Visitor};
use serde_json::{Value, json};

const EMAIL: &str = "jean@plant.test";
const PHOTO: &[u8] = b"\x89PNG\r\n\x1a\nleak";

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

/// The one customer, as the tests find them.
struct Customer {
    raw: String,
    raw_sha: String,
    mail: i64,
    wa: i64,
    chat: i64,
    photo_sha: String,
}

/// A visitor's conversation with one photo; its id.
async fn visitor_sends_photo(app: &TestApp, text: &str, name: &str) -> anyhow::Result<i64> {
    Visitor::sends_photo(&app.ws_url(), &app.base(), text, name, PHOTO).await
}

/// Jean on three channels, merged into one record; someone else by email.
async fn one_customer_and_another(app: &TestApp, admin: &AgentClient) -> anyhow::Result<Customer> {
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
    let wa = whatsapp_conversation(admin).await?["conversation"]["id"]
        .as_i64()
        .unwrap_or_default();
    // The widget, with a photo.
    let chat = visitor_sends_photo(app, "Voici la fuite", "fuite.png").await?;
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
    let mail_id = admin
        .wait_json("/api/v1/conversations?limit=100", "the mail's conversation", |l| {
            l["conversations"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["customer_address"] == EMAIL))
        })
        .await?["conversations"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["customer_address"] == EMAIL))
        .and_then(|c| c["id"].as_i64())
        .unwrap_or_default();

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
    let photo_sha = admin.ok(&format!("/api/v1/conversations/{chat}")).await?["attachments"][0]["sha256"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Ok(Customer {
        raw,
        raw_sha: blob.sha256,
        mail: mail_id,
        wa,
        chat,
        photo_sha,
    })
}

#[tokio::test]
async fn an_access_request_exports_every_item_of_one_customer_and_nothing_else() -> anyhow::Result<()> {
    let (app, _graph, admin, _dir) = start().await?;
    let jean = one_customer_and_another(&app, &admin).await?;
    let (raw, wa) = (jean.raw.clone(), jean.wa);

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
    assert_eq!(photo.map(|(_, v)| v.as_slice()), Some(PHOTO));
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

/// Rows of `sql` (one `$1` bound to `arg`) in the store, or in the journal file.
async fn count(pool: &sqlx::AnyPool, sql: &str, arg: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sql).bind(arg).fetch_one(pool).await?)
}

/// The KPIs without what moves with the wall clock (the backlog's age now).
fn counted(mut report: Value) -> Value {
    let mut kpis = report["kpis"].take();
    for moving in ["at", "oldest_ms"] {
        if let Some(b) = kpis["backlog"].as_object_mut() {
            b.remove(moving);
        }
    }
    kpis
}

fn today_window() -> String {
    let today = chrono::Utc::now().date_naive();
    format!(
        "from={}&to={}",
        today - chrono::Days::new(1),
        today + chrono::Days::new(1)
    )
}

#[tokio::test]
async fn an_erasure_request_leaves_nothing_findable_but_the_skeleton_the_kpis_count() -> anyhow::Result<()> {
    let (app, _graph, admin, dir) = start().await?;
    // On SQLite the journal is a file of its own.
    let journal = sqlx::AnyPool::connect(&format!(
        "sqlite://{}?mode=ro",
        dir.path().join("switchyard-journal.db").display()
    ))
    .await?;
    erase_and_look_everywhere(&app, &admin, &journal).await?;
    journal.close().await;
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_erasure_on_postgresql_leaves_nothing_findable_either() -> anyhow::Result<()> {
    let (app, _graph, admin, _dir, db) = e2e::wa::start_on_postgres().await?;
    let journal = app.state.store.reader().clone();
    erase_and_look_everywhere(&app, &admin, &journal).await?;
    app.stop().await;
    db.drop_database().await
}

async fn erase_and_look_everywhere(app: &TestApp, admin: &AgentClient, journal: &sqlx::AnyPool) -> anyhow::Result<()> {
    let jean = one_customer_and_another(app, admin).await?;
    // Another customer sent the very same photo: one blob, two owners.
    let other_chat = visitor_sends_photo(app, "Même souci chez nous", "photo.png").await?;
    // An access request first: its audit entry names Jean until the erasure.
    admin
        .download(&format!("/api/v1/customers/export?address={EMAIL}"))
        .await?;
    for id in [jean.mail, jean.wa, jean.chat] {
        let (status, body) = admin
            .post(&format!("/api/v1/conversations/{id}/resolve"), json!({}))
            .await?;
        assert_eq!(status, 200, "{body}");
    }
    let kpis = format!("/api/v1/reports/kpis?{}", today_window());
    let before = counted(admin.ok(&kpis).await?);

    // A legal hold on one conversation refuses the whole erasure, and says why.
    let (status, body) = admin
        .put(
            &format!("/api/v1/conversations/{}/legal-hold", jean.wa),
            json!({"reason": "warranty claim 2026-114"}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let erase = json!({"address": EMAIL, "confirm": EMAIL});
    let (status, body) = admin.post("/api/v1/customers/erase", erase.clone()).await?;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("warranty claim 2026-114"), "{body}");
    let mail = admin.ok(&format!("/api/v1/conversations/{}", jean.mail)).await?;
    assert_eq!(mail["messages"][0]["body"], "La presse P200 fuit.", "nothing erased");
    // Its raw mail is there until the erasure.
    let raw_url = format!(
        "/api/v1/conversations/{}/messages/{}/raw",
        jean.mail, mail["messages"][0]["id"]
    );
    assert_eq!(admin.download(&raw_url).await?.bytes, jean.raw.as_bytes());
    let (status, _) = admin
        .delete(&format!("/api/v1/conversations/{}/legal-hold", jean.wa))
        .await?;
    assert_eq!(status, 200);

    // Agents cannot erase; the address must be typed twice.
    admin.create_agent("ana", "Ana", "ana-password-12", "agent").await?;
    let ana = AgentClient::login(&app.base(), "ana", "ana-password-12").await?;
    assert_eq!(ana.post("/api/v1/customers/erase", erase.clone()).await?.0, 403);
    let (status, _) = admin
        .post("/api/v1/customers/erase", json!({"address": EMAIL, "confirm": "jean@"}))
        .await?;
    assert_eq!(status, 400);

    let (status, done) = admin.post("/api/v1/customers/erase", erase.clone()).await?;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["erased"]["conversations"], 3, "{done}");
    assert_eq!(done["erased"]["raw_mails"], 1, "{done}");
    assert_eq!(
        done["erased"]["files_shared"], 1,
        "the photo another customer sent stays: {done}"
    );

    // The API: no such customer, skeletons that name nobody and say nothing.
    assert_eq!(admin.get(&format!("/api/v1/customers?address={EMAIL}")).await?.0, 404);
    assert_eq!(
        admin.get(&format!("/api/v1/customers?address={CUSTOMER}")).await?.0,
        404
    );
    for id in [jean.mail, jean.wa, jean.chat] {
        let c = admin.ok(&format!("/api/v1/conversations/{id}")).await?;
        let conversation = &c["conversation"];
        assert!(
            conversation["customer_address"]
                .as_str()
                .is_some_and(|a| a.starts_with("erased-")),
            "{conversation}"
        );
        assert!(conversation["erased_at"].is_i64(), "{conversation}");
        for field in [
            "customer_name",
            "customer_email",
            "customer_phone",
            "subject",
            "preview",
        ] {
            assert!(
                conversation[field].is_null() || conversation[field] == "",
                "{field}: {conversation}"
            );
        }
        assert_eq!(c["attachments"], json!([]), "{c}");
        for m in c["messages"].as_array().into_iter().flatten() {
            assert_eq!(m["body"], "", "{m}");
        }
        assert!(
            !c.to_string().contains(EMAIL) && !c.to_string().contains(CUSTOMER),
            "{c}"
        );
        // Nobody answers an erased customer.
        let (status, _) = admin
            .post(&format!("/api/v1/conversations/{id}/reply"), json!({"text": "Bonjour"}))
            .await?;
        assert_eq!(status, 409);
    }
    assert_eq!(admin.get(&raw_url).await?.0, 404, "the raw mail is gone");

    // Search finds nothing of theirs, and still finds the other customer.
    for q in ["fuit", "P200", "jean", "33612345678", "Martin"] {
        let found = admin.ok(&format!("/api/v1/search?q={q}")).await?;
        assert_eq!(found["results"], json!([]), "{q}: {found}");
        assert_eq!(
            found["customers"].as_array().map(Vec::len).unwrap_or(0),
            0,
            "{q}: {found}"
        );
    }
    let found = admin.ok("/api/v1/search?q=Secret").await?;
    assert_eq!(found["results"].as_array().map(Vec::len), Some(1), "{found}");

    // The blob directory: the raw mail is gone, the shared photo is not.
    let blob = |sha: &str| app.state.blobs.path(sha).is_some_and(|p| p.exists());
    assert!(!blob(&jean.raw_sha), "raw mail file removed");
    assert!(blob(&jean.photo_sha), "shared photo kept");
    let other = admin.ok(&format!("/api/v1/conversations/{other_chat}")).await?;
    let url = format!(
        "/api/v1/conversations/{other_chat}/attachments/{}",
        other["attachments"][0]["id"]
    );
    assert_eq!(admin.download(&url).await?.bytes, PHOTO);

    // The webhook journal and the outbox hold nothing of theirs.
    let store = app.state.store.reader();
    assert_eq!(
        count(
            journal,
            "SELECT COUNT(*) FROM webhook_journal WHERE body LIKE $1",
            &format!("%{CUSTOMER}%")
        )
        .await?,
        0
    );
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM outbox WHERE payload LIKE $1 OR last_error LIKE $1",
            &format!("%{CUSTOMER}%")
        )
        .await?,
        0
    );
    for (table, column) in [
        ("conversations", "customer_address"),
        ("participants", "address"),
        ("whatsapp_customers", "phone"),
        ("customer_merges", "address"),
        ("audit_log", "subject"),
    ] {
        for needle in [EMAIL, CUSTOMER] {
            let n = count(
                store,
                &format!("SELECT COUNT(*) FROM {table} WHERE {column} LIKE $1"),
                &format!("%{needle}%"),
            )
            .await?;
            assert_eq!(n, 0, "{needle} in {table}.{column}");
        }
    }
    assert_eq!(
        count(store, "SELECT COUNT(*) FROM verdicts WHERE detail LIKE $1", "%P200%").await?,
        0,
        "the triage's quotes go"
    );

    // The KPIs of the period count the same.
    let after = counted(admin.ok(&kpis).await?);
    assert_eq!(before, after);

    // Audited without the address; an admin who knows it can still match it.
    let audit = admin.ok("/api/v1/admin/audit").await?;
    let entry = &audit["entries"][0];
    assert_eq!(entry["action"], "customer_erasure", "{audit}");
    let subject = entry["subject"].as_str().unwrap_or_default();
    assert!(subject.starts_with("hmac:"), "{entry}");
    assert!(!audit.to_string().contains(EMAIL), "{audit}");
    let mine = admin.ok(&format!("/api/v1/admin/audit?subject={EMAIL}")).await?;
    let actions: Vec<&str> = mine["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["customer_erasure", "customer_export"], "{mine}");
    let by_number = admin.ok(&format!("/api/v1/admin/audit?subject={CUSTOMER}")).await?;
    assert_eq!(by_number["entries"][0]["action"], "customer_erasure", "{by_number}");

    // Erasing twice says so; writing again starts afresh.
    assert_eq!(admin.post("/api/v1/customers/erase", erase).await?.0, 404);
    assert_eq!(customer_writes(&app.base(), "wamid.ex2", "Encore moi").await?, 200);
    let fresh = admin
        .wait_json(&format!("/api/v1/customers?address={CUSTOMER}"), "a new record", |c| {
            c["conversations"].as_array().map(Vec::len) == Some(1)
        })
        .await?;
    assert_ne!(fresh["conversations"][0]["id"], jean.wa);
    Ok(())
}
