//! A customer is the address their conversations are keyed by (an email
//! address, a WhatsApp number or id, a chat visitor). Records an agent found
//! to be one person are linked by merges — `address` now counts as
//! `into` — which are recorded, never deleted, and can be undone.

use std::collections::HashMap;

/// An active merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub address: String,
    pub into: String,
}

/// Far more than any chain of merges an agent builds; bounds a corrupt cycle.
const MAX_CHAIN: usize = 64;

pub struct Merges {
    into: HashMap<String, String>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("a customer cannot be merged into itself")]
    Same,
    #[error("{0} is already merged into another customer; undo that merge first")]
    AlreadyMerged(String),
}

impl Merges {
    pub fn new(links: impl IntoIterator<Item = Link>) -> Merges {
        Merges {
            into: links.into_iter().map(|l| (l.address, l.into)).collect(),
        }
    }

    /// The record every merged address counts as.
    pub fn root<'a>(&'a self, address: &'a str) -> &'a str {
        let mut at = address;
        for _ in 0..MAX_CHAIN {
            match self.into.get(at) {
                Some(next) => at = next,
                None => break,
            }
        }
        at
    }

    /// Every address that is the same customer as `address`, the root first.
    pub fn group(&self, address: &str) -> Vec<String> {
        let root = self.root(address);
        let mut out = vec![root.to_string()];
        let mut others: Vec<String> = self
            .into
            .keys()
            .filter(|a| self.root(a) == root && a.as_str() != root)
            .cloned()
            .collect();
        others.sort();
        out.extend(others);
        out
    }

    /// Whether `address` may be merged into `into`, and the record it will then count as.
    pub fn check<'a>(&'a self, address: &str, into: &'a str) -> Result<&'a str, MergeError> {
        if self.into.contains_key(address) {
            return Err(MergeError::AlreadyMerged(address.to_string()));
        }
        let target = self.root(into);
        if target == address {
            return Err(MergeError::Same);
        }
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(a: &str, b: &str) -> Link {
        Link {
            address: a.into(),
            into: b.into(),
        }
    }

    #[test]
    fn merged_records_are_one_group_from_any_of_them() {
        let m = Merges::new([link("33612345678", "jane@acme.com"), link("visitor:ab", "33612345678")]);
        let expected = ["jane@acme.com", "33612345678", "visitor:ab"];
        assert_eq!(m.group("visitor:ab"), expected);
        assert_eq!(m.group("jane@acme.com"), expected);
        assert_eq!(m.group("other@x.com"), ["other@x.com"]);
    }

    #[test]
    fn a_merge_that_would_loop_or_repeat_is_refused() {
        let m = Merges::new([link("33612345678", "jane@acme.com")]);
        assert_eq!(m.check("jane@acme.com", "33612345678"), Err(MergeError::Same));
        assert_eq!(
            m.check("33612345678", "bob@acme.com"),
            Err(MergeError::AlreadyMerged("33612345678".into()))
        );
        assert_eq!(m.check("visitor:ab", "33612345678"), Ok("jane@acme.com"));
    }

    #[test]
    fn a_corrupt_cycle_does_not_hang() {
        let m = Merges::new([link("a", "b"), link("b", "a")]);
        let _ = m.group("a");
    }
}
