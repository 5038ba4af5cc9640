//! Automatic translation for agents, against a local stand-in that speaks
//! DeepL's and LibreTranslate's APIs (`e2e::translate_stub`): a German
//! WhatsApp message and an Italian chat are shown to the French agents
//! translated, the original kept; a provider outage loses nothing (stored,
//! shown untranslated, translated once the provider answers); a text already
//! translated is not sent again.

use e2e::translate_stub::{KEY, TranslateStub};
use e2e::wa::{customer_writes, start_with, whatsapp_conversation};
use e2e::{AgentClient, Visitor};
use gateway::config::{Secret, TranslationTerm};
use serde_json::{Value, json};

const GERMAN: &str = "Guten Tag, die Verpackungsmaschine macht seit gestern ein lautes Geräusch, Fehler E-217.";

fn deepl(stub: &TranslateStub) -> impl FnOnce(&mut gateway::config::Config) {
    let url = stub.url();
    move |c| {
        c.translation.provider = "deepl".into();
        c.translation.url = url;
        c.translation.api_key = Secret::new(KEY);
        c.translation.agent_language = "fr".into();
    }
}

/// The conversation once every customer message in another language has its translation.
async fn translated(agent: &AgentClient, id: i64) -> anyhow::Result<Value> {
    agent
        .wait_json(&format!("/api/v1/conversations/{id}"), "the translation", |d| {
            let wanted = d["messages"]
                .as_array()
                .map(|m| m.iter().filter(|m| m["direction"] == "in").count())
                .unwrap_or(0);
            d["translation"]["messages"].as_array().map(Vec::len) == Some(wanted)
        })
        .await
}

#[tokio::test]
async fn a_german_whatsapp_message_reaches_the_french_agent_translated_and_the_original_stays() -> anyhow::Result<()> {
    let stub = TranslateStub::start().await?;
    let (app, _graph, agent, _dir) = start_with(deepl(&stub)).await?;
    assert_eq!(customer_writes(&app.base(), "wamid.de1", GERMAN).await?, 200);
    let id = whatsapp_conversation(&agent).await?["conversation"]["id"]
        .as_i64()
        .unwrap_or_default();
    let d = translated(&agent, id).await?;
    assert_eq!(d["conversation"]["language"], "de", "{d}");
    assert_eq!(d["translation"]["needed"], true);
    let t = &d["translation"]["messages"][0];
    assert_eq!(t["text"], format!("[FR] {GERMAN}"), "{t}");
    assert_eq!((&t["language"], &t["provider"]), (&"fr".into(), &"deepl".into()));
    assert_eq!(d["messages"][0]["body"], GERMAN, "the original is the record");
    // One call, the German text only, with the key (the stub refuses anything
    // else), and the fault code behind a placeholder so no engine can change it.
    assert_eq!(stub.calls(), vec![vec![GERMAN.replace("E-217", "{{1}}")]]);

    // The same words in another conversation come from the cache.
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    let ack = visitor.message("c1", GERMAN).await?;
    let chat = e2e::ticket_id(&ack["conversation"]);
    let d = translated(&agent, chat).await?;
    assert_eq!(d["translation"]["messages"][0]["text"], format!("[FR] {GERMAN}"));
    assert_eq!(stub.calls().len(), 1, "not paid for twice");
    visitor.close().await;
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_provider_outage_loses_nothing_and_the_worker_catches_up() -> anyhow::Result<()> {
    let stub = TranslateStub::start().await?;
    let configure = deepl(&stub);
    let (app, _graph, agent, _dir) = start_with(move |c| {
        configure(c);
        c.translation.timeout_secs = 1;
    })
    .await?;
    stub.fail_with(Some(503));
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    let italian = "Buongiorno, la macchina si ferma ogni mattina con l'errore E-12, la produzione è rallentata.";
    let ack = visitor.message("i1", italian).await?;
    let id = e2e::ticket_id(&ack["conversation"]);
    // Stored and answerable at once; the inbox says the translation is late.
    let d = agent
        .wait_json(&format!("/api/v1/conversations/{id}"), "unavailable", |d| {
            d["translation"]["state"] == "unavailable"
        })
        .await?;
    assert_eq!(d["messages"][0]["body"], italian);
    assert_eq!(d["translation"]["messages"].as_array().map(Vec::len), Some(0));
    assert!(
        d["translation"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("503")),
        "{d}"
    );
    // A 429 is survived the same way, and so is a provider slower than the timeout.
    stub.fail_with(Some(429));
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    stub.slow(Some(std::time::Duration::from_secs(3)));
    stub.fail_with(None);
    agent
        .wait_json(&format!("/api/v1/conversations/{id}"), "a timeout", |d| {
            d["translation"]["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("timed out") || e.contains("timeout"))
        })
        .await?;
    assert_eq!(
        agent.ok(&format!("/api/v1/conversations/{id}")).await?["translation"]["messages"],
        json!([]),
        "nothing half-done"
    );
    stub.slow(None);
    let d = translated(&agent, id).await?;
    assert_eq!(d["translation"]["messages"][0]["text"], format!("[FR] {italian}"));
    assert_eq!(d["translation"]["state"], "ok");
    visitor.close().await;
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn libretranslate_with_its_key() -> anyhow::Result<()> {
    let stub = TranslateStub::start().await?;
    let url = stub.url();
    let (app, _graph, agent, _dir) = start_with(move |c| {
        c.translation.provider = "libretranslate".into();
        c.translation.url = url;
        c.translation.api_key = Secret::new(KEY);
        c.translation.agent_language = "en".into();
    })
    .await?;
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    let french = "Bonjour, la presse P200 fait un bruit anormal depuis hier.";
    let ack = visitor.message("f1", french).await?;
    let d = translated(&agent, e2e::ticket_id(&ack["conversation"])).await?;
    assert_eq!(d["translation"]["messages"][0]["text"], format!("[EN] {french}"));
    assert_eq!(d["translation"]["messages"][0]["provider"], "libretranslate");
    visitor.close().await;
    app.stop().await;
    Ok(())
}

/// The French agent answers the German customer: the reply box shows the
/// German text with the codes, serial and link unchanged and the glossary
/// applied; the customer receives it; the record keeps the French words.
#[tokio::test]
async fn the_french_reply_reaches_the_german_customer_with_its_codes_intact() -> anyhow::Result<()> {
    let stub = TranslateStub::start().await?;
    let configure = deepl(&stub);
    let (app, graph, agent, _dir) = start_with(move |c| {
        configure(c);
        c.translation.keep = vec!["Flexopack".into()];
        c.translation.terms = vec![TranslationTerm {
            from: "fr".into(),
            to: "de".into(),
            source: "plieuse".into(),
            target: "Faltmaschine".into(),
        }];
    })
    .await?;
    assert_eq!(customer_writes(&app.base(), "wamid.de2", GERMAN).await?, 200);
    let id = whatsapp_conversation(&agent).await?["conversation"]["id"]
        .as_i64()
        .unwrap_or_default();
    let french = "Bonjour, la plieuse Flexopack SN-4711 : remplacez le capteur du module E-217, voir https://maker.example/doc?id=7";
    let (status, preview) = agent
        .post(
            &format!("/api/v1/conversations/{id}/translate"),
            json!({"text": french}),
        )
        .await?;
    assert_eq!(status, 200, "{preview}");
    assert_eq!((&preview["from"], &preview["to"]), (&json!("fr"), &json!("de")));
    let german = preview["text"].as_str().unwrap_or_default().to_string();
    for kept in [
        "SN-4711",
        "E-217",
        "https://maker.example/doc?id=7",
        "Flexopack",
        "Faltmaschine",
    ] {
        assert!(german.contains(kept), "{kept} in {german}");
    }
    assert!(german.starts_with("[DE] Bonjour, la Faltmaschine"), "{german}");
    assert_eq!(preview["lost"], json!([]));
    // What the provider saw: placeholders, not the codes; the trade term as
    // written, with the pair's glossary (made once, on DeepL) to place it.
    let sent = stub.calls().last().cloned().unwrap_or_default();
    assert!(!sent[0].contains("SN-4711") && sent[0].contains("{{"), "{sent:?}");
    assert!(sent[0].contains("plieuse"), "{sent:?}");
    let glossaries = stub.glossaries();
    assert_eq!(glossaries.len(), 1, "{glossaries:?}");
    let g = &glossaries[0];
    assert_eq!((g.source.as_str(), g.target.as_str()), ("fr", "de"));
    assert_eq!(g.entries, [("plieuse".to_string(), "Faltmaschine".to_string())]);
    assert_eq!(stub.glossary_ids().last().cloned().flatten(), Some(g.id.clone()));

    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": german, "original": french}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let (delivered, _) = graph
        .wait_for_send(|s| s["type"] == "text" && s["text"]["body"] == german.as_str())
        .await?;
    assert_eq!(delivered["text"]["body"], german.as_str(), "{:?}", graph.sends());
    let d = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    let kept = d["translation"]["messages"]
        .as_array()
        .and_then(|m| m.iter().find(|t| t["provider"] == "agent").cloned())
        .unwrap_or_default();
    assert_eq!(
        (&kept["text"], &kept["language"]),
        (&json!(french), &json!("fr")),
        "{d}"
    );

    // The glossary is reused, not made again.
    let (status, _) = agent
        .post(
            &format!("/api/v1/conversations/{id}/translate"),
            json!({"text": "La plieuse redémarre."}),
        )
        .await?;
    assert_eq!(status, 200);
    assert_eq!(stub.glossaries().len(), 1);
    assert_eq!(stub.glossary_ids().last().cloned().flatten(), Some(g.id.clone()));

    // An engine that loses a protected term: the agent is told before sending.
    stub.mangle(true);
    let (_, preview) = agent
        .post(
            &format!("/api/v1/conversations/{id}/translate"),
            json!({"text": "Le code E-999 revient"}),
        )
        .await?;
    assert_eq!(preview["lost"], json!(["E-999"]), "{preview}");
    app.stop().await;
    Ok(())
}

/// An email reply carries the agent's own words below the translation.
#[tokio::test]
async fn a_translated_email_reply_carries_the_original_below() -> anyhow::Result<()> {
    let stub = TranslateStub::start().await?;
    let (app, _graph, agent, _dir) = start_with(deepl(&stub)).await?;
    let accepted = app
        .state
        .pipeline
        .submit(e2e::inbound_email("de@x", "werk@kunde.de", "Geräusch", GERMAN))
        .await?;
    let id = accepted.conversation_id.0;
    let french = "Nous vous rappelons aujourd'hui.";
    let (_, preview) = agent
        .post(
            &format!("/api/v1/conversations/{id}/translate"),
            json!({"text": french}),
        )
        .await?;
    let german = preview["text"].as_str().unwrap_or_default().to_string();
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": german, "original": french}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let d = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    let sent = d["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["author_kind"] == "agent").cloned())
        .unwrap_or_default();
    assert_eq!(
        sent["body"],
        format!("{german}\n\n--- original ---\n{french}"),
        "{sent}"
    );
    app.stop().await;
    Ok(())
}

/// Each agent reads in their own language: a German-speaking expert who chose
/// German in their profile and the French team see the same Italian message,
/// each in their language; the German expert's reply is translated from German.
#[tokio::test]
async fn each_agent_reads_the_customer_in_the_language_of_their_profile() -> anyhow::Result<()> {
    const ITALIAN: &str = "Buongiorno, la linea 3 è ferma dalle 6, errore F-12 sul nastro.";
    let stub = TranslateStub::start().await?;
    let (app, _graph, admin, _dir) = start_with(deepl(&stub)).await?;
    admin.create_agent("hans", "Hans", "hans-password-12", "agent").await?;
    let hans = AgentClient::login(&app.base(), "hans", "hans-password-12").await?;
    let (status, _) = hans.post("/api/v1/me/language", json!({"language": "de"})).await?;
    assert_eq!(status, 200);
    let (status, _) = hans.post("/api/v1/me/language", json!({"language": "xx"})).await?;
    assert_eq!(status, 400);
    assert_eq!(hans.ok("/api/v1/me").await?["agent"]["language"], "de");

    assert_eq!(customer_writes(&app.base(), "wamid.it1", ITALIAN).await?, 200);
    let id = whatsapp_conversation(&admin).await?["conversation"]["id"]
        .as_i64()
        .unwrap_or_default();
    let both = |d: &Value| {
        let langs: Vec<&str> = d["translation"]["messages"]
            .as_array()
            .map(|m| m.iter().filter_map(|t| t["language"].as_str()).collect())
            .unwrap_or_default();
        langs.contains(&"fr") && langs.contains(&"de")
    };
    let seen_by_hans = hans
        .wait_json(&format!("/api/v1/conversations/{id}"), "both translations", both)
        .await?;
    assert_eq!(seen_by_hans["translation"]["target"], "de");
    assert_eq!(seen_by_hans["translation"]["needed"], true);
    let seen_by_admin = admin.ok(&format!("/api/v1/conversations/{id}")).await?;
    assert_eq!(
        seen_by_admin["translation"]["target"], "fr",
        "no choice: the configured language"
    );
    let text_in = |d: &Value, lang: &str| {
        d["translation"]["messages"]
            .as_array()
            .and_then(|m| m.iter().find(|t| t["language"] == lang))
            .map(|t| t["text"].clone())
            .unwrap_or_default()
    };
    assert_eq!(
        text_in(&seen_by_hans, "de"),
        json!(format!("[DE] {}", ITALIAN)),
        "{seen_by_hans}"
    );
    assert_eq!(text_in(&seen_by_admin, "fr"), json!(format!("[FR] {}", ITALIAN)));

    // Hans writes German: the preview goes from German into Italian.
    let (status, preview) = hans
        .post(
            &format!("/api/v1/conversations/{id}/translate"),
            json!({"text": "Bitte schicken Sie ein Foto des Bandes."}),
        )
        .await?;
    assert_eq!(status, 200, "{preview}");
    assert_eq!((&preview["from"], &preview["to"]), (&json!("de"), &json!("it")));
    app.stop().await;
    Ok(())
}
