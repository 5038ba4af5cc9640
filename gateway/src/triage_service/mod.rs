//! The gateway's side of triage: loads the rule file and knowledge base,
//! reloads them when they change (or on SIGHUP) only if they validate, knows
//! the customer directory and the business hours.
//!
//! Invariant: a file that does not validate never replaces a working engine;
//! its errors are logged and shown to admins (`GET /api/v1/admin/triage`).

mod accounts;
mod hours;
mod loader;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use triage::Engine;

pub use accounts::Directory;
pub use hours::BusinessHours;
use loader::Fingerprint;
pub use loader::load as load_engine;

use crate::clock::Clock;
use crate::config::TriageConfig;

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct TriageStatus {
    /// Where the rules came from: a path, or "built-in".
    pub rules_source: String,
    pub kb_source: String,
    pub loaded_at: i64,
    pub rules: usize,
    pub keyword_phrases: usize,
    pub regexes: usize,
    pub kb_entries: usize,
    /// The last reload that failed, if the current engine is older than it.
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    /// Reloads since the start that put new rules in force, and those refused.
    pub reloads: u64,
    pub failed_reloads: u64,
}

pub struct TriageService {
    config: TriageConfig,
    engine: RwLock<Arc<Engine>>,
    status: RwLock<TriageStatus>,
    fingerprint: RwLock<Fingerprint>,
    reloading: std::sync::Mutex<()>,
    /// Knowledge entries published from the inbox, as `(name, Markdown source)`.
    published: RwLock<Vec<(String, String)>>,
    /// Rules saved in the inbox, in force instead of the file's: `(version, source)`.
    edited: RwLock<Option<(i64, String)>>,
    directory: RwLock<Arc<Directory>>,
    pub hours: BusinessHours,
    clock: Clock,
}

impl TriageService {
    /// Loads everything; at start-up a broken file is an error (nothing to fall back on).
    /// `published`: the knowledge entries published from the inbox;
    /// `edited`: the rules version saved in the inbox, if one is in force.
    pub fn start(
        config: &TriageConfig,
        directory: Directory,
        clock: Clock,
        published: Vec<(String, String)>,
        edited: Option<(i64, String)>,
    ) -> anyhow::Result<Arc<TriageService>> {
        let hours = BusinessHours::parse(config).map_err(anyhow::Error::msg)?;
        let fingerprint = loader::fingerprint(config);
        let engine = loader::load_with(config, edited.as_ref().map(|(_, s)| s.as_str()), &published)
            .map_err(anyhow::Error::msg)?;
        let service = TriageService {
            config: config.clone(),
            status: RwLock::new(TriageStatus::default()),
            engine: RwLock::new(Arc::new(engine)),
            fingerprint: RwLock::new(fingerprint),
            reloading: std::sync::Mutex::new(()),
            published: RwLock::new(published),
            edited: RwLock::new(edited),
            directory: RwLock::new(Arc::new(directory)),
            hours,
            clock,
        };
        service.record_loaded(false);
        Ok(Arc::new(service))
    }

    /// The engine to classify with now.
    pub fn engine(&self) -> Arc<Engine> {
        self.engine
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn status(&self) -> TriageStatus {
        self.status
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The customer directory in force (accounts and their tier).
    pub fn directory(&self) -> Arc<Directory> {
        self.directory
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Puts another directory in force (accounts saved in the inbox).
    pub fn set_directory(&self, directory: Directory) {
        *self
            .directory
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(directory);
    }

    pub fn default_language(&self) -> &str {
        &self.config.default_language
    }

    /// Reads the files again; the new engine replaces the old one only if it
    /// validates. Blocking (files, compilation): call it off the async runtime.
    /// Reloads run one at a time, so a burst of them uses one core, not all.
    pub fn reload(&self) -> Result<(), String> {
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let fingerprint = loader::fingerprint(&self.config);
        *self
            .fingerprint
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = fingerprint;
        let published = self
            .published
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let edited = self.edited_source();
        match loader::load_with(&self.config, edited.as_deref(), &published) {
            Ok(engine) => {
                *self.engine.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(engine);
                self.record_loaded(true);
                tracing::info!(rules = self.status().rules, "triage rules reloaded");
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, "triage rules not reloaded: the running rules stay in force");
                let mut status = self.status.write().unwrap_or_else(std::sync::PoisonError::into_inner);
                status.last_error = Some(e.clone());
                status.last_error_at = Some(self.clock.now_ms());
                status.failed_reloads += 1;
                Err(e)
            }
        }
    }

    /// Replaces the published knowledge entries; the engine that answers
    /// with them is in force when this returns. Entries that do not validate
    /// change nothing and say why. Blocking: call it off the async runtime.
    pub fn set_published(&self, published: Vec<(String, String)>) -> Result<(), String> {
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let edited = self.edited_source();
        let engine = loader::load_with(&self.config, edited.as_deref(), &published)?;
        *self
            .published
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = published;
        *self.engine.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(engine);
        self.record_loaded(true);
        Ok(())
    }

    fn edited_source(&self) -> Option<String> {
        self.edited
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|(_, s)| s.clone())
    }

    /// Puts rules saved in the inbox in force (`None`: the configured file's
    /// again); nothing changes if they do not compile. Blocking: call it off
    /// the async runtime.
    pub fn set_rules(&self, edited: Option<(i64, String)>) -> Result<(), String> {
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let published = self
            .published
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let engine = loader::load_with(&self.config, edited.as_ref().map(|(_, s)| s.as_str()), &published)?;
        *self.edited.write().unwrap_or_else(std::sync::PoisonError::into_inner) = edited;
        *self.engine.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(engine);
        self.record_loaded(true);
        Ok(())
    }

    /// An engine with `source` as its rules and today's knowledge base, to
    /// try a draft on a message before saving it.
    pub fn draft(&self, source: &str) -> Result<Engine, triage::RuleErrors> {
        let rules = triage::RuleSet::parse(source)?;
        Ok(Engine::new(rules, self.engine().knowledge_base().clone()))
    }

    /// The rule file's text in force now, and where it comes from.
    pub fn rules_text(&self) -> Result<(String, String), String> {
        if let Some((version, source)) = self
            .edited
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
        {
            return Ok((source, format!("inbox version {version}")));
        }
        if self.config.rules.as_os_str().is_empty() {
            return Ok((triage::rules::DEFAULT_RULES.to_string(), "built-in".into()));
        }
        let text =
            std::fs::read_to_string(&self.config.rules).map_err(|e| format!("{}: {e}", self.config.rules.display()))?;
        Ok((text, self.config.rules.display().to_string()))
    }

    fn record_loaded(&self, reloaded: bool) {
        let engine = self.engine();
        let before = self.status();
        let source = |p: &std::path::Path| {
            if p.as_os_str().is_empty() {
                "built-in".to_string()
            } else {
                p.display().to_string()
            }
        };
        let edited = self
            .edited
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|(version, _)| format!("inbox version {version}"));
        *self.status.write().unwrap_or_else(std::sync::PoisonError::into_inner) = TriageStatus {
            rules_source: edited.unwrap_or_else(|| source(&self.config.rules)),
            kb_source: source(&self.config.knowledge_base),
            loaded_at: self.clock.now_ms(),
            rules: engine.rules().rules.len(),
            keyword_phrases: engine.rules().phrase_count(),
            regexes: engine.rules().regex_count(),
            kb_entries: engine.knowledge_base().len(),
            last_error: None,
            last_error_at: None,
            reloads: before.reloads + u64::from(reloaded),
            failed_reloads: before.failed_reloads,
        };
    }

    /// Reloads when the files change or on SIGHUP, until shutdown.
    pub async fn watch(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let every = Duration::from_secs(self.config.reload_check_secs.max(1));
        #[cfg(unix)]
        let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        loop {
            #[cfg(unix)]
            let sighup = async {
                match hangup.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            #[cfg(not(unix))]
            let sighup = std::future::pending::<()>();
            tokio::select! {
                _ = crate::state::stopping(&mut shutdown) => return,
                _ = sighup => {
                    tracing::info!("SIGHUP: reloading triage rules");
                    let service = self.clone();
                    let _ = tokio::task::spawn_blocking(move || service.reload()).await;
                }
                _ = tokio::time::sleep(every) => {
                    // Reading metadata and compiling block: off the runtime.
                    let service = self.clone();
                    let _ = tokio::task::spawn_blocking(move || {
                        let now = loader::fingerprint(&service.config);
                        let changed =
                            *service.fingerprint.read().unwrap_or_else(std::sync::PoisonError::into_inner) != now;
                        if changed {
                            let _ = service.reload();
                        }
                    })
                    .await;
                }
            }
        }
    }
}
