//! Search, the customer page and the machine page on both backends, over one
//! seeded set: three channels (a mail, a chat, a WhatsApp photo caption),
//! five languages, a serial written three ways, a fault code written three
//! ways, quoted history, a note and an attachment name.

use channels::{AttachmentRef, AttachmentSource, ChannelKind, Inbound, ThreadHints};
use e2e::Visitor;
use e2e::graph_stub::GraphStub;
use e2e::wa::{msg, notification, signed};
use e2e::{ADMIN_PASSWORD, AgentClient, TestApp};
use serde_json::{Value, json};

struct Seeded {
    /// French mail: the press is stopped, serial SN-4471, code E-301, a note, a drawing attached.
    press: i64,
    /// English mail whose new text names the hydraulic leak.
    leak_new: i64,
    /// English mail that only quotes it.
    leak_quoted: i64,
    /// Italian mail: conveyor blocked, "errore E 301".
    conveyor: i64,
    /// German chat: serial sn4471, "Störung E301".
    chat: i64,
    /// Spanish WhatsApp photo, serial SN4471 in its caption.
    whatsapp: i64,
}

async fn mail(
    app: &TestApp,
    id: &str,
    from: &str,
    subject: &str,
    text: &str,
    quoted: Option<&str>,
) -> anyhow::Result<i64> {
    let mut m = e2e::inbound_email(id, from, subject, text);
    m.quoted = quoted.map(str::to_string);
    Ok(app.state.pipeline.submit(m).await?.conversation_id.0)
}

async fn seed(app: &TestApp, stub: &GraphStub, agent: &AgentClient) -> anyhow::Result<Seeded> {
    let mut press = e2e::inbound_email(
        "press@x",
        "jean.dupont@usine-martin.fr",
        "Presse P200 arrêtée",
        "Bonjour, la presse P200 numéro de série SN-4471 est arrêtée depuis ce matin, code défaut E-301 affiché.",
    );
    press.from.name = Some("Jean Dupont".into());
    let drawing = app.state.blobs.put_bytes(b"%PDF-1.4 drawing", 1 << 20).await?;
    press.attachments.push(AttachmentRef {
        name: Some("schéma-hydraulique.pdf".into()),
        content_type: Some("application/pdf".into()),
        size: Some(16),
        sha256: Some(drawing.sha256.clone()),
        source: AttachmentSource::Blob { sha256: drawing.sha256 },
        content_id: None,
    });
    let press = app.state.pipeline.submit(press).await?.conversation_id.0;
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{press}/notes"),
            json!({"text": "Pièce commandée : joint torique 45x3, livraison demain."}),
        )
        .await?;
    anyhow::ensure!(status == 200, "note: {status} {body}");

    let leak_new = mail(
        app,
        "leak@x",
        "maintenance@dairy.co.uk",
        "Filler line",
        "The hydraulic pump of the filler leaks oil under the guard.",
        None,
    )
    .await?;
    let leak_quoted = mail(
        app,
        "news@x",
        "buyer@dairy.co.uk",
        "Quote request",
        "Any news about our quote for spare nozzles?",
        Some("> Last year the hydraulic pump leaks were fixed by your technician."),
    )
    .await?;
    let conveyor = mail(
        app,
        "conv@x",
        "manutenzione@caseificio.it",
        "Nastro",
        "Il nastro trasportatore è bloccato, sul pannello compare errore E 301.",
        None,
    )
    .await?;

    let mut chat = Inbound::text(
        ChannelKind::Webchat,
        "widget",
        "k-chat:1",
        "visitor:0123456789abcdef",
        "Die Maschine steht still, Störung E301 an der Anlage, Seriennummer sn4471.",
    );
    chat.thread_hints = ThreadHints {
        conversation_key: Some("k-chat".into()),
        ..ThreadHints::default()
    };
    chat.contact.email = Some("jean.dupont@usine-martin.fr".into());
    chat.contact.name = Some("J. Dupont".into());
    let chat = app.state.pipeline.submit(chat).await?.conversation_id.0;

    let sha = stub.add_media("media-photo", "image/jpeg", b"\xff\xd8\xff\xe0 photo");
    let status = signed(
        &app.base(),
        &notification(
            vec![msg(
                "wamid.photo",
                "image",
                json!({"id": "media-photo", "mime_type": "image/jpeg", "sha256": sha,
                       "caption": "Fallo en la máquina envasadora, número de serie SN4471"}),
            )],
            vec![],
        ),
    )
    .await?;
    anyhow::ensure!(status == 200, "webhook: {status}");
    let whatsapp = e2e::wa::whatsapp_conversation(agent).await?["conversation"]["id"]
        .as_i64()
        .unwrap_or(-1);
    Ok(Seeded {
        press,
        leak_new,
        leak_quoted,
        conveyor,
        chat,
        whatsapp,
    })
}

async fn search(agent: &AgentClient, query: &str) -> anyhow::Result<Value> {
    let q: String = url_encode(query);
    agent.ok(&format!("/api/v1/search?q={q}")).await
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn ids(found: &Value) -> Vec<i64> {
    found["results"]
        .as_array()
        .map(|r| r.iter().filter_map(|h| h["conversation"]["id"].as_i64()).collect())
        .unwrap_or_default()
}

fn result(found: &Value, id: i64) -> Option<&Value> {
    found["results"]
        .as_array()?
        .iter()
        .find(|h| h["conversation"]["id"].as_i64() == Some(id))
}

/// The marked words of a result's snippet.
fn marked(hit: &Value) -> Vec<String> {
    hit["match"]["snippet"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter(|seg| seg["hit"] == true)
                .filter_map(|seg| seg["text"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn scenario(app: &TestApp, stub: &GraphStub) -> anyhow::Result<()> {
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let s = seed(app, stub, &agent).await?;

    // Accents and case fold; word forms are found in the five languages.
    for q in ["arrêtée", "ARRETEE", "arrêt", "arretes"] {
        let found = search(&agent, q).await?;
        assert!(ids(&found).contains(&s.press), "{q}: {found}");
    }
    let found = search(&agent, "arretee").await?;
    let hit = result(&found, s.press).ok_or_else(|| anyhow::anyhow!("{found}"))?;
    assert!(
        marked(hit).iter().any(|m| m == "arrêtée"),
        "the customer's own spelling is marked: {hit}"
    );
    for (q, id) in [
        ("leaking", s.leak_new),
        ("Störungen", s.chat),
        ("maquinas envasadoras", s.whatsapp),
        ("bloccati", s.conveyor),
        ("presses", s.press),
    ] {
        let found = search(&agent, q).await?;
        assert!(ids(&found).contains(&id), "{q} should find {id}: {found}");
    }

    // A serial written three ways is one machine, whichever way it is typed.
    for q in ["SN4471", "sn-4471", "SN 4471"] {
        let found = search(&agent, q).await?;
        let got = ids(&found);
        for id in [s.press, s.chat, s.whatsapp] {
            assert!(got.contains(&id), "{q} should find {id}: {found}");
        }
        assert!(!got.contains(&s.leak_new), "{q}: {found}");
    }
    // A fault code written three ways, including in text no rule extracted ("errore E 301").
    for q in ["E301", "e-301", "E 301"] {
        let got = ids(&search(&agent, q).await?);
        for id in [s.press, s.chat, s.conveyor] {
            assert!(got.contains(&id), "{q} should find {id}: {got:?}");
        }
    }
    let found = search(&agent, "E301").await?;
    let conveyor = result(&found, s.conveyor).ok_or_else(|| anyhow::anyhow!("{found}"))?;
    assert_eq!(marked(conveyor), ["E 301"], "{conveyor}");

    // What the customer writes now ranks above what they quote.
    let found = search(&agent, "hydraulic pump leaks").await?;
    let order = ids(&found);
    let at = |id| order.iter().position(|c| *c == id);
    assert!(at(s.leak_new).is_some() && at(s.leak_quoted).is_some(), "{found}");
    assert!(at(s.leak_new) < at(s.leak_quoted), "{found}");
    assert_eq!(
        result(&found, s.leak_quoted).map(|h| h["match"]["field"].clone()),
        Some(json!("quoted"))
    );

    // Notes and attachment names are searched too.
    let found = search(&agent, "joint torique").await?;
    let note = result(&found, s.press).ok_or_else(|| anyhow::anyhow!("{found}"))?;
    assert_eq!(note["direction"], "note", "{note}");
    let found = search(&agent, "schema").await?;
    let drawing = result(&found, s.press).ok_or_else(|| anyhow::anyhow!("{found}"))?;
    assert_eq!(drawing["match"]["field"], "attachment", "{drawing}");

    // Filters narrow.
    let found = agent.ok("/api/v1/search?q=SN4471&channel=whatsapp").await?;
    assert_eq!(ids(&found), [s.whatsapp], "{found}");
    let found = agent.ok("/api/v1/search?q=SN4471&status=resolved").await?;
    assert!(ids(&found).is_empty(), "{found}");

    // Customers: by name, and by phone number however written.
    let found = search(&agent, "dupont").await?;
    assert!(
        found["customers"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["address"] == "jean.dupont@usine-martin.fr")),
        "{found}"
    );
    for q in ["06 12 34 56 78", "+33612345678"] {
        let found = search(&agent, q).await?;
        assert_eq!(ids(&found), [s.whatsapp], "{q}: {found}");
    }

    // Nothing to search for is an error, not everything.
    let (status, _) = agent.get("/api/v1/search?q=%20-%20").await?;
    assert_eq!(status, 400);

    // The machine page gathers the serial from a mail, a chat and a WhatsApp caption.
    let machine = agent.ok("/api/v1/machines/sn-4471").await?;
    let channels: Vec<&str> = machine["conversations"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["channel"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(channels, ["email", "webchat", "whatsapp"], "{machine}");
    let spellings = machine["history"]["spellings"].clone();
    assert_eq!(spellings, json!(["SN-4471", "sn4471", "SN4471"]), "{machine}");
    let codes: Vec<(&str, i64)> = machine["history"]["fault_codes"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|c| Some((c["value"].as_str()?, c["conversation_id"].as_i64()?)))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(codes, [("E301", s.press), ("E301", s.chat)], "in time order: {machine}");
    let (status, _) = agent.get("/api/v1/machines/NOPE-0000").await?;
    assert_eq!(status, 404);

    customer_merge(&agent, &s).await?;
    Ok(())
}

/// The chat visitor gave the address the mails come from: the page suggests
/// the merge, the merge makes one customer, and undoing it makes two again.
async fn customer_merge(agent: &AgentClient, s: &Seeded) -> anyhow::Result<()> {
    let visitor = "visitor:0123456789abcdef";
    let mail = "jean.dupont@usine-martin.fr";
    let page = agent
        .ok(&format!("/api/v1/customers?address={}", url_encode(visitor)))
        .await?;
    assert_eq!(page["suggested_merges"], json!([mail]), "{page}");
    let (status, merged) = agent
        .post("/api/v1/customers/merges", json!({"address": visitor, "into": mail}))
        .await?;
    assert_eq!(status, 200, "{merged}");
    let merge = merged["merge"].as_i64().unwrap_or(-1);
    let page = agent
        .ok(&format!("/api/v1/customers?address={}", url_encode(visitor)))
        .await?;
    assert_eq!(page["address"], mail, "the record merged into is the customer: {page}");
    let conversations: Vec<i64> = page["conversations"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["id"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(conversations, [s.press, s.chat], "in time order: {page}");
    assert_eq!(
        page["profile"]["identities"].as_array().map(Vec::len),
        Some(2),
        "{page}"
    );
    assert_eq!(page["profile"]["machines"][0]["key"], "SN4471", "{page}");
    let (status, _) = agent
        .post(
            "/api/v1/customers/merges",
            json!({"address": visitor, "into": "maintenance@dairy.co.uk"}),
        )
        .await?;
    assert_eq!(status, 409, "a record merged once is unmerged first");
    let (status, _) = agent
        .post("/api/v1/customers/merges", json!({"address": mail, "into": visitor}))
        .await?;
    assert_eq!(status, 400, "merging a customer into itself is refused");

    let (status, undone) = agent
        .post(&format!("/api/v1/customers/merges/{merge}/undo"), json!({}))
        .await?;
    assert_eq!(status, 200, "{undone}");
    let page = agent
        .ok(&format!("/api/v1/customers?address={}", url_encode(mail)))
        .await?;
    assert_eq!(page["addresses"], json!([mail]), "{page}");
    let history = &page["merges"][0];
    assert_eq!(history["address"], visitor, "the merge stays recorded: {page}");
    assert!(history["undone_at"].is_i64(), "{page}");
    let (status, _) = agent
        .post(&format!("/api/v1/customers/merges/{merge}/undo"), json!({}))
        .await?;
    assert_eq!(status, 404, "an undone merge is not undone twice");
    Ok(())
}

#[tokio::test]
async fn search_customer_and_machine_pages_on_sqlite() -> anyhow::Result<()> {
    let (app, stub, _agent, _dir) = e2e::wa::start().await?;
    scenario(&app, &stub).await?;
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn search_customer_and_machine_pages_on_postgres() -> anyhow::Result<()> {
    let (app, stub, _agent, _dir, db) = e2e::wa::start_on_postgres().await?;
    let outcome = scenario(&app, &stub).await;
    app.stop().await;
    db.drop_database().await?;
    outcome
}

/// A chat message is findable as soon as the widget has its acknowledgement.
#[tokio::test]
async fn a_message_is_findable_when_it_is_acknowledged() -> anyhow::Result<()> {
    let app = e2e::spawn_app().await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    for n in 0..20 {
        let ack = visitor
            .message(
                &format!("c{n}"),
                &format!("Le codeur rotatif XJ-{n}88 clignote en rouge"),
            )
            .await?;
        let found = search(&agent, &format!("XJ{n}88")).await?;
        assert_eq!(
            found["results"][0]["message_id"], ack["message_id"],
            "message {n}, searched right after its ack: {found}"
        );
    }
    visitor.close().await;
    app.stop().await;
    Ok(())
}
