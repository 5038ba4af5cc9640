//! Browser flows: Debian's chromium driven by node and npm's playwright-core
//! (`tests/browser/*.test.mjs`) against a gateway the Rust test started.
//! Node, chromium and the npm package are installed by `scripts/test.sh`;
//! missing ones fail the test, they never skip it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::ADMIN_PASSWORD;

/// How long one file of flows may take.
const FLOWS_TIMEOUT: Duration = Duration::from_secs(300);

pub fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

pub fn artifacts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser")
}

pub fn chromium() -> String {
    std::env::var("SWITCHYARD_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Node, chromium and playwright-core, or a clear error saying how to get them.
pub fn check_prerequisites() -> anyhow::Result<()> {
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        bail!("node is not installed: run scripts/test.sh (it installs Debian's nodejs and npm)");
    }
    if !Path::new(&chromium()).exists() {
        bail!(
            "{} is missing: run scripts/test.sh (it installs Debian's chromium)",
            chromium()
        );
    }
    if !browser_dir().join("node_modules/playwright-core").exists() {
        bail!("playwright-core is not installed: run scripts/test.sh or `npm ci --prefix tests/browser`");
    }
    Ok(())
}

/// Runs one file of browser flows with node against the gateway at `base`
/// (the admin's credentials and Chromium always given); fails with node's report.
pub async fn run_flows(file: &str, base: &str, env: &[(&str, &str)]) -> anyhow::Result<()> {
    // The report goes to a file as it is written, so a run that hangs still
    // says how far it got.
    let log = artifacts_dir().join(format!("{file}.log"));
    std::fs::create_dir_all(artifacts_dir())?;
    let out = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
    let err = out.try_clone()?;
    let mut node = tokio::process::Command::new("node");
    node.args(["--test", "--test-concurrency=1", "--test-reporter=spec", file])
        .current_dir(browser_dir())
        .env("SY_BASE", base)
        .env("SY_ARTIFACTS", artifacts_dir())
        .env("SY_CHROMIUM", chromium())
        .env("SY_ADMIN_USER", "admin")
        .env("SY_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .kill_on_drop(true);
    let mut child = node.spawn().context("starting node")?;
    let status = tokio::time::timeout(FLOWS_TIMEOUT, child.wait()).await;
    let report = std::fs::read_to_string(&log).unwrap_or_default();
    println!("{report}");
    match status {
        Err(_) => bail!("{file} did not finish within 5 minutes:\n{report}"),
        Ok(status) => {
            let status = status.context("waiting for node")?;
            if !status.success() {
                bail!("{file} failed ({status}):\n{report}");
            }
        }
    }
    Ok(())
}
