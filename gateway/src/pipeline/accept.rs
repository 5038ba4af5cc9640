//! Accepting one message inside the batch transaction.

use channels::{AttachmentSource, ChannelKind, Inbound};
use sqlx::AnyConnection;
use triage::{AttachmentKind, Priority};

use super::facts::BatchFacts;
use super::mail::{self, MailPolicy};
use super::{Accepted, IngestError, ack};
use crate::ids::{ConversationId, MessageId};
use crate::reports::facts::EventKind;
use crate::store::ingest::{self, ConversationHead, ConversationUpdate, NewConversation};
use crate::store::messages::{self, Direction, NewAttachment, PlannedMessage};
use crate::store::{StoreError, outbox, uploads, whatsapp};

pub struct Ctx<'a> {
    pub engine: &'a triage::Engine,
    /// The customer directory, taken once per batch like the engine.
    pub directory: &'a crate::triage_service::Directory,
    pub triage: &'a crate::triage_service::TriageService,
    pub mail: &'a MailPolicy,
    pub sla: &'a crate::sla::SlaPolicies,
    pub escalation: &'a crate::escalation::EscalationPolicy,
    pub acks: &'a AckSettings,
    pub level1: &'a crate::level1::Policy,
    pub feedback: &'a crate::feedback::Settings,
    pub now: i64,
}

/// How acknowledgements are worded and their answer time estimated.
#[derive(Debug, Clone)]
pub struct AckSettings {
    pub minutes_per_conversation: i64,
    pub templates: Vec<crate::config::AckTemplate>,
}

impl Default for AckSettings {
    fn default() -> Self {
        AckSettings {
            minutes_per_conversation: 15,
            templates: Vec::new(),
        }
    }
}

/// What was written for one message, for the steps after commit.
#[derive(Debug, Clone)]
pub struct Stored {
    pub accepted: Accepted,
    pub queue: String,
    /// The acknowledgement queued for the customer, when one was.
    pub ack: Option<MessageId>,
    /// An outgoing mail this bounce marked failed.
    pub bounced: Option<(ConversationId, MessageId)>,
    /// Rows the escalation queued in the outbox (room link, on-call notices).
    pub escalation_outgoing: usize,
    /// Level 1's next question to the customer, or "did this solve it?",
    /// when one was queued.
    pub question: Option<MessageId>,
    /// The satisfaction question, when a customer's "yes, solved" resolved it.
    pub survey: Option<MessageId>,
    /// The message answered a question (a verdict, a rating): the conversation may have changed.
    pub answered: bool,
}

/// The outer error aborts the whole batch (nothing committed); the inner one
/// refuses this message alone, before it wrote anything.
///
/// `facts` holds what the batch's read phase found; it learns what this
/// message writes, for the messages after it.
pub async fn accept(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    facts: &mut BatchFacts,
    inbound: &Inbound,
) -> Result<Result<Stored, IngestError>, StoreError> {
    let channel = inbound.channel.as_str();
    let received = inbound;

    // 1. Dedupe.
    if let Some(existing) = facts.stored(conn, inbound).await? {
        return Ok(Ok(Stored {
            accepted: Accepted {
                message_id: existing.message_id,
                conversation_id: existing.conversation_id,
                duplicate: true,
                new_conversation: false,
                priority: existing.priority,
            },
            queue: String::new(),
            ack: None,
            bounced: None,
            escalation_outgoing: 0,
            question: None,
            survey: None,
            answered: false,
        }));
    }

    // A WhatsApp customer is one identity whether Meta names them by phone
    // number, business-scoped id or both: their conversations are keyed by the
    // first identifier seen, and a message naming nobody is refused.
    let linked;
    let inbound = if inbound.channel == ChannelKind::Whatsapp {
        match facts.resolve_whatsapp_customer(conn, inbound, ctx.now).await? {
            None => {
                return Ok(Err(IngestError::Rejected(
                    "a WhatsApp message with no phone number and no user id".into(),
                )));
            }
            Some(address) if address != inbound.from.address => {
                let mut moved = inbound.clone();
                moved.from.address = address;
                linked = moved;
                &linked
            }
            Some(_) => inbound,
        }
    } else {
        inbound
    };

    // Attachments must exist and belong to this sender before anything is written.
    let mut files = Vec::with_capacity(inbound.attachments.len());
    for attachment in &inbound.attachments {
        match &attachment.source {
            AttachmentSource::Upload { id } => {
                let owner = inbound.thread_hints.conversation_key.as_deref().unwrap_or_default();
                match uploads::owned(conn, id, owner).await? {
                    Some(u) => files.push(File {
                        name: u.name,
                        content_type: u.content_type,
                        size: Some(u.size),
                        sha256: Some(u.sha256),
                        remote: None,
                        expected_sha256: None,
                        content_id: None,
                    }),
                    None => return Ok(Err(IngestError::Rejected(format!("unknown upload {id:?}")))),
                }
            }
            AttachmentSource::Blob { sha256 } => files.push(File::described(attachment, Some(sha256), None)),
            AttachmentSource::Remote { handle } => files.push(File::described(attachment, None, Some(handle))),
        }
    }

    // 2. Thread.
    let (existing, thread_reason) = find_conversation(conn, ctx, facts, inbound).await?;
    // An answer to a question the conversation waits on ("yes, solved", a rating).
    let answer = match (&existing, super::feedback::candidate(inbound)) {
        (Some(conv), Some(candidate)) => {
            facts.before_inline(conn).await?;
            super::feedback::recognise(conn, ConversationId(conv.id), candidate, ctx.now).await?
        }
        _ => None,
    };
    // Automatic mail on a known conversation is recorded, nothing more: no
    // reopening, no re-queueing; nor is an answer that settles it.
    let quiet = (inbound.auto.any() && existing.is_some()) || answer.is_some_and(super::feedback::settles);
    // The channel's own time when it has one (WhatsApp's 24-hour window counts from it), never the future.
    let customer_at = inbound.sent_at.map(|t| t.min(ctx.now)).unwrap_or(ctx.now);

    // 3. Triage, on the new text only.
    let history = facts
        .history(
            conn,
            &inbound.from.address,
            existing.as_ref().map(|c| ConversationId(c.id)),
            ctx.now,
        )
        .await?;
    let kinds: Vec<AttachmentKind> = files
        .iter()
        .map(|f| AttachmentKind::from_content_type(&f.content_type))
        .collect();
    // The directory knows senders by address or number; a chat visitor by what they typed in the form.
    let directory = ctx.directory;
    let tier = directory
        .tier(&inbound.from.address)
        .or_else(|| inbound.contact.email.as_deref().and_then(|e| directory.tier(e)))
        .or_else(|| inbound.contact.phone.as_deref().and_then(|p| directory.tier(p)));
    let verdict = ctx.engine.classify(&triage::Input {
        channel: triage_channel(inbound.channel),
        from: &inbound.from.address,
        subject: inbound.subject.as_deref(),
        text: &inbound.text,
        attachments: &kinds,
        history: &history,
        tier,
        language: inbound.language.as_deref(),
        business_hours: ctx.triage.hours.is_open(ctx.now),
    });

    // 4. Conversation: new, or updated with the more urgent of old and new outcomes.
    // `head`: the conversation as this message leaves it, for the batch's later messages.
    let (conversation_id, new_conversation, priority, queue, language, head) = match &existing {
        Some(conv) => {
            let old = Priority::parse(&conv.priority).unwrap_or(Priority::Faq);
            let still_open = conv.status == "open";
            // An open conversation keeps its priority unless a rule raises it: a
            // follow-up no rule understands ("c'est pour le capteur") does not.
            let (priority, queue, escalation) = if still_open && (old >= verdict.priority || verdict.by_default()) {
                (old, conv.queue.clone(), conv.escalation.clone())
            } else {
                (
                    verdict.priority,
                    verdict.queue.clone(),
                    verdict.escalation.as_str().to_string(),
                )
            };
            let id = ConversationId(conv.id);
            if !quiet {
                facts.plan.update(ConversationUpdate {
                    id,
                    priority: priority.as_str(),
                    queue: queue.clone(),
                    escalation: escalation.clone(),
                    contact: inbound.contact.clone(),
                    now: ctx.now,
                    customer_at,
                });
                if !still_open {
                    facts.plan.event(id, EventKind::Reopened, ctx.now, None);
                }
            }
            let language = conv.language.clone().unwrap_or_else(|| answer_language(ctx, &verdict));
            let head = if quiet {
                conv.clone()
            } else {
                ConversationHead {
                    status: "open".into(),
                    priority: priority.as_str().into(),
                    queue: queue.clone(),
                    escalation,
                    // The SLA step below ends any wait for the customer.
                    awaiting_customer_since: None,
                    ..conv.clone()
                }
            };
            (id, false, priority, queue, language, head)
        }
        None => {
            let language = answer_language(ctx, &verdict);
            let id = facts.new_conversation_id(conn).await?;
            facts.plan.open(NewConversation {
                channel,
                endpoint: inbound.endpoint.clone(),
                chat_key: inbound.thread_hints.conversation_key.clone(),
                customer_address: inbound.from.address.clone(),
                subject: inbound.subject.clone(),
                subject_key: inbound
                    .subject
                    .as_deref()
                    .filter(|_| inbound.channel == ChannelKind::Email)
                    .map(channels::email::subject::normalise),
                language: Some(language.clone()),
                state: ConversationUpdate {
                    id,
                    priority: verdict.priority.as_str(),
                    queue: verdict.queue.clone(),
                    escalation: verdict.escalation.as_str().to_string(),
                    contact: inbound.contact.clone(),
                    now: ctx.now,
                    customer_at,
                },
            });
            let head = ConversationHead {
                id: id.0,
                status: "open".into(),
                priority: verdict.priority.as_str().into(),
                queue: verdict.queue.clone(),
                escalation: verdict.escalation.as_str().into(),
                customer_address: inbound.from.address.clone(),
                language: Some(language.clone()),
                first_response_at: None,
                awaiting_customer_since: None,
            };
            (id, true, verdict.priority, verdict.queue.clone(), language, head)
        }
    };

    // 5. Message, attachments, verdict, queue entry.
    let client_id = inbound
        .external_id
        .split_once(':')
        .map(|(_, c)| c)
        .filter(|_| inbound.channel == ChannelKind::Webchat);
    let id = facts.message_id()?;
    let message_id = facts.plan.message(PlannedMessage {
        id,
        conversation_id,
        direction: Direction::In,
        author_kind: "customer",
        author_name: inbound.from.name.clone(),
        channel,
        endpoint: inbound.endpoint.clone(),
        external_id: Some(inbound.external_id.clone()),
        client_id: client_id.map(str::to_string),
        subject: inbound.subject.clone(),
        body: inbound.text.clone(),
        quoted: inbound.quoted.clone(),
        html: inbound.html.clone(),
        raw_ref: inbound.raw_ref.clone(),
        created_at: ctx.now,
        auto: mail::auto_label(inbound).filter(|_| inbound.channel == ChannelKind::Email),
        thread_reason: (inbound.channel == ChannelKind::Email)
            .then(|| thread_reason.as_deref().unwrap_or("new conversation").to_string()),
    });
    if !files.is_empty() {
        // Attachment rows take the table's own ids, and name the message.
        facts.before_inline(conn).await?;
    }
    for f in &files {
        let attachment_id = messages::insert_attachment(
            conn,
            &NewAttachment {
                message_id,
                name: f.name.as_deref(),
                content_type: &f.content_type,
                size: f.size,
                sha256: f.sha256.as_deref(),
                remote_handle: f.remote.as_deref(),
                content_id: f.content_id.as_deref(),
            },
        )
        .await?;
        // Bytes still at the channel are fetched by a durable job, off the request path.
        if let Some(media_id) = &f.remote {
            whatsapp::insert_media_job(
                conn,
                attachment_id,
                &inbound.endpoint,
                media_id,
                f.expected_sha256.as_deref(),
                &f.content_type,
                ctx.now,
            )
            .await?;
        }
    }
    if !quiet {
        // Written with the rest of the batch's (`pipeline/writes.rs`).
        facts
            .plan
            .verdict(ingest::NewVerdict::new(conversation_id, message_id, &verdict, ctx.now)?);
        // What the channel says of the customer (their number, the serial of the
        // pre-chat form) is the same on every message: it is written once, with the conversation.
        let no_contact = channels::Contact::default();
        let contact = if new_conversation {
            &inbound.contact
        } else {
            &no_contact
        };
        facts.plan.mentions(
            conversation_id,
            message_id,
            crate::search::mentions::of_message(&verdict.fields, contact),
            ctx.now,
        );
        facts.plan.queue(ingest::QueueEntry {
            conversation: conversation_id,
            queue: queue.clone(),
            priority_rank: priority.rank(),
            waiting_since: Some(ctx.now),
        });
        timers_on_customer_message(conn, ctx, facts, conversation_id, priority, existing.as_ref()).await?;
    }
    // Email: Message-ID for threading, participants, bounce → the returned mail's outbox row.
    let mut bounced = None;
    if inbound.channel == ChannelKind::Email {
        facts.plan.mail_id(crate::store::email::MailId {
            mail_id: mail::mail_id(inbound).to_string(),
            conversation: conversation_id,
            message: message_id,
            now: ctx.now,
        });
        facts
            .plan
            .participants(mail::participants(ctx.mail, conversation_id, inbound, ctx.now));
        if let Some(bounce) = &inbound.bounce
            && let Some(original) = &bounce.original_message_id
        {
            facts.before_inline(conn).await?;
            bounced = crate::store::email::mark_bounced(conn, original, &bounce.reason(), ctx.now).await?;
        }
    }

    // The answer's effect, now that the message is stored: a resolution as
    // self-service deletes the queue entry, so this batch's are written first.
    let applied = match answer {
        Some(answer) => {
            facts.before_inline(conn).await?;
            let applied = super::feedback::apply(
                conn,
                ctx.feedback,
                conversation_id,
                answer,
                inbound.channel,
                customer_at,
                ctx.now,
            )
            .await?;
            facts.after_inline(conn, true).await?;
            if applied.resolved {
                facts.resolved(conversation_id);
            }
            applied
        }
        None => Default::default(),
    };

    // 6. Acknowledgement, queued in the same transaction. Never to automatic mail,
    // and never more than a few an hour to one address (two auto-responders must not talk forever).
    let ack_allowed = new_conversation
        && !inbound.auto.any()
        && !inbound.from.address.is_empty()
        && (inbound.channel != ChannelKind::Email || {
            facts.before_inline(conn).await?;
            crate::store::email::acks_since(conn, &inbound.from.address, ctx.now - 3_600_000).await?
                < ctx.mail.max_acks_per_hour
        });
    let ack = if ack_allowed {
        let online_agents = facts.online_agents(conn, &queue).await?;
        let waiting = if online_agents > 0 {
            // The backlog it counts includes this batch's queue entries.
            facts.before_inline(conn).await?;
            super::eta::waiting(conn, &queue, priority.rank()).await?
        } else {
            0
        };
        let load = super::eta::Load { waiting, online_agents };
        let sla = ctx.sla.budget(priority, crate::sla::TimerKind::FirstResponse);
        let due = super::eta::estimate(ctx.now, &load, ctx.acks.minutes_per_conversation, sla);
        let eta = super::eta::phrase(&language, ctx.now, due, ctx.sla.display_tz());
        let template = ctx
            .acks
            .templates
            .iter()
            .find(|t| t.priority == priority.as_str() && t.language == language)
            .map(|t| t.text.as_str());
        // Where Level 1 asks one question at a time, the acknowledgement does not list them all.
        let ask_all = !super::qualify::asks_on(ctx.level1, inbound.channel);
        let verdict_asked = super::feedback::asks_verdict(ctx.feedback, inbound.channel);
        let mut body = ack::text(
            &verdict,
            &language,
            &conversation_id.ticket(),
            &eta,
            template,
            ask_all,
            verdict_asked,
        );
        if ack::knowledge_answer(&verdict).is_some()
            && let Some(lines) = super::feedback::email_verdict_lines(ctx.feedback, conversation_id, &language, ctx.now)
                .filter(|_| inbound.channel == ChannelKind::Email)
        {
            body.push_str("\n\n");
            body.push_str(&lines);
        }
        let ack_id = plan_system_message(
            facts,
            &SystemOut::to_customer(conversation_id, channel, &inbound.endpoint, None, ctx.now),
            body,
        )?;
        Some(ack_id)
    } else {
        None
    };
    // Knowledge in use: an answer sent with the acknowledgement, or one the
    // agent is shown to check and send (a draft entry, or no acknowledgement).
    let mut verdict_question = None;
    if let Some(faq) = verdict.faq.as_ref().filter(|_| !quiet) {
        let sent = ack.filter(|_| ack::knowledge_answer(&verdict).is_some());
        let kind = if sent.is_some() {
            EventKind::KnowledgeSent
        } else {
            EventKind::KnowledgeSuggested
        };
        facts.plan.event(conversation_id, kind, ctx.now, Some(&faq.id));
        // "Did this solve it?": the conversation waits for the answer before an agent takes it.
        if let Some(ack) = sent
            && super::feedback::asks_verdict(ctx.feedback, inbound.channel)
        {
            let sent = super::feedback::Sent {
                conversation: conversation_id,
                inbound,
                language: &language,
                entry: &faq.id,
                now: ctx.now,
            };
            let opened = super::feedback::open(ctx.feedback, ack, &sent);
            facts.plan.knowledge_check(opened.check);
            let to = SystemOut::to_customer(conversation_id, channel, &inbound.endpoint, None, ctx.now);
            verdict_question = Some(plan_question(facts, to, opened.question)?);
        }
    }

    // Critical, after the acknowledgement so the customer reads that first: callback task, video room (its link to the customer), on-call out of hours.
    let mut open_after = None;
    let escalation_outgoing = if quiet {
        0
    } else {
        let ectx = crate::escalation::Context {
            policy: ctx.escalation,
            conversation: conversation_id,
            channel,
            endpoint: &inbound.endpoint,
            language: &language,
            ticket: conversation_id.ticket(),
            now: ctx.now,
        };
        let mut open = if new_conversation {
            Default::default()
        } else {
            facts.open_escalations(conn, conversation_id).await?
        };
        // Every kind asked for open already, no number awaited: nothing to do.
        let outgoing = if crate::escalation::has_work(&open, inbound, &verdict) {
            let phone = match crate::escalation::known_callback_number(inbound, &verdict) {
                Some(known) => known,
                // A WhatsApp customer known by username: their number on record.
                None => {
                    let on_record = whatsapp::phone_for(conn, &inbound.from.address).await?;
                    crate::escalation::whatsapp_number(inbound, &verdict, on_record)
                }
            };
            let decided = crate::escalation::for_verdict(&ectx, &mut open, inbound, &verdict, phone);
            plan_escalation(
                facts,
                conversation_id,
                channel,
                &inbound.endpoint,
                decided.writes,
                ctx.now,
            )?;
            decided.outgoing
        } else {
            0
        };
        open_after = Some(open);
        outgoing
    };

    // Level 1's next question, after the acknowledgement and the escalation's
    // messages; none while the customer is asked whether a knowledge answer solved it.
    let question = if let Some(asked) = verdict_question {
        asked
    } else if quiet || inbound.auto.any() || !super::qualify::may_ask(ctx.level1, inbound.channel, customer_at, ctx.now)
    {
        None
    } else {
        let prev = if new_conversation {
            None
        } else {
            facts.qualification(conn, conversation_id).await?
        };
        let step = super::qualify::Step {
            new_conversation,
            inbound,
            verdict: &verdict,
            queue: &queue,
            language: &language,
            customer_at,
            now: ctx.now,
        };
        let decided = super::qualify::decide_step(ctx.level1, &step, prev);
        match decided.save {
            Some(state) => {
                facts.plan.qualification(conversation_id, state.clone(), ctx.now);
                facts.qualified(conversation_id, Some(state));
            }
            // Nothing to ask in a new conversation: its next message need not look.
            None if new_conversation => facts.qualified(conversation_id, None),
            None => {}
        }
        let to = SystemOut::to_customer(conversation_id, channel, &inbound.endpoint, None, ctx.now);
        plan_question(facts, to, decided.question)?
    };

    facts.record(
        received,
        super::facts::Written {
            customer: &inbound.from.address,
            stored: ingest::ExistingMessage {
                message_id,
                conversation_id,
                priority,
            },
            head,
            new_conversation,
            quiet,
            open_escalations: open_after,
            now: ctx.now,
        },
    );

    Ok(Ok(Stored {
        accepted: Accepted {
            message_id,
            conversation_id,
            duplicate: false,
            new_conversation,
            priority,
        },
        queue,
        ack,
        bounced,
        escalation_outgoing,
        question,
        survey: applied.survey,
        answered: answer.is_some(),
    }))
}

/// A message from Switchyard itself and where its outbox row sends it.
struct SystemOut<'a> {
    conversation: ConversationId,
    direction: Direction,
    author_name: Option<&'static str>,
    /// The conversation's channel.
    channel: &'static str,
    endpoint: &'a str,
    outbox_channel: &'static str,
    payload: Option<String>,
    now: i64,
}

impl<'a> SystemOut<'a> {
    /// To the customer, on the conversation's own channel.
    fn to_customer(
        conversation: ConversationId,
        channel: &'static str,
        endpoint: &'a str,
        payload: Option<String>,
        now: i64,
    ) -> Self {
        SystemOut {
            conversation,
            direction: Direction::Out,
            author_name: None,
            channel,
            endpoint,
            outbox_channel: channel,
            payload,
            now,
        }
    }
}

/// Plans the message, with a reserved id, and its outbox row.
fn plan_system_message(facts: &mut BatchFacts, out: &SystemOut<'_>, body: String) -> Result<MessageId, StoreError> {
    let id = facts.message_id()?;
    let message = facts.plan.message(PlannedMessage {
        id,
        conversation_id: out.conversation,
        direction: out.direction,
        author_kind: "system",
        author_name: out.author_name.map(str::to_string),
        channel: out.channel,
        endpoint: out.endpoint.to_string(),
        external_id: None,
        client_id: None,
        subject: None,
        body,
        quoted: None,
        html: None,
        raw_ref: None,
        created_at: out.now,
        auto: None,
        thread_reason: None,
    });
    facts.plan.outbox(outbox::NewRow {
        message,
        conversation: out.conversation,
        channel: out.outbox_channel,
        payload: out.payload.clone(),
        now: out.now,
    });
    Ok(message)
}

/// A question to the customer (its text and quick answers), when there is one.
fn plan_question(
    facts: &mut BatchFacts,
    to: SystemOut<'_>,
    question: Option<(String, Option<String>)>,
) -> Result<Option<MessageId>, StoreError> {
    question
        .map(|(text, payload)| plan_system_message(facts, &SystemOut { payload, ..to }, text))
        .transpose()
}

/// An escalation step's rows, into the batch's plan.
fn plan_escalation(
    facts: &mut BatchFacts,
    conversation: ConversationId,
    channel: &'static str,
    endpoint: &str,
    writes: Vec<crate::escalation::Write>,
    now: i64,
) -> Result<(), StoreError> {
    use crate::escalation::Write;
    use crate::store::escalations::Change;
    for w in writes {
        match w {
            Write::Close { kind } => facts.plan.escalation(Change::Close {
                conversation,
                kind,
                now,
            }),
            Write::Open(opening) => facts.plan.escalation(Change::Open {
                conversation,
                opening,
                now,
            }),
            Write::Message {
                direction,
                author_name,
                body,
                to,
                payload,
            } => {
                let out = SystemOut {
                    conversation,
                    direction,
                    author_name,
                    channel,
                    endpoint,
                    outbox_channel: to.channel(channel),
                    payload,
                    now,
                };
                plan_system_message(facts, &out, body)?;
            }
        }
    }
    Ok(())
}

struct File {
    name: Option<String>,
    content_type: String,
    size: Option<i64>,
    sha256: Option<String>,
    remote: Option<String>,
    expected_sha256: Option<String>,
    content_id: Option<String>,
}

impl File {
    /// An attachment as the channel described it: stored bytes or a handle to fetch.
    fn described(a: &channels::AttachmentRef, sha256: Option<&String>, remote: Option<&String>) -> Self {
        File {
            name: a.name.clone(),
            content_type: a
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into()),
            size: a.size.and_then(|s| i64::try_from(s).ok()),
            sha256: sha256.cloned(),
            remote: remote.cloned(),
            expected_sha256: a.sha256.clone(),
            content_id: a.content_id.clone(),
        }
    }
}

/// SLA clocks: a new conversation starts its first-response and resolution
/// timers; a customer coming back ends a wait (paused timers run again) and,
/// once someone has answered, starts the next-response timer.
async fn timers_on_customer_message(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    facts: &mut BatchFacts,
    conversation: ConversationId,
    priority: Priority,
    existing: Option<&ConversationHead>,
) -> Result<(), StoreError> {
    use crate::sla::TimerKind;
    use crate::store::sla::{self, TimerStart};
    let start = |kind, restart| TimerStart::new(ctx.sla, conversation, priority, kind, ctx.now, restart);
    let Some(head) = existing else {
        facts.plan.timer(start(TimerKind::FirstResponse, false));
        facts.plan.timer(start(TimerKind::Resolution, false));
        return Ok(());
    };
    // Only what changes is written: a follow-up of an unanswered conversation
    // touches no timer. The conversation's update ends its wait for the customer.
    if head.awaiting_customer_since.is_some() {
        let paused = facts.take_paused(conn, conversation).await?;
        facts.plan.resume(sla::resumed(ctx.sla, conversation, &paused, ctx.now));
    }
    // Resolved and reopened by the customer: the resolution clock starts again.
    if head.status != "open" {
        facts.plan.timer(start(TimerKind::Resolution, true));
    }
    // Answered before: the next answer is due (a running next-response timer is kept).
    if head.first_response_at.is_some() {
        facts.plan.timer(start(TimerKind::NextResponse, true));
    }
    Ok(())
}

/// The conversation the message continues, and for mail why it was chosen.
async fn find_conversation(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    facts: &mut BatchFacts,
    inbound: &Inbound,
) -> Result<(Option<ConversationHead>, Option<String>), StoreError> {
    if let Some(key) = &inbound.thread_hints.conversation_key {
        return Ok((facts.chat(conn, key).await?, None));
    }
    match inbound.channel {
        ChannelKind::Whatsapp => Ok((
            facts
                .whatsapp_conversation(conn, inbound, &inbound.from.address)
                .await?,
            None,
        )),
        ChannelKind::Email => {
            facts.before_inline(conn).await?;
            let threaded = mail::thread(conn, ctx.mail, inbound, ctx.now).await?;
            Ok((threaded.conversation, Some(threaded.reason)))
        }
        ChannelKind::Webchat => Ok((None, None)),
    }
}

/// The text's language (or the channel's hint, which triage already weighed), else the configured default.
fn answer_language(ctx: &Ctx<'_>, verdict: &triage::Verdict) -> String {
    verdict
        .language
        .clone()
        .unwrap_or_else(|| ctx.triage.default_language().to_string())
}

fn triage_channel(kind: ChannelKind) -> triage::Channel {
    match kind {
        ChannelKind::Email => triage::Channel::Email,
        ChannelKind::Webchat => triage::Channel::Webchat,
        ChannelKind::Whatsapp => triage::Channel::Whatsapp,
    }
}
