//! A conversation's intervention report: proposed from the thread, edited and
//! validated by the expert, versioned, downloaded as Markdown or PDF, and
//! sent to the customer on their own channel as a PDF.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::conversations::{agent_owner, conversation_or_404, deciding_verdict, reply_with_files};
use super::error::{ApiError, ApiJson};
use crate::auth::CurrentAgent;
use crate::blobs::BlobError;
use crate::ids::ConversationId;
use crate::intervention::content::{EscalationTime, Known, KnownAttachment, KnownMessage};
use crate::intervention::document::{Validation, blocks};
use crate::intervention::{ReportContent, markdown, pdf, prefill};
use crate::state::AppState;
use crate::store::interventions::{ReportStatus, ReportVersion, StoredReport};
use crate::store::uploads::{self, NewUpload};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(current, save))
        .routes(routes!(validate))
        .routes(routes!(versions))
        .routes(routes!(send))
        .routes(routes!(as_markdown))
        .routes(routes!(as_pdf))
}

#[derive(Serialize, ToSchema)]
#[schema(as = InterventionReport)]
struct Report {
    report: ReportView,
}

/// A report as saved, or the proposal (version 0, nobody's yet).
#[derive(Serialize, ToSchema)]
struct ReportView {
    /// proposed, draft or validated
    status: String,
    version: i64,
    content: ReportContent,
    updated_by: Option<String>,
    updated_at: Option<i64>,
    validated_by: Option<String>,
    validated_at: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct Versions {
    versions: Vec<ReportVersion>,
}

/// What Switchyard proposes for this conversation, from what it holds.
async fn proposal(state: &AppState, id: ConversationId) -> Result<ReportContent, ApiError> {
    let c = conversation_or_404(state, id).await?;
    let messages = state.store.messages(id, false).await?;
    let attachments = state.store.attachments(id).await?;
    let verdicts = state.store.verdicts(id).await?;
    let verdict: Option<triage::Verdict> =
        deciding_verdict(&verdicts).and_then(|v| serde_json::from_value(v.clone()).ok());
    let escalations: Vec<EscalationTime> = state
        .store
        .escalations_of(id)
        .await?
        .into_iter()
        .map(|e| EscalationTime {
            kind: e.kind,
            at: e.created_at,
            outcome: e.outcome,
        })
        .collect();
    // What the customer and the experts said; acknowledgements are the gateway's, not theirs.
    let known_messages: Vec<KnownMessage<'_>> = messages
        .iter()
        .filter(|m| m.deleted_at.is_none() && m.auto.is_none() && m.author_kind != "system")
        .map(|m| KnownMessage {
            customer: m.direction == "in",
            author: m.author_name.as_deref(),
            body: &m.body,
            at: m.created_at,
        })
        .collect();
    let known_attachments: Vec<KnownAttachment<'_>> = attachments
        .iter()
        .map(|a| KnownAttachment {
            id: a.id,
            name: a.name.as_deref(),
            content_type: &a.content_type,
        })
        .collect();
    let ticket = id.ticket();
    Ok(prefill(&Known {
        ticket: &ticket,
        subject: c.subject.as_deref(),
        language: c.language.as_deref(),
        customer_name: c.customer_name.as_deref(),
        customer_company: c.customer_company.as_deref(),
        customer_address: &c.customer_address,
        machine_serial: c.machine_serial.as_deref(),
        opened: c.created_at,
        first_response: c.first_response_at,
        resolved: c.resolved_at,
        messages: &known_messages,
        attachments: &known_attachments,
        verdict: verdict.as_ref(),
        escalations: &escalations,
    }))
}

fn view(report: StoredReport) -> Json<Report> {
    Json(Report {
        report: ReportView {
            status: report.status,
            version: report.version,
            content: report.content,
            updated_by: report.updated_by,
            updated_at: Some(report.updated_at),
            validated_by: report.validated_by,
            validated_at: report.validated_at,
        },
    })
}

/// The conversation's intervention report, or what Switchyard proposes from the thread.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/report", tag = "reports", params(("id" = i64, Path)),
    responses((status = 200, body = Report)))]
async fn current(
    State(state): State<AppState>,
    _agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<Report>, ApiError> {
    let id = ConversationId(id);
    match state.store.report_get(id).await? {
        Some(report) => Ok(view(report)),
        // Nothing saved yet: the proposal, version 0.
        None => Ok(Json(Report {
            report: ReportView {
                status: "proposed".into(),
                version: 0,
                content: proposal(&state, id).await?,
                updated_by: None,
                updated_at: None,
                validated_by: None,
                validated_at: None,
            },
        })),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReportDraft)]
struct Save {
    content: ReportContent,
    /// The version the agent edited (0: the proposal).
    version: i64,
}

async fn store_version(
    state: &AppState,
    agent: &CurrentAgent,
    id: ConversationId,
    body: Save,
    status: ReportStatus,
) -> Result<Json<Report>, ApiError> {
    let checked = match status {
        ReportStatus::Draft => body.content.check(),
        ReportStatus::Validated => body.content.check_complete(),
    };
    checked.map_err(|e| ApiError::BadRequest("bad_report", e.to_string()))?;
    let now = state.clock.now_ms();
    state
        .store
        .report_save(id, &body.content, status, body.version, agent.id, now)
        .await
        .map_err(|e| match e {
            crate::store::conversations::ChangeError::Changed => {
                ApiError::Conflict("someone saved this report meanwhile; reload it and apply your changes".into())
            }
            other => other.into(),
        })?;
    let report = state.store.report_get(id).await?.ok_or(ApiError::NotFound("report"))?;
    Ok(view(report))
}

/// Saves a draft of the report, as a new version.
///
/// `version` is the one edited: if someone saved meanwhile, 409.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/report", tag = "reports", params(("id" = i64, Path)),
    request_body = Save, responses((status = 200, body = Report)))]
async fn save(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Save>,
) -> Result<Json<Report>, ApiError> {
    store_version(&state, &agent, ConversationId(id), body, ReportStatus::Draft).await
}

/// Validates the report: "the tool proposes, the expert validates".
///
/// A validated version names its expert; every part must be filled in.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/report/validate", tag = "reports", params(("id" = i64, Path)),
    request_body = Save, responses((status = 200, body = Report)))]
async fn validate(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Save>,
) -> Result<Json<Report>, ApiError> {
    store_version(&state, &agent, ConversationId(id), body, ReportStatus::Validated).await
}

/// Every saved version of the report, newest first.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/report/versions", tag = "reports", params(("id" = i64, Path)),
    responses((status = 200, body = Versions)))]
async fn versions(
    State(state): State<AppState>,
    _agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<Versions>, ApiError> {
    let id = ConversationId(id);
    conversation_or_404(&state, id).await?;
    Ok(Json(Versions {
        versions: state.store.report_versions(id).await?,
    }))
}

/// The saved report (or the proposal) as blocks' input: content and validation.
async fn document_of(state: &AppState, id: ConversationId) -> Result<(ReportContent, Option<(String, i64)>), ApiError> {
    match state.store.report_get(id).await? {
        Some(r) => {
            let validation = match (r.status.as_str(), r.validated_by, r.validated_at) {
                ("validated", Some(by), Some(at)) => Some((by, at)),
                _ => None,
            };
            Ok((r.content, validation))
        }
        None => Ok((proposal(state, id).await?, None)),
    }
}

fn file_name(content: &ReportContent, id: ConversationId, extension: &str) -> String {
    let stem = if content.language == "fr" { "rapport" } else { "report" };
    format!("{stem}-{}.{extension}", id.ticket())
}

/// The report (or the proposal) as a Markdown file.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/report.md", tag = "reports", params(("id" = i64, Path)),
    responses((status = 200, description = "The report in Markdown", content_type = "text/markdown")))]
async fn as_markdown(
    State(state): State<AppState>,
    _agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let id = ConversationId(id);
    let (content, validation) = document_of(&state, id).await?;
    let v = validation.as_ref().map(|(by, at)| Validation { by, at: *at });
    let text = markdown::render(&blocks(&content, v.as_ref(), state.sla.current().display_tz()));
    Ok(super::attachment(
        "text/markdown; charset=utf-8",
        &file_name(&content, id, "md"),
        text,
    ))
}

/// The PDF, built off the async threads (fonts and layout are CPU work).
async fn pdf_of(state: &AppState, id: ConversationId) -> Result<(ReportContent, Vec<u8>), ApiError> {
    let (content, validation) = document_of(state, id).await?;
    let tz = state.sla.current().display_tz();
    let for_render = content.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        let v = validation.as_ref().map(|(by, at)| Validation { by, at: *at });
        pdf::render(&blocks(&for_render, v.as_ref(), tz), &for_render.title)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((content, bytes))
}

/// The report (or the proposal) as a PDF file.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/report.pdf", tag = "reports", params(("id" = i64, Path)),
    responses((status = 200, description = "The report as a PDF", content_type = "application/pdf")))]
async fn as_pdf(
    State(state): State<AppState>,
    _agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let id = ConversationId(id);
    let (content, bytes) = pdf_of(&state, id).await?;
    Ok(super::attachment(
        "application/pdf",
        &file_name(&content, id, "pdf"),
        bytes,
    ))
}

/// Sends the validated report as a PDF reply on the customer's own channel.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/report/send", tag = "reports", params(("id" = i64, Path)),
    responses((status = 200, body = super::conversations::Replied)))]
async fn send(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<super::conversations::Replied>, ApiError> {
    let id = ConversationId(id);
    let report = state.store.report_get(id).await?;
    if report
        .as_ref()
        .is_none_or(|r| r.status != ReportStatus::Validated.as_str())
    {
        return Err(ApiError::Conflict("validate the report before sending it".into()));
    }
    let (content, bytes) = pdf_of(&state, id).await?;
    let stored = state
        .blobs
        .put_bytes(&bytes, usize::MAX)
        .await
        .map_err(|e: BlobError| ApiError::Internal(e.to_string()))?;
    let upload_id = crate::webchat::new_upload_id();
    let owner = agent_owner(&agent);
    let name = file_name(&content, id, "pdf");
    let mut tx = state.store.begin().await?;
    uploads::insert(
        &mut tx,
        &NewUpload {
            id: &upload_id,
            owner_key: &owner,
            sha256: &stored.sha256,
            size: i64::try_from(stored.size).unwrap_or(i64::MAX),
            content_type: "application/pdf",
            name: Some(&name),
            now: state.clock.now_ms(),
        },
    )
    .await?;
    tx.commit().await.map_err(crate::store::StoreError::from)?;
    let text = if content.language == "fr" {
        format!("Veuillez trouver ci-joint le rapport d'intervention {}.", id.ticket())
    } else {
        format!("Please find attached the intervention report for {}.", id.ticket())
    };
    reply_with_files(state, agent, id, text, vec![upload_id]).await
}
