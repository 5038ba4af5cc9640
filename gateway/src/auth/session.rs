use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::api::error::ApiError;
use crate::ids::AgentId;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "sy_session";

/// What an agent still on a one-time password may call.
const ALLOWED_BEFORE_PASSWORD_CHANGE: &[&str] = &["/api/v1/me", "/api/v1/auth/password", "/api/v1/auth/logout"];
const CSRF_HEADER: &str = "x-csrf-token";

/// 256 random bits, base64url.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Sessions are stored by hash, so a copy of the database opens no session.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn session_cookie(token: &str, max_age_secs: u64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

/// The logged-in agent. Extracting it on a state-changing request also checks
/// the CSRF header.
#[derive(Debug, Clone)]
pub struct CurrentAgent {
    pub id: AgentId,
    pub username: String,
    pub name: String,
    pub role: String,
    /// What the agent reads and writes in, when they chose.
    pub language: Option<String>,
    pub csrf_token: String,
    pub session_hash: String,
}

impl CurrentAgent {
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }

    /// Refuses anyone but an admin, naming what is theirs ("the audit log").
    pub fn require_admin(&self, what: &str) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("{what} is for admins")))
        }
    }

    pub fn is_supervisor(&self) -> bool {
        self.role == "admin" || self.role == "supervisor"
    }
}

fn cookie_value<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for CurrentAgent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = cookie_value(parts, SESSION_COOKIE).ok_or(ApiError::Unauthenticated)?;
        let hash = token_hash(token);
        let session = state.store.session_get(&hash).await?.ok_or(ApiError::Unauthenticated)?;
        if session.expires_at <= state.clock.now_ms() {
            return Err(ApiError::Unauthenticated);
        }
        let changes_state = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if changes_state {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !same(sent, &session.csrf_token) {
                return Err(ApiError::Csrf);
            }
        }
        let agent = state
            .store
            .agent_by_id(AgentId(session.agent_id))
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        if agent.disabled != 0 {
            return Err(ApiError::Unauthenticated);
        }
        // The one-time password opens only the way to replace it.
        if agent.must_change_password != 0 && !ALLOWED_BEFORE_PASSWORD_CHANGE.contains(&parts.uri.path()) {
            return Err(ApiError::PasswordChangeRequired);
        }
        Ok(CurrentAgent {
            id: AgentId(agent.id),
            username: agent.username,
            name: agent.display_name,
            role: agent.role,
            language: agent.language,
            csrf_token: session.csrf_token,
            session_hash: hash,
        })
    }
}
