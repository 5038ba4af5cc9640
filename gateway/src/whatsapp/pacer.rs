//! Token buckets so sends stay under Meta's limits: per phone number
//! (messages per second) and per recipient (a burst, then one every few seconds).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    recipients: Mutex<HashMap<String, Bucket>>,
}

impl Pacer {
    pub fn new(messages_per_second: u32, recipient_burst: u32, recipient_interval: Duration) -> Self {
        Pacer {
            per_number: f64::from(messages_per_second.max(1)),
            burst: f64::from(recipient_burst.max(1)),
            recipient_per_sec: 1.0 / recipient_interval.as_secs_f64().max(0.001),
            numbers: Mutex::default(),
            recipients: Mutex::default(),
        }
    }

    /// Takes a token for (number, recipient), or says how long to wait.
    pub fn try_take(&self, number: &str, recipient: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut numbers = self.numbers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut recipients = self
            .recipients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = numbers
            .entry(number.to_string())
            .or_insert_with(|| Bucket::new(self.per_number, self.per_number, now));
        let r = recipients
            .entry(format!("{number}/{recipient}"))
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
    fn a_number_is_held_to_its_rate() {
        let p = Pacer::new(2, 100, Duration::from_millis(1));
        assert!(p.try_take("n", "a").is_ok());
        assert!(p.try_take("n", "b").is_ok());
        assert!(p.try_take("n", "c").is_err());
        assert!(p.try_take("other", "c").is_ok());
    }
}
