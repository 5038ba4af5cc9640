//! Queues and conversations: read, answer, note, claim/assign, resolve/reopen.

use super::error::ApiQuery as Query;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiJson};
use crate::auth::CurrentAgent;
use crate::dispatch::holding::Actor;
use crate::events::Event;
use crate::ids::{AgentId, ConversationId};
use crate::level1::qualify::State as Qualification;
use crate::sla::{SlaState, SlaView};
use crate::state::AppState;
use crate::store::conversations::{AgentMessage, ConversationRow, ListFilter};
use crate::store::email::ParticipantRow;
use crate::store::escalations::EscalationRow;
use crate::store::feedback::ConversationFeedback;
use crate::store::messages::{AttachmentRow, Direction, MessageRow};
use crate::store::translations::TranslationRow;
use crate::store::whatsapp::{CallRow, ReactionRow};
use crate::whatsapp::Button;

const MAX_REPLY_CHARS: usize = 20_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(open))
        .routes(routes!(reply))
        .routes(routes!(translate))
        .routes(routes!(note))
        .routes(routes!(participant))
        .routes(routes!(agent_upload))
        .routes(routes!(claim))
        .routes(routes!(assign))
        .routes(routes!(unassign))
        .routes(routes!(resolve))
        .routes(routes!(wait_for_customer))
        .routes(routes!(transfer))
        .routes(routes!(reopen))
        .routes(routes!(typing))
        .routes(routes!(attachment))
        .routes(routes!(raw_message))
        .routes(routes!(message_versions))
}

#[derive(Serialize, ToSchema)]
struct Conversations {
    conversations: Vec<ListedConversation>,
}

#[derive(Serialize, ToSchema)]
struct ListedConversation {
    #[serde(flatten)]
    conversation: ConversationRow,
    /// on_time, at_risk, breached, paused or none
    sla_state: SlaState,
}

/// Everything about one conversation, for the inbox's middle column.
#[derive(Serialize, ToSchema)]
struct ConversationView {
    conversation: ConversationRow,
    /// SY-<id>, also the email subject tag.
    ticket: String,
    messages: Vec<MessageRow>,
    attachments: Vec<AttachmentRow>,
    reactions: Vec<ReactionRow>,
    /// The triage verdict that made the conversation as urgent as it is (the earliest among equals).
    verdict: Option<serde_json::Value>,
    /// Every triage verdict, one per customer message: priority, queue, rules that fired, facts.
    verdicts: Vec<serde_json::Value>,
    /// WhatsApp conversations: the 24-hour window, the templates, who Meta says the customer is.
    whatsapp: Option<super::whatsapp::WhatsAppView>,
    /// Email: everyone on the thread; a reply goes to the customer with the active ones in Cc.
    participants: Vec<ParticipantRow>,
    /// Service levels: one state and each timer's due time.
    sla: SlaView,
    /// Callback tasks (number, slot, outcome) and video rooms.
    escalations: Vec<EscalationRow>,
    /// WhatsApp calls with the customer: direction, status, duration.
    calls: Vec<CallRow>,
    /// Level 1's questions: what is known, what is asked, why it stopped.
    qualification: Option<Qualification>,
    /// The customer's verdict on a knowledge answer, and their satisfaction rating.
    feedback: ConversationFeedback,
    /// Customer messages translated into the agents' language (the originals stay in `messages`).
    translation: Option<TranslationView>,
}

#[derive(Serialize, ToSchema)]
struct TranslationView {
    /// The language this agent reads.
    target: String,
    /// Whether the customer writes another one.
    needed: bool,
    /// ok, or unavailable (the provider failed; retrying)
    state: &'static str,
    last_error: Option<String>,
    messages: Vec<TranslationRow>,
}

#[derive(Serialize, ToSchema)]
struct Participants {
    participants: Vec<ParticipantRow>,
}

/// A message the agent wrote, committed (a reply is in the outbox).
#[derive(Serialize, ToSchema)]
pub(super) struct Replied {
    message_id: i64,
}

#[derive(Serialize, ToSchema)]
struct Translation {
    text: String,
    from: String,
    to: String,
    /// Protected terms (codes, serials, links, glossary) the provider lost or changed.
    lost: Vec<String>,
}

/// A conversation after a change.
#[derive(Serialize, ToSchema)]
struct Changed {
    conversation: Option<ConversationRow>,
}

#[derive(Serialize, ToSchema)]
struct Typed {
    /// The visitor sockets told.
    pushed: usize,
}

#[derive(Serialize, ToSchema)]
struct MessageVersions {
    message: i64,
    current: String,
    versions: Vec<MessageVersion>,
}

#[derive(Serialize, ToSchema)]
struct MessageVersion {
    body: String,
    replaced_at: i64,
}

#[derive(Deserialize, IntoParams)]
struct ListQuery {
    queue: Option<String>,
    /// open or resolved
    status: Option<String>,
    /// Only those assigned to the caller.
    #[serde(default)]
    mine: bool,
    /// 1 to 1000, 200 by default.
    limit: Option<i64>,
}

/// Conversations, most urgent first, by queue, status or assignee.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", params(ListQuery),
    responses((status = 200, body = Conversations)))]
async fn list(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Query(q): Query<ListQuery>,
) -> Result<Json<Conversations>, ApiError> {
    if let Some(status) = &q.status
        && !["open", "resolved"].contains(&status.as_str())
    {
        return Err(ApiError::BadRequest("bad_status", "status is open or resolved".into()));
    }
    let filter = ListFilter {
        queue: q.queue,
        status: q.status,
        assignee: q.mine.then_some(agent.id),
        limit: q.limit.unwrap_or(200).clamp(1, 1000),
    };
    let rows = state.store.conversation_list(&filter).await?;
    let sla = super::queues::queued_sla_states(&state).await?;
    let conversations = rows
        .into_iter()
        .map(|row| ListedConversation {
            sla_state: sla.get(&row.id).map(|(_, s)| *s).unwrap_or(SlaState::None),
            conversation: row,
        })
        .collect();
    Ok(Json(Conversations { conversations }))
}

/// One conversation with its thread, verdicts, service levels, escalations and more.
///
/// What a customer deleted is blanked for agents, kept for supervisors.
#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations", params(("id" = i64, Path)),
    responses((status = 200, body = ConversationView)))]
async fn open(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<ConversationView>, ApiError> {
    let id = ConversationId(id);
    let conversation = conversation_or_404(&state, id).await?;
    let mut messages = state.store.messages(id, true).await?;
    // What a customer deleted stays on record, for supervisors to read.
    if !agent.is_supervisor() {
        for m in messages.iter_mut().filter(|m| m.deleted_at.is_some()) {
            m.body.clear();
        }
    }
    let attachments = state.store.attachments(id).await?;
    let verdicts = state.store.verdicts(id).await?;
    let whatsapp = match (&state.whatsapp, conversation.channel.as_str()) {
        (Some(wa), "whatsapp") => Some(super::whatsapp::view(&state, wa, &conversation, id).await?),
        _ => None,
    };
    let reactions = state.store.reactions(id).await?;
    let participants = state.store.participants(id).await?;
    let escalations = state.store.escalations_of(id).await?;
    let calls = if conversation.channel == "whatsapp" {
        state.store.whatsapp_calls(id).await?
    } else {
        Vec::new()
    };
    let sla = crate::sla::view(
        state.store.sla_timers(id).await?,
        &state.sla.current(),
        state.clock.now_ms(),
    );
    let qualification = state.store.qualification(id).await?;
    let feedback = state.store.conversation_feedback(id).await?;
    // Customer messages in the agents' language need none; the others have
    // theirs, or wait for the worker (or for the provider to answer again).
    let translation = match &state.translator {
        Some(translator) => {
            let status = translator.status();
            let language = conversation.language.clone().unwrap_or_default();
            let target = reads(&agent, translator);
            Some(TranslationView {
                needed: !language.is_empty() && language != target,
                target,
                state: status.state,
                last_error: status.last_error,
                messages: state.store.translations_of(id).await?,
            })
        }
        None => None,
    };
    Ok(Json(ConversationView {
        conversation,
        ticket: id.ticket(),
        messages,
        attachments,
        reactions,
        verdict: deciding_verdict(&verdicts).cloned(),
        verdicts,
        whatsapp,
        participants,
        sla,
        escalations,
        calls,
        qualification,
        feedback,
        translation,
    }))
}

/// An address an agent typed, trimmed and lower-cased, or a 400.
fn checked_address(a: &str) -> Result<String, ApiError> {
    let a = a.trim().to_lowercase();
    let valid = a.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
        && !a.chars().any(|c| c.is_whitespace() || c == ',' || c == '<' || c == '>');
    if valid {
        Ok(a)
    } else {
        Err(ApiError::BadRequest(
            "bad_address",
            format!("{a:?} is not an email address"),
        ))
    }
}

/// The recipients an agent typed, checked, as the outbox payload.
fn email_recipients(to: Option<Vec<String>>, cc: Option<Vec<String>>) -> Result<String, ApiError> {
    let check = |list: Option<Vec<String>>| -> Result<Option<Vec<String>>, ApiError> {
        list.map(|l| l.iter().map(|a| checked_address(a)).collect()).transpose()
    };
    let payload = crate::email::EmailPayload {
        to: check(to)?,
        cc: check(cc)?,
    };
    if payload.to.as_ref().is_some_and(Vec::is_empty) {
        return Err(ApiError::BadRequest(
            "no_recipient",
            "a reply needs at least one recipient".into(),
        ));
    }
    serde_json::to_string(&payload).map_err(|e| ApiError::Internal(e.to_string()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ParticipantChange {
    address: String,
    name: Option<String>,
    /// False leaves them out of the conversation's future replies.
    active: bool,
}

/// Adds someone to (or removes them from) the Cc of the conversation's replies.
///
/// Email conversations only.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/participants", tag = "conversations", params(("id" = i64, Path)),
    request_body = ParticipantChange, responses((status = 200, body = Participants)))]
async fn participant(
    State(state): State<AppState>,
    _agent: CurrentAgent,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ParticipantChange>,
) -> Result<Json<Participants>, ApiError> {
    let id = ConversationId(id);
    let conversation = conversation_or_404(&state, id).await?;
    if conversation.channel != "email" {
        return Err(ApiError::BadRequest(
            "recipients_unsupported",
            "participants exist on email conversations only".into(),
        ));
    }
    let address = checked_address(&body.address)?;
    let now = state.clock.now_ms();
    state
        .store
        .set_participant(id, &address, body.name.as_deref(), body.active, now)
        .await?;
    Ok(Json(Participants {
        participants: state.store.participants(id).await?,
    }))
}

pub(super) fn deciding_verdict(verdicts: &[serde_json::Value]) -> Option<&serde_json::Value> {
    let rank = |v: &serde_json::Value| {
        v["priority"]
            .as_str()
            .and_then(triage::Priority::parse)
            .map(triage::Priority::rank)
            .unwrap_or(i64::MAX)
    };
    verdicts.iter().min_by_key(|v| rank(v))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Text {
    text: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Reply {
    text: String,
    /// WhatsApp quick-answer buttons (at most 3).
    #[serde(default)]
    buttons: Vec<Button>,
    /// Upload ids from `POST /api/v1/uploads`.
    #[serde(default)]
    attachments: Vec<String>,
    /// Email only: recipients of this reply, replacing the customer (To) and the participants (Cc).
    to: Option<Vec<String>>,
    cc: Option<Vec<String>>,
    /// What the agent wrote in their own language, when `text` is its
    /// translation (from `POST …/translate`, possibly edited): kept in the record.
    #[serde(default)]
    original: Option<String>,
}

/// A reply with files the gateway made (a report), through the same checks
/// as one typed in the inbox.
pub(super) async fn reply_with_files(
    state: AppState,
    agent: CurrentAgent,
    id: ConversationId,
    text: String,
    attachments: Vec<String>,
) -> Result<Json<Replied>, ApiError> {
    let body = Reply {
        text,
        buttons: Vec::new(),
        attachments,
        to: None,
        cc: None,
        original: None,
    };
    reply(State(state), agent, Path(id.0), ApiJson(body)).await
}

/// Uploads a file an agent will attach to a reply (the body is the file).
///
/// Its `Content-Type` is the file's; the answer's `upload_id` goes in a
/// reply's `attachments`.
#[utoipa::path(post, path = "/api/v1/uploads", tag = "conversations", params(crate::webchat::UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes, with its own Content-Type"),
    responses((status = 200, body = crate::webchat::Uploaded)))]
async fn agent_upload(
    State(state): State<AppState>,
    agent: CurrentAgent,
    headers: axum::http::HeaderMap,
    Query(q): Query<crate::webchat::UploadQuery>,
    body: axum::body::Body,
) -> Result<Json<crate::webchat::Uploaded>, ApiError> {
    crate::webchat::receive_upload(&state, &agent_owner(&agent), &headers, q.name, body).await
}

/// The conversation, or the API's 404.
pub(super) async fn conversation_or_404(
    state: &AppState,
    id: ConversationId,
) -> Result<crate::store::conversations::ConversationRow, ApiError> {
    state
        .store
        .conversation_get(id)
        .await?
        .ok_or(ApiError::NotFound("conversation"))
}

pub(super) fn agent_owner(agent: &CurrentAgent) -> String {
    format!("agent:{}", agent.id)
}

/// Answers the customer on their own channel (an email reply is a threaded mail).
///
/// The reply is committed to the outbox before this answers; delivery
/// follows (`delivery_updated` events). WhatsApp buttons and templates,
/// email To/Cc and attachments per channel.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/reply", tag = "conversations", params(("id" = i64, Path)),
    request_body = Reply, responses((status = 200, body = Replied)))]
async fn reply(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Reply>,
) -> Result<Json<Replied>, ApiError> {
    check_text(&body.text)?;
    let id = ConversationId(id);
    let conversation = conversation_or_404(&state, id).await?;
    refuse_if_erased(&conversation)?;
    if conversation.channel != "email" && (body.to.is_some() || body.cc.is_some()) {
        return Err(ApiError::BadRequest(
            "recipients_unsupported",
            "to and cc exist on email conversations only".into(),
        ));
    }
    let payload = if conversation.channel == "whatsapp" {
        super::whatsapp::check_reply(&state, &conversation, &body.text, body.buttons, &body.attachments)?
    } else if conversation.channel == "email" && (body.to.is_some() || body.cc.is_some()) {
        Some(email_recipients(body.to, body.cc)?)
    } else if !body.buttons.is_empty() {
        return Err(ApiError::BadRequest(
            "buttons_unsupported",
            "buttons exist on WhatsApp only".into(),
        ));
    } else {
        None
    };
    let original = body.original.as_deref().map(str::trim).filter(|o| !o.is_empty());
    let text = match (original, &state.translator) {
        // A mail says what the agent wrote, below the translation (configurable).
        (Some(original), Some(_))
            if conversation.channel == "email" && state.config.translation.append_original_to_email =>
        {
            format!("{}\n\n--- {} ---\n{original}", body.text.trim(), ORIGINAL_LABEL)
        }
        _ => body.text.clone(),
    };
    let written = write_message(
        &state,
        &agent,
        id,
        &text,
        Direction::Out,
        payload.as_deref(),
        &body.attachments,
    )
    .await?;
    if let (Some(original), Some(translator)) = (original, &state.translator) {
        let message = written.0.message_id;
        let row = crate::store::translations::TranslationRow {
            message_id: message,
            language: reads(&agent, translator),
            text: Some(original.to_string()),
            error: None,
            provider: "agent".into(),
        };
        state.store.save_translations(&[row], state.clock.now_ms()).await?;
    }
    Ok(written)
}

/// Introduces the agent's own words below a translated mail.
const ORIGINAL_LABEL: &str = "original";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ToTranslate {
    text: String,
}

/// The reply box's preview: the agent's text in the customer's language.
///
/// With the protected terms (codes, serials, links, glossary) the provider
/// lost or changed, for the agent to fix before sending.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/translate", tag = "conversations", params(("id" = i64, Path)),
    request_body = ToTranslate, responses((status = 200, body = Translation)))]
async fn translate(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ToTranslate>,
) -> Result<Json<Translation>, ApiError> {
    check_text(&body.text)?;
    let conversation = conversation_or_404(&state, ConversationId(id)).await?;
    let translator = state
        .translator
        .as_ref()
        .ok_or_else(|| ApiError::BadRequest("translation_off", "no translation provider is configured".into()))?;
    let to = conversation.language.clone().unwrap_or_default();
    let from = reads(&agent, translator);
    if to.is_empty() || to == from {
        return Err(ApiError::BadRequest(
            "same_language",
            "the customer writes your language".into(),
        ));
    }
    let done = translator
        .translate(&[body.text.trim().to_string()], &from, &to, state.clock.now_ms())
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let first = done.into_iter().next().unwrap_or(crate::translation::Translated {
        text: String::new(),
        lost: Vec::new(),
    });
    Ok(Json(Translation {
        text: first.text,
        from,
        to,
        lost: first.lost,
    }))
}

/// The language this agent reads and writes: their choice, else the agents' one.
fn reads(agent: &CurrentAgent, translator: &crate::translation::Translator) -> String {
    agent.language.clone().unwrap_or_else(|| translator.agents.clone())
}

fn check_text(text: &str) -> Result<(), ApiError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_REPLY_CHARS {
        return Err(ApiError::BadRequest(
            "bad_text",
            format!("text must be 1 to {MAX_REPLY_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Adds a private note, for agents only.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/notes", tag = "conversations", params(("id" = i64, Path)),
    request_body = Text, responses((status = 200, body = Replied)))]
async fn note(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Text>,
) -> Result<Json<Replied>, ApiError> {
    write_message(
        &state,
        &agent,
        ConversationId(id),
        &body.text,
        Direction::Note,
        None,
        &[],
    )
    .await
}

pub(super) async fn write_message(
    state: &AppState,
    agent: &CurrentAgent,
    id: ConversationId,
    text: &str,
    direction: Direction,
    payload: Option<&str>,
    attachments: &[String],
) -> Result<Json<Replied>, ApiError> {
    check_text(text)?;
    let owner = agent_owner(agent);
    let text = text.trim();
    let now = state.clock.now_ms();
    let message = state
        .store
        .add_agent_message(
            id,
            &AgentMessage {
                agent: agent.id,
                agent_name: &agent.name,
                text,
                direction,
                payload,
                attachments,
                upload_owner: &owner,
            },
            now,
        )
        .await?;
    state.events.publish(Event::MessageAdded {
        conversation: id.0,
        message: message.0,
        direction: direction.as_str().into(),
    });
    if direction == Direction::Out {
        // The row is committed; the worker takes it from here.
        state.outbox_wake.notify();
    }
    Ok(Json(Replied { message_id: message.0 }))
}

/// Takes the conversation: it becomes the caller's (409 if someone else has it).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/claim", tag = "conversations", params(("id" = i64, Path)),
    responses((status = 200, body = Changed)))]
async fn claim(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<Changed>, ApiError> {
    let me = agent.id;
    let out = change(&state, ConversationId(id), |s, id, now| async move {
        s.store.assign(id, Some(agent.id), actor(&agent), false, now).await
    })
    .await?;
    conversation_audit(&state, me, addr, "conversation_claimed", id, json!({})).await;
    Ok(out)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Assign {
    agent_id: i64,
}

/// Gives the conversation to an agent (to oneself: "take over").
///
/// Giving another's conversation away is for supervisors.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/assign", tag = "conversations", params(("id" = i64, Path)),
    request_body = Assign, responses((status = 200, body = Changed)))]
async fn assign(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Assign>,
) -> Result<Json<Changed>, ApiError> {
    let target = AgentId(body.agent_id);
    if state.store.agent_by_id(target).await?.is_none_or(|a| a.disabled != 0) {
        return Err(ApiError::NotFound("agent"));
    }
    let me = agent.id;
    let out = change(&state, ConversationId(id), |s, id, now| async move {
        // Assigning to oneself is the inbox's confirmed "Take over".
        s.store.assign(id, Some(target), actor(&agent), true, now).await
    })
    .await?;
    let detail = json!({"to_agent": target.0});
    conversation_audit(&state, me, addr, "conversation_assigned", id, detail).await;
    Ok(out)
}

/// Releases the conversation back to its queue.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/unassign", tag = "conversations", params(("id" = i64, Path)),
    responses((status = 200, body = Changed)))]
async fn unassign(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<Changed>, ApiError> {
    let me = agent.id;
    let out = change(&state, ConversationId(id), |s, id, now| async move {
        s.store.assign(id, None, actor(&agent), false, now).await
    })
    .await?;
    conversation_audit(&state, me, addr, "conversation_released", id, json!({})).await;
    Ok(out)
}

/// Resolves the conversation: out of the queue, its timers stopped.
///
/// The customer may be asked for a satisfaction rating.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/resolve", tag = "conversations", params(("id" = i64, Path)),
    responses((status = 200, body = Changed)))]
async fn resolve(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<Changed>, ApiError> {
    let me = agent.id;
    let out = change(&state, ConversationId(id), |s, id, now| async move {
        s.store.resolve(id, agent.id, &s.feedback, now).await
    })
    .await?;
    conversation_audit(&state, me, addr, "conversation_resolved", id, json!({})).await;
    // The satisfaction question may have been queued with the resolution.
    state.outbox_wake.notify();
    Ok(out)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Transfer {
    queue: String,
    /// An agent to hand it to; absent leaves it unassigned in the queue.
    agent_id: Option<i64>,
}

/// Moves the conversation to another queue, optionally to an agent of it.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/transfer", tag = "conversations", params(("id" = i64, Path)),
    request_body = Transfer, responses((status = 200, body = Changed)))]
async fn transfer(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Transfer>,
) -> Result<Json<Changed>, ApiError> {
    let queue = body.queue.trim().to_string();
    if queue.is_empty() || queue.len() > 64 {
        return Err(ApiError::BadRequest(
            "bad_queue",
            "name the queue to transfer to".into(),
        ));
    }
    let me = agent.id;
    let detail = json!({"queue": queue, "to_agent": body.agent_id});
    let out = change(&state, ConversationId(id), |s, id, now| async move {
        s.store
            .transfer(id, &queue, body.agent_id.map(AgentId), actor(&agent), now)
            .await
    })
    .await?;
    conversation_audit(&state, me, addr, "conversation_transferred", id, detail).await;
    Ok(out)
}

/// Waits for the customer: the service-level clocks stop until they answer.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/wait", tag = "conversations", params(("id" = i64, Path)),
    responses((status = 200, body = Changed)))]
async fn wait_for_customer(
    State(state): State<AppState>,
    _agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<Changed>, ApiError> {
    change(&state, ConversationId(id), |s, id, now| async move {
        s.store.set_waiting(id, &s.sla.current(), now).await
    })
    .await
}

/// Reopens a resolved conversation, assigned to the caller.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/reopen", tag = "conversations", params(("id" = i64, Path)),
    responses((status = 200, body = Changed)))]
async fn reopen(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<Changed>, ApiError> {
    refuse_if_erased(&conversation_or_404(&state, ConversationId(id)).await?)?;
    let me = agent.id;
    let out = change(&state, ConversationId(id), |s, id, now| async move {
        s.store.set_status(id, false, Some(agent.id), now).await
    })
    .await?;
    conversation_audit(&state, me, addr, "conversation_reopened", id, json!({})).await;
    Ok(out)
}

/// An agent's action on a conversation, for the audit log.
async fn conversation_audit(
    state: &AppState,
    agent: AgentId,
    addr: std::net::IpAddr,
    action: &str,
    id: i64,
    detail: serde_json::Value,
) {
    super::audit::record(state, Some(agent), addr, action, &format!("conversation:{id}"), detail).await;
}

/// An erased customer cannot be written to: their address is gone.
fn refuse_if_erased(c: &crate::store::conversations::ConversationRow) -> Result<(), ApiError> {
    match c.erased_at {
        Some(_) => Err(ApiError::Conflict(
            "this customer's data was erased: the conversation cannot be answered or reopened".into(),
        )),
        None => Ok(()),
    }
}

fn actor(agent: &CurrentAgent) -> Actor {
    Actor {
        id: agent.id,
        supervisor: agent.is_supervisor(),
    }
}

/// Runs a change, then tells every screen the conversation moved.
async fn change<F, Fut>(state: &AppState, id: ConversationId, f: F) -> Result<Json<Changed>, ApiError>
where
    F: FnOnce(AppState, ConversationId, i64) -> Fut,
    Fut: std::future::Future<Output = Result<(), crate::store::conversations::ChangeError>>,
{
    f(state.clone(), id, state.clock.now_ms()).await?;
    state.events.publish(Event::ConversationUpdated { conversation: id.0 });
    // Capacity may have freed, or the conversation is back in a queue.
    state.assign_wake.notify_one();
    let conversation = state.store.conversation_get(id).await?;
    Ok(Json(Changed { conversation }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Typing {
    on: bool,
}

/// Shows (or hides) "typing…" in the visitor's chat widget.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/typing", tag = "conversations", params(("id" = i64, Path)),
    request_body = Typing, responses((status = 200, body = Typed)))]
async fn typing(
    State(state): State<AppState>,
    _agent: CurrentAgent,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Typing>,
) -> Result<Json<Typed>, ApiError> {
    let conversation = conversation_or_404(&state, ConversationId(id)).await?;
    let pushed = conversation
        .chat_key
        .map(|key| {
            state
                .hub
                .push(&key, &channels::webchat::ServerFrame::Typing { on: body.on })
        })
        .unwrap_or(0);
    Ok(Json(Typed { pushed }))
}

/// The message exactly as it arrived (an email's RFC 5322 bytes), kept for proof.
///
/// Audited: who read a whole mail is on record.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages/{message}/raw", tag = "conversations",
    params(("id" = i64, Path), ("message" = i64, Path)),
    responses((status = 200, description = "The mail as received", content_type = "message/rfc822")))]
async fn raw_message(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path((id, message)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let raw = state
        .store
        .message_raw_ref(ConversationId(id), crate::ids::MessageId(message))
        .await?
        .ok_or(ApiError::NotFound("raw message"))?;
    let sha256 = raw.strip_prefix("sha256:").ok_or(ApiError::NotFound("raw message"))?;
    let file = crate::store::messages::AttachmentRow {
        id: 0,
        message_id: message,
        name: Some(format!("message-{message}.eml")),
        content_type: "message/rfc822".into(),
        size: None,
        sha256: Some(sha256.to_string()),
        download_status: None,
        download_error: None,
        content_id: None,
    };
    let served = crate::webchat::serve_blob(&state, &file).await?;
    // The whole mail, headers and all: who read it is on record.
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "raw_mail_download",
        &format!("conversation:{id}"),
        json!({"message": message}),
    )
    .await;
    Ok(served)
}

/// A file of the conversation: shown in place if an image, audio or video, else downloaded.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/attachments/{attachment}", tag = "conversations",
    params(("id" = i64, Path), ("attachment" = i64, Path)),
    responses((status = 200, description = "The file, with its type", content_type = "application/octet-stream")))]
async fn attachment(
    State(state): State<AppState>,
    _agent: CurrentAgent,
    Path((id, attachment)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let a = state
        .store
        .attachment_in_conversation(attachment, ConversationId(id))
        .await?
        .ok_or(ApiError::NotFound("attachment"))?;
    crate::webchat::serve_blob(&state, &a).await
}

/// The earlier texts of a message the customer edited, oldest first.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages/{message}/versions", tag = "conversations",
    params(("id" = i64, Path), ("message" = i64, Path)),
    responses((status = 200, body = MessageVersions)))]
async fn message_versions(
    State(state): State<AppState>,
    _agent: CurrentAgent,
    Path((id, message)): Path<(i64, i64)>,
) -> Result<Json<MessageVersions>, ApiError> {
    let row = state
        .store
        .message(crate::ids::MessageId(message))
        .await?
        .filter(|m| m.conversation_id == id)
        .ok_or(ApiError::NotFound("message"))?;
    let versions = state.store.whatsapp_message_versions(row.id).await?;
    let versions = versions
        .into_iter()
        .map(|(body, replaced_at)| MessageVersion { body, replaced_at })
        .collect();
    Ok(Json(MessageVersions {
        message: row.id,
        current: row.body,
        versions,
    }))
}
