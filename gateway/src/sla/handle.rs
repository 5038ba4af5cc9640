//! The service levels in force, replaceable while the gateway runs (an admin
//! edits calendars and targets in the inbox): every reader takes the current
//! policies once per piece of work, as the committer takes one triage engine
//! per batch.

use std::sync::{Arc, RwLock};

use super::SlaPolicies;
use crate::config::SlaConfig;

/// The configuration an admin edits beside what it compiles to.
#[derive(Clone)]
pub struct SlaHandle(Arc<RwLock<(SlaConfig, Arc<SlaPolicies>)>>);

impl SlaHandle {
    pub fn new(config: SlaConfig, policies: SlaPolicies) -> Self {
        SlaHandle(Arc::new(RwLock::new((config, Arc::new(policies)))))
    }

    pub fn current(&self) -> Arc<SlaPolicies> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .1
            .clone()
    }

    pub fn config(&self) -> SlaConfig {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0
            .clone()
    }

    pub fn replace(&self, config: SlaConfig, policies: SlaPolicies) {
        *self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = (config, Arc::new(policies));
    }
}

impl Default for SlaHandle {
    fn default() -> Self {
        SlaHandle::new(SlaConfig::default(), SlaPolicies::default())
    }
}
