//! The triage rules edited from the inbox: the text in force, a check of a
//! draft with each mistake at its line and column, a draft tried on a
//! message, saving (a new version, in force at once), the history of
//! versions, restoring one, and going back to the configured file. Every
//! change is in the audit log. Supervisors may read, check and try; only
//! admins change what is in force.
//!
//! Other gateway nodes on the same PostgreSQL put a saved version in force
//! within seconds (`settings_sync`).

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiJson};
use crate::auth::CurrentAgent;
use crate::client_addr::ClientAddr;
use crate::state::AppState;
use crate::store::rule_versions::RuleVersion;
use crate::triage_service::TriageStatus;

/// One change at a time: the version recorded last is the one put in force
/// last, even when two admins save together.
static CHANGING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Largest rule file accepted from the browser.
const MAX_SOURCE_BYTES: usize = 512 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(current, save))
        .routes(routes!(check))
        .routes(routes!(try_draft))
        .routes(routes!(version))
        .routes(routes!(restore))
        .routes(routes!(back_to_file))
}

#[derive(Serialize, ToSchema)]
struct Rules {
    /// The rule file's text in force.
    source: String,
    /// Where it comes from: the configured file, a saved version, or built-in.
    origin: String,
    status: TriageStatus,
    can_edit: bool,
    /// The last 100 versions, newest first.
    versions: Vec<VersionSummary>,
}

#[derive(Serialize, ToSchema)]
struct VersionSummary {
    id: i64,
    note: String,
    /// Who saved it.
    agent: Option<String>,
    created_at: i64,
    restored_from: Option<i64>,
    /// "Back to the configured file".
    file: bool,
    bytes: Option<usize>,
}

/// A mistake in a draft, where the editor marks it.
#[derive(Serialize, ToSchema)]
struct Mistake {
    line: usize,
    column: usize,
    message: String,
    hint: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct Checked {
    ok: bool,
    errors: Vec<Mistake>,
    /// How many rules the draft has, when it compiles.
    #[serde(skip_serializing_if = "Option::is_none")]
    rules: Option<usize>,
}

#[derive(Serialize, ToSchema)]
struct Tried {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<Mistake>>,
    /// The verdict the draft gives the message: priority, queue, the rules that fired and why, the facts found.
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = RulesInForce)]
struct InForce {
    /// The version now in force.
    version: i64,
    status: TriageStatus,
}

#[derive(Serialize, ToSchema)]
struct OneVersion {
    version: RuleVersion,
}

fn bounded(source: &str) -> Result<(), ApiError> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(ApiError::TooLarge(MAX_SOURCE_BYTES));
    }
    Ok(())
}

/// Every mistake, where it is, as the editor marks it.
fn mistakes(errors: &triage::RuleErrors) -> Vec<Mistake> {
    errors
        .0
        .iter()
        .map(|e| Mistake {
            line: e.line,
            column: e.column,
            message: e.message.clone(),
            hint: e.hint.clone(),
        })
        .collect()
}

/// Compiles off the runtime (a large rule file takes milliseconds).
async fn compile(state: &AppState, source: String) -> Result<Result<triage::Engine, triage::RuleErrors>, ApiError> {
    let triage = state.triage.clone();
    tokio::task::spawn_blocking(move || triage.draft(&source))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// The rules in force, where they come from, and the history of versions.
///
/// Supervisors and admins.
#[utoipa::path(get, path = "/api/v1/admin/rules", tag = "admin", responses((status = 200, body = Rules)))]
async fn current(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<Rules>, ApiError> {
    super::supervisors_only(&agent)?;
    let triage = state.triage.clone();
    let (source, origin) = tokio::task::spawn_blocking(move || triage.rules_text())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::Internal)?;
    let versions = state.store.rule_versions(100).await?;
    let versions = versions
        .into_iter()
        .map(|v| VersionSummary {
            id: v.id,
            note: v.note,
            agent: v.agent_name,
            created_at: v.created_at,
            restored_from: v.restored_from,
            file: v.source.is_none(),
            bytes: v.source.as_ref().map(String::len),
        })
        .collect();
    Ok(Json(Rules {
        source,
        origin,
        status: state.triage.status(),
        can_edit: agent.is_admin(),
        versions,
    }))
}

#[derive(Deserialize, ToSchema)]
struct Draft {
    source: String,
}

/// Checks a draft: each mistake at its line and column, as the editor marks it.
///
/// Supervisors and admins; nothing is saved.
#[utoipa::path(post, path = "/api/v1/admin/rules/check", tag = "admin", request_body = Draft,
    responses((status = 200, body = Checked)))]
async fn check(
    State(state): State<AppState>,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<Draft>,
) -> Result<Json<Checked>, ApiError> {
    super::supervisors_only(&agent)?;
    bounded(&body.source)?;
    Ok(Json(match compile(&state, body.source).await? {
        Ok(engine) => Checked {
            ok: true,
            errors: Vec::new(),
            rules: Some(engine.rules().rules.len()),
        },
        Err(errors) => Checked {
            ok: false,
            errors: mistakes(&errors),
            rules: None,
        },
    }))
}

#[derive(Deserialize, ToSchema)]
struct Trial {
    source: String,
    text: String,
    #[serde(default)]
    subject: Option<String>,
    /// `email`, `webchat` or `whatsapp` (default `webchat`).
    #[serde(default)]
    channel: Option<String>,
}

/// The verdict a draft gives a message, before anything is saved.
///
/// Supervisors and admins.
#[utoipa::path(post, path = "/api/v1/admin/rules/try", tag = "admin", request_body = Trial,
    responses((status = 200, body = Tried)))]
async fn try_draft(
    State(state): State<AppState>,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<Trial>,
) -> Result<Json<Tried>, ApiError> {
    super::supervisors_only(&agent)?;
    bounded(&body.source)?;
    bounded(&body.text)?;
    let channel = match body.channel.as_deref().unwrap_or("webchat") {
        "email" => triage::Channel::Email,
        "whatsapp" => triage::Channel::Whatsapp,
        "webchat" => triage::Channel::Webchat,
        other => {
            return Err(ApiError::BadRequest(
                "bad_channel",
                format!("{other:?}: email, webchat or whatsapp"),
            ));
        }
    };
    let engine = match compile(&state, body.source).await? {
        Ok(engine) => engine,
        Err(errors) => {
            return Ok(Json(Tried {
                ok: false,
                errors: Some(mistakes(&errors)),
                verdict: None,
            }));
        }
    };
    let verdict = tokio::task::spawn_blocking(move || {
        let mut input = triage::Input::text(channel, "someone@example.com", &body.text);
        input.subject = body.subject.as_deref();
        engine.classify(&input)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(Tried {
        ok: true,
        errors: None,
        verdict: Some(serde_json::to_value(&verdict).map_err(|e| ApiError::Internal(e.to_string()))?),
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = RulesSave)]
struct Save {
    source: String,
    #[serde(default)]
    note: String,
}

/// Records `source` (`None`: the file) as a new version and puts it in force.
async fn put_in_force(
    state: &AppState,
    agent: &CurrentAgent,
    addr: std::net::IpAddr,
    source: Option<String>,
    note: &str,
    restored_from: Option<i64>,
) -> Result<Json<InForce>, ApiError> {
    let _one_at_a_time = CHANGING.lock().await;
    // Compiled before anything is recorded: a version that never ran is never in the history.
    if let Some(s) = &source
        && let Err(errors) = compile(state, s.clone()).await?
    {
        return Err(ApiError::BadRequest("invalid_rules", errors.to_string()));
    }
    let now = state.clock.now_ms();
    let id = state
        .store
        .rule_version_add(source.as_deref(), note, Some(agent.id), restored_from, now)
        .await?;
    let triage = state.triage.clone();
    let in_force = source.clone().map(|s| (id, s));
    tokio::task::spawn_blocking(move || triage.set_rules(in_force))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::BadRequest("invalid_rules", e))?;
    let action = match (&source, restored_from) {
        (None, _) => "rules_back_to_file",
        (Some(_), Some(_)) => "rules_restored",
        (Some(_), None) => "rules_changed",
    };
    super::audit::record(
        state,
        Some(agent.id),
        addr,
        action,
        &format!("rules:{id}"),
        json!({"version": id, "note": note, "restored_from": restored_from, "bytes": source.as_ref().map(String::len)}),
    )
    .await;
    Ok(Json(InForce {
        version: id,
        status: state.triage.status(),
    }))
}

/// Saves a draft as a new version, in force at once.
///
/// Admins, audited. A draft that does not compile is refused (400 `invalid_rules`).
#[utoipa::path(post, path = "/api/v1/admin/rules", tag = "admin", request_body = Save,
    responses((status = 200, body = InForce)))]
async fn save(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<Save>,
) -> Result<Json<InForce>, ApiError> {
    super::admins_only(&agent, "the rules in force")?;
    bounded(&body.source)?;
    let note = body.note.trim().chars().take(500).collect::<String>();
    put_in_force(&state, &agent, addr, Some(body.source), &note, None).await
}

/// One saved version of the rules, with its text.
///
/// Supervisors and admins.
#[utoipa::path(get, path = "/api/v1/admin/rules/versions/{id}", tag = "admin", params(("id" = i64, Path)),
    responses((status = 200, body = OneVersion)))]
async fn version(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<OneVersion>, ApiError> {
    super::supervisors_only(&agent)?;
    let v = state
        .store
        .rule_version(id)
        .await?
        .ok_or(ApiError::NotFound("rules version"))?;
    Ok(Json(OneVersion { version: v }))
}

/// Puts an earlier version back in force, as a new version.
///
/// Admins, audited.
#[utoipa::path(post, path = "/api/v1/admin/rules/versions/{id}/restore", tag = "admin", params(("id" = i64, Path)),
    responses((status = 200, body = InForce)))]
async fn restore(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
    Path(id): Path<i64>,
) -> Result<Json<InForce>, ApiError> {
    super::admins_only(&agent, "the rules in force")?;
    let v = state
        .store
        .rule_version(id)
        .await?
        .ok_or(ApiError::NotFound("rules version"))?;
    put_in_force(
        &state,
        &agent,
        addr,
        v.source,
        &format!("restored version {id}"),
        Some(id),
    )
    .await
}

/// Goes back to the configured rule file.
///
/// Admins, audited.
#[utoipa::path(post, path = "/api/v1/admin/rules/file", tag = "admin", responses((status = 200, body = InForce)))]
async fn back_to_file(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
) -> Result<Json<InForce>, ApiError> {
    super::admins_only(&agent, "the rules in force")?;
    put_in_force(&state, &agent, addr, None, "back to the configured rules", None).await
}
