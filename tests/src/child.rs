use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

/// The real binary as a child process, for tests that kill it.
pub struct ChildServer {
    child: Child,
    pub port: u16,
    pub data_dir: PathBuf,
}

impl ChildServer {
    /// Starts `binary serve` on a free port and waits for `/healthz`.
    pub async fn start(binary: &str, data_dir: &Path) -> anyhow::Result<ChildServer> {
        Self::start_with_env(binary, data_dir, &[]).await
    }

    /// The same, with extra `SWITCHYARD__…` settings.
    pub async fn start_with_env(binary: &str, data_dir: &Path, env: &[(&str, String)]) -> anyhow::Result<ChildServer> {
        Self::start_full(binary, data_dir, env, None).await
    }

    /// The same, with a configuration file.
    pub async fn start_with_config(binary: &str, data_dir: &Path, config: &Path) -> anyhow::Result<ChildServer> {
        Self::start_full(binary, data_dir, &[], Some(config)).await
    }

    /// The same, with its log (at `info`) written to `log` instead of the test's stderr.
    pub async fn start_logging_to(
        binary: &str,
        data_dir: &Path,
        env: &[(&str, String)],
        log: &Path,
    ) -> anyhow::Result<ChildServer> {
        let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut env = env.to_vec();
        env.push(("SWITCHYARD_LOG", "info".to_string()));
        Self::start_inner(binary, data_dir, &env, None, Stdio::from(file)).await
    }

    async fn start_full(
        binary: &str,
        data_dir: &Path,
        env: &[(&str, String)],
        config: Option<&Path>,
    ) -> anyhow::Result<ChildServer> {
        Self::start_inner(binary, data_dir, env, config, Stdio::inherit()).await
    }

    async fn start_inner(
        binary: &str,
        data_dir: &Path,
        env: &[(&str, String)],
        config: Option<&Path>,
        stderr: Stdio,
    ) -> anyhow::Result<ChildServer> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut command = Command::new(binary);
        command.arg("serve");
        if let Some(config) = config {
            command.arg("--config").arg(config);
        }
        let child = command
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("SWITCHYARD__AUTH__ADMIN_PASSWORD", crate::ADMIN_PASSWORD)
            .env("SWITCHYARD__SERVER__HEALTH_TOKEN", crate::HEALTH_TOKEN)
            .env("SWITCHYARD_LOG", "warn")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("starting {binary}"))?;
        let mut server = ChildServer {
            child,
            port,
            data_dir: data_dir.to_path_buf(),
        };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = client.get(format!("{}/healthz", server.base())).send().await
                && r.status().is_success()
            {
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                bail!("server exited early: {status}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server.kill();
        bail!("server did not answer /healthz within 10 s")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws/chat", self.port)
    }

    /// SIGKILL: no shutdown code runs, like a power cut of the process.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        self.kill();
    }
}
