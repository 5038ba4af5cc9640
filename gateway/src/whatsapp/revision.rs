//! An edit that says more: a customer who corrects "question sur la notice"
//! into "la ligne 2 est arrêtée" has reported a stopped line. The edited text
//! is triaged again, its verdict kept beside the first one; a conversation it
//! makes more urgent is raised, re-queued and escalated as a new message
//! would make it. An edit never lowers a conversation: what the customer
//! first said stays on record, and an agent decides.

use channels::{ChannelKind, Inbound};
use sqlx::AnyConnection;
use triage::Priority;

use crate::escalation::{Context, EscalationPolicy, open_for_verdict};
use crate::ids::{ConversationId, MessageId};
use crate::store::StoreError;
use crate::store::ingest::{self, NewVerdict};
use crate::triage_service::TriageService;

pub struct Retriage<'a> {
    pub triage: &'a TriageService,
    pub escalation: &'a EscalationPolicy,
    pub now: i64,
}

/// What re-reading an edit did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Retriaged {
    pub raised: bool,
    /// Messages queued for sending (escalation notices, on-call calls).
    pub outgoing: usize,
}

#[derive(sqlx::FromRow)]
struct Head {
    status: String,
    priority: String,
    language: Option<String>,
    customer_address: String,
    customer_phone: Option<String>,
    endpoint: String,
}

/// Triages the edited text of `message` again, in the caller's transaction.
pub async fn retriage_edit(
    conn: &mut AnyConnection,
    r: &Retriage<'_>,
    conversation: ConversationId,
    message: MessageId,
    text: &str,
) -> Result<Retriaged, StoreError> {
    let head: Option<Head> = sqlx::query_as(
        "SELECT status, priority, language, customer_address, customer_phone, endpoint \
         FROM conversations WHERE id = $1",
    )
    .bind(conversation.0)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(head) = head else {
        return Ok(Retriaged::default());
    };
    let engine = r.triage.engine();
    // The text alone: the customer's history was weighed when the message first came.
    let history = triage::History::default();
    let verdict = engine.classify(&triage::Input {
        channel: triage::Channel::Whatsapp,
        from: &head.customer_address,
        subject: None,
        text,
        attachments: &[],
        history: &history,
        tier: r.triage.directory().tier(&head.customer_address),
        language: head.language.as_deref(),
        business_hours: r.triage.hours.is_open(r.now),
    });
    ingest::insert_verdicts(conn, &[NewVerdict::new(conversation, message, &verdict, r.now)?]).await?;
    // What the edit mentions is findable too (the first text's mentions stay: it was sent).
    let mentions: Vec<ingest::NewMention> =
        crate::search::mentions::of_message(&verdict.fields, &channels::Contact::default())
            .into_iter()
            .map(|mention| ingest::NewMention {
                conversation,
                message,
                mention,
                now: r.now,
            })
            .collect();
    ingest::insert_mentions(conn, &mentions).await?;
    let was = Priority::parse(&head.priority).unwrap_or(Priority::Faq);
    if head.status != "open" || verdict.by_default() || verdict.priority <= was {
        return Ok(Retriaged::default());
    }
    sqlx::query("UPDATE conversations SET priority = $2, queue = $3, escalation = $4, updated_at = $5 WHERE id = $1")
        .bind(conversation.0)
        .bind(verdict.priority.as_str())
        .bind(&verdict.queue)
        .bind(verdict.escalation.as_str())
        .bind(r.now)
        .execute(&mut *conn)
        .await?;
    // Its place in the queue moves up; how long it has waited does not change.
    ingest::upsert_queue_entry(conn, conversation, &verdict.queue, verdict.priority.rank(), Some(r.now)).await?;
    let mut inbound = Inbound::text(
        ChannelKind::Whatsapp,
        &head.endpoint,
        &format!("revision-of-{}", message.0),
        &head.customer_address,
        text,
    );
    inbound.contact.phone = head.customer_phone.clone();
    let language = head.language.clone().unwrap_or_else(|| "en".into());
    let ctx = Context {
        policy: r.escalation,
        conversation,
        channel: "whatsapp",
        endpoint: &head.endpoint,
        language: &language,
        ticket: conversation.ticket(),
        now: r.now,
    };
    let mut open = crate::store::escalations::open_kinds(conn, conversation).await?;
    let opened = open_for_verdict(conn, &ctx, &mut open, &inbound, &verdict).await?;
    Ok(Retriaged {
        raised: true,
        outgoing: opened.outgoing,
    })
}
