//! Slows password guessing: after a few failures for one username, further
//! attempts wait, doubling up to a cap. A success clears the count.

use std::collections::HashMap;
use std::sync::Mutex;

const FREE_FAILURES: u32 = 5;
const BASE_DELAY_MS: i64 = 1_000;
const MAX_DELAY_MS: i64 = 5 * 60_000;

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, i64)>>,
}

impl LoginThrottle {
    /// `Err(ms)`: refuse, the username may try again in `ms`.
    pub fn check(&self, username: &str, now_ms: i64) -> Result<(), i64> {
        let failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match failures.get(&username.to_lowercase()) {
            Some((count, last)) if *count >= FREE_FAILURES => {
                let exp = (count - FREE_FAILURES).min(20);
                let wait = BASE_DELAY_MS.saturating_mul(1 << exp).min(MAX_DELAY_MS);
                let ready_at = last + wait;
                if now_ms < ready_at {
                    Err(ready_at - now_ms)
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    pub fn failed(&self, username: &str, now_ms: i64) {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Keep the map bounded under a spray of usernames.
        if failures.len() > 100_000 {
            failures.retain(|_, (_, last)| now_ms - *last < MAX_DELAY_MS);
        }
        let entry = failures.entry(username.to_lowercase()).or_insert((0, now_ms));
        entry.0 += 1;
        entry.1 = now_ms;
    }

    pub fn succeeded(&self, username: &str) {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&username.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_after_the_free_failures_and_a_success_clears_them() {
        let t = LoginThrottle::default();
        for _ in 0..FREE_FAILURES {
            assert_eq!(t.check("Alice", 0), Ok(()));
            t.failed("alice", 0);
        }
        assert_eq!(t.check("alice", 0), Err(1_000));
        assert_eq!(t.check("alice", 1_000), Ok(()));
        t.failed("alice", 1_000);
        assert_eq!(t.check("alice", 1_000), Err(2_000), "doubles");
        assert_eq!(t.check("bob", 1_000), Ok(()), "other users are not held back");
        t.succeeded("ALICE");
        assert_eq!(t.check("alice", 1_000), Ok(()));
    }
}
