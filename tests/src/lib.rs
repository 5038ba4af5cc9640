//! Test harness: a gateway on a free port with a fresh data directory, either
//! in-process ([`spawn_app`]) or as a child process that can be killed
//! ([`ChildServer`]), plus an agent HTTP client and a visitor websocket client.

mod agent;
pub mod browser;
mod child;
pub mod contract;
pub mod graph_stub;
pub mod mail;
pub mod mail_bench;
pub mod oauth_server;
pub mod pdf;
pub mod postgres;
pub mod translate_bench;
pub mod translate_stub;
mod visitor;
pub mod wa;
pub mod webhook;

use std::net::SocketAddr;
use std::path::PathBuf;

use gateway::clock::Clock;
use gateway::config::{Config, Secret};
use gateway::server::Gateway;
use tokio::sync::oneshot;

pub use agent::{AgentClient, Download, EventSocket, next_event};
pub use child::ChildServer;
pub use visitor::Visitor;

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
/// Shows `/readyz` details (`server.health_token`) to the tests and the load generator.
pub const HEALTH_TOKEN: &str = "health-token-for-tests";

/// Paris local time as Unix ms (0 for a time that does not exist there).
pub fn paris(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
    use chrono::TimeZone;
    chrono_tz::Europe::Paris
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .map(|t| t.timestamp_millis())
        .unwrap_or_default()
}

/// The test configuration with an office calendar (weekdays 08:00–12:00 and
/// 13:30–17:30 in Paris, Christmas 2026 off) and service levels: important
/// answered within 2 business hours (resolved within 16), critical within 15
/// minutes around the clock (resolved within 4 hours).
pub fn office_sla_config(data_dir: &std::path::Path) -> Config {
    use gateway::config::{CalendarConfig, SlaPolicyConfig};
    let mut c = test_config(data_dir);
    let slots = vec!["08:00-12:00".to_string(), "13:30-17:30".to_string()];
    c.sla.calendars = vec![CalendarConfig {
        name: "office".into(),
        time_zone: "Europe/Paris".into(),
        monday: slots.clone(),
        tuesday: slots.clone(),
        wednesday: slots.clone(),
        thursday: slots.clone(),
        friday: slots,
        holidays: vec!["2026-12-25".into()],
        ..Default::default()
    }];
    c.sla.policies = vec![
        SlaPolicyConfig {
            priority: "important".into(),
            calendar: "office".into(),
            first_response_minutes: 120,
            next_response_minutes: 240,
            resolution_minutes: 960,
        },
        SlaPolicyConfig {
            priority: "critical".into(),
            calendar: "always".into(),
            first_response_minutes: 15,
            next_response_minutes: 30,
            resolution_minutes: 240,
        },
    ];
    c
}

/// `/readyz` with its details, as monitoring sees it.
pub async fn readiness(base: &str) -> anyhow::Result<(u16, serde_json::Value)> {
    let r = reqwest::Client::new()
        .get(format!("{base}/readyz"))
        .bearer_auth(HEALTH_TOKEN)
        .send()
        .await?;
    let status = r.status().as_u16();
    Ok((status, r.json().await?))
}

pub struct TestApp {
    pub addr: SocketAddr,
    /// The running gateway's state: its pipeline, store and clock, for
    /// feeding it messages the way a channel adapter would.
    pub state: gateway::state::AppState,
    pub data_dir: PathBuf,
    /// The one-time admin password, when the configuration set none.
    pub generated_admin_password: Option<String>,
    _dir: Option<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws/chat", self.addr)
    }

    /// Graceful stop; the data directory stays for a restart.
    pub async fn stop(self) -> (PathBuf, Option<tempfile::TempDir>) {
        let TestApp {
            state,
            data_dir,
            _dir,
            stop,
            task,
            ..
        } = self;
        // The committer ends when the last pipeline handle is gone: this
        // state's is one (held, the gateway would wait its full grace period).
        drop(state);
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        if let Some(task) = task {
            let _ = task.await;
        }
        (data_dir, _dir)
    }
}

/// Test configuration: temp data dir, known admin password, small limits.
pub fn test_config(data_dir: &std::path::Path) -> Config {
    let mut config = Config::default();
    config.server.data_dir = data_dir.to_path_buf();
    config.server.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.server.max_upload_bytes = 1024 * 1024;
    config.auth.admin_password = Secret::new(ADMIN_PASSWORD);
    config.server.health_token = Secret::new(HEALTH_TOKEN);
    // Every test visitor comes from 127.0.0.1: the abuse limits are tested on their own.
    config.webchat.limits = gateway::webchat::LimitsConfig::unlimited();
    config
}

pub async fn spawn_app() -> anyhow::Result<TestApp> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().to_path_buf();
    let mut app = spawn_app_with(test_config(&path), Clock::system()).await?;
    app._dir = Some(dir);
    Ok(app)
}

/// The same gateway on a fresh PostgreSQL database; drop it with [`TestDatabase::drop_database`].
pub async fn spawn_app_pg() -> anyhow::Result<(TestApp, postgres::TestDatabase)> {
    let db = postgres::TestDatabase::create().await?;
    let dir = tempfile::tempdir()?;
    let mut config = test_config(dir.path());
    config.store.url = Secret::new(db.url.clone());
    let mut app = spawn_app_with(config, Clock::system()).await?;
    app._dir = Some(dir);
    Ok((app, db))
}

pub async fn spawn_app_with(mut config: Config, clock: Clock) -> anyhow::Result<TestApp> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    // Links the gateway hands out (mail answers, OAuth redirects) point at this test server.
    if config.server.public_url.is_empty() {
        config.server.public_url = format!("http://{addr}");
    }
    let data_dir = config.server.data_dir.clone();
    let gateway = Gateway::start(config, clock).await?;
    let state = gateway.state.clone();
    let generated_admin_password = gateway.generated_admin_password.clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(gateway.serve(listener, async {
        let _ = stopped.await;
    }));
    Ok(TestApp {
        addr,
        state,
        data_dir,
        generated_admin_password,
        _dir: None,
        stop: Some(stop),
        task: Some(task),
    })
}

/// The conversation id in a ticket reference (`"SY-42"` → 42), or -1.
pub fn ticket_id(ticket: &serde_json::Value) -> i64 {
    ticket
        .as_str()
        .and_then(|t| t.strip_prefix("SY-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(-1)
}

/// An email as the pipeline receives it, for tests that submit directly.
pub fn inbound_email(external_id: &str, from: &str, subject: &str, text: &str) -> channels::Inbound {
    let mut mail = channels::Inbound::text(channels::ChannelKind::Email, "sav", external_id, from, text);
    mail.subject = Some(subject.into());
    mail
}
