//! What an admin saves in the inbox on one node — the triage rules, the
//! published knowledge, the service levels, the customer directory — put in
//! force on the other nodes of the same PostgreSQL within seconds. Each node
//! polls the store; what it reads is small (the latest rule version, two
//! settings rows, the published entries), and only what differs from what
//! it saw last is applied again. Canned replies and the queue list are read
//! from the store on every request and need nothing. One node on SQLite has
//! nobody to follow: this runs on PostgreSQL only.

use std::time::Duration;

use tokio::sync::watch;

use crate::state::AppState;
use crate::store::StoreError;

/// How often a node looks for settings saved on another.
pub const EVERY: Duration = Duration::from_secs(2);

/// What the store held at the last look. `None`: not looked yet, so the
/// first look applies everything (a change saved elsewhere while this node
/// was starting is not missed).
#[derive(Default)]
pub struct SettingsSync {
    rules: Option<Option<i64>>,
    accounts: Option<Option<String>>,
    sla: Option<Option<String>>,
    published: Option<Vec<(String, String)>>,
}

/// `now` if it differs from what was seen last, which becomes `now`.
fn changed<T: PartialEq + Clone>(seen: &mut Option<T>, now: T) -> Option<T> {
    if seen.as_ref() == Some(&now) {
        return None;
    }
    *seen = Some(now.clone());
    Some(now)
}

impl SettingsSync {
    pub async fn run(mut self, state: AppState, mut shutdown: watch::Receiver<bool>) {
        loop {
            if let Err(e) = self.follow(&state).await {
                tracing::warn!(error = %e, "could not read the settings saved in the inbox");
            }
            tokio::select! {
                _ = crate::state::stopping(&mut shutdown) => return,
                _ = tokio::time::sleep(EVERY) => {}
            }
        }
    }

    /// One look at the store; each change found is put in force.
    pub async fn follow(&mut self, state: &AppState) -> Result<(), StoreError> {
        let store = &state.store;
        let latest = store.rule_version_latest().await?;
        if changed(&mut self.rules, latest.as_ref().map(|v| v.id)).is_some() {
            let edited = latest.and_then(|v| v.source.map(|s| (v.id, s)));
            let triage = state.triage.clone();
            match tokio::task::spawn_blocking(move || triage.set_rules(edited)).await {
                Ok(Ok(())) => tracing::info!("triage rules saved on another node put in force"),
                Ok(Err(e)) => tracing::warn!(error = %e, "rules saved on another node do not load here"),
                Err(e) => tracing::warn!(error = %e, "loading rules saved on another node"),
            }
        }
        let published = store.knowledge_published().await?;
        if let Some(published) = changed(&mut self.published, published) {
            let triage = state.triage.clone();
            match tokio::task::spawn_blocking(move || triage.set_published(published)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "knowledge published on another node does not load here"),
                Err(e) => tracing::warn!(error = %e, "loading knowledge published on another node"),
            }
        }
        let accounts = store.setting(crate::api::lists::ACCOUNTS_KEY).await?;
        if let Some(saved) = changed(&mut self.accounts, accounts) {
            let list = match saved {
                Some(json) => serde_json::from_str::<Vec<crate::config::AccountConfig>>(&json)
                    .map_err(|e| tracing::warn!(error = %e, "the accounts saved in the inbox do not read"))
                    .ok(),
                None => Some(state.config.accounts.clone()),
            };
            if let Some(list) = list {
                state.triage.set_directory(crate::triage_service::Directory::new(&list));
            }
        }
        let sla = store.setting(crate::sla::edit::SETTING_KEY).await?;
        if let Some(saved) = changed(&mut self.sla, sla) {
            let config = match saved {
                Some(json) => serde_json::from_str::<crate::sla::edit::SlaEdit>(&json)
                    .map(|edit| edit.applied_to(&state.config.sla))
                    .map_err(|e| tracing::warn!(error = %e, "the service levels saved in the inbox do not read"))
                    .ok(),
                None => Some(state.config.sla.clone()),
            };
            if let Some(config) = config {
                match crate::sla::edit::compile(&config, &state.config.escalation.on_call_calendar) {
                    Ok(policies) => state.sla.replace(config, policies),
                    Err(e) => tracing::warn!(error = %e, "service levels saved on another node do not load here"),
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_look_applies_and_the_same_value_is_applied_once() {
        let mut seen: Option<Option<i64>> = None;
        assert_eq!(
            changed(&mut seen, None),
            Some(None),
            "nothing saved: the file's, applied once"
        );
        assert_eq!(changed(&mut seen, None), None);
        assert_eq!(changed(&mut seen, Some(3)), Some(Some(3)));
        assert_eq!(changed(&mut seen, Some(3)), None);
        assert_eq!(changed(&mut seen, None), Some(None), "back to the file");
    }
}
