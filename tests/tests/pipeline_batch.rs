//! The accept path reads a batch's facts once, before writing any of it. A
//! batch must still end exactly as the same messages stored one at a time:
//! a message sees what the earlier ones of its batch wrote (the second message
//! of a new chat joins the conversation the first opened, a duplicate within
//! the batch is a duplicate, a customer's second message finds the
//! conversation and the escalations the first one opened).

use std::collections::HashMap;

use channels::{ChannelKind, Contact, Inbound};
use e2e::inbound_email;
use futures_util::future::join_all;
use gateway::ids::ConversationId;
use gateway::pipeline::Accepted;

fn whatsapp(external_id: &str, phone: Option<&str>, bsuid: Option<&str>, text: &str) -> Inbound {
    let from = phone.or(bsuid).unwrap_or_default();
    let mut m = Inbound::text(ChannelKind::Whatsapp, "1000001", external_id, from, text);
    m.contact = Contact {
        phone: phone.map(str::to_string),
        bsuid: bsuid.map(str::to_string),
        ..Contact::default()
    };
    m
}

fn chat(key: &str, client_id: &str, text: &str) -> Inbound {
    let mut m = Inbound::text(
        ChannelKind::Webchat,
        "site",
        &format!("{key}:{client_id}"),
        &format!("visitor:{key}"),
        text,
    );
    m.thread_hints.conversation_key = Some(key.into());
    m
}

fn reply_mail(external_id: &str, from: &str, to_mail: &str, text: &str) -> Inbound {
    let mut m = inbound_email(external_id, from, "Re: presse arrêtée", text);
    m.thread_hints.in_reply_to = vec![to_mail.into()];
    m.thread_hints.references = vec![to_mail.into()];
    m
}

/// Messages that depend on each other in every way the read phase answers for.
fn messages() -> Vec<Inbound> {
    vec![
        // A new WhatsApp customer writes twice, and Meta delivers the first twice.
        whatsapp(
            "wamid.A1",
            Some("33600000001"),
            None,
            "La ligne 2 est arrêtée, défaut E42, production bloquée",
        ),
        whatsapp(
            "wamid.A2",
            Some("33600000001"),
            None,
            "Toujours arrêtée, quelqu'un peut appeler ?",
        ),
        whatsapp(
            "wamid.A1",
            Some("33600000001"),
            None,
            "La ligne 2 est arrêtée, défaut E42, production bloquée",
        ),
        // Another customer, a question; then the same customer by number and business-scoped id.
        whatsapp(
            "wamid.B1",
            Some("33600000002"),
            None,
            "Quel est le couple de serrage des vis du carter ?",
        ),
        whatsapp(
            "wamid.B2",
            Some("33600000002"),
            Some("FR.B2222"),
            "Et pour le modèle X200 ?",
        ),
        whatsapp("wamid.B3", None, Some("FR.B2222"), "Merci"),
        // A customer known only by business-scoped id, twice.
        whatsapp(
            "wamid.C1",
            None,
            Some("FR.C3333"),
            "Machine bloquée, plus rien ne démarre, ligne à l'arrêt",
        ),
        whatsapp("wamid.C2", None, Some("FR.C3333"), "Le voyant rouge clignote"),
        // A new chat, three messages; another chat, one.
        chat("k-one", "1", "Bonjour, notre étiqueteuse fait des plis depuis ce matin"),
        chat("k-one", "2", "C'est la troisième fois cette semaine"),
        chat("k-one", "3", "Numéro de série SN-778812"),
        chat("k-two", "1", "Où trouver la notice de la X200 ?"),
        chat("k-one", "2", "C'est la troisième fois cette semaine"),
        // A mail and a reply to it.
        inbound_email(
            "<m1@client.example>",
            "jean@client.example",
            "Presse arrêtée",
            "La presse P3 est arrêtée, défaut F12, toute la production est bloquée.",
        ),
        reply_mail(
            "<m2@client.example>",
            "jean@client.example",
            "m1@client.example",
            "Photo jointe, toujours arrêtée.",
        ),
        // The first customer again, last.
        whatsapp("wamid.A3", Some("33600000001"), None, "Le technicien est-il en route ?"),
    ]
}

/// What the pipeline answered for each message, conversations numbered in
/// order of first appearance (ids differ between two stores).
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    conversation: usize,
    duplicate: bool,
    new_conversation: bool,
    priority: triage::Priority,
}

async fn outcomes(
    app: &e2e::TestApp,
    answers: Vec<Result<Accepted, gateway::pipeline::IngestError>>,
) -> anyhow::Result<(Vec<Outcome>, Vec<Vec<String>>)> {
    let mut numbering: HashMap<i64, usize> = HashMap::new();
    let mut order = Vec::new();
    let mut out = Vec::new();
    for a in answers {
        let a = a.map_err(|e| anyhow::anyhow!("refused: {e}"))?;
        let next = numbering.len();
        let n = *numbering.entry(a.conversation_id.0).or_insert_with(|| {
            order.push(a.conversation_id);
            next
        });
        out.push(Outcome {
            conversation: n,
            duplicate: a.duplicate,
            new_conversation: a.new_conversation,
            priority: a.priority,
        });
    }
    // Per conversation: its row, its messages' texts in order, and the escalations open on it.
    let mut conversations = Vec::new();
    for id in order {
        let c = app
            .state
            .store
            .conversation_get(ConversationId(id.0))
            .await?
            .ok_or_else(|| anyhow::anyhow!("conversation {} is gone", id.0))?;
        let mut summary = vec![format!(
            "conversation {} {} {} {} {} {:?} {:?} {:?} {:?} {}",
            c.customer_address,
            c.status,
            c.priority,
            c.queue,
            c.escalation,
            c.customer_name,
            c.customer_phone,
            c.language,
            c.waiting_since,
            c.last_customer_at
        )];
        let messages: Vec<String> = app
            .state
            .store
            .messages(ConversationId(id.0), true)
            .await?
            .into_iter()
            .map(|m| {
                format!(
                    "{} {}: {}",
                    m.direction,
                    m.author_kind,
                    m.body.chars().take(40).collect::<String>()
                )
            })
            .collect();
        summary.extend(messages);
        let mut kinds: Vec<String> = app
            .state
            .store
            .escalations_of(ConversationId(id.0))
            .await?
            .into_iter()
            .map(|e| format!("escalation {} {}", e.kind, e.status))
            .collect();
        kinds.sort();
        summary.extend(kinds);
        summary.extend(rows_written(app, id.0).await?);
        // Room links and acknowledgements carry ids and times: compared by kind only.
        for line in &mut summary {
            if line.starts_with("out system") {
                *line = "out system".into();
            }
        }
        conversations.push(summary);
    }
    Ok((out, conversations))
}

/// What else the accept path wrote for a conversation: its SLA timers, queue
/// entry, verdicts, reporting events and outbox rows (the batch writes them
/// from its plan, the single messages one at a time: they must agree).
async fn rows_written(app: &e2e::TestApp, conversation: i64) -> anyhow::Result<Vec<String>> {
    let db = app.state.store.reader();
    let mut lines = Vec::new();
    let timers: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT kind, state, budget_ms, due_at FROM sla_timers WHERE conversation_id = $1 ORDER BY kind",
    )
    .bind(conversation)
    .fetch_all(db)
    .await?;
    lines.extend(timers.into_iter().map(|t| format!("timer {t:?}")));
    let queued: Vec<(String, i64, Option<i64>)> =
        sqlx::query_as("SELECT queue, priority_rank, waiting_since FROM queue_entries WHERE conversation_id = $1")
            .bind(conversation)
            .fetch_all(db)
            .await?;
    lines.extend(queued.into_iter().map(|q| format!("queued {q:?}")));
    let verdicts: Vec<(String, String, String)> =
        sqlx::query_as("SELECT priority, queue, escalation FROM verdicts WHERE conversation_id = $1 ORDER BY id")
            .bind(conversation)
            .fetch_all(db)
            .await?;
    lines.extend(verdicts.into_iter().map(|v| format!("verdict {v:?}")));
    let mut events: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT kind, detail FROM conversation_events WHERE conversation_id = $1")
            .bind(conversation)
            .fetch_all(db)
            .await?;
    events.sort();
    lines.extend(events.into_iter().map(|e| format!("event {e:?}")));
    // Not the status: the outbox worker may have sent some already, in either run.
    let outbox: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.direction, m.author_kind FROM outbox o JOIN messages m ON m.id = o.message_id \
         WHERE o.conversation_id = $1 ORDER BY o.message_id",
    )
    .bind(conversation)
    .fetch_all(db)
    .await?;
    lines.extend(outbox.into_iter().map(|o| format!("outbox {o:?}")));
    // Mail: the subject threading compares, Message-IDs, why each mail joined, its people.
    let key: Option<String> = sqlx::query_scalar("SELECT subject_key FROM conversations WHERE id = $1")
        .bind(conversation)
        .fetch_one(db)
        .await?;
    lines.push(format!("subject key {key:?}"));
    let mails: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT i.mail_id, m.auto, m.thread_reason FROM mail_ids i JOIN messages m ON m.id = i.message_id \
         WHERE i.conversation_id = $1 ORDER BY i.mail_id",
    )
    .bind(conversation)
    .fetch_all(db)
    .await?;
    lines.extend(mails.into_iter().map(|m| format!("mail {m:?}")));
    let people: Vec<(String, String)> =
        sqlx::query_as("SELECT address, role FROM participants WHERE conversation_id = $1 ORDER BY address")
            .bind(conversation)
            .fetch_all(db)
            .await?;
    lines.extend(people.into_iter().map(|p| format!("participant {p:?}")));
    Ok(lines)
}

/// Stored one at a time before the batch, in both runs: conversations the
/// read phase finds (with their counts and open escalations).
fn earlier() -> Vec<Inbound> {
    vec![
        whatsapp(
            "wamid.E0",
            Some("33600000005"),
            None,
            "Bonjour, une question sur la notice de la X200",
        ),
        whatsapp(
            "wamid.G0",
            Some("33600000007"),
            None,
            "Ligne 4 arrêtée, défaut E17, production bloquée",
        ),
        whatsapp(
            "wamid.H0",
            Some("33600000008"),
            None,
            "Comment commander des pièces détachées ?",
        ),
        whatsapp(
            "wamid.K0",
            Some("33600000011"),
            Some("FR.K4444"),
            "Bonjour, où trouver le manuel de la X200 ?",
        ),
    ]
}

/// Their customers again, in the batch.
fn later() -> Vec<Inbound> {
    vec![
        whatsapp("wamid.E1", Some("33600000005"), None, "Page 12 ?"),
        whatsapp(
            "wamid.G1",
            Some("33600000007"),
            None,
            "Toujours arrêtée, production bloquée",
        ),
        whatsapp("wamid.E2", Some("33600000005"), None, "Ou bien page 14"),
        whatsapp("wamid.E3", Some("33600000005"), None, "Vous êtes là ?"),
        // A question turns into a line stop, said twice: one callback.
        whatsapp(
            "wamid.H1",
            Some("33600000008"),
            None,
            "Machine arrêtée, défaut E09, toute la ligne est bloquée",
        ),
        whatsapp(
            "wamid.H2",
            Some("33600000008"),
            None,
            "Toujours arrêtée, la ligne est bloquée",
        ),
        // The same customer by business-scoped id, then by number: one conversation, still critical.
        whatsapp(
            "wamid.K1",
            None,
            Some("FR.K4444"),
            "Ligne 6 arrêtée, production bloquée, défaut E31",
        ),
        whatsapp("wamid.K2", Some("33600000011"), None, "Merci"),
    ]
}

/// A rule that counts a conversation's unanswered messages, so a message
/// that read a stale count would be classified differently.
const INSISTENT: &str = r#"
[[rules]]
name = "third_message_without_answer"
priority = "important"
queue = "experts"
escalation = "none"
tags = ["insistent"]
when = { unanswered_messages = 3 }
"#;

async fn app(dir: &std::path::Path, store: Option<&e2e::postgres::TestDatabase>) -> anyhow::Result<e2e::TestApp> {
    let rules = dir.join("rules.toml");
    std::fs::write(&rules, format!("{}\n{INSISTENT}", triage::rules::DEFAULT_RULES))?;
    let mut config = e2e::test_config(dir);
    config.triage.rules = rules;
    if let Some(db) = store {
        config.store.url = gateway::config::Secret::new(db.url.clone());
    }
    e2e::spawn_app_with(config, gateway::clock::Clock::manual(1_790_000_000_000)).await
}

#[tokio::test]
async fn a_batch_ends_as_its_messages_stored_one_at_a_time() -> anyhow::Result<()> {
    batch_equals_one_at_a_time(false).await
}

#[tokio::test]
async fn on_postgresql_too() -> anyhow::Result<()> {
    batch_equals_one_at_a_time(true).await
}

async fn batch_equals_one_at_a_time(postgres: bool) -> anyhow::Result<()> {
    let databases = if postgres {
        Some((
            e2e::postgres::TestDatabase::create().await?,
            e2e::postgres::TestDatabase::create().await?,
        ))
    } else {
        None
    };
    let batch = || messages().into_iter().chain(later()).collect::<Vec<_>>();
    let dir = tempfile::tempdir()?;
    let one_by_one = app(dir.path(), databases.as_ref().map(|d| &d.0)).await?;
    let mut answers = Vec::new();
    for m in earlier().into_iter().chain(batch()) {
        answers.push(one_by_one.state.pipeline.submit(m).await);
    }
    let (expected, expected_conversations) = outcomes(&one_by_one, answers).await?;

    // All submitted before the committer runs (this test's runtime has one
    // thread): one batch, one read phase.
    let dir = tempfile::tempdir()?;
    let batched = app(dir.path(), databases.as_ref().map(|d| &d.1)).await?;
    let mut answers = Vec::new();
    for m in earlier() {
        answers.push(batched.state.pipeline.submit(m).await);
    }
    answers.extend(join_all(batch().into_iter().map(|m| batched.state.pipeline.submit(m))).await);
    let (got, got_conversations) = outcomes(&batched, answers).await?;
    let stats = batched.state.pipeline.stats();
    assert_eq!(
        (stats.batches, stats.messages, stats.split_batches),
        (5, 28, 0),
        "four messages before, then one batch committed whole"
    );

    assert_eq!(got, expected);
    assert_eq!(got_conversations, expected_conversations);
    // Numbered from the batch on, as the assertions below read it.
    let (earlier_outcomes, got) = got.split_at(4);
    // And what that is: the duplicates are duplicates, each chat and customer one conversation.
    assert!(got[2].duplicate && got[12].duplicate);
    assert_eq!(got[1].conversation, got[0].conversation);
    assert_eq!(got[15].conversation, got[0].conversation);
    assert_eq!(
        (got[4].conversation, got[5].conversation),
        (got[3].conversation, got[3].conversation)
    );
    assert_eq!(got[7].conversation, got[6].conversation);
    assert_eq!(
        (got[9].conversation, got[10].conversation),
        (got[8].conversation, got[8].conversation)
    );
    assert_ne!(got[11].conversation, got[8].conversation);
    assert_eq!(got[14].conversation, got[13].conversation);
    assert_eq!(
        got.iter().map(|o| o.conversation).max(),
        Some(9),
        "four earlier conversations, six new"
    );
    // The earlier conversations continue; the third message in a row without an answer is raised.
    let (e, g) = (earlier_outcomes[0].conversation, earlier_outcomes[1].conversation);
    assert_eq!(
        [got[16].conversation, got[18].conversation, got[19].conversation],
        [e, e, e]
    );
    assert_eq!(got[17].conversation, g);
    assert_eq!(earlier_outcomes[0].priority, triage::Priority::Faq);
    assert_eq!(got[18].priority, triage::Priority::Faq, "two unanswered messages");
    assert_eq!(
        got[19].priority,
        triage::Priority::Important,
        "three unanswered messages"
    );
    let g_lines = &got_conversations[g];
    assert_eq!(
        g_lines.iter().filter(|l| l.starts_with("escalation callback")).count(),
        1,
        "{g_lines:#?}"
    );
    let (h, k) = (earlier_outcomes[2].conversation, earlier_outcomes[3].conversation);
    assert_eq!([got[20].conversation, got[21].conversation], [h, h]);
    assert_eq!([got[20].priority, got[21].priority], [triage::Priority::Critical; 2]);
    let h_lines = &got_conversations[h];
    assert_eq!(
        h_lines.iter().filter(|l| l.starts_with("escalation callback")).count(),
        1,
        "{h_lines:#?}"
    );
    assert_eq!([got[22].conversation, got[23].conversation], [k, k]);
    assert_eq!(
        got[23].priority,
        triage::Priority::Critical,
        "a thank-you does not lower a line stop"
    );
    // The line stop opened its callback and video room once, though three messages asked.
    let first = &got_conversations[got[0].conversation];
    assert_eq!(
        first.iter().filter(|l| l.starts_with("escalation callback")).count(),
        1,
        "{first:#?}"
    );
    assert_eq!(
        first.iter().filter(|l| l.starts_with("escalation visio")).count(),
        1,
        "{first:#?}"
    );
    one_by_one.stop().await;
    batched.stop().await;
    if let Some((a, b)) = databases {
        a.drop_database().await?;
        b.drop_database().await?;
    }
    Ok(())
}
