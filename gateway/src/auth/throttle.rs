//! Slows password guessing without letting a stranger lock anyone out.
//!
//! Three limits, all counted *before* the password is checked, under one lock,
//! so parallel guesses cannot slip between the check and the count:
//! - per (username, address): after a few failures, attempts wait, doubling up
//!   to a cap. A success from that address clears it. A stranger guessing
//!   `admin` from one address locks only that pair out.
//! - per username, all addresses: a ceiling of failures in a sliding window, so
//!   a guess spread over many addresses is still bounded.
//! - per address, all usernames: a token bucket, so random usernames from one
//!   address (which never reach a per-username limit) are bounded too.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::bounded::Sweep;

#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    /// Failures of one (username, address) pair before waits start.
    pub free_failures: u32,
    pub base_delay_ms: i64,
    pub max_delay_ms: i64,
    /// Failures of one username from all addresses within `user_window_ms`.
    pub user_ceiling: u32,
    pub user_window_ms: i64,
    /// Attempts one address may make in a burst, then one per `address_refill_ms`.
    pub address_burst: u32,
    pub address_refill_ms: i64,
    /// Entries each map keeps at most; stale ones go first (see `bounded.rs`).
    pub max_entries: usize,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        ThrottleLimits {
            free_failures: 5,
            base_delay_ms: 1_000,
            max_delay_ms: 5 * 60_000,
            user_ceiling: 100,
            user_window_ms: 15 * 60_000,
            address_burst: 20,
            address_refill_ms: 3_000,
            max_entries: 100_000,
        }
    }
}

/// Why an attempt was refused, and when the client may try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// This username from this address failed too often.
    Pair { wait_ms: i64 },
    /// This username failed too often from everywhere.
    Account { wait_ms: i64 },
    /// This address tried too often.
    Address { wait_ms: i64 },
}

impl Refused {
    pub fn wait_ms(self) -> i64 {
        match self {
            Refused::Pair { wait_ms } | Refused::Account { wait_ms } | Refused::Address { wait_ms } => wait_ms,
        }
    }
}

#[derive(Default)]
struct Pair {
    failures: u32,
    last_ms: i64,
}

#[derive(Default)]
struct Window {
    start_ms: i64,
    failures: u32,
}

struct Bucket {
    tokens: f64,
    at_ms: i64,
}

/// A spray of usernames or addresses cannot grow these without bound: each
/// map is swept when it has doubled, stale entries first, and kept under
/// `max_entries` (an entry evicted early only forgets some failures).
struct State {
    pairs: HashMap<(String, IpAddr), Pair>,
    users: HashMap<String, Window>,
    addresses: HashMap<IpAddr, Bucket>,
    sweeps: [Sweep; 3],
}

impl State {
    fn new(l: &ThrottleLimits) -> Self {
        State {
            pairs: HashMap::new(),
            users: HashMap::new(),
            addresses: HashMap::new(),
            sweeps: [
                Sweep::new(l.max_entries),
                Sweep::new(l.max_entries),
                Sweep::new(l.max_entries),
            ],
        }
    }
}

pub struct LoginThrottle {
    limits: ThrottleLimits,
    state: Mutex<State>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle::new(ThrottleLimits::default())
    }
}

impl LoginThrottle {
    pub fn new(limits: ThrottleLimits) -> Self {
        LoginThrottle {
            state: Mutex::new(State::new(&limits)),
            limits,
        }
    }

    #[cfg(test)]
    fn entries(&self) -> [usize; 3] {
        let s = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        [s.pairs.len(), s.users.len(), s.addresses.len()]
    }

    /// Admits one attempt and counts it as a failure until [`Self::succeeded`]
    /// says otherwise.
    pub fn begin(&self, username: &str, addr: IpAddr, now_ms: i64) -> Result<(), Refused> {
        let l = &self.limits;
        let user = username.to_lowercase();
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.sweep(l, &user, addr, now_ms);

        let bucket = state.addresses.entry(addr).or_insert(Bucket {
            tokens: f64::from(l.address_burst),
            at_ms: now_ms,
        });
        let refill = (now_ms - bucket.at_ms).max(0) as f64 / l.address_refill_ms.max(1) as f64;
        bucket.tokens = (bucket.tokens + refill).min(f64::from(l.address_burst));
        bucket.at_ms = now_ms;
        if bucket.tokens < 1.0 {
            let wait = ((1.0 - bucket.tokens) * l.address_refill_ms as f64).ceil() as i64;
            return Err(Refused::Address { wait_ms: wait.max(1) });
        }

        if let Some(pair) = state.pairs.get(&(user.clone(), addr))
            && pair.failures >= l.free_failures
        {
            let exp = (pair.failures - l.free_failures).min(20);
            let wait = l.base_delay_ms.saturating_mul(1 << exp).min(l.max_delay_ms);
            let ready_at = pair.last_ms + wait;
            if now_ms < ready_at {
                return Err(Refused::Pair {
                    wait_ms: ready_at - now_ms,
                });
            }
        }

        if let Some(window) = state.users.get(&user)
            && now_ms - window.start_ms < l.user_window_ms
            && window.failures >= l.user_ceiling
        {
            return Err(Refused::Account {
                wait_ms: window.start_ms + l.user_window_ms - now_ms,
            });
        }

        // Admitted: count it now, before the slow check runs.
        if let Some(bucket) = state.addresses.get_mut(&addr) {
            bucket.tokens -= 1.0;
        }
        let pair = state.pairs.entry((user.clone(), addr)).or_default();
        pair.failures += 1;
        pair.last_ms = now_ms;
        let window = state.users.entry(user).or_default();
        if now_ms - window.start_ms >= l.user_window_ms {
            *window = Window {
                start_ms: now_ms,
                failures: 0,
            };
        }
        window.failures += 1;
        Ok(())
    }

    /// The password was right: the attempt was not a failure after all.
    pub fn succeeded(&self, username: &str, addr: IpAddr) {
        let user = username.to_lowercase();
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.pairs.remove(&(user.clone(), addr));
        if let Some(window) = state.users.get_mut(&user) {
            window.failures = window.failures.saturating_sub(1);
        }
        if let Some(bucket) = state.addresses.get_mut(&addr) {
            bucket.tokens += 1.0;
        }
    }
}

impl State {
    /// Before the entries of (`user`, `addr`) may be added.
    fn sweep(&mut self, l: &ThrottleLimits, user: &str, addr: IpAddr, now_ms: i64) {
        let State {
            pairs,
            users,
            addresses,
            sweeps: [for_pairs, for_users, for_addresses],
        } = self;
        if !pairs.contains_key(&(user.to_string(), addr)) {
            for_pairs.before_insert(pairs, |p| now_ms - p.last_ms >= l.max_delay_ms);
        }
        if !users.contains_key(user) {
            for_users.before_insert(users, |w| now_ms - w.start_ms >= l.user_window_ms);
        }
        if !addresses.contains_key(&addr) {
            let full_after = i64::from(l.address_burst) * l.address_refill_ms;
            for_addresses.before_insert(addresses, |b| now_ms - b.at_ms >= full_after);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7));

    fn open_addresses() -> ThrottleLimits {
        ThrottleLimits {
            address_burst: 1_000_000,
            ..ThrottleLimits::default()
        }
    }

    #[test]
    fn waits_grow_after_the_free_failures_and_a_success_clears_them() {
        let t = LoginThrottle::new(open_addresses());
        for _ in 0..5 {
            assert_eq!(t.begin("Alice", A, 0), Ok(()));
        }
        assert_eq!(t.begin("alice", A, 0), Err(Refused::Pair { wait_ms: 1_000 }));
        assert_eq!(t.begin("alice", A, 1_000), Ok(()));
        assert_eq!(
            t.begin("alice", A, 1_000),
            Err(Refused::Pair { wait_ms: 2_000 }),
            "doubles"
        );
        assert_eq!(t.begin("bob", A, 1_000), Ok(()), "other users are not held back");
        t.succeeded("ALICE", A);
        assert_eq!(t.begin("alice", A, 1_000), Ok(()));
    }

    #[test]
    fn attempts_are_counted_before_they_are_checked() {
        // Forty guesses arriving together: only the free ones get through.
        let t = LoginThrottle::new(open_addresses());
        let admitted = (0..40).filter(|_| t.begin("admin", A, 0).is_ok()).count();
        assert_eq!(admitted, 5);
    }

    #[test]
    fn a_stranger_locks_out_only_their_own_address() {
        let t = LoginThrottle::new(open_addresses());
        // One guess every five minutes for a day, from address A.
        let mut now = 0;
        for _ in 0..288 {
            let _ = t.begin("admin", A, now);
            now += 5 * 60_000;
        }
        assert!(t.begin("admin", A, now - 1).is_err(), "A is held back");
        assert_eq!(t.begin("admin", B, now), Ok(()), "the real admin, elsewhere, is not");
    }

    #[test]
    fn a_guess_spread_over_many_addresses_meets_the_account_ceiling() {
        let t = LoginThrottle::new(open_addresses());
        let mut refused = None;
        for i in 0..200u32 {
            let addr = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            if let Err(r) = t.begin("admin", addr, 0) {
                refused = Some((i, r));
                break;
            }
        }
        assert_eq!(refused, Some((100, Refused::Account { wait_ms: 15 * 60_000 })));
        assert_eq!(t.begin("admin", A, 15 * 60_000), Ok(()), "the window slides");
    }

    #[test]
    fn one_address_spraying_usernames_is_bounded() {
        let t = LoginThrottle::default();
        let admitted = (0..100).filter(|i| t.begin(&format!("user{i}"), A, 0).is_ok()).count();
        assert_eq!(admitted, 20);
        assert_eq!(t.begin("someone", A, 2_999), Err(Refused::Address { wait_ms: 1 }));
        assert_eq!(t.begin("someone", A, 3_000), Ok(()), "one more every three seconds");
        assert_eq!(t.begin("someone", B, 0), Ok(()), "other addresses are not held back");
    }

    #[test]
    fn a_spray_of_usernames_and_addresses_stays_within_the_cap() {
        let t = LoginThrottle::new(ThrottleLimits {
            max_entries: 3_000,
            ..open_addresses()
        });
        for i in 0..50_000u32 {
            let addr = IpAddr::V6(std::net::Ipv6Addr::from(u128::from(i) << 64));
            assert!(t.begin(&format!("user{i}"), addr, 1_000).is_ok());
            let [pairs, users, addresses] = t.entries();
            assert!(
                pairs <= 3_000 && users <= 3_000 && addresses <= 3_000,
                "{:?} at {i}",
                t.entries()
            );
        }
        // Still throttling: one pair's failures are counted as before.
        for _ in 0..5 {
            assert!(t.begin("admin", A, 2_000).is_ok());
        }
        assert!(matches!(t.begin("admin", A, 2_000), Err(Refused::Pair { .. })));
    }
}
