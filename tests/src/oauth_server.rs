//! A local OAuth 2 authorization server for the mail tests, standing where
//! Microsoft Entra or Google would: it issues access tokens through the
//! client-credentials, refresh-token, JWT-bearer (a service account's signed
//! assertion, checked against its public key) and authorization-code (with
//! PKCE) grants, answers Dovecot's and the SMTP sink's introspection, and
//! lets a test expire every token or revoke the refresh tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "switchyard-tests";
pub const CLIENT_SECRET: &str = "client-secret-for-tests";
pub const SERVICE_ACCOUNT: &str = "switchyard@switchyard-tests.iam.gserviceaccount.com";
/// The SHA-1 thumbprint the tests give the app's certificate (hex, as Entra shows it).
pub const CERT_THUMBPRINT: &str = "5B3F0D7C1E9A2B4C6D8E0F1A2B3C4D5E6F708192";

struct Access {
    user: String,
    expires_at: std::time::Instant,
}

struct Code {
    user: String,
    challenge: String,
    redirect_uri: String,
}

#[derive(Default)]
struct Inner {
    access: HashMap<String, Access>,
    /// Refresh token → user; revoked ones are removed.
    refresh: HashMap<String, String>,
    codes: HashMap<String, Code>,
    lifetime_secs: u64,
    issued: usize,
}

#[derive(Clone)]
pub struct OAuthServer {
    addr: std::net::SocketAddr,
    /// The mailbox the app-only and service-account tokens act for.
    user: String,
    inner: Arc<Mutex<Inner>>,
    _task: Arc<tokio::task::JoinHandle<()>>,
}

fn random() -> String {
    let mut b = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

fn error(code: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": code, "error_description": description})),
    )
        .into_response()
}

impl OAuthServer {
    /// Tokens act for `user` (the mailbox's login) and live `lifetime_secs`.
    pub async fn start(user: &str, lifetime_secs: u64) -> anyhow::Result<OAuthServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Mutex::new(Inner {
            lifetime_secs,
            ..Inner::default()
        }));
        let server = OAuthServer {
            addr,
            user: user.to_string(),
            inner,
            _task: Arc::new(tokio::spawn(async {})),
        };
        let app = Router::new()
            .route("/token", post(token))
            .route("/introspect", post(introspect))
            .route("/authorize", get(authorize))
            .with_state(server.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(OAuthServer {
            _task: Arc::new(task),
            ..server
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn token_url(&self) -> String {
        format!("{}/token", self.url())
    }

    pub fn introspection_url(&self) -> String {
        format!("{}/introspect", self.url())
    }

    /// Access tokens issued so far.
    pub fn issued(&self) -> usize {
        self.inner.lock().map(|i| i.issued).unwrap_or(0)
    }

    /// Every access token issued so far stops working (as if it had expired).
    pub fn expire_access_tokens(&self) {
        if let Ok(mut i) = self.inner.lock() {
            i.access.clear();
        }
    }

    /// Consent withdrawn: every refresh token is refused from now on.
    pub fn revoke_refresh_tokens(&self) {
        if let Ok(mut i) = self.inner.lock() {
            i.refresh.clear();
        }
    }

    /// A refresh token for `user`, as if obtained elsewhere.
    pub fn grant_refresh_token(&self, user: &str) -> String {
        let token = random();
        if let Ok(mut i) = self.inner.lock() {
            i.refresh.insert(token.clone(), user.to_string());
        }
        token
    }

    fn issue(&self, user: &str, with_refresh: bool) -> Value {
        let token = random();
        let Ok(mut i) = self.inner.lock() else {
            return json!({});
        };
        let life = i.lifetime_secs;
        i.access.insert(
            token.clone(),
            Access {
                user: user.to_string(),
                expires_at: std::time::Instant::now() + std::time::Duration::from_secs(life),
            },
        );
        i.issued += 1;
        let mut answer = json!({"access_token": token, "token_type": "Bearer", "expires_in": life});
        if with_refresh {
            let refresh = random();
            i.refresh.insert(refresh.clone(), user.to_string());
            answer["refresh_token"] = json!(refresh);
        }
        answer
    }

    fn refresh_user(&self, refresh: &str) -> Option<String> {
        self.inner.lock().ok()?.refresh.get(refresh).cloned()
    }
}

/// A JWT signed by the fixture key, for this endpoint, not expired: its header and claims.
fn verify_jwt(assertion: &str, audience: &str) -> Result<(Value, Value), String> {
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err("not a JWT".into());
    };
    let public = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/oauth/service-account.pub.der"
    ))
    .map_err(|e| e.to_string())?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|e| e.to_string())?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, public)
        .verify(format!("{header}.{claims}").as_bytes(), &signature)
        .map_err(|_| "bad signature".to_string())?;
    let decode = |part: &str| -> Result<Value, String> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).map_err(|e| e.to_string())?).map_err(|e| e.to_string())
    };
    let (header, claims) = (decode(header)?, decode(claims)?);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    if claims["aud"] != audience {
        return Err(format!("aud {} (expected {audience})", claims["aud"]));
    }
    if claims["exp"].as_i64().is_none_or(|exp| exp < now) {
        return Err("expired".into());
    }
    Ok((header, claims))
}

/// The service account's assertion; the mailbox it impersonates.
fn check_assertion(assertion: &str, audience: &str) -> Result<String, String> {
    let (_, claims) = verify_jwt(assertion, audience)?;
    if claims["iss"] != SERVICE_ACCOUNT {
        return Err(format!("iss {}", claims["iss"]));
    }
    claims["sub"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "no sub".to_string())
}

/// The app's certificate assertion (Microsoft Entra's client assertion).
fn check_client_assertion(assertion: &str, audience: &str) -> Result<(), String> {
    let (header, claims) = verify_jwt(assertion, audience)?;
    let x5t = URL_SAFE_NO_PAD.encode(hex::decode(CERT_THUMBPRINT).map_err(|e| e.to_string())?);
    if header["x5t"] != x5t.as_str() {
        return Err(format!("x5t {}", header["x5t"]));
    }
    if claims["iss"] != CLIENT_ID || claims["sub"] != CLIENT_ID {
        return Err("iss and sub must be the client id".into());
    }
    Ok(())
}

async fn token(State(s): State<OAuthServer>, Form(f): Form<HashMap<String, String>>) -> Response {
    let field = |k: &str| f.get(k).map(String::as_str).unwrap_or_default();
    let client_ok = field("client_id") == CLIENT_ID
        && (field("client_secret") == CLIENT_SECRET
            || (field("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                && check_client_assertion(field("client_assertion"), &s.token_url()).is_ok()));
    match field("grant_type") {
        "client_credentials" => {
            if !client_ok {
                return error("invalid_client", "unknown client or wrong secret");
            }
            Json(s.issue(&s.user, false)).into_response()
        }
        "refresh_token" => {
            if field("client_id") != CLIENT_ID {
                return error("invalid_client", "unknown client");
            }
            match s.refresh_user(field("refresh_token")) {
                Some(user) => Json(s.issue(&user, false)).into_response(),
                None => error("invalid_grant", "The refresh token was revoked."),
            }
        }
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => match check_assertion(field("assertion"), &s.token_url()) {
            Ok(user) => Json(s.issue(&user, false)).into_response(),
            Err(e) => error("invalid_grant", &e),
        },
        "authorization_code" => {
            let code = s.inner.lock().ok().and_then(|mut i| i.codes.remove(field("code")));
            let Some(code) = code else {
                return error("invalid_grant", "unknown or used code");
            };
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(field("code_verifier").as_bytes()));
            if challenge != code.challenge {
                return error("invalid_grant", "PKCE verification failed");
            }
            if code.redirect_uri != field("redirect_uri") || !client_ok {
                return error("invalid_grant", "redirect_uri or client mismatch");
            }
            Json(s.issue(&code.user, true)).into_response()
        }
        other => error("unsupported_grant_type", other),
    }
}

async fn introspect(State(s): State<OAuthServer>, Form(f): Form<HashMap<String, String>>) -> Json<Value> {
    let token = f.get("token").cloned().unwrap_or_default();
    let Ok(i) = s.inner.lock() else {
        return Json(json!({"active": false}));
    };
    match i.access.get(&token) {
        Some(a) if a.expires_at > std::time::Instant::now() => Json(json!({"active": true, "username": a.user})),
        _ => Json(json!({"active": false})),
    }
}

/// The consent screen, approved at once for the `login_hint` user.
async fn authorize(State(s): State<OAuthServer>, Query(q): Query<HashMap<String, String>>) -> Response {
    let field = |k: &str| q.get(k).cloned().unwrap_or_default();
    if field("client_id") != CLIENT_ID || field("code_challenge_method") != "S256" || field("response_type") != "code" {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let code = random();
    let redirect_uri = field("redirect_uri");
    if let Ok(mut i) = s.inner.lock() {
        i.codes.insert(
            code.clone(),
            Code {
                user: field("login_hint"),
                challenge: field("code_challenge"),
                redirect_uri: redirect_uri.clone(),
            },
        );
    }
    let target = reqwest::Url::parse_with_params(&redirect_uri, &[("code", code.as_str()), ("state", &field("state"))]);
    match target {
        Ok(url) => Redirect::to(url.as_str()).into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "bad redirect_uri").into_response(),
    }
}
