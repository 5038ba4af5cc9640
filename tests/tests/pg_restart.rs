//! PostgreSQL restarted under load: a private cluster (initdb on a free port,
//! `synchronous_commit` on, as a production server would be) under a gateway
//! with chat visitors writing as fast as they are acknowledged. The cluster is
//! stopped with `-m immediate` (a crash) and started again. While it is down
//! the visitors get a clean `store_unavailable` error frame and `/readyz`
//! says not ready; afterwards every visitor is acknowledged again, and every
//! message acknowledged before, during or after is stored exactly once.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use e2e::{ADMIN_PASSWORD, AgentClient, Visitor, spawn_app_with, test_config};
use gateway::clock::Clock;
use serde_json::json;

/// The newest Debian PostgreSQL's programs (`scripts/test.sh` installs the package).
fn bin() -> anyhow::Result<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .context("/usr/lib/postgresql is missing: scripts/test.sh installs PostgreSQL")?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, p)| p)
        .context("no PostgreSQL under /usr/lib/postgresql")
}
const VISITORS: usize = 4;

/// A PostgreSQL cluster of this test's own, stopped when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
}

/// `postgres` runs the cluster when the test runs as root (initdb refuses root).
fn as_owner(program: &str) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", program]);
        c
    } else {
        Command::new(program)
    }
}

impl Cluster {
    fn start() -> anyhow::Result<Cluster> {
        let bin = bin()?;
        let initdb = bin.join("initdb");
        if !initdb.exists() {
            bail!("{} is missing: scripts/test.sh installs PostgreSQL", initdb.display());
        }
        let initdb = initdb.to_string_lossy().into_owned();
        let dir = tempfile::tempdir()?;
        let _ = Command::new("chown").args(["postgres:"]).arg(dir.path()).status();
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let status = as_owner(&initdb)
            .args(["-D"])
            .arg(dir.path().join("data"))
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
            .stdout(std::process::Stdio::null())
            .status()
            .context("initdb")?;
        ensure!(status.success(), "initdb failed: {status}");
        let cluster = Cluster { dir, port, bin };
        cluster.pg_ctl(&["start", "-w"])?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn pg_ctl(&self, args: &[&str]) -> anyhow::Result<()> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=100",
            self.port,
            self.dir.path().display()
        );
        let status = as_owner(&self.bin.join("pg_ctl").to_string_lossy())
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(["-o", &options])
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .context("pg_ctl")?;
        ensure!(status.success(), "pg_ctl {args:?}: {status}");
        Ok(())
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["stop", "-m", "immediate"]);
    }
}

#[derive(Default)]
struct Seen {
    acked: Vec<String>,
    /// Error frames by code.
    errors: HashMap<String, usize>,
    /// Acknowledgements that came after the restart, per visitor.
    after_restart: Vec<usize>,
}

/// A visitor that sends one message after the other, sending a refused one
/// again (same client id) as the widget does, until `stop`.
async fn visitor(
    ws: String,
    v: usize,
    seen: Arc<Mutex<Seen>>,
    restarted: Arc<std::sync::atomic::AtomicBool>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> anyhow::Result<()> {
    use std::sync::atomic::Ordering;
    let (mut chat, _) = Visitor::open(&ws, None).await?;
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let client_id = format!("v{v}-{n}");
        chat.send_json(
            &json!({"type": "message", "client_id": client_id, "text": format!("Message {n} : la ligne 1 ralentit")}),
        )
        .await?;
        let frame = loop {
            // While the server is down each batch waits up to the store's 5 s
            // connection timeout before refusing, and a message can queue
            // behind one such batch: its answer may take twice that.
            let f = chat.next_within(Duration::from_secs(20)).await?;
            if f["type"] == "ack" || f["type"] == "error" {
                break f;
            }
        };
        let acked = frame["type"] == "ack";
        {
            let mut s = seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if acked {
                s.acked.push(client_id);
                if restarted.load(Ordering::Relaxed) {
                    s.after_restart.push(v);
                }
            } else {
                *s.errors
                    .entry(frame["code"].as_str().unwrap_or("?").to_string())
                    .or_insert(0) += 1;
            }
        }
        if acked {
            n += 1;
        } else {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    chat.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_under_load_fails_cleanly_and_loses_nothing() -> anyhow::Result<()> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let cluster = Cluster::start()?;
    let dir = tempfile::tempdir()?;
    let mut config = test_config(dir.path());
    config.store.url = gateway::config::Secret::new(cluster.url());
    let app = spawn_app_with(config, Clock::system()).await?;

    let seen = Arc::new(Mutex::new(Seen::default()));
    let restarted = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..VISITORS)
        .map(|v| tokio::spawn(visitor(app.ws_url(), v, seen.clone(), restarted.clone(), stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;

    // A crash of the database server, under load.
    cluster.pg_ctl(&["stop", "-m", "immediate"])?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body) = e2e::readiness(&app.base()).await?;
    ensure!(
        status == 503 && body["store"] == false,
        "not ready while PostgreSQL is down: {status} {body}"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    cluster.pg_ctl(&["start", "-w"])?;
    restarted.store(true, Ordering::Relaxed);

    // Every visitor is acknowledged again.
    let mut recovered = false;
    for _ in 0..200 {
        let after = seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .after_restart
            .clone();
        if (0..VISITORS).all(|v| after.iter().filter(|x| **x == v).count() >= 5) {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await
            .context("a visitor task panicked")?
            .context("a visitor's socket failed")?;
    }
    let (acked, errors) = {
        let s = seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        (s.acked.clone(), s.errors.clone())
    };
    ensure!(
        recovered,
        "not every visitor was acknowledged again after the restart; errors {errors:?}"
    );
    let (status, _) = e2e::readiness(&app.base()).await?;
    ensure!(status == 200, "ready again after the restart");
    // While it was down: clean refusals the widget retries, nothing else.
    ensure!(
        errors.keys().all(|code| code == "store_unavailable"),
        "error frames while PostgreSQL was down: {errors:?}"
    );
    ensure!(!errors.is_empty(), "no message was refused while PostgreSQL was down");

    // Exactly what was acknowledged is stored, once each.
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let list = agent.ok("/api/v1/conversations?limit=1000").await?;
    let mut stored: Vec<String> = Vec::new();
    for c in list["conversations"].as_array().into_iter().flatten() {
        let id = c["id"].as_i64().context("id")?;
        let detail = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
        stored.extend(
            detail["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|m| m["direction"] == "in")
                .filter_map(|m| m["client_id"].as_str().map(str::to_string)),
        );
    }
    let mut acked_sorted = acked.clone();
    acked_sorted.sort();
    stored.sort();
    ensure!(
        stored == acked_sorted,
        "{} stored, {} acknowledged",
        stored.len(),
        acked.len()
    );
    println!(
        "PostgreSQL crash and restart under load: {} messages acknowledged and stored once each; refused while down: {errors:?}",
        acked.len()
    );
    app.stop().await;
    Ok(())
}
