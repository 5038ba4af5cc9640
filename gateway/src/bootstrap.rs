//! First start: with no agent at all, create `admin`.

use anyhow::Context;

use crate::auth::{hash_password, new_secret};
use crate::clock::Clock;
use crate::config::Config;
use crate::store::Store;

/// Creates the admin account if there is no agent yet. Returns the password
/// when it was generated, so the caller can show it once.
pub async fn ensure_admin(store: &Store, config: &Config, clock: &Clock) -> anyhow::Result<Option<String>> {
    if store.agent_count().await.context("counting agents")? > 0 {
        return Ok(None);
    }
    let configured = config.auth.admin_password.expose();
    let (password, generated) = if configured.is_empty() {
        (new_secret()[..20].to_string(), true)
    } else {
        (configured.to_string(), false)
    };
    let to_hash = password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&to_hash))
        .await
        .context("hashing the admin password")?
        .map_err(anyhow::Error::msg)?;
    store
        .agent_create("admin", "Administrator", &hash, "admin", generated, clock.now_ms())
        .await
        .context("creating the admin account")?;
    tracing::info!(generated, "created the admin account");
    Ok(generated.then_some(password))
}
