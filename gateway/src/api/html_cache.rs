//! Sanitised mail bodies, kept so that opening a mail again does not parse
//! and sanitise its HTML again. A stored message's HTML and its inline parts
//! never change, so an entry never goes stale (whatever comes to erase a
//! message's HTML must remove its entry too); the cache is bounded in entries
//! and skips very large documents.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::bounded::Sweep;

const MAX_ENTRIES: usize = 512;
/// Documents larger than this are sanitised on each view rather than kept.
const MAX_CACHED_BYTES: usize = 512 * 1024;

pub struct HtmlCache(Mutex<(HashMap<i64, Arc<str>>, Sweep)>);

impl Default for HtmlCache {
    fn default() -> Self {
        HtmlCache(Mutex::new((HashMap::new(), Sweep::new(MAX_ENTRIES))))
    }
}

impl HtmlCache {
    pub fn get(&self, message: i64) -> Option<Arc<str>> {
        let guard = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.0.get(&message).cloned()
    }

    /// Forgets erased messages.
    pub fn forget(&self, messages: &[i64]) {
        let mut guard = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for m in messages {
            guard.0.remove(m);
        }
    }

    pub fn put(&self, message: i64, document: Arc<str>) {
        if document.len() > MAX_CACHED_BYTES {
            return;
        }
        let mut guard = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (entries, sweep) = &mut *guard;
        sweep.before_insert(entries, |_| false);
        entries.insert(message, document);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_documents_up_to_a_bound_and_skips_huge_ones() {
        let cache = HtmlCache::default();
        cache.put(1, Arc::from("<p>a</p>"));
        assert_eq!(cache.get(1).as_deref(), Some("<p>a</p>"));
        cache.put(2, Arc::from("x".repeat(MAX_CACHED_BYTES + 1)));
        assert!(cache.get(2).is_none());
        for i in 10..10_000 {
            cache.put(i, Arc::from("<p>b</p>"));
        }
        let held = cache.0.lock().map(|g| g.0.len()).unwrap_or_default();
        assert!(held <= MAX_ENTRIES, "{held}");
    }
}
