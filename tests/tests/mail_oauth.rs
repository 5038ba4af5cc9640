//! The SAV mailbox where companies keep it: OAuth 2 for IMAP and SMTP,
//! against real servers — Dovecot with its oauth2 passdb (SASL XOAUTH2 and
//! OAUTHBEARER, tokens checked by introspection), the SMTP sink taking only
//! AUTH XOAUTH2, and a local authorization server standing where Microsoft
//! Entra or Google would (`e2e::oauth_server`).
//!
//! App-only tokens (client credentials) and a service account's signed
//! assertion both read and answer the mailbox; a token the servers stop
//! accepting is replaced without losing or repeating a mail; a revoked
//! refresh token puts the mailbox in "needs reconnect" while the widget keeps
//! working, and an admin reconnecting it through the authorization-code flow
//! (state + PKCE) resumes it from its checkpoint.

use e2e::mail::{Dovecot, MAIL_USER, SmtpSink, email_config};
use e2e::oauth_server::{CLIENT_ID, CLIENT_SECRET, OAuthServer};
use e2e::{ADMIN_PASSWORD, AgentClient, TestApp, Visitor, spawn_app_with};
use gateway::clock::Clock;
use gateway::config::{Config, MailAuth, OAuth2Config, Secret};
use serde_json::{Value, json};

const KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

fn mail(id: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: Jean Dupont <jean@client-plant.test>\r\nTo: sav@maker.test\r\nSubject: {subject}\r\n\
         Message-ID: <{id}@client-plant.test>\r\nDate: Thu, 03 Dec 2026 08:00:00 +0100\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour, la presse P200 fait un bruit anormal.\r\n"
    )
    .into_bytes()
}

/// Dovecot, the sink and a gateway configuration all logging in with tokens from `oauth`.
async fn servers(
    oauth: &OAuthServer,
    grant: OAuth2Config,
) -> anyhow::Result<(Dovecot, SmtpSink, tempfile::TempDir, Config)> {
    let dovecot = Dovecot::start_with_oauth(&oauth.introspection_url()).await?;
    let sink = SmtpSink::start_with_oauth(&oauth.introspection_url()).await?;
    let dir = tempfile::tempdir()?;
    let mut config = email_config(dir.path(), &dovecot, &sink);
    config.server.secret_key = Secret::new(KEY);
    let mailbox = &mut config.email.mailboxes[0];
    // No password anywhere: a login that fell back to one would fail.
    mailbox.password = Secret::default();
    mailbox.auth = MailAuth::Oauth2;
    mailbox.oauth2 = OAuth2Config {
        provider: "custom".into(),
        client_id: CLIENT_ID.into(),
        token_url: oauth.token_url(),
        authorize_url: format!("{}/authorize", oauth.url()),
        scope: "mail".into(),
        ..grant
    };
    config.email.smtp.auth = MailAuth::Oauth2;
    config.email.smtp.user = MAIL_USER.into();
    Ok((dovecot, sink, dir, config))
}

fn client_credentials() -> OAuth2Config {
    OAuth2Config {
        grant: "client_credentials".into(),
        client_secret: Secret::new(CLIENT_SECRET),
        ..OAuth2Config::default()
    }
}

async fn subjects(agent: &AgentClient) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for status in ["open", "resolved"] {
        let list = agent
            .ok(&format!("/api/v1/conversations?status={status}&limit=1000"))
            .await?;
        for c in list["conversations"].as_array().cloned().unwrap_or_default() {
            out.push(c["subject"].as_str().unwrap_or_default().to_string());
        }
    }
    out.sort();
    Ok(out)
}

async fn wait_for_subject(agent: &AgentClient, subject: &str) -> anyhow::Result<()> {
    agent
        .wait_json("/api/v1/conversations?limit=1000", subject, |v| {
            v["conversations"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["subject"] == subject))
        })
        .await?;
    Ok(())
}

async fn authorisation(app: &TestApp) -> anyhow::Result<Value> {
    let (_, ready) = e2e::readiness(&app.base()).await?;
    Ok(ready["mail_authorisations"]["sav"].clone())
}

/// The mailbox's authorisation once it reaches `state` (10 s at most), else as it is.
async fn authorisation_becomes(app: &TestApp, state: &str) -> anyhow::Result<Value> {
    let mut now = Value::Null;
    for _ in 0..200 {
        now = authorisation(app).await?;
        if now["state"] == state {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(now)
}

#[tokio::test]
async fn app_only_tokens_read_and_answer_and_a_refused_token_is_replaced() -> anyhow::Result<()> {
    let oauth = OAuthServer::start(MAIL_USER, 3600).await?;
    let (dovecot, sink, _dir, config) = servers(&oauth, client_credentials()).await?;
    let app = spawn_app_with(config, Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;

    dovecot.append("INBOX", &mail("one", "Bruit presse")).await?;
    wait_for_subject(&agent, "Bruit presse").await?;
    let ack = sink
        .wait_for("the acknowledgement", |r| {
            r.rcpt_tos.iter().any(|t| t == "jean@client-plant.test")
        })
        .await?;
    assert_eq!(ack.auth.as_deref(), Some(MAIL_USER), "sent after AUTH XOAUTH2");
    let state = authorisation(&app).await?;
    assert_eq!(state["state"], "ok", "{state}");
    assert_eq!(state["grant"], "client_credentials");
    assert_eq!(oauth.issued(), 1, "one token for IMAP and SMTP");

    // The servers stop accepting the token the gateway still thinks valid, and
    // Dovecot drops the IDLE connection: the reader is refused once, asks for
    // a new token and goes on; nothing lost or repeated. (SMTP keeps its
    // authenticated pooled connection, as servers allow.)
    oauth.expire_access_tokens();
    dovecot.kick(MAIL_USER)?;
    dovecot.append("INBOX", &mail("two", "Bruit presse encore")).await?;
    wait_for_subject(&agent, "Bruit presse encore").await?;
    sink.wait_for("the second acknowledgement", |r| r.raw.contains("Bruit presse encore"))
        .await?;
    assert_eq!(oauth.issued(), 2, "the refused token replaced once");
    assert_eq!(subjects(&agent).await?, ["Bruit presse", "Bruit presse encore"]);
    assert_eq!(dovecot.count("INBOX").await?, 0, "both filed as processed");
    app.stop().await;
    Ok(())
}

/// Microsoft Entra apps may prove themselves with a certificate instead of a
/// secret: a client assertion signed by its key, naming its thumbprint.
#[tokio::test]
async fn an_app_certificate_replaces_the_client_secret() -> anyhow::Result<()> {
    let key = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/oauth/app-certificate.key.pem");
    let oauth = OAuthServer::start(MAIL_USER, 3600).await?;
    let grant = OAuth2Config {
        grant: "client_credentials".into(),
        certificate_key_file: key.into(),
        certificate_thumbprint: e2e::oauth_server::CERT_THUMBPRINT.into(),
        ..OAuth2Config::default()
    };
    let (dovecot, _sink, _dir, config) = servers(&oauth, grant).await?;
    let app = spawn_app_with(config, Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    dovecot.append("INBOX", &mail("cert", "Certificat")).await?;
    wait_for_subject(&agent, "Certificat").await?;
    assert_eq!(oauth.issued(), 1);
    app.stop().await;

    // Another certificate's thumbprint: the provider refuses the app, the mailbox asks for an admin.
    let grant = OAuth2Config {
        grant: "client_credentials".into(),
        certificate_key_file: key.into(),
        certificate_thumbprint: "00".repeat(20),
        ..OAuth2Config::default()
    };
    let (_dovecot, _sink, _dir, config) = servers(&oauth, grant).await?;
    let app = spawn_app_with(config, Clock::system()).await?;
    let state = authorisation_becomes(&app, "needs_reconnect").await?;
    assert!(
        state["message"].as_str().is_some_and(|m| m.contains("invalid_client")),
        "{state}"
    );
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_google_service_account_impersonates_the_mailbox() -> anyhow::Result<()> {
    let oauth = OAuthServer::start("nobody-by-default", 3600).await?;
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/oauth/service-account.json");
    // And IMAP logs in with OAUTHBEARER (RFC 7628) instead of XOAUTH2.
    let grant = OAuth2Config {
        grant: "service_account".into(),
        service_account_file: file.into(),
        mechanism: "oauthbearer".into(),
        ..OAuth2Config::default()
    };
    let (dovecot, sink, _dir, config) = servers(&oauth, grant).await?;
    let app = spawn_app_with(config, Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    dovecot.append("INBOX", &mail("sa", "Notice")).await?;
    wait_for_subject(&agent, "Notice").await?;
    // The assertion's subject is the mailbox: the token acts for it, on IMAP and SMTP.
    let ack = sink.wait_for("the acknowledgement", |_| true).await?;
    assert_eq!(ack.auth.as_deref(), Some(MAIL_USER));
    assert_eq!(authorisation(&app).await?["grant"], "service_account");
    assert!(dovecot.log().contains("method=OAUTHBEARER"), "{}", dovecot.log());
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_revoked_refresh_token_asks_an_admin_and_reconnecting_resumes_from_the_checkpoint() -> anyhow::Result<()> {
    let oauth = OAuthServer::start(MAIL_USER, 3600).await?;
    let grant = OAuth2Config {
        grant: "authorization_code".into(),
        client_secret: Secret::new(CLIENT_SECRET),
        refresh_token: Secret::new(oauth.grant_refresh_token(MAIL_USER)),
        ..OAuth2Config::default()
    };
    let (dovecot, _sink, _dir, config) = servers(&oauth, grant).await?;
    let app = spawn_app_with(config, Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    dovecot.append("INBOX", &mail("before", "Avant")).await?;
    wait_for_subject(&agent, "Avant").await?;

    // Consent withdrawn: the refresh token is refused, the held token too.
    oauth.revoke_refresh_tokens();
    oauth.expire_access_tokens();
    dovecot.kick(MAIL_USER)?;
    dovecot.append("INBOX", &mail("during", "Pendant")).await?;
    let state = authorisation_becomes(&app, "needs_reconnect").await?;
    assert_eq!(state["state"], "needs_reconnect", "{state}");
    assert!(
        state["message"]
            .as_str()
            .is_some_and(|m| m.contains("needs an admin to reconnect") && m.contains("invalid_grant")),
        "{state}"
    );
    let (status, ready) = e2e::readiness(&app.base()).await?;
    assert_eq!(
        status, 200,
        "one mailbox down does not make the gateway unready: {ready}"
    );
    // The other channels flow.
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    visitor.message("c1", "Bonjour, une question sur la notice").await?;
    visitor.close().await;

    // An admin reconnects it: the authorization server's consent, back to
    // the gateway's callback with the code, exchanged with the PKCE verifier.
    let (status, body) = agent.post("/api/v1/admin/mailboxes/sav/connect", json!({})).await?;
    assert_eq!(status, 200, "{body}");
    let authorize = body["authorize_url"].as_str().unwrap_or_default().to_string();
    assert!(
        authorize.contains("code_challenge_method=S256") && authorize.contains("state="),
        "{authorize}"
    );
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let consent = browser.get(&authorize).send().await?;
    let callback = consent
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        callback.starts_with(&format!("{}/oauth/callback?", app.base())),
        "{callback}"
    );
    // A forged state is refused; the real one works once.
    let forged = browser
        .get(format!("{}/oauth/callback?code=x&state=forged", app.base()))
        .send()
        .await?;
    assert_eq!(forged.status(), 400);
    let done = browser.get(&callback).send().await?;
    assert_eq!(done.status(), 200);
    assert!(done.text().await?.contains("is connected"));
    assert_eq!(
        browser.get(&callback).send().await?.status(),
        400,
        "a state is used once"
    );

    wait_for_subject(&agent, "Pendant").await?;
    let state = authorisation(&app).await?;
    assert_eq!(
        (&state["state"], &state["connected_as"]),
        (&json!("ok"), &json!("admin")),
        "{state}"
    );
    let subjects = subjects(&agent).await?;
    assert_eq!(
        subjects
            .iter()
            .filter(|s| s.as_str() == "Avant" || s.as_str() == "Pendant")
            .count(),
        2,
        "resumed from the checkpoint, nothing read twice: {subjects:?}"
    );
    // Kept sealed: the store never holds the refresh token in clear.
    let sealed: String = sqlx::query_scalar("SELECT refresh_token FROM mail_oauth WHERE mailbox = 'sav'")
        .fetch_one(app.state.store.reader())
        .await?;
    assert!(sealed.starts_with("v1.") && sealed.len() > 40, "{sealed}");
    let listed = agent.ok("/api/v1/admin/mailboxes").await?;
    assert_eq!(listed["mailboxes"][0]["oauth"]["state"], "ok", "{listed}");
    app.stop().await;
    Ok(())
}
