//! Bytes each client address may upload: a bucket that refills over an hour,
//! so one address cannot fill the disk however many chats it opens.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

const HOUR_MS: f64 = 3_600_000.0;
/// Addresses whose bucket is full again are forgotten past this many.
const SWEEP_ABOVE: usize = 100_000;

pub struct UploadBudget {
    per_hour: u64,
    buckets: Mutex<HashMap<IpAddr, (f64, i64)>>,
}

impl UploadBudget {
    pub fn new(bytes_per_hour: u64) -> Self {
        UploadBudget {
            per_hour: bytes_per_hour,
            buckets: Mutex::default(),
        }
    }

    fn with_bucket<T>(&self, addr: IpAddr, now_ms: i64, f: impl FnOnce(&mut f64) -> T) -> T {
        let per_hour = self.per_hour as f64;
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > SWEEP_ABOVE {
            buckets.retain(|_, (left, at)| *left + (now_ms - *at) as f64 * per_hour / HOUR_MS < per_hour);
        }
        let (left, at) = buckets.entry(addr).or_insert((per_hour, now_ms));
        *left = (*left + (now_ms - *at).max(0) as f64 * per_hour / HOUR_MS).min(per_hour);
        *at = now_ms;
        f(left)
    }

    /// `Err(ms)` when the address has used its budget (or `declared` bytes,
    /// the request's Content-Length, would exceed what is left).
    pub fn admit(&self, addr: IpAddr, declared: Option<u64>, now_ms: i64) -> Result<(), i64> {
        let per_hour = self.per_hour as f64;
        self.with_bucket(addr, now_ms, |left| {
            let need = declared.map_or(1.0, |d| d as f64).min(per_hour).max(1.0);
            if *left >= need {
                Ok(())
            } else {
                Err(((need - *left) * HOUR_MS / per_hour.max(1.0)).ceil() as i64)
            }
        })
    }

    /// Counts what was stored.
    pub fn charge(&self, addr: IpAddr, bytes: u64, now_ms: i64) {
        self.with_bucket(addr, now_ms, |left| *left -= bytes as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));
    const MIB: u64 = 1024 * 1024;

    #[test]
    fn an_address_stores_its_hourly_budget_then_waits() {
        let budget = UploadBudget::new(64 * MIB);
        let mut stored = 0;
        while budget.admit(A, Some(10 * MIB), 0).is_ok() {
            budget.charge(A, 10 * MIB, 0);
            stored += 10 * MIB;
        }
        assert_eq!(stored, 60 * MIB, "six 10 MiB files fit in 64 MiB, the seventh does not");
        assert!(budget.admit(A, None, 0).is_ok(), "4 MiB are left for small files");
        budget.charge(A, 4 * MIB, 0);
        let wait = budget.admit(A, Some(MIB), 0);
        assert_eq!(wait, Err(56_250), "1 MiB comes back in 1/64 hour");
        assert!(budget.admit(A, Some(MIB), 56_250).is_ok());
        assert!(
            budget.admit(B, Some(10 * MIB), 0).is_ok(),
            "other addresses are not held back"
        );
    }
}
