//! `switchyard backup` while the gateway takes messages, then `restore` into an
//! empty directory and a gateway started on it: everything acknowledged
//! before the backup began is there, nothing acknowledged after it ended is,
//! the attachment files come back byte for byte, and damaged or misplaced
//! backups are refused.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use e2e::{ADMIN_PASSWORD, AgentClient, Visitor, spawn_app, spawn_app_with, test_config};
use gateway::clock::Clock;
use sqlx::Row;

const PHOTO: &[u8] = b"\x89PNG\r\n\x1a\nbackup photo";

/// A visitor writing as fast as it is acknowledged until told to stop; the
/// client ids acknowledged, in order.
fn writer(
    ws_url: String,
    acked: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<anyhow::Result<()>> {
    tokio::spawn(async move {
        let (mut visitor, _) = Visitor::open(&ws_url, None).await?;
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            let id = format!("load-{n}");
            visitor
                .message(&id, &format!("La presse P200 refait le défaut E17, message {n}"))
                .await?;
            acked.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.push(id);
            n += 1;
        }
        visitor.close().await;
        Ok(())
    })
}

fn acked_now(acked: &Mutex<Vec<String>>) -> Vec<String> {
    acked.lock().map(|a| a.clone()).unwrap_or_default()
}

async fn wait_for_more(acked: &Mutex<Vec<String>>, than: usize) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while acked_now(acked).len() < than + 30 {
        if std::time::Instant::now() > deadline {
            anyhow::bail!("the writer stalled at {} messages", acked_now(acked).len());
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(())
}

#[tokio::test]
async fn a_backup_taken_under_load_restores_exactly_what_was_acknowledged_before_it() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    // A photo before the backup: its file must come back.
    let photo_conversation =
        Visitor::sends_photo(&app.ws_url(), &app.base(), "Voici le défaut", "defaut.png", PHOTO).await?;

    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let task = writer(app.ws_url(), acked.clone(), stop.clone());
    wait_for_more(&acked, 0).await?;

    let backups = tempfile::tempdir()?;
    let dest = backups.path().join("monday");
    let before: BTreeSet<String> = acked_now(&acked).into_iter().collect();
    let manifest = gateway::backup::backup(&app.data_dir, &dest, Clock::system().now_ms()).await?;
    let by_the_end = acked_now(&acked).len();
    // The gateway went on taking messages after the backup.
    wait_for_more(&acked, by_the_end).await?;
    stop.store(true, Ordering::Relaxed);
    task.await??;
    let all = acked_now(&acked);
    let after: BTreeSet<String> = all[by_the_end..].iter().cloned().collect();
    app.stop().await;

    assert_eq!(
        manifest.databases.iter().map(|d| d.file.as_str()).collect::<Vec<_>>(),
        ["switchyard.db", "switchyard-journal.db"]
    );
    assert!(manifest.blobs >= 1, "{manifest:?}");
    assert!(manifest.missing_blobs.is_empty(), "{manifest:?}");

    // A backup never lands on top of something (here: the backup itself,
    // whose store copy makes it a valid source).
    let Err(e) = gateway::backup::backup(&dest, &dest, 0).await else {
        panic!("a backup into a non-empty directory was accepted")
    };
    assert!(e.to_string().contains("not empty"), "{e}");

    let restored_root = tempfile::tempdir()?;
    let restored = restored_root.path().join("data");
    let back = gateway::backup::restore(&dest, &restored).await?;
    assert_eq!(back, manifest);
    let Err(e) = gateway::backup::restore(&dest, &restored).await else {
        panic!("a restore over a data directory in use was accepted")
    };
    assert!(e.to_string().contains("not empty"), "{e}");

    let app = spawn_app_with(test_config(&restored), Clock::system()).await?;
    let rows = sqlx::query("SELECT client_id FROM messages WHERE client_id LIKE 'load-%'")
        .fetch_all(app.state.store.reader())
        .await?;
    let stored: BTreeSet<String> = rows
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?;
    let lost: Vec<&String> = before.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "acknowledged before the backup, missing after restore: {lost:?}"
    );
    let leaked: Vec<&String> = after.intersection(&stored).collect();
    assert!(
        leaked.is_empty(),
        "acknowledged after the backup ended, yet restored: {leaked:?}"
    );
    assert!(
        stored.len() <= by_the_end,
        "{} restored, {by_the_end} acknowledged by the end",
        stored.len()
    );

    // The photo, byte for byte, from the restored gateway.
    let admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let view = admin.ok(&format!("/api/v1/conversations/{photo_conversation}")).await?;
    let url = format!(
        "/api/v1/conversations/{photo_conversation}/attachments/{}",
        view["attachments"][0]["id"]
    );
    assert_eq!(admin.download(&url).await?.bytes, PHOTO);
    // And it goes on working: a new message is taken.
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    visitor
        .message("after-restore", "Bonjour, une question sur la notice")
        .await?;
    visitor.close().await;
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_damaged_or_unfinished_backup_is_refused_before_anything_is_written() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    visitor.message("one", "La ligne 2 est arrêtée").await?;
    visitor.close().await;
    let backups = tempfile::tempdir()?;
    let dest = backups.path().join("b");
    gateway::backup::backup(&app.data_dir, &dest, 0).await?;
    app.stop().await;

    // One byte flipped in the store copy.
    let db = dest.join("switchyard.db");
    let mut bytes = std::fs::read(&db)?;
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&db, &bytes)?;
    let target = backups.path().join("restore-here");
    let Err(e) = gateway::backup::restore(&dest, &target).await else {
        panic!("a damaged backup was restored")
    };
    assert!(e.to_string().contains("damaged"), "{e}");
    assert!(!target.exists(), "nothing written for a refused backup");

    // Without its manifest (an interrupted backup writes it last).
    std::fs::remove_file(dest.join("manifest.json"))?;
    let Err(e) = gateway::backup::restore(&dest, &target).await else {
        panic!("a backup without a manifest was restored")
    };
    assert!(e.to_string().contains("manifest.json"), "{e}");
    assert!(!target.exists());
    Ok(())
}

#[tokio::test]
async fn a_damaged_file_is_reported_and_not_served() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let conversation = Visitor::sends_photo(&app.ws_url(), &app.base(), "Voici le défaut", "defaut.png", PHOTO).await?;
    let admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let view = admin.ok(&format!("/api/v1/conversations/{conversation}")).await?;
    let attachment = &view["attachments"][0];
    let url = format!("/api/v1/conversations/{conversation}/attachments/{}", attachment["id"]);
    assert_eq!(admin.download(&url).await?.bytes, PHOTO);

    // A disk error (or a hand) changes the file behind the gateway's back.
    let sha = attachment["sha256"].as_str().unwrap_or_default();
    let path = app
        .state
        .blobs
        .path(sha)
        .ok_or_else(|| anyhow::anyhow!("no path for {sha}"))?;
    let mut damaged = PHOTO.to_vec();
    damaged[10] ^= 0xFF;
    std::fs::write(&path, &damaged)?;
    let (status, body) = admin.get(&url).await?;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"]["code"], "file_damaged", "{body}");
    app.stop().await;
    Ok(())
}
