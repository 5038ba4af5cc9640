//! `switchyard agents add | list | disable`: the first accounts without the
//! API, on the store the configuration names (the gateway may be running).
//! Each change is written to the audit log like the API's, with no agent
//! and no client address: the command line did it.

use std::io::Write;

use anyhow::Context;
use serde_json::json;

use crate::auth::accounts;
use crate::clock::Clock;
use crate::config::Config;
use crate::ids::AgentId;
use crate::store::Store;
use crate::store::audit::Audit;

/// Open conversations an agent holds at once unless told otherwise (the store's default).
const DEFAULT_MAX_OPEN: i64 = 5;

/// What `agents add` was asked for.
pub struct NewAccount {
    pub username: String,
    pub display_name: Option<String>,
    pub role: String,
    pub queues: Vec<String>,
    pub max_open: Option<i64>,
    /// `None`: a one-time password is generated, printed once and must be changed at the first sign-in.
    pub password: Option<String>,
}

async fn open(config: &Config) -> anyhow::Result<Store> {
    Store::open(&config.store_url(), 2)
        .await
        .context("opening the store the configuration names")
}

async fn audit(store: &Store, action: &str, subject: &str, detail: serde_json::Value) -> anyhow::Result<()> {
    let entry = Audit {
        agent: None,
        client: None,
        action,
        subject,
        detail,
    };
    store
        .record_audit(&entry, Clock::system().now_ms())
        .await
        .context("writing the audit log")
}

pub async fn add(config: &Config, new: NewAccount, out: &mut impl Write) -> anyhow::Result<()> {
    let username = new.username.trim().to_string();
    let (password, generated) = match new.password {
        Some(p) => (p, false),
        None => (crate::auth::new_secret()[..20].to_string(), true),
    };
    accounts::check_new_account(&username, &new.role, &password)
        .map_err(|e| anyhow::anyhow!("{}: {e}", e.code.replace('_', " ")))?;
    if let Some(q) = new.queues.iter().find(|q| q.trim().is_empty() || q.len() > 64) {
        anyhow::bail!("queue names are 1 to 64 characters: {q:?}");
    }
    if new.max_open.is_some_and(|m| !(0..=1000).contains(&m)) {
        anyhow::bail!("--max-open is 0 to 1000");
    }
    let store = open(config).await?;
    if store.agent_by_username(&username).await?.is_some() {
        anyhow::bail!("{username} already exists");
    }
    let hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&password).map(|h| (h, password)))
        .await
        .context("hashing the password")?
        .map_err(anyhow::Error::msg)?;
    let (hash, password) = hash;
    let display_name = new.display_name.unwrap_or_else(|| username.clone());
    let id = store
        .agent_create(
            &username,
            display_name.trim(),
            &hash,
            &new.role,
            generated,
            Clock::system().now_ms(),
        )
        .await?;
    if !new.queues.is_empty() || new.max_open.is_some() {
        let max_open = new.max_open.unwrap_or(DEFAULT_MAX_OPEN);
        store.set_agent_dispatch(id, &new.queues, max_open).await?;
    }
    audit(
        &store,
        "agent_created",
        &format!("agent:{id}"),
        json!({"username": username, "role": new.role, "by": "command line"}),
    )
    .await?;
    writeln!(out, "created {username} ({}), id {id}", new.role)?;
    if generated {
        // Shown once, on purpose: it is the new agent's only way in.
        writeln!(
            out,
            "one-time password: {password}\n(they choose their own at the first sign-in at {}/inbox)",
            config.server.public_url()
        )?;
    }
    Ok(())
}

pub async fn list(config: &Config, out: &mut impl Write) -> anyhow::Result<()> {
    let store = open(config).await?;
    writeln!(
        out,
        "{:<6} {:<24} {:<11} {:<9} {:<30} name",
        "id", "username", "role", "state", "queues"
    )?;
    for a in store.agent_list().await? {
        let queues = store.agent_queues(AgentId(a.id)).await?;
        let state = if a.disabled != 0 {
            "disabled"
        } else if a.must_change_password != 0 {
            "invited"
        } else {
            "active"
        };
        writeln!(
            out,
            "{:<6} {:<24} {:<11} {:<9} {:<30} {}",
            a.id,
            a.username,
            a.role,
            state,
            if queues.is_empty() {
                "-".to_string()
            } else {
                queues.join(",")
            },
            a.display_name
        )?;
    }
    Ok(())
}

/// Disables an account: its sessions are deleted (its open inbox signs out
/// within a minute) and it cannot sign in again.
pub async fn disable(config: &Config, username: &str, out: &mut impl Write) -> anyhow::Result<()> {
    let store = open(config).await?;
    let agent = store
        .agent_by_username(username)
        .await?
        .with_context(|| format!("no account named {username}"))?;
    if agent.role == "admin" {
        let admins = store
            .agent_list()
            .await?
            .iter()
            .filter(|a| a.role == "admin" && a.disabled == 0 && a.id != agent.id)
            .count();
        if admins == 0 {
            anyhow::bail!("{username} is the last active admin: nobody could sign in to undo this");
        }
    }
    store
        .agent_set_disabled(AgentId(agent.id), true, Clock::system().now_ms())
        .await?;
    audit(
        &store,
        "agent_disabled",
        &format!("agent:{}", agent.id),
        json!({"username": username, "by": "command line"}),
    )
    .await?;
    writeln!(out, "disabled {username}")?;
    Ok(())
}
