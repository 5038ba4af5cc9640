//! Which customer messages this node has told Meta were read, so that opening
//! a conversation ten times sends one read receipt, not ten. A receipt that
//! fails is forgotten, so the next view tries again. Bounded; a node that
//! forgets (restart, eviction) sends one more receipt, which Meta ignores.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::bounded::Sweep;

const MAX_MARKS: usize = 20_000;

pub struct ReadMarks(Mutex<(HashMap<String, ()>, Sweep)>);

impl Default for ReadMarks {
    fn default() -> Self {
        ReadMarks(Mutex::new((HashMap::new(), Sweep::new(MAX_MARKS))))
    }
}

impl ReadMarks {
    /// True the first time a message is marked: send the receipt then.
    pub fn first(&self, wamid: &str) -> bool {
        let mut guard = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (marks, sweep) = &mut *guard;
        if marks.contains_key(wamid) {
            return false;
        }
        sweep.before_insert(marks, |_| false);
        marks.insert(wamid.to_string(), ());
        true
    }

    /// The receipt did not go: the next view may try again.
    pub fn forget(&self, wamid: &str) {
        let mut guard = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.0.remove(wamid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_per_message_until_forgotten() {
        let marks = ReadMarks::default();
        assert!(marks.first("wamid.1"));
        assert!(!marks.first("wamid.1"));
        assert!(marks.first("wamid.2"));
        marks.forget("wamid.1");
        assert!(marks.first("wamid.1"));
    }
}
