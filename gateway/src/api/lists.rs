//! The lists an admin keeps in the inbox: the canned replies agents insert
//! with `/keyword`, and the customer directory (accounts, their tier —
//! `strategic` makes a line stop critical at once —, domains, addresses,
//! phone numbers). Saved lists win over the file's `[[canned_replies]]` and
//! `[[accounts]]` across restarts and apply at once; "back to the file"
//! drops them. Supervisors read; admins change; every change audited.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiJson};
use crate::auth::CurrentAgent;
use crate::client_addr::ClientAddr;
use crate::config::{AccountConfig, CannedReply};
use crate::state::AppState;

pub const CANNED_KEY: &str = "canned_replies";
pub const ACCOUNTS_KEY: &str = "accounts";
pub const QUEUES_KEY: &str = "queues";

/// One change of the directory at a time: the list stored last is the one in force.
static CHANGING_ACCOUNTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(canned, save_canned))
        .routes(routes!(canned_to_file))
        .routes(routes!(accounts, save_accounts))
        .routes(routes!(accounts_to_file))
        .routes(routes!(queues, save_queues))
        .routes(routes!(queues_to_file))
}

/// A list in force and where it comes from: `inbox` (saved there), `file`
/// (the configuration), or `built-in`.
#[derive(Serialize, ToSchema)]
#[schema(as = QueueSettings)]
struct Queues {
    queues: Vec<String>,
    origin: &'static str,
    /// Whether the caller may change it (admins).
    can_edit: bool,
}

#[derive(Serialize, ToSchema)]
#[schema(as = CannedSettings)]
struct CannedReplies {
    canned_replies: Vec<CannedReply>,
    origin: &'static str,
    can_edit: bool,
}

#[derive(Serialize, ToSchema)]
struct Accounts {
    accounts: Vec<AccountConfig>,
    origin: &'static str,
    can_edit: bool,
}

fn bad(message: String) -> ApiError {
    ApiError::BadRequest("invalid_list", message)
}

/// A reply list agents can use: keywords typed after a slash, a language or
/// none, a text.
pub fn check_canned(replies: &[CannedReply]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for (i, r) in replies.iter().enumerate() {
        let n = i + 1;
        let keyword = r.keyword.trim();
        if keyword.is_empty()
            || keyword.len() > 32
            || !keyword.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!("reply {n}: the keyword is 1 to 32 letters, digits, '-' or '_'"));
        }
        if !(r.language.is_empty() || (r.language.len() == 2 && r.language.chars().all(|c| c.is_ascii_lowercase()))) {
            return Err(format!(
                "reply {n} ({keyword}): the language is empty or two letters (fr, en…)"
            ));
        }
        if r.text.trim().is_empty() || r.text.len() > 5000 {
            return Err(format!("reply {n} ({keyword}): the text is 1 to 5,000 characters"));
        }
        if !seen.insert((keyword.to_lowercase(), r.language.clone())) {
            return Err(format!("reply {n}: /{keyword} is already used for this language"));
        }
    }
    Ok(())
}

/// A directory the triage can read: named accounts, each known by something.
pub fn check_accounts(accounts: &[AccountConfig]) -> Result<(), String> {
    let mut names = std::collections::HashSet::new();
    for (i, a) in accounts.iter().enumerate() {
        let n = i + 1;
        let name = a.name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(format!("account {n}: a name of 1 to 200 characters"));
        }
        if !names.insert(name.to_lowercase()) {
            return Err(format!("account {n}: {name:?} is listed twice"));
        }
        if a.domains.is_empty() && a.addresses.is_empty() && a.phones.is_empty() {
            return Err(format!(
                "account {n} ({name}): give a domain, an address or a phone number to know it by"
            ));
        }
        if let Some(d) = a
            .domains
            .iter()
            .find(|d| d.trim().is_empty() || d.contains(char::is_whitespace) || !d.contains('.'))
        {
            return Err(format!("account {n} ({name}): {d:?} is not a domain"));
        }
        if let Some(e) = a
            .addresses
            .iter()
            .find(|e| !e.contains('@') || e.contains(char::is_whitespace))
        {
            return Err(format!("account {n} ({name}): {e:?} is not an address"));
        }
        if let Some(p) = a
            .phones
            .iter()
            .find(|p| p.chars().filter(char::is_ascii_digit).count() < 6)
        {
            return Err(format!("account {n} ({name}): {p:?} is not a phone number"));
        }
    }
    Ok(())
}

/// The queues the inbox lists even when empty, most urgent first.
pub fn check_queues(queues: &[String]) -> Result<(), String> {
    if queues.len() > 50 {
        return Err("at most 50 queues".into());
    }
    let mut seen = std::collections::HashSet::new();
    for q in queues {
        if q.trim().is_empty() || q.len() > 64 {
            return Err(format!("{q:?}: a queue name is 1 to 64 characters"));
        }
        if !seen.insert(q.to_lowercase()) {
            return Err(format!("{q:?} is listed twice"));
        }
    }
    Ok(())
}

/// The queues in force: saved in the inbox, else `dispatch.queues`.
pub async fn queues_in_force(state: &AppState) -> Result<(Vec<String>, &'static str), ApiError> {
    match state.store.setting(QUEUES_KEY).await? {
        Some(saved) => Ok((
            serde_json::from_str(&saved).map_err(|e| ApiError::Internal(e.to_string()))?,
            "inbox",
        )),
        None => Ok((state.config.dispatch.queues.clone(), "file")),
    }
}

/// The queues the inbox lists even when empty, most urgent first.
///
/// Supervisors and admins.
#[utoipa::path(get, path = "/api/v1/admin/queues", tag = "admin", responses((status = 200, body = Queues)))]
async fn queues(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<Queues>, ApiError> {
    super::supervisors_only(&agent)?;
    let (list, origin) = queues_in_force(&state).await?;
    Ok(Json(Queues {
        queues: list,
        origin,
        can_edit: agent.is_admin(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct QueueList {
    queues: Vec<String>,
}

/// Saves the queues the inbox lists, in force at once.
///
/// Admins, audited.
#[utoipa::path(put, path = "/api/v1/admin/queues", tag = "admin", request_body = QueueList,
    responses((status = 200, body = Queues)))]
async fn save_queues(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<QueueList>,
) -> Result<Json<Queues>, ApiError> {
    super::admins_only(&agent, "these lists")?;
    let list = tidy(&body.queues);
    check_queues(&list).map_err(bad)?;
    let value = serde_json::to_string(&list).map_err(|e| ApiError::Internal(e.to_string()))?;
    state
        .store
        .set_setting(QUEUES_KEY, &value, Some(agent.id), state.clock.now_ms())
        .await?;
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "queues_changed",
        "settings:queues",
        json!({"queues": list}),
    )
    .await;
    Ok(Json(Queues {
        queues: list,
        origin: "inbox",
        can_edit: true,
    }))
}

/// Goes back to the configuration's `dispatch.queues`.
///
/// Admins, audited.
#[utoipa::path(post, path = "/api/v1/admin/queues/file", tag = "admin", responses((status = 200, body = Queues)))]
async fn queues_to_file(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
) -> Result<Json<Queues>, ApiError> {
    super::admins_only(&agent, "these lists")?;
    state.store.delete_setting(QUEUES_KEY).await?;
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "queues_back_to_file",
        "settings:queues",
        json!({}),
    )
    .await;
    Ok(Json(Queues {
        queues: state.config.dispatch.queues.clone(),
        origin: "file",
        can_edit: true,
    }))
}

/// The canned replies in force: saved in the inbox, else the file's, else the built-in ones.
pub async fn canned_in_force(state: &AppState) -> Result<(Vec<CannedReply>, &'static str), ApiError> {
    if let Some(saved) = state.store.setting(CANNED_KEY).await? {
        let list: Vec<CannedReply> = serde_json::from_str(&saved).map_err(|e| ApiError::Internal(e.to_string()))?;
        return Ok((list, "inbox"));
    }
    if state.config.canned_replies.is_empty() {
        Ok((super::canned::built_in(), "built-in"))
    } else {
        Ok((state.config.canned_replies.clone(), "file"))
    }
}

/// The canned replies in force and where they come from.
///
/// Supervisors and admins.
#[utoipa::path(get, path = "/api/v1/admin/canned-replies", tag = "admin", responses((status = 200, body = CannedReplies)))]
async fn canned(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<CannedReplies>, ApiError> {
    super::supervisors_only(&agent)?;
    let (list, origin) = canned_in_force(&state).await?;
    Ok(Json(CannedReplies {
        canned_replies: list,
        origin,
        can_edit: agent.is_admin(),
    }))
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CannedList {
    canned_replies: Vec<CannedReply>,
}

/// Saves the canned replies, in force at once.
///
/// Admins, audited.
#[utoipa::path(put, path = "/api/v1/admin/canned-replies", tag = "admin", request_body = CannedList,
    responses((status = 200, body = CannedReplies)))]
async fn save_canned(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<CannedList>,
) -> Result<Json<CannedReplies>, ApiError> {
    super::admins_only(&agent, "these lists")?;
    let list: Vec<CannedReply> = body
        .canned_replies
        .into_iter()
        .map(|r| CannedReply {
            keyword: r.keyword.trim().trim_start_matches('/').to_string(),
            language: r.language.trim().to_lowercase(),
            text: r.text,
        })
        .collect();
    check_canned(&list).map_err(bad)?;
    let value = serde_json::to_string(&list).map_err(|e| ApiError::Internal(e.to_string()))?;
    state
        .store
        .set_setting(CANNED_KEY, &value, Some(agent.id), state.clock.now_ms())
        .await?;
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "canned_replies_changed",
        "settings:canned_replies",
        json!({"replies": list.len()}),
    )
    .await;
    Ok(Json(CannedReplies {
        canned_replies: list,
        origin: "inbox",
        can_edit: true,
    }))
}

/// Goes back to the configuration's canned replies (or the built-in ones).
///
/// Admins, audited.
#[utoipa::path(post, path = "/api/v1/admin/canned-replies/file", tag = "admin", responses((status = 200, body = CannedReplies)))]
async fn canned_to_file(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
) -> Result<Json<CannedReplies>, ApiError> {
    super::admins_only(&agent, "these lists")?;
    state.store.delete_setting(CANNED_KEY).await?;
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "canned_replies_back_to_file",
        "settings:canned_replies",
        json!({}),
    )
    .await;
    let (list, origin) = canned_in_force(&state).await?;
    Ok(Json(CannedReplies {
        canned_replies: list,
        origin,
        can_edit: true,
    }))
}

/// The customer directory: accounts, their tier, domains, addresses, numbers.
///
/// Supervisors and admins. `strategic` makes a line stop critical at once.
#[utoipa::path(get, path = "/api/v1/admin/accounts", tag = "admin", responses((status = 200, body = Accounts)))]
async fn accounts(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<Accounts>, ApiError> {
    super::supervisors_only(&agent)?;
    let saved = state.store.setting(ACCOUNTS_KEY).await?.is_some();
    Ok(Json(Accounts {
        accounts: state.triage.directory().accounts().to_vec(),
        origin: if saved { "inbox" } else { "file" },
        can_edit: agent.is_admin(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AccountList {
    accounts: Vec<AccountConfig>,
}

fn tidy(list: &[String]) -> Vec<String> {
    list.iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Saves the customer directory; triage reads it from the next message on.
///
/// Admins, audited.
#[utoipa::path(put, path = "/api/v1/admin/accounts", tag = "admin", request_body = AccountList,
    responses((status = 200, body = Accounts)))]
async fn save_accounts(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
    ApiJson(body): ApiJson<AccountList>,
) -> Result<Json<Accounts>, ApiError> {
    super::admins_only(&agent, "these lists")?;
    let list: Vec<AccountConfig> = body
        .accounts
        .iter()
        .map(|a| AccountConfig {
            name: a.name.trim().to_string(),
            tier: a.tier.trim().to_lowercase(),
            domains: tidy(&a.domains),
            addresses: tidy(&a.addresses),
            phones: tidy(&a.phones),
        })
        .collect();
    check_accounts(&list).map_err(bad)?;
    let _one_at_a_time = CHANGING_ACCOUNTS.lock().await;
    let value = serde_json::to_string(&list).map_err(|e| ApiError::Internal(e.to_string()))?;
    state
        .store
        .set_setting(ACCOUNTS_KEY, &value, Some(agent.id), state.clock.now_ms())
        .await?;
    state.triage.set_directory(crate::triage_service::Directory::new(&list));
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "accounts_changed",
        "settings:accounts",
        json!({"accounts": list.len()}),
    )
    .await;
    Ok(Json(Accounts {
        accounts: list,
        origin: "inbox",
        can_edit: true,
    }))
}

/// Goes back to the configuration's `[[accounts]]`.
///
/// Admins, audited.
#[utoipa::path(post, path = "/api/v1/admin/accounts/file", tag = "admin", responses((status = 200, body = Accounts)))]
async fn accounts_to_file(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    agent: CurrentAgent,
) -> Result<Json<Accounts>, ApiError> {
    super::admins_only(&agent, "these lists")?;
    let _one_at_a_time = CHANGING_ACCOUNTS.lock().await;
    state.store.delete_setting(ACCOUNTS_KEY).await?;
    state
        .triage
        .set_directory(crate::triage_service::Directory::new(&state.config.accounts));
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "accounts_back_to_file",
        "settings:accounts",
        json!({}),
    )
    .await;
    Ok(Json(Accounts {
        accounts: state.config.accounts.clone(),
        origin: "file",
        can_edit: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(keyword: &str, language: &str, text: &str) -> CannedReply {
        CannedReply {
            keyword: keyword.into(),
            language: language.into(),
            text: text.into(),
        }
    }

    #[test]
    fn each_list_mistake_is_named() {
        assert!(check_canned(&[reply("photo", "fr", "Une photo ?"), reply("photo", "en", "A photo?")]).is_ok());
        for (list, says) in [
            (vec![reply("", "fr", "x")], "keyword"),
            (vec![reply("a b", "fr", "x")], "keyword"),
            (vec![reply("x", "fra", "x")], "language"),
            (vec![reply("x", "fr", " ")], "text"),
            (vec![reply("x", "fr", "a"), reply("X", "fr", "b")], "already used"),
        ] {
            let e = check_canned(&list).err().unwrap_or_default();
            assert!(e.contains(says), "{e}");
        }
        let account = |name: &str, domains: &[&str], phones: &[&str]| AccountConfig {
            name: name.into(),
            tier: "strategic".into(),
            domains: domains.iter().map(|s| s.to_string()).collect(),
            addresses: Vec::new(),
            phones: phones.iter().map(|s| s.to_string()).collect(),
        };
        assert!(check_accounts(&[account("Fromagerie", &["fromagerie.fr"], &["+33 6 12 34 56 78"])]).is_ok());
        for (list, says) in [
            (vec![account("", &["a.fr"], &[])], "name"),
            (vec![account("A", &[], &[])], "know it by"),
            (vec![account("A", &["localhost"], &[])], "not a domain"),
            (vec![account("A", &[], &["12"])], "not a phone"),
            (
                vec![account("A", &["a.fr"], &[]), account("a", &["b.fr"], &[])],
                "twice",
            ),
        ] {
            let e = check_accounts(&list).err().unwrap_or_default();
            assert!(e.contains(says), "{e}");
        }
        assert!(check_queues(&["critical".into(), "hydraulique".into()]).is_ok());
        assert!(check_queues(&["critical".into(), "Critical".into()]).is_err_and(|e| e.contains("twice")));
        assert!(check_queues(&[String::new()]).is_err());
    }
}
