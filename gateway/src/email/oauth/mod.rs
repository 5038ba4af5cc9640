//! OAuth 2 for the mailboxes of Microsoft 365 and Google Workspace: access
//! tokens for IMAP and SMTP (SASL XOAUTH2), obtained without a person at the
//! keyboard — the app's own credentials, a service account's signed
//! assertion, or the refresh token an admin got by connecting the mailbox —
//! refreshed before they expire and whenever a server refuses one. A grant
//! only an admin can repair (consent withdrawn, secret or refresh token
//! revoked) puts the mailbox in `needs_reconnect`, shown in `/readyz` and
//! the inbox; it never stops silently, and the other mailboxes and channels
//! go on. `provider` (endpoints, the answer of the token endpoint), `jwt`,
//! `pkce` and `vault` are pure; this file does the requests.

pub mod jwt;
pub mod pkce;
pub mod provider;
pub mod vault;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::Notify;

pub use provider::{Endpoints, Grant, TokenError};
pub use vault::Vault;

use crate::clock::Clock;
use crate::config::OAuth2Config;
use crate::store::Store;

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const CLIENT_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What `/readyz` and the inbox show of a mailbox's authorisation.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct OAuthStatus {
    /// `ok`, `needs_reconnect` (an admin must act), `unavailable` (the token
    /// endpoint failed; retried) or `pending` (no token asked for yet).
    pub state: &'static str,
    pub grant: &'static str,
    pub message: Option<String>,
    /// When a token was last obtained, and when it runs out.
    pub refreshed_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// For `authorization_code`: when an admin connected it, as which address.
    pub connected_at: Option<i64>,
    pub connected_as: Option<String>,
}

struct Cached {
    token: String,
    /// Asked again from here on (a quarter of its life, at most 5 minutes, before it expires).
    renew_at: i64,
}

/// Access tokens for one mailbox.
pub struct TokenSource {
    pub mailbox: String,
    /// The address the mailbox logs in as (and a service account impersonates).
    pub user: String,
    config: OAuth2Config,
    pub endpoints: Endpoints,
    http: reqwest::Client,
    store: Store,
    clock: Clock,
    vault: Option<Vault>,
    /// One request to the token endpoint at a time; the others wait for its token.
    cached: tokio::sync::Mutex<Option<Cached>>,
    status: std::sync::Mutex<OAuthStatus>,
    /// An admin connected the mailbox: its reader tries again at once.
    pub reconnected: Arc<Notify>,
}

fn grant_name(g: Grant) -> &'static str {
    match g {
        Grant::ClientCredentials => "client_credentials",
        Grant::ServiceAccount => "service_account",
        Grant::AuthorizationCode => "authorization_code",
    }
}

impl TokenSource {
    pub fn new(
        mailbox: &str,
        user: &str,
        config: &OAuth2Config,
        store: Store,
        clock: Clock,
        vault: Option<Vault>,
    ) -> Result<TokenSource, String> {
        let endpoints = provider::endpoints(config).map_err(|e| format!("mailbox {mailbox}: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| e.to_string())?;
        let status = OAuthStatus {
            state: "pending",
            grant: grant_name(endpoints.grant),
            ..OAuthStatus::default()
        };
        Ok(TokenSource {
            mailbox: mailbox.to_string(),
            user: user.to_string(),
            config: config.clone(),
            endpoints,
            http,
            store,
            clock,
            vault,
            cached: tokio::sync::Mutex::new(None),
            status: std::sync::Mutex::new(status),
            reconnected: Arc::new(Notify::new()),
        })
    }

    pub fn status(&self) -> OAuthStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn set_status(&self, f: impl FnOnce(&mut OAuthStatus)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
    }

    /// A token valid for a while yet: the one held, or a new one.
    pub async fn access_token(&self) -> Result<String, TokenError> {
        let mut cached = self.cached.lock().await;
        let now = self.clock.now_ms();
        if let Some(c) = cached.as_ref().filter(|c| now < c.renew_at) {
            return Ok(c.token.clone());
        }
        match self.request_token(now).await {
            Ok(answer) => {
                let life = answer.expires_in.unwrap_or(3600).max(1) * 1000;
                let expires_at = now + life;
                if let Some(rotated) = answer
                    .refresh_token
                    .as_deref()
                    .filter(|_| self.endpoints.grant == Grant::AuthorizationCode)
                {
                    self.keep_refresh_token(rotated, None, now).await?;
                }
                *cached = Some(Cached {
                    token: answer.access_token.clone(),
                    renew_at: expires_at - (life / 4).min(5 * 60_000),
                });
                self.set_status(|s| {
                    s.state = "ok";
                    s.message = None;
                    s.refreshed_at = Some(now);
                    s.expires_at = Some(expires_at);
                });
                Ok(answer.access_token)
            }
            Err(e) => {
                *cached = None;
                let (state, message) = match &e {
                    TokenError::NeedsReconnect(m) => (
                        "needs_reconnect",
                        format!(
                            "mailbox {} ({}) needs an admin to reconnect it: {m}",
                            self.mailbox, self.user
                        ),
                    ),
                    TokenError::Unavailable(m) => ("unavailable", m.clone()),
                };
                tracing::warn!(mailbox = %self.mailbox, state, error = %message, "no access token");
                self.set_status(|s| {
                    s.state = state;
                    s.message = Some(message);
                });
                Err(e)
            }
        }
    }

    /// A server refused `token`: it is not used again.
    pub async fn refused(&self, token: &str) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| c.token == token) {
            *cached = None;
        }
    }

    async fn post(&self, url: &str, form: &[(&str, &str)]) -> Result<provider::TokenResponse, TokenError> {
        let response = self
            .http
            .post(url)
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .map_err(|e| TokenError::Unavailable(format!("token endpoint: {e}")))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| TokenError::Unavailable(format!("token endpoint: {e}")))?;
        provider::parse_response(status, &body)
    }

    async fn request_token(&self, now: i64) -> Result<provider::TokenResponse, TokenError> {
        let e = &self.endpoints;
        let c = &self.config;
        match e.grant {
            Grant::ClientCredentials => {
                let assertion;
                let mut form = vec![
                    ("grant_type", "client_credentials"),
                    ("client_id", c.client_id.as_str()),
                    ("scope", e.scope.as_str()),
                ];
                if c.certificate_key_file.trim().is_empty() {
                    form.push(("client_secret", c.client_secret.expose()));
                } else {
                    let key = tokio::fs::read_to_string(&c.certificate_key_file)
                        .await
                        .map_err(|err| {
                            TokenError::NeedsReconnect(format!("certificate key {}: {err}", c.certificate_key_file))
                        })?;
                    assertion =
                        jwt::client_assertion(&c.client_id, &e.token_url, &key, &c.certificate_thumbprint, now / 1000)
                            .map_err(|err| TokenError::NeedsReconnect(format!("certificate: {err}")))?;
                    form.push(("client_assertion_type", CLIENT_ASSERTION));
                    form.push(("client_assertion", assertion.as_str()));
                }
                self.post(&e.token_url, &form).await
            }
            Grant::ServiceAccount => {
                let raw = tokio::fs::read(&c.service_account_file).await.map_err(|err| {
                    TokenError::NeedsReconnect(format!("service account file {}: {err}", c.service_account_file))
                })?;
                let account: jwt::ServiceAccount = serde_json::from_slice(&raw).map_err(|err| {
                    TokenError::NeedsReconnect(format!("service account file {}: {err}", c.service_account_file))
                })?;
                let assertion = jwt::assertion(&account, &e.scope, &e.token_url, &self.user, now / 1000)
                    .map_err(|err| TokenError::NeedsReconnect(format!("service account key: {err}")))?;
                let form = [("grant_type", JWT_BEARER), ("assertion", assertion.as_str())];
                self.post(&e.token_url, &form).await
            }
            Grant::AuthorizationCode => {
                let refresh = self.refresh_token().await?;
                let mut form = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.as_str()),
                    ("client_id", c.client_id.as_str()),
                    ("scope", e.scope.as_str()),
                ];
                if !c.client_secret.is_empty() {
                    form.push(("client_secret", c.client_secret.expose()));
                }
                self.post(&e.token_url, &form).await
            }
        }
    }

    /// The refresh token an admin connected, else the configured one.
    async fn refresh_token(&self) -> Result<String, TokenError> {
        let stored = self
            .store
            .mail_oauth(&self.mailbox)
            .await
            .map_err(|e| TokenError::Unavailable(format!("store: {e}")))?;
        if let Some(row) = &stored {
            self.set_status(|s| {
                s.connected_at = Some(row.connected_at);
                s.connected_as = row.connected_as.clone();
            });
        }
        match stored.and_then(|r| r.refresh_token) {
            Some(sealed) => {
                let vault = self
                    .vault
                    .as_ref()
                    .ok_or_else(|| TokenError::NeedsReconnect(vault::VaultError::NoKey.to_string()))?;
                vault
                    .open(&self.mailbox, &sealed)
                    .map_err(|e| TokenError::NeedsReconnect(e.to_string()))
            }
            None if !self.config.refresh_token.is_empty() => Ok(self.config.refresh_token.expose().to_string()),
            None => Err(TokenError::NeedsReconnect(
                "not connected yet: an admin connects it from the inbox".into(),
            )),
        }
    }

    /// Seals and keeps a refresh token (a new connection, or a rotated one).
    async fn keep_refresh_token(&self, refresh: &str, connected_as: Option<&str>, now: i64) -> Result<(), TokenError> {
        let vault = self
            .vault
            .as_ref()
            .ok_or_else(|| TokenError::NeedsReconnect(vault::VaultError::NoKey.to_string()))?;
        let sealed = vault
            .seal(&self.mailbox, refresh)
            .map_err(|e| TokenError::Unavailable(e.to_string()))?;
        self.store
            .set_mail_oauth(&self.mailbox, &sealed, connected_as, now)
            .await
            .map_err(|e| TokenError::Unavailable(format!("store: {e}")))
    }

    /// Where the admin's browser goes to connect the mailbox.
    pub fn authorize_url(&self, state: &str, challenge: &str, redirect_uri: &str) -> Result<String, String> {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", self.config.client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("scope", self.endpoints.scope.as_str()),
            ("state", state),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("login_hint", self.user.as_str()),
        ];
        if self.config.provider == "google" {
            // Google gives a refresh token only for offline access, and again only on consent.
            params.push(("access_type", "offline"));
            params.push(("prompt", "consent"));
        }
        reqwest::Url::parse_with_params(&self.endpoints.authorize_url, &params)
            .map(|u| u.to_string())
            .map_err(|e| format!("oauth2.authorize_url: {e}"))
    }

    /// The end of the connection: the code exchanged (with the PKCE
    /// verifier) for tokens, the refresh token kept sealed, the reader woken.
    pub async fn connect(&self, code: &str, verifier: &str, redirect_uri: &str, admin: &str) -> Result<(), TokenError> {
        let c = &self.config;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", c.client_id.as_str()),
            ("code_verifier", verifier),
        ];
        if !c.client_secret.is_empty() {
            form.push(("client_secret", c.client_secret.expose()));
        }
        let answer = self.post(&self.endpoints.token_url, &form).await?;
        let refresh = answer.refresh_token.clone().ok_or_else(|| {
            TokenError::NeedsReconnect("the provider gave no refresh token (offline access not granted)".into())
        })?;
        let now = self.clock.now_ms();
        self.keep_refresh_token(&refresh, Some(admin), now).await?;
        let life = answer.expires_in.unwrap_or(3600).max(1) * 1000;
        *self.cached.lock().await = Some(Cached {
            token: answer.access_token,
            renew_at: now + life - (life / 4).min(5 * 60_000),
        });
        self.set_status(|s| {
            s.state = "ok";
            s.message = None;
            s.refreshed_at = Some(now);
            s.expires_at = Some(now + life);
            s.connected_at = Some(now);
            s.connected_as = Some(admin.to_string());
        });
        self.reconnected.notify_waiters();
        Ok(())
    }

    /// Forgets the connection: the reader stops until an admin connects it again.
    pub async fn disconnect(&self) -> Result<(), crate::store::StoreError> {
        self.store.delete_mail_oauth(&self.mailbox).await?;
        *self.cached.lock().await = None;
        self.set_status(|s| {
            s.state = "needs_reconnect";
            s.message = Some(format!("mailbox {} was disconnected by an admin", self.mailbox));
            s.connected_at = None;
            s.connected_as = None;
        });
        Ok(())
    }
}

/// Every OAuth mailbox's token source, by mailbox name.
#[derive(Clone, Default)]
pub struct TokenSources(pub Arc<BTreeMap<String, Arc<TokenSource>>>);

impl TokenSources {
    pub fn get(&self, mailbox: &str) -> Option<Arc<TokenSource>> {
        self.0.get(mailbox).cloned()
    }

    pub fn statuses(&self) -> BTreeMap<String, OAuthStatus> {
        self.0.iter().map(|(k, v)| (k.clone(), v.status())).collect()
    }
}
