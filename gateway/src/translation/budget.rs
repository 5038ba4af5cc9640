//! Calls a provider may take per minute, so a burst (or a bug) cannot spend
//! the month's quota in an hour. Pure: the caller gives the time.

#[derive(Debug, Clone)]
pub struct Budget {
    per_minute: u32,
    /// The start of the current minute; none before the first call.
    window_start: Option<i64>,
    used: u32,
}

impl Budget {
    pub fn new(per_minute: u32) -> Budget {
        Budget {
            per_minute: per_minute.max(1),
            window_start: None,
            used: 0,
        }
    }

    /// Takes one call if the current minute has one left.
    pub fn take(&mut self, now: i64) -> bool {
        if self
            .window_start
            .is_none_or(|start| now < start || now.saturating_sub(start) >= 60_000)
        {
            self.window_start = Some(now);
            self.used = 0;
        }
        if self.used < self.per_minute {
            self.used += 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_holds_its_calls_and_the_next_one_starts_afresh() {
        let mut b = Budget::new(2);
        assert!(b.take(0) && b.take(10));
        assert!(!b.take(59_999));
        assert!(b.take(60_010));
    }
}
