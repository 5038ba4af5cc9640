//! Keeping in-memory maps keyed by what strangers send (recipients, usernames,
//! addresses) within a size, at an amortised constant cost per insert.
//!
//! A map is swept only once it has doubled since the last sweep (or reached
//! its cap): stale entries go first; if the map is still over half its cap,
//! arbitrary entries go too, so a flood of fresh keys costs memory up to the
//! cap and no more. Callers say what "stale" means: an entry equal to the one
//! a new key would get (a refilled bucket) loses nothing by going.

use std::collections::HashMap;
use std::hash::Hash;

/// Sweeps never start below this many entries.
const FLOOR: usize = 1024;

#[derive(Debug, Clone)]
pub struct Sweep {
    cap: usize,
    next: usize,
}

impl Sweep {
    /// A map kept to at most `cap` entries.
    pub fn new(cap: usize) -> Self {
        let cap = cap.max(2);
        Sweep {
            cap,
            next: FLOOR.min(cap),
        }
    }

    /// Call before inserting into `map`.
    pub fn before_insert<K: Eq + Hash, V>(&mut self, map: &mut HashMap<K, V>, mut stale: impl FnMut(&V) -> bool) {
        if map.len() < self.next {
            return;
        }
        map.retain(|_, v| !stale(v));
        let keep = self.cap / 2;
        if map.len() > keep {
            let mut excess = map.len() - keep;
            map.retain(|_, _| {
                if excess > 0 {
                    excess -= 1;
                    false
                } else {
                    true
                }
            });
        }
        self.next = (map.len() * 2).clamp(FLOOR.min(self.cap), self.cap);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_fresh_keys_stays_under_the_cap() {
        let mut sweep = Sweep::new(5_000);
        let mut map = HashMap::new();
        for i in 0..100_000u32 {
            let before = map.len();
            sweep.before_insert(&mut map, |_| false);
            // A sweep that evicts goes down to half the cap, so the next one is far.
            if map.len() < before {
                assert_eq!(map.len(), 2_500, "at {i}");
            }
            map.insert(i, i);
            assert!(map.len() <= 5_000, "{} entries at {i}", map.len());
            // Evicting keeps half the cap: it never empties the map.
            if i >= 5_000 {
                assert!(map.len() > 2_500, "{} entries at {i}", map.len());
            }
        }
    }

    #[test]
    fn stale_entries_go_first_and_live_ones_stay() {
        let mut sweep = Sweep::new(100_000);
        let mut map: HashMap<u32, bool> = HashMap::new();
        // 1,024 entries, one in four live: the sweep at the floor keeps exactly those.
        for i in 0..1_024u32 {
            map.insert(i, i % 4 == 0);
        }
        sweep.before_insert(&mut map, |live| !live);
        assert_eq!(map.len(), 256);
        assert!(map.values().all(|live| *live));
    }

    #[test]
    fn sweeps_are_amortised() {
        let mut sweep = Sweep::new(1_000_000);
        let mut map = HashMap::new();
        let mut sweeps = 0;
        for i in 0..200_000u32 {
            if map.len() >= sweep.next {
                sweeps += 1;
            }
            sweep.before_insert(&mut map, |_| false);
            map.insert(i, ());
        }
        // Nothing is stale and the cap is far: the map doubles between sweeps.
        assert!(sweeps <= 10, "{sweeps} sweeps");
        assert_eq!(map.len(), 200_000);
    }
}
