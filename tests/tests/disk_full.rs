//! The data directory's disk fills up (a small tmpfs, mounted for the test:
//! it needs root, as `scripts/test.sh` has): the gateway stops acknowledging
//! with a clear "storage full" error and `/readyz` says not ready; nothing is
//! half-written; once space returns it takes messages again by itself, and the
//! refused message, sent again, is stored once.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail, ensure};
use e2e::{ADMIN_PASSWORD, AgentClient, Visitor, spawn_app_with, test_config};
use gateway::clock::Clock;
use serde_json::{Value, json};

/// A tmpfs of `mb` megabytes, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(mb: u32) -> anyhow::Result<Tmpfs> {
        let dir = tempfile::tempdir()?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mb}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .context("running mount")?;
        if !status.success() {
            bail!("could not mount a tmpfs ({status}): this test needs root, as scripts/test.sh runs in CI");
        }
        Ok(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// Writes a file until the disk refuses another byte.
fn fill(dir: &Path) -> anyhow::Result<PathBuf> {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path)?;
    for chunk in [1 << 20, 4096, 1] {
        let block = vec![0u8; chunk];
        while file.write_all(&block).and_then(|_| file.flush()).is_ok() {}
    }
    let _ = file.sync_all();
    Ok(path)
}

async fn ready(base: &str) -> anyhow::Result<(u16, Value)> {
    e2e::readiness(base).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_acknowledgements_and_they_resume_when_space_returns() -> anyhow::Result<()> {
    let disk = Tmpfs::mount(32)?;
    let mut config = test_config(&disk.path().join("data"));
    config.server.min_free_disk_mb = 1;
    let app = spawn_app_with(config, Clock::system()).await?;
    let (status, body) = ready(&app.base()).await?;
    ensure!(status == 200 && body["disk"] == true, "ready before: {status} {body}");

    let (mut visitor, _) = Visitor::open(&app.ws_url(), None).await?;
    let first = visitor.message("before", "La presse 2 affiche l'alarme E-12").await?;
    ensure!(first["type"] == "ack", "{first}");
    let conversation = e2e::ticket_id(&first["conversation"]);

    let filler = fill(disk.path())?;
    let (status, body) = ready(&app.base()).await?;
    ensure!(
        status == 503 && body["disk"] == false,
        "not ready on a full disk: {status} {body}"
    );

    // Space the store had already taken may still hold a few commits; then a
    // message is refused, clearly, and nothing of it is stored.
    let mut acked = vec!["before".to_string()];
    let mut refused = None;
    for n in 0..3000 {
        let client_id = format!("full-{n}");
        visitor
            .send_json(&json!({"type": "message", "client_id": client_id, "text": format!("Message {n} pendant la saturation")}))
            .await?;
        let frame = loop {
            let f = visitor.next().await?;
            if f["type"] == "ack" || f["type"] == "error" {
                break f;
            }
        };
        if frame["type"] == "ack" {
            acked.push(client_id);
            continue;
        }
        ensure!(frame["code"] == "storage_full", "refused with {frame}");
        ensure!(frame["client_id"] == client_id.as_str(), "{frame}");
        ensure!(
            frame["message"].as_str().is_some_and(|m| m.contains("storage is full")),
            "a clear message: {frame}"
        );
        refused = Some(client_id);
        break;
    }
    let refused = refused.context("no message was refused on a full disk")?;

    // Space returns: ready again, and the refused message goes through once.
    std::fs::remove_file(&filler)?;
    let (status, body) = ready(&app.base()).await?;
    ensure!(status == 200 && body["disk"] == true, "ready after: {status} {body}");
    let mut retried = None;
    for _ in 0..50 {
        let frame = visitor.message(&refused, "Message renvoyé après la saturation").await;
        match frame {
            Ok(f) if f["type"] == "ack" => {
                retried = Some(f);
                break;
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    let retried = retried.context("the refused message is not taken once space returned")?;
    ensure!(
        retried["duplicate"] == false,
        "it had not been stored before: {retried}"
    );
    acked.push(refused.clone());
    let after = visitor.message("after", "Tout est reparti").await?;
    ensure!(after["type"] == "ack", "{after}");
    acked.push("after".into());
    visitor.close().await;

    // Exactly what was acknowledged is stored, once each.
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let detail = agent.ok(&format!("/api/v1/conversations/{conversation}")).await?;
    let mut stored: Vec<String> = detail["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["direction"] == "in")
        .filter_map(|m| m["client_id"].as_str().map(str::to_string))
        .collect();
    stored.sort();
    acked.sort();
    ensure!(stored == acked, "stored {stored:?}\nacknowledged {acked:?}");
    app.stop().await;
    Ok(())
}
