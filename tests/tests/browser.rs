//! The inbox and the chat widget in a real browser: this test starts Dovecot,
//! the SMTP sink and a gateway, creates two agents and one email conversation,
//! then runs `tests/browser/flows.test.mjs` (node + playwright-core + Debian's
//! chromium) against them, and finally checks the email reply the agent sent
//! from the browser as the SMTP sink received it. Screenshots land in
//! `target/browser/`. Node, chromium and the npm package are installed by
//! `scripts/test.sh`; missing ones fail this test, they never skip it.

use anyhow::{Context, bail};
use e2e::browser::{artifacts_dir, check_prerequisites, run_flows};
use e2e::mail::{Dovecot, SAV, SmtpSink, email_config};
use e2e::{ADMIN_PASSWORD, AgentClient, spawn_app_with};
use gateway::clock::Clock;
use serde_json::{Value, json};

const CUSTOMER: &str = "claire.martin@laiterie-test.fr";
const COLLEAGUE: &str = "resp.maintenance@laiterie-test.fr";
const ADDED_CC: &str = "qualite@laiterie-test.fr";
/// A second mailbox, logging in with OAuth 2, that the admin connects in the browser.
const OAUTH_MAILBOX: &str = "sav-o365";
const SUBJECT: &str = "Convoyeur 3 : bruit anormal";

/// A 16x8 PNG, the inline image of the mail below.
const INLINE_PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAABAAAAAICAIAAAB/FOjAAAAAE0lEQVR4nGMQiVpFEmIY1UALDQDsvowBauRFaAAAAABJRU5ErkJggg==";

/// An HTML mail with a colleague in Cc, an inline image (cid:) and content
/// that must never run.
fn hostile_mail() -> String {
    let html = "<html><body><p>Bonjour,</p><p><b>Le convoyeur 3</b> fait un bruit anormal depuis ce matin.</p>\
         <p><img src=\"cid:photo-convoyeur@laiterie-test.fr\" alt=\"convoyeur\"></p>\
         <script>window.__mailScriptRan = true; parent.__mailScriptRan = true;</script>\
         <img src=\"x\" onerror=\"parent.__mailScriptRan = true\">\
         <a href=\"javascript:parent.__mailScriptRan = true\">voir</a>\
         <p>Claire Martin<br>Laiterie Test</p></body></html>";
    format!(
        "From: Claire Martin <{CUSTOMER}>\r\nTo: SAV Maker <{SAV}>\r\nCc: Responsable Maintenance <{COLLEAGUE}>\r\n\
         Subject: {SUBJECT}\r\nDate: Mon, 23 Nov 2026 09:00:00 +0100\r\nMessage-ID: <convoyeur3@laiterie-test.fr>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"r1\"\r\n\r\n\
         --r1\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\nLe convoyeur 3 fait un bruit anormal depuis ce matin.\r\n\
         --b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--b1--\r\n\
         --r1\r\nContent-Type: image/png; name=\"convoyeur.png\"\r\nContent-Transfer-Encoding: base64\r\n\
         Content-ID: <photo-convoyeur@laiterie-test.fr>\r\nContent-Disposition: inline; filename=\"convoyeur.png\"\r\n\r\n\
         {INLINE_PNG}\r\n--r1--\r\n"
    )
}

async fn create_agent(admin: &AgentClient, username: &str, name: &str, password: &str) -> anyhow::Result<()> {
    let (status, body) = admin
        .post(
            "/api/v1/agents",
            json!({"username": username, "display_name": name, "password": password}),
        )
        .await?;
    if status != 200 {
        bail!("creating {username}: {status} {body}");
    }
    Ok(())
}

async fn wait_for_conversation(admin: &AgentClient, subject: &str) -> anyhow::Result<i64> {
    let has = |list: &Value| {
        list["conversations"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["subject"] == subject))
            .and_then(|c| c["id"].as_i64())
    };
    let list = admin
        .wait_json("/api/v1/conversations?limit=1000", "the email conversation", |l| {
            has(l).is_some()
        })
        .await?;
    has(&list).context("the email conversation")
}

fn addresses(header: Option<String>) -> String {
    header.unwrap_or_default().to_lowercase()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_and_widget_flows_in_chromium() -> anyhow::Result<()> {
    check_prerequisites()?;
    // Dovecot also takes tokens from the local authorization server, for the
    // second mailbox an admin connects from the inbox (OAuth 2, authorization code).
    let oauth = e2e::oauth_server::OAuthServer::start(e2e::mail::MAIL_USER, 3600).await?;
    let dovecot = Dovecot::start_with_oauth(&oauth.introspection_url()).await?;
    dovecot.create_folder("Connected").await?;
    let sink = SmtpSink::start().await?;
    let dir = tempfile::tempdir()?;
    let mut config = email_config(dir.path(), &dovecot, &sink);
    config.server.secret_key =
        gateway::config::Secret::new("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    // The widget links to the site's notice (the demo page's script tag names none).
    config.webchat.privacy_url = "https://maker.example/privacy".into();
    config.email.mailboxes.push(gateway::config::MailboxConfig {
        name: OAUTH_MAILBOX.into(),
        password: gateway::config::Secret::default(),
        folder: "Connected".into(),
        processed_folder: "Connected-done".into(),
        auth: gateway::config::MailAuth::Oauth2,
        oauth2: gateway::config::OAuth2Config {
            provider: "custom".into(),
            grant: "authorization_code".into(),
            client_id: e2e::oauth_server::CLIENT_ID.into(),
            client_secret: gateway::config::Secret::new(e2e::oauth_server::CLIENT_SECRET),
            token_url: oauth.token_url(),
            authorize_url: format!("{}/authorize", oauth.url()),
            scope: "mail".into(),
            ..Default::default()
        },
        ..config.email.mailboxes[0].clone()
    });
    let app = spawn_app_with(config, Clock::system()).await?;
    let admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    create_agent(&admin, "alice", "Alice", "alice-password-1").await?;
    create_agent(&admin, "bob", "Bob", "bob-password-12").await?;

    dovecot.append("INBOX", hostile_mail().as_bytes()).await?;
    let email_conversation = wait_for_conversation(&admin, SUBJECT).await?;

    let artifacts = artifacts_dir();
    // Screenshots of an earlier run must not pass for this run's.
    if artifacts.exists() {
        std::fs::remove_dir_all(&artifacts).context("clearing target/browser")?;
    }
    std::fs::create_dir_all(&artifacts).context("creating target/browser")?;
    run_flows(
        "flows.test.mjs",
        &app.base(),
        &[
            ("SY_ALICE_USER", "alice"),
            ("SY_ALICE_PASSWORD", "alice-password-1"),
            ("SY_BOB_USER", "bob"),
            ("SY_BOB_PASSWORD", "bob-password-12"),
            ("SY_EMAIL_SUBJECT", SUBJECT),
            ("SY_EMAIL_FROM", CUSTOMER),
            ("SY_EMAIL_CC", COLLEAGUE),
            ("SY_EMAIL_CC_ADD", ADDED_CC),
            ("SY_OAUTH_MAILBOX", OAUTH_MAILBOX),
        ],
    )
    .await?;

    // The reply typed in the browser left as a threaded email with the edited Cc.
    let reply = sink
        .wait_for("the agent's email reply", |r| r.text().contains("vidéo du convoyeur"))
        .await?;
    assert!(
        addresses(reply.header("To")).contains(CUSTOMER),
        "To: {:?}",
        reply.header("To")
    );
    let cc = addresses(reply.header("Cc"));
    assert!(cc.contains(COLLEAGUE) && cc.contains(ADDED_CC), "Cc: {cc}");
    assert!(
        reply
            .header("References")
            .unwrap_or_default()
            .contains("convoyeur3@laiterie-test.fr"),
        "threaded under the customer's mail: {:?}",
        reply.header("References")
    );
    // The intervention report Alice validated in the browser, mailed in the thread as a PDF.
    let report = sink
        .wait_for("the report mail", |r| r.text().contains("rapport d'intervention"))
        .await?;
    let pdf = report
        .attachments()
        .into_iter()
        .find(|(_, kind, _)| kind == "application/pdf")
        .context("the report mail carries the PDF")?;
    assert_eq!(pdf.0, format!("rapport-SY-{email_conversation}.pdf"));
    let path = e2e::pdf::artifacts_dir()?.join("browser-report.pdf");
    std::fs::write(&path, &pdf.2)?;
    let text = e2e::pdf::text(&path)?;
    assert!(text.contains("Roulement remplacé, bruit disparu."), "{text}");
    assert!(text.contains("Validé par Alice"), "{text}");
    let view: Value = admin.ok(&format!("/api/v1/conversations/{email_conversation}")).await?;
    assert!(
        view["messages"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["author_name"] == "Alice" && m["direction"] == "out")),
        "the reply is Alice's"
    );
    for shot in [
        "inbox.png",
        "widget.png",
        "inbox-email.png",
        "inbox-tablet.png",
        "login-failed.png",
        "reports.png",
        "report-editor.png",
    ] {
        assert!(artifacts.join(shot).exists(), "{shot} saved");
    }
    app.stop().await;
    // Then translation, on a gateway of its own, after the flows: two Chromiums at
    // once on a 2-core machine make both slow enough to time out.
    translation_in_chromium().await
}

/// Translation in the inbox, in its own gateway (a DeepL stand-in translating
/// every conversation would change what the flows above read).
async fn translation_in_chromium() -> anyhow::Result<()> {
    let stub = e2e::translate_stub::TranslateStub::start().await?;
    let dir = tempfile::tempdir()?;
    let mut config = e2e::test_config(dir.path());
    config.translation.provider = "deepl".into();
    config.translation.url = stub.url();
    config.translation.api_key = gateway::config::Secret::new(e2e::translate_stub::KEY);
    config.translation.agent_language = "fr".into();
    let app = spawn_app_with(config, Clock::system()).await?;
    run_flows("translation.test.mjs", &app.base(), &[]).await?;
    app.stop().await;
    Ok(())
}
