//! WhatsApp specifics of the agent API: what a reply may carry, approved
//! templates, and the 24-hour window in the conversation view.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::conversations::{Replied, conversation_or_404, write_message};
use super::error::{ApiError, ApiJson};
use crate::auth::CurrentAgent;
use crate::ids::ConversationId;
use crate::state::AppState;
use crate::store::conversations::ConversationRow;
use crate::store::messages::Direction;
use crate::store::whatsapp::CustomerIdentity;
use crate::whatsapp::{Button, MAX_TEXT_CHARS, Payload, WINDOW_MS};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(template))
}

/// A WhatsApp conversation's window and templates, in the conversation view.
#[derive(Serialize, ToSchema)]
pub(super) struct WhatsAppView {
    /// Who Meta says the customer is: username, number, business-scoped id (and parent).
    customer: Option<CustomerIdentity>,
    window_open: bool,
    window_closes_at: i64,
    window_closing_soon: bool,
    templates: Vec<TemplateView>,
}

/// An approved template the agent may send.
#[derive(Serialize, ToSchema)]
struct TemplateView {
    name: String,
    language: String,
    /// How many parameters it takes.
    parameters: usize,
    description: String,
    category: String,
}

/// Checks a reply against WhatsApp's rules; the outbox payload it needs, if any.
pub(super) fn check_reply(
    state: &AppState,
    conversation: &ConversationRow,
    text: &str,
    buttons: Vec<Button>,
    attachments: &[String],
) -> Result<Option<String>, ApiError> {
    let chars = text.trim().chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(ApiError::BadRequest(
            "text_too_long",
            format!("WhatsApp messages are limited to {MAX_TEXT_CHARS} characters; this one has {chars}"),
        ));
    }
    if state.clock.now_ms() >= conversation.last_customer_at + WINDOW_MS {
        return Err(ApiError::Conflict(
            "the 24-hour WhatsApp window is closed: the customer has not written for more than a day; \
             send an approved template instead (POST .../template)"
                .into(),
        ));
    }
    if attachments.len() > 1 {
        return Err(ApiError::BadRequest(
            "too_many_attachments",
            "WhatsApp sends one file per message".into(),
        ));
    }
    if buttons.is_empty() {
        return Ok(None);
    }
    if !attachments.is_empty() {
        return Err(ApiError::BadRequest(
            "bad_buttons",
            "buttons and a file do not go in one WhatsApp message".into(),
        ));
    }
    check_buttons(&buttons)?;
    serde_json::to_string(&Payload::Buttons { buttons })
        .map(Some)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

fn check_buttons(buttons: &[Button]) -> Result<(), ApiError> {
    let bad = |m: &str| Err(ApiError::BadRequest("bad_buttons", m.to_string()));
    if buttons.len() > 3 {
        return bad("at most 3 buttons");
    }
    for (i, b) in buttons.iter().enumerate() {
        if b.title.trim().is_empty() || b.title.chars().count() > 20 {
            return bad("a button title is 1 to 20 characters");
        }
        if b.id.is_empty() || b.id.len() > 256 {
            return bad("a button id is 1 to 256 characters");
        }
        if buttons[..i].iter().any(|o| o.title == b.title) {
            return bad("button titles must differ");
        }
    }
    Ok(())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TemplateRequest {
    name: String,
    #[serde(default)]
    parameters: Vec<String>,
}

/// An approved WhatsApp template: the only thing that may go outside the 24-hour window.
/// Sends a configured template with no parameters (the contact request), through the same checks.
pub(super) async fn send_template(
    state: AppState,
    agent: CurrentAgent,
    id: ConversationId,
    name: &str,
) -> Result<Json<Replied>, ApiError> {
    let body = TemplateRequest {
        name: name.to_string(),
        parameters: Vec::new(),
    };
    template(State(state), agent, Path(id.0), ApiJson(body)).await
}

/// Sends an approved WhatsApp template: the only message allowed outside the 24-hour window.
///
/// Refused when Meta paused or rejected it, or for a marketing template to
/// a customer who opted out.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/template", tag = "conversations", params(("id" = i64, Path)),
    request_body = TemplateRequest, responses((status = 200, body = Replied)))]
async fn template(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<TemplateRequest>,
) -> Result<Json<Replied>, ApiError> {
    let id = ConversationId(id);
    let conversation = conversation_or_404(&state, id).await?;
    let wa = state
        .whatsapp
        .as_ref()
        .filter(|_| conversation.channel == "whatsapp")
        .ok_or_else(|| ApiError::BadRequest("not_whatsapp", "templates are for WhatsApp conversations".into()))?;
    let t = wa.template(&body.name).ok_or_else(|| {
        let known: Vec<&str> = wa.config.templates.iter().map(|t| t.name.as_str()).collect();
        ApiError::BadRequest(
            "unknown_template",
            format!("no approved template {:?}; configured: {known:?}", body.name),
        )
    })?;
    // What Meta says of the template now, and what the customer asked for.
    if let Some((status, reason)) = state.store.whatsapp_template_state(&t.name, &t.language).await?
        && status != "APPROVED"
    {
        return Err(ApiError::Conflict(format!(
            "template {:?} is {} at Meta{}: it cannot be sent",
            t.name,
            status.to_lowercase(),
            if reason.is_empty() || reason == "NONE" {
                String::new()
            } else {
                format!(" ({reason})")
            }
        )));
    }
    if t.category.eq_ignore_ascii_case("marketing")
        && state
            .store
            .whatsapp_marketing_opted_out(&conversation.customer_address)
            .await?
    {
        return Err(ApiError::Conflict(
            "the customer stopped marketing messages: send a utility template or wait for them to write".into(),
        ));
    }
    if body.parameters.len() != t.parameters {
        return Err(ApiError::BadRequest(
            "bad_parameters",
            format!(
                "template {:?} takes {} parameters, got {}",
                t.name,
                t.parameters,
                body.parameters.len()
            ),
        ));
    }
    // What the agent and the history show: the description with the parameters filled in.
    let mut text = if t.description.is_empty() {
        format!("[template {}]", t.name)
    } else {
        t.description.clone()
    };
    for (i, p) in body.parameters.iter().enumerate() {
        text = text.replace(&format!("{{{{{}}}}}", i + 1), p);
    }
    let payload = Payload::Template {
        name: t.name.clone(),
        language: t.language.clone(),
        parameters: body.parameters,
    };
    let payload = serde_json::to_string(&payload).map_err(|e| ApiError::Internal(e.to_string()))?;
    write_message(&state, &agent, id, &text, Direction::Out, Some(&payload), &[]).await
}

/// The 24-hour window, the templates, and (as the agent opens it) a read receipt to the customer.
pub(super) async fn view(
    state: &AppState,
    wa: &std::sync::Arc<crate::whatsapp::WhatsappRuntime>,
    conversation: &crate::store::conversations::ConversationRow,
    id: ConversationId,
) -> Result<WhatsAppView, ApiError> {
    let now = state.clock.now_ms();
    let closes_at = conversation.last_customer_at + WINDOW_MS;
    let warn_ms = wa.config.window_warning_minutes.saturating_mul(60_000);
    if let Some((wamid, _)) = state.store.whatsapp_last_inbound(id).await?
        && wa.read_marks.first(&wamid)
    {
        let graph = wa.graph.clone();
        let marks = wa.read_marks.clone();
        let number = conversation.endpoint.clone();
        // Once per message, off the request path; a failed receipt is retried
        // at the next view.
        tokio::spawn(async move {
            if let Err(e) = graph.mark_read(&number, &wamid).await {
                tracing::info!(error = %e, "could not mark the WhatsApp message as read");
                marks.forget(&wamid);
            }
        });
    }
    let templates = wa
        .config
        .templates
        .iter()
        .map(|t| TemplateView {
            name: t.name.clone(),
            language: t.language.clone(),
            parameters: t.parameters,
            description: t.description.clone(),
            category: t.category.clone(),
        })
        .collect();
    let customer = state.store.whatsapp_customer(&conversation.customer_address).await?;
    Ok(WhatsAppView {
        customer,
        window_open: now < closes_at,
        window_closes_at: closes_at,
        window_closing_soon: now < closes_at && closes_at - now <= warn_ms,
        templates,
    })
}
