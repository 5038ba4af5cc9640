//! Connecting a mailbox through OAuth 2 from the inbox (admins): the start
//! of the authorization-code flow (a random `state` and a PKCE verifier kept
//! in the store, any node may receive the callback), the callback that
//! exchanges the code and keeps the refresh token sealed, the mailboxes'
//! state, and disconnecting one.
//!
//! The callback carries no session: the admin's cookie is `SameSite=Strict`
//! and the provider's redirect is a cross-site navigation. What proves the
//! request is the `state` — 256 random bits, single use, 15 minutes — and
//! the PKCE verifier only this gateway holds.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use crate::auth::CurrentAgent;
use crate::email::MailboxStatus;
use crate::email::oauth::{Grant, OAuthStatus, pkce};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(start))
        .routes(routes!(disconnect))
        // The provider's redirect, for a browser: a page, not API.
        .route("/oauth/callback", get(callback))
}

#[derive(Serialize, ToSchema)]
struct Mailboxes {
    mailboxes: Vec<Mailbox>,
    /// The address to register at the provider.
    redirect_uri: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = MailboxConnection)]
struct Mailbox {
    name: String,
    user: String,
    /// password or oauth2
    #[schema(value_type = String)]
    auth: crate::config::MailAuth,
    /// Its reader's state, once it has run.
    reader: Option<MailboxStatus>,
    oauth: Option<OAuthStatus>,
    /// Only a mailbox an admin connects (authorization code) can be connected from here.
    connectable: bool,
}

#[derive(Serialize, ToSchema)]
struct Authorize {
    /// Where to send the admin's browser.
    authorize_url: String,
}

#[derive(Serialize, ToSchema)]
struct Disconnected {
    oauth: OAuthStatus,
}

fn redirect_uri(state: &AppState) -> String {
    format!("{}/oauth/callback", state.config.server.public_url())
}

/// The mailboxes and their OAuth 2 authorisations.
///
/// Admins.
#[utoipa::path(get, path = "/api/v1/admin/mailboxes", tag = "admin", responses((status = 200, body = Mailboxes)))]
async fn list(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<Mailboxes>, ApiError> {
    agent.require_admin("connecting mailboxes")?;
    let readers = state.health.mailboxes.snapshot();
    let mailboxes: Vec<Mailbox> = state
        .config
        .email
        .mailboxes
        .iter()
        .map(|m| {
            let oauth = state.mail_tokens.get(&m.name);
            Mailbox {
                name: m.name.clone(),
                user: m.user.clone(),
                auth: m.auth,
                reader: readers.get(&m.name).cloned(),
                oauth: oauth.as_ref().map(|s| s.status()),
                connectable: oauth.is_some_and(|s| s.endpoints.grant == Grant::AuthorizationCode),
            }
        })
        .collect();
    Ok(Json(Mailboxes {
        mailboxes,
        redirect_uri: redirect_uri(&state),
    }))
}

/// Starts connecting a mailbox: the provider's authorisation address to open.
///
/// Admins. A random state and a PKCE verifier are kept for 15 minutes; the
/// provider comes back to `/oauth/callback`.
#[utoipa::path(post, path = "/api/v1/admin/mailboxes/{name}/connect", tag = "admin", params(("name" = String, Path)),
    responses((status = 200, body = Authorize)))]
async fn start(
    State(state): State<AppState>,
    agent: CurrentAgent,
    Path(name): Path<String>,
) -> Result<Json<Authorize>, ApiError> {
    agent.require_admin("connecting mailboxes")?;
    let source = state
        .mail_tokens
        .get(&name)
        .filter(|s| s.endpoints.grant == Grant::AuthorizationCode)
        .ok_or_else(|| {
            ApiError::BadRequest(
                "not_connectable",
                format!("mailbox {name:?} does not use oauth2 with grant = \"authorization_code\""),
            )
        })?;
    let mut random = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut random);
    let oauth_state = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random);
    let verifier = pkce::verifier();
    let url = source
        .authorize_url(&oauth_state, &pkce::challenge(&verifier), &redirect_uri(&state))
        .map_err(|e| ApiError::BadRequest("bad_oauth_config", e))?;
    state
        .store
        .put_oauth_pending(&oauth_state, &name, &verifier, &agent.username, state.clock.now_ms())
        .await?;
    Ok(Json(Authorize { authorize_url: url }))
}

/// Disconnects a mailbox: its refresh token is forgotten.
///
/// Admins, audited.
#[utoipa::path(post, path = "/api/v1/admin/mailboxes/{name}/disconnect", tag = "admin", params(("name" = String, Path)),
    responses((status = 200, body = Disconnected)))]
async fn disconnect(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    agent: CurrentAgent,
    Path(name): Path<String>,
) -> Result<Json<Disconnected>, ApiError> {
    agent.require_admin("connecting mailboxes")?;
    let source = state.mail_tokens.get(&name).ok_or(ApiError::NotFound("mailbox"))?;
    source.disconnect().await?;
    let subject = format!("mailbox:{name}");
    super::audit::record(
        &state,
        Some(agent.id),
        addr,
        "mailbox_disconnected",
        &subject,
        json!({}),
    )
    .await;
    Ok(Json(Disconnected { oauth: source.status() }))
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn page(status: StatusCode, text: &str) -> Response {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Switchyard — mailbox</title>\
         <meta name=\"referrer\" content=\"no-referrer\"></head>\
         <body style=\"font:16px system-ui,sans-serif;max-width:36rem;margin:3rem auto\">\
         <p id=\"outcome\">{escaped}</p><p><a href=\"/inbox\">Back to the inbox</a></p></body></html>"
    );
    (status, [("cache-control", "no-store")], Html(html)).into_response()
}

async fn callback(State(state): State<AppState>, Query(q): Query<Callback>) -> Response {
    let now = state.clock.now_ms();
    let Some(oauth_state) = q.state.filter(|s| !s.is_empty()) else {
        return page(
            StatusCode::BAD_REQUEST,
            "This page is reached from a mailbox connection only.",
        );
    };
    let pending = match state.store.take_oauth_pending(&oauth_state, now).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return page(
                StatusCode::BAD_REQUEST,
                "This connection is unknown, expired or already used: start it again from the inbox.",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "reading a pending mailbox connection");
            return page(StatusCode::SERVICE_UNAVAILABLE, "Please try again in a moment.");
        }
    };
    let (mailbox, verifier, admin) = pending;
    if let Some(error) = q.error {
        let detail = q.error_description.unwrap_or_default();
        return page(
            StatusCode::BAD_REQUEST,
            &format!("The provider refused the connection of {mailbox}: {error} {detail}"),
        );
    }
    let (Some(code), Some(source)) = (q.code.filter(|c| !c.is_empty()), state.mail_tokens.get(&mailbox)) else {
        return page(StatusCode::BAD_REQUEST, "The provider sent no authorization code.");
    };
    match source.connect(&code, &verifier, &redirect_uri(&state), &admin).await {
        Ok(()) => {
            tracing::info!(%mailbox, %admin, "mailbox connected through OAuth 2");
            page(
                StatusCode::OK,
                &format!(
                    "Mailbox {mailbox} ({}) is connected. Switchyard reads it again now.",
                    source.user
                ),
            )
        }
        Err(e) => page(StatusCode::BAD_GATEWAY, &format!("Connecting {mailbox} failed: {e}")),
    }
}
