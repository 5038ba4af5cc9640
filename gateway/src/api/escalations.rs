//! Escalations: the open callbacks and rooms (top of the inbox), an agent's
//! one-action escalation of a conversation, and call outcomes.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::conversations::conversation_or_404;
use super::error::{ApiError, ApiJson};
use crate::auth::CurrentAgent;
use crate::events::Event;
use crate::ids::ConversationId;
use crate::state::AppState;
use crate::store::escalations::EscalationRow;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open))
        .routes(routes!(outcome))
        .routes(routes!(escalate))
}

#[derive(Serialize, ToSchema)]
struct OpenEscalations {
    escalations: Vec<OpenEscalation>,
}

#[derive(Serialize, ToSchema)]
struct OpenEscalation {
    #[serde(flatten)]
    escalation: EscalationRow,
    /// The conversation's reference, SY-<id>.
    ticket: String,
}

#[derive(Serialize, ToSchema)]
struct Escalated {
    /// The escalations opened.
    opened: Vec<i64>,
    /// The customer was asked for a number: the callback opens when it comes.
    asked_for_number: bool,
    /// Every escalation of the conversation.
    escalations: Vec<EscalationRow>,
}

#[derive(Serialize, ToSchema)]
struct OutcomeRecorded {
    escalation: EscalationRow,
}

/// The open callbacks and video rooms, for the top of the inbox.
#[utoipa::path(get, path = "/api/v1/escalations", tag = "escalations", responses((status = 200, body = OpenEscalations)))]
async fn open(State(state): State<AppState>, _agent: CurrentAgent) -> Result<Json<OpenEscalations>, ApiError> {
    let rows = state.store.escalations_open().await?;
    let escalations = rows
        .into_iter()
        .map(|e| OpenEscalation {
            ticket: ConversationId(e.conversation_id).ticket(),
            escalation: e,
        })
        .collect();
    Ok(Json(OpenEscalations { escalations }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Escalate {
    /// callback, visio or callback+visio
    kind: String,
    phone: Option<String>,
    /// The customer's preferred time, as they said it ("tomorrow 8:00", "before 11").
    slot: Option<String>,
}

/// Escalates a conversation in one action: a phone callback, a video room, or both.
///
/// On WhatsApp without a known number, the customer is asked for one (in
/// words within the 24-hour window, else with the contact-request template)
/// and the callback opens when it comes.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/escalate", tag = "escalations", params(("id" = i64, Path)),
    request_body = Escalate, responses((status = 200, body = Escalated)))]
async fn escalate(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Escalate>,
) -> Result<Json<Escalated>, ApiError> {
    let (callback, visio) = match body.kind.as_str() {
        "callback" => (true, false),
        "visio" => (false, true),
        "callback+visio" => (true, true),
        _ => {
            return Err(ApiError::BadRequest(
                "bad_kind",
                "kind is callback, visio or callback+visio".into(),
            ));
        }
    };
    let id = ConversationId(id);
    let conversation = conversation_or_404(&state, id).await?;
    let whatsapp = conversation.channel == "whatsapp";
    // A WhatsApp address is a number only when Meta gave one: a customer
    // known by their business-scoped id alone has none to call.
    let known = match conversation.customer_phone.clone() {
        Some(p) => Some(p),
        None if whatsapp => state
            .store
            .whatsapp_phone_for(&conversation.customer_address)
            .await?
            .map(|p| if p.starts_with('+') { p } else { format!("+{p}") }),
        None => None,
    };
    let phone = body.phone.clone().filter(|p| !p.trim().is_empty()).or(known);
    let policy = state.escalation.clone();
    let language = conversation
        .language
        .clone()
        .unwrap_or_else(|| state.triage.default_language().to_string());
    let now = state.clock.now_ms();
    let ctx = crate::escalation::Context {
        policy: &policy,
        conversation: id,
        channel: &conversation.channel,
        endpoint: &conversation.endpoint,
        language: &language,
        ticket: id.ticket(),
        now,
    };
    // No number to call on WhatsApp: ask the customer for one (in words inside
    // the 24-hour window, with the contact-request template after it); the
    // callback opens when the number comes.
    let ask = callback && phone.is_none() && whatsapp;
    if ask && now >= conversation.last_customer_at + crate::whatsapp::WINDOW_MS {
        let template = state
            .whatsapp
            .as_ref()
            .map(|wa| wa.config.contact_request_template.clone())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::Conflict(
                    "no number is known and the 24-hour window is closed: configure \
                     whatsapp.contact_request_template, or type the number"
                        .into(),
                )
            })?;
        let _sent = super::whatsapp::send_template(state.clone(), agent.clone(), id, &template).await?;
        let mut tx = state.store.begin().await?;
        crate::escalation::note_number_request(&mut tx, &ctx).await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
    }
    let mut tx = state.store.begin().await?;
    let asked = if ask && now < conversation.last_customer_at + crate::whatsapp::WINDOW_MS {
        crate::escalation::ask_number(&mut tx, &ctx).await?
    } else {
        0
    };
    let callback = callback && !ask;
    let mut opened = crate::escalation::request(
        &mut tx,
        &ctx,
        callback,
        visio,
        phone.as_deref(),
        body.slot.as_deref(),
        Some(agent.id),
    )
    .await?;
    opened.outgoing += asked;
    let kind = body.kind.as_str();
    sqlx::query("UPDATE conversations SET escalation = $2, updated_at = $3 WHERE id = $1")
        .bind(id.0)
        .bind(kind)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(crate::store::StoreError::from)?;
    tx.commit().await.map_err(crate::store::StoreError::from)?;
    if opened.outgoing > 0 {
        state.outbox_wake.notify();
    }
    state.events.publish(Event::ConversationUpdated { conversation: id.0 });
    Ok(Json(Escalated {
        opened: opened.escalations,
        asked_for_number: ask,
        escalations: state.store.escalations_of(id).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CallOutcome)]
struct Outcome {
    /// reached, no_answer, voicemail, wrong_number or done (a room that served its purpose).
    outcome: String,
    notes: Option<String>,
}

/// Records a call's outcome; someone reached (or a wrong number) closes the escalation.
///
/// No answer or voicemail keeps it open to try again.
#[utoipa::path(post, path = "/api/v1/escalations/{id}/outcome", tag = "escalations", params(("id" = i64, Path)),
    request_body = Outcome, responses((status = 200, body = OutcomeRecorded)))]
async fn outcome(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Outcome>,
) -> Result<Json<OutcomeRecorded>, ApiError> {
    // Someone reached (or a wrong number) ends the task; no answer keeps it open to try again.
    let done = match body.outcome.as_str() {
        "reached" | "wrong_number" | "done" => true,
        "no_answer" | "voicemail" => false,
        _ => {
            return Err(ApiError::BadRequest(
                "bad_outcome",
                "outcome is reached, no_answer, voicemail, wrong_number or done".into(),
            ));
        }
    };
    let row = state
        .store
        .escalation_outcome(
            id,
            &body.outcome,
            body.notes.as_deref(),
            agent.id,
            done,
            state.clock.now_ms(),
        )
        .await?
        .ok_or(ApiError::NotFound("escalation"))?;
    state.events.publish(Event::ConversationUpdated {
        conversation: row.conversation_id,
    });
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "escalation_outcome",
        &format!("conversation:{}", row.conversation_id),
        json!({"escalation": id, "outcome": body.outcome}),
    )
    .await;
    Ok(Json(OutcomeRecorded { escalation: row }))
}
