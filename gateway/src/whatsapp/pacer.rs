//! Token buckets so sends stay under Meta's limits: per phone number
//! (messages per second) and per recipient (a burst, then one every few seconds).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::bounded::Sweep;

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    capacity: f64,
    per_sec: f64,
    at: Instant,
}

impl Bucket {
    fn new(capacity: f64, per_sec: f64, now: Instant) -> Self {
        Bucket {
            tokens: capacity,
            capacity,
            per_sec,
            at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.capacity);
        self.at = now;
    }

    /// How long until a token is there (zero: now).
    fn wait(&self) -> Duration {
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.per_sec)
        }
    }
}

pub struct Pacer {
    per_number: f64,
    burst: f64,
    recipient_per_sec: f64,
    numbers: Mutex<HashMap<String, Bucket>>,
    recipients: Mutex<(HashMap<String, Bucket>, Sweep)>,
}

/// Recipients' buckets kept at most (a full bucket is dropped first: it is
/// what a new one would be).
const MAX_RECIPIENTS: usize = 100_000;

impl Pacer {
    pub fn new(messages_per_second: u32, recipient_burst: u32, recipient_interval: Duration) -> Self {
        Pacer {
            per_number: f64::from(messages_per_second.max(1)),
            burst: f64::from(recipient_burst.max(1)),
            recipient_per_sec: 1.0 / recipient_interval.as_secs_f64().max(0.001),
            numbers: Mutex::default(),
            recipients: Mutex::new((HashMap::new(), Sweep::new(MAX_RECIPIENTS))),
        }
    }

    #[cfg(test)]
    fn with_recipient_cap(mut self, cap: usize) -> Self {
        self.recipients = Mutex::new((HashMap::new(), Sweep::new(cap)));
        self
    }

    #[cfg(test)]
    fn recipients_held(&self) -> usize {
        self.recipients.lock().map(|r| r.0.len()).unwrap_or_default()
    }

    /// Takes a token for (number, recipient), or says how long to wait.
    pub fn try_take(&self, number: &str, recipient: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut numbers = self.numbers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut guard = self
            .recipients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (recipients, sweep) = &mut *guard;
        let key = format!("{number}/{recipient}");
        if !recipients.contains_key(&key) {
            sweep.before_insert(recipients, |b| {
                let mut b = Bucket { ..*b };
                b.refill(now);
                b.tokens >= b.capacity
            });
        }
        let n = numbers
            .entry(number.to_string())
            .or_insert_with(|| Bucket::new(self.per_number, self.per_number, now));
        let r = recipients
            .entry(key)
            .or_insert_with(|| Bucket::new(self.burst, self.recipient_per_sec, now));
        n.refill(now);
        r.refill(now);
        let wait = n.wait().max(r.wait());
        if wait > Duration::ZERO {
            return Err(wait);
        }
        n.tokens -= 1.0;
        r.tokens -= 1.0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recipient_gets_a_burst_then_waits() {
        let p = Pacer::new(1000, 3, Duration::from_secs(6));
        for _ in 0..3 {
            assert_eq!(p.try_take("n", "alice"), Ok(()));
        }
        let wait = p.try_take("n", "alice").err().unwrap_or_default();
        assert!(wait > Duration::from_secs(5), "{wait:?}");
        assert_eq!(p.try_take("n", "bob"), Ok(()), "another recipient is not held back");
    }

    #[test]
    fn recipients_seen_once_do_not_pile_up() {
        let p = Pacer::new(1_000_000, 1, Duration::from_millis(1)).with_recipient_cap(2_000);
        for i in 0..20_000 {
            assert!(p.try_take("n", &format!("customer-{i}")).is_ok());
            assert!(p.recipients_held() <= 2_000, "{} held at {i}", p.recipients_held());
        }
        // Their buckets refill within a millisecond: the next sweep drops them
        // (stale first), so the later ones fit without evicting live buckets.
        std::thread::sleep(Duration::from_millis(5));
        for i in 0..2_000 {
            assert!(p.try_take("n", &format!("later-{i}")).is_ok());
        }
        assert!(p.recipients_held() < 2_000, "{}", p.recipients_held());
    }

    #[test]
    fn a_number_is_held_to_its_rate() {
        let p = Pacer::new(2, 100, Duration::from_millis(1));
        assert!(p.try_take("n", "a").is_ok());
        assert!(p.try_take("n", "b").is_ok());
        assert!(p.try_take("n", "c").is_err());
        assert!(p.try_take("other", "c").is_ok());
    }
}
