//! The retention policies run by themselves: with the clock injected, the
//! daily run erases exactly what is past its period — raw mails after 3
//! days, anonymous chats after 5, attachments after 7, resolved
//! conversations after 10 — skips a conversation under legal hold, and its
//! dry run, asked for just before, lists the very same items.

use e2e::{ADMIN_PASSWORD, AgentClient, TestApp, Visitor, spawn_app_with, test_config};
use gateway::clock::Clock;
use gateway::config::RetentionConfig;
use gateway::privacy::job::RetentionJob;
use gateway::privacy::retention::{Kind, Report};
use serde_json::{Value, json};

const DAY: i64 = 24 * 3600 * 1000;
const T0: i64 = 1_800_000_000_000;
const PHOTO: &[u8] = b"\x89PNG\r\n\x1a\nbearing";

/// The dry run as it would be at `at`, on the app's store, without moving its clock.
async fn dry_run_at(app: &TestApp, at: i64) -> anyhow::Result<Report> {
    let job = RetentionJob {
        store: app.state.store.clone(),
        blobs: app.state.blobs.clone(),
        clock: Clock::manual(at),
        config: app.state.config.retention.clone(),
        journal_hours: app.state.config.whatsapp.journal_retention_hours,
        html: app.state.html_cache.clone(),
    };
    Ok(job.report().await?)
}

/// The daily runs recorded so far (by the job itself: no agent), newest first.
async fn runs(admin: &AgentClient) -> anyhow::Result<Vec<Value>> {
    let audit = admin.ok("/api/v1/admin/audit").await?;
    Ok(audit["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["action"] == "retention_run" && e["agent_id"].is_null())
        .cloned()
        .collect())
}

async fn wait_for_run(admin: &AgentClient, n: usize) -> anyhow::Result<Value> {
    for _ in 0..200 {
        let r = runs(admin).await?;
        if r.len() >= n {
            return Ok(serde_json::from_str(r[0]["detail"].as_str().unwrap_or("{}"))?);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    anyhow::bail!("run {n} not seen within 10 s")
}

async fn mail(app: &TestApp, id: &str, text: &str, raw: Option<&str>) -> anyhow::Result<(i64, i64)> {
    let mut m = e2e::inbound_email(id, &format!("{id}@usine.test"), "SAV", text);
    if let Some(raw) = raw {
        let blob = app.state.blobs.put_bytes(raw.as_bytes(), 1 << 20).await?;
        m.raw_ref = Some(format!("sha256:{}", blob.sha256));
    }
    let accepted = app.state.pipeline.submit(m).await?;
    Ok((accepted.conversation_id.0, accepted.message_id.0))
}

fn ids(v: &[i64]) -> Vec<i64> {
    v.to_vec()
}

#[tokio::test]
async fn the_daily_run_erases_exactly_what_is_past_its_period_and_its_dry_run_said_so() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = Clock::manual(T0);
    let mut config = test_config(dir.path());
    config.retention = RetentionConfig {
        dry_run: false,
        raw_mails_days: 3,
        attachments_days: 7,
        resolved_conversations_days: 10,
        anonymous_chats_days: 5,
        delivery_logs_days: 30,
        translation_cache_days: 30,
        check_secs: 1,
    };
    let app = spawn_app_with(config, clock.clone()).await?;
    let mut admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;

    // A: a mail with its raw bytes, resolved today.
    let raw = "From: a@usine.test\r\nSubject: SAV\r\n\r\nLe convoyeur patine.\r\n";
    let (a, a_message) = mail(&app, "a", "Le convoyeur patine.", Some(raw)).await?;
    let raw_sha = app.state.blobs.put_bytes(raw.as_bytes(), 1 << 20).await?.sha256;
    // D: a mail resolved today, under legal hold.
    let (d, _) = mail(&app, "d", "La presse fuit, litige en cours.", None).await?;
    for id in [a, d] {
        let (status, body) = admin
            .post(&format!("/api/v1/conversations/{id}/resolve"), json!({}))
            .await?;
        assert_eq!(status, 200, "{body}");
    }
    let (status, _) = admin
        .put(
            &format!("/api/v1/conversations/{d}/legal-hold"),
            json!({"reason": "litige 2026-77"}),
        )
        .await?;
    assert_eq!(status, 200);
    // B: a visitor who left nothing to reach them by.
    let mut anonymous = Visitor::connect(&app.ws_url()).await?;
    anonymous
        .send_json(&json!({"type": "open", "token": null, "prechat": {}, "lang": "fr"}))
        .await?;
    anonymous.expect("opened").await?;
    let b = e2e::ticket_id(&anonymous.message("b1", "Où trouver la notice ?").await?["conversation"]);
    anonymous.close().await;
    // C: a visitor who gave their name, with a photo; still open.
    let (mut named, _) = Visitor::open(&app.ws_url(), None).await?;
    let upload = named.upload_png(&app.base(), "roulement.png", PHOTO).await?;
    named
        .send_json(
            &json!({"type": "message", "client_id": "c1", "text": "Le roulement chauffe", "attachments": [upload]}),
        )
        .await?;
    let c = e2e::ticket_id(&named.expect("ack").await?["conversation"]);
    named.close().await;
    let c_view = admin.ok(&format!("/api/v1/conversations/{c}")).await?;
    let c_attachment = c_view["attachments"][0]["id"].as_i64().unwrap_or_default();
    let photo_sha = c_view["attachments"][0]["sha256"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // The first daily run, today, finds nothing past its period.
    let first = wait_for_run(&admin, 1).await?;
    assert_eq!(first["raw_mails"], 0, "{first}");

    // Day 4: only the raw mail is past its 3 days.
    let dry = dry_run_at(&app, T0 + 4 * DAY).await?;
    assert_eq!(dry.items(Kind::RawMails), [a_message]);
    for kind in [Kind::ResolvedConversations, Kind::AnonymousChats, Kind::Attachments] {
        assert!(dry.items(kind).is_empty(), "{kind:?}: {dry:?}");
    }
    clock.advance(4 * DAY);
    // Sessions end with the days that passed.
    admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let second = wait_for_run(&admin, 2).await?;
    assert_eq!(second["raw_mails"], 1, "{second}");
    assert_eq!(second["attachments"], 0, "{second}");
    let (status, _) = admin
        .get(&format!("/api/v1/conversations/{a}/messages/{a_message}/raw"))
        .await?;
    assert_eq!(status, 404, "the raw mail is gone");
    assert!(!app.state.blobs.path(&raw_sha).is_some_and(|p| p.exists()));
    let a_view = admin.ok(&format!("/api/v1/conversations/{a}")).await?;
    assert_eq!(a_view["messages"][0]["body"], "Le convoyeur patine.", "its text stays");

    // Day 11: the resolved conversation (not the held one), the anonymous
    // chat and the photo; the named visitor's conversation itself stays.
    let dry = dry_run_at(&app, T0 + 11 * DAY).await?;
    assert_eq!(ids(dry.items(Kind::ResolvedConversations)), [a]);
    assert_eq!(ids(dry.items(Kind::AnonymousChats)), [b]);
    assert_eq!(ids(dry.items(Kind::Attachments)), [c_attachment]);
    assert!(dry.items(Kind::RawMails).is_empty());
    clock.advance(7 * DAY);
    admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let third = wait_for_run(&admin, 3).await?;
    assert_eq!(
        (
            &third["resolved_conversations"],
            &third["anonymous_chats"],
            &third["attachments"]
        ),
        (&json!(1), &json!(1), &json!(1)),
        "{third}"
    );
    for id in [a, b] {
        let v = admin.ok(&format!("/api/v1/conversations/{id}")).await?;
        assert!(v["conversation"]["erased_at"].is_i64(), "{id} erased: {v}");
        assert!(
            v["messages"].as_array().into_iter().flatten().all(|m| m["body"] == ""),
            "{v}"
        );
    }
    let held = admin.ok(&format!("/api/v1/conversations/{d}")).await?;
    assert!(held["conversation"]["erased_at"].is_null(), "{held}");
    assert_eq!(held["messages"][0]["body"], "La presse fuit, litige en cours.");
    let c_view = admin.ok(&format!("/api/v1/conversations/{c}")).await?;
    assert!(c_view["conversation"]["erased_at"].is_null(), "{c_view}");
    assert_eq!(c_view["attachments"], json!([]), "{c_view}");
    assert_eq!(c_view["messages"][0]["body"], "Le roulement chauffe");
    assert!(!app.state.blobs.path(&photo_sha).is_some_and(|p| p.exists()));

    // Nothing is left past its period; the page says when it last ran.
    let page = admin.ok("/api/v1/admin/retention").await?;
    for p in page["report"]["policies"].as_array().into_iter().flatten() {
        if p["kind"] != "delivery_logs" && p["kind"] != "webhook_journal" && p["kind"] != "translation_cache" {
            assert_eq!(p["count"], 0, "{p}");
        }
    }
    assert!(page["runs"].as_array().is_some_and(|r| r.len() >= 3), "{page}");
    app.stop().await;
    Ok(())
}
