//! How fast one client address, and one chat, may open chats, send messages
//! and say they are typing. A site's widget is open to anyone: without these
//! one script opened 19,000 chats from one address in 14 s, and one visitor
//! could send messages as fast as the pipeline took them, each new chat a
//! conversation and an acknowledgement.
//!
//! Token buckets that refill continuously: a bucket holds a minute's worth,
//! so a burst up to the per-minute figure passes and the rate over a minute
//! is the figure. Buckets that are full again are forgotten when a map grows
//! past `SWEEP_ABOVE`, so a flood of addresses cannot grow memory without end.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

const MINUTE_MS: f64 = 60_000.0;
const SWEEP_ABOVE: usize = 50_000;

/// `[webchat.limits]`: per minute; 0 is no limit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// New chats one client address may open (reconnecting to one's own chat is free).
    pub sessions_per_minute_per_address: u32,
    /// Messages from all the chats of one client address.
    pub messages_per_minute_per_address: u32,
    /// Messages in one chat.
    pub messages_per_minute_per_chat: u32,
    /// Typing frames in one chat; those over the limit are dropped silently.
    pub typing_per_minute_per_chat: u32,
}

impl Default for LimitsConfig {
    /// A real site: a company behind one address may have dozens of visitors
    /// at once; one person types a message every few seconds at most.
    fn default() -> Self {
        LimitsConfig {
            sessions_per_minute_per_address: 120,
            messages_per_minute_per_address: 600,
            messages_per_minute_per_chat: 30,
            typing_per_minute_per_chat: 120,
        }
    }
}

impl LimitsConfig {
    /// No limits (load tests from one address).
    pub fn unlimited() -> Self {
        LimitsConfig {
            sessions_per_minute_per_address: 0,
            messages_per_minute_per_address: 0,
            messages_per_minute_per_chat: 0,
            typing_per_minute_per_chat: 0,
        }
    }
}

/// One rate over keys of one kind.
struct Buckets<K> {
    per_minute: f64,
    buckets: Mutex<HashMap<K, (f64, i64)>>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    fn new(per_minute: u32) -> Self {
        Buckets {
            per_minute: f64::from(per_minute),
            buckets: Mutex::default(),
        }
    }

    fn left(&self, left: f64, at: i64, now_ms: i64) -> f64 {
        (left + (now_ms - at).max(0) as f64 * self.per_minute / MINUTE_MS).min(self.per_minute)
    }

    /// `Ok` when one more is allowed (and counted); else the milliseconds
    /// until it will be.
    fn take(&self, key: &K, now_ms: i64) -> Result<(), u64> {
        if self.per_minute <= 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > SWEEP_ABOVE {
            buckets.retain(|_, (left, at)| self.left(*left, *at, now_ms) < self.per_minute);
        }
        let (left, at) = buckets.entry(key.clone()).or_insert((self.per_minute, now_ms));
        *left = self.left(*left, *at, now_ms);
        *at = now_ms;
        if *left >= 1.0 {
            *left -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *left) * MINUTE_MS / self.per_minute).ceil() as u64)
        }
    }

    /// Gives back what `take` counted, when a later check refused the whole.
    fn give_back(&self, key: &K) {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((left, _)) = buckets.get_mut(key) {
            *left = (*left + 1.0).min(self.per_minute);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets.lock().map(|b| b.len()).unwrap_or(0)
    }
}

pub struct ChatLimits {
    sessions: Buckets<IpAddr>,
    address_messages: Buckets<IpAddr>,
    chat_messages: Buckets<String>,
    typing: Buckets<String>,
}

impl ChatLimits {
    pub fn new(config: &LimitsConfig) -> Self {
        ChatLimits {
            sessions: Buckets::new(config.sessions_per_minute_per_address),
            address_messages: Buckets::new(config.messages_per_minute_per_address),
            chat_messages: Buckets::new(config.messages_per_minute_per_chat),
            typing: Buckets::new(config.typing_per_minute_per_chat),
        }
    }

    /// A new chat from `addr`; `Err(ms)` to wait.
    pub fn open(&self, addr: IpAddr, now_ms: i64) -> Result<(), u64> {
        self.sessions.take(&addr, now_ms)
    }

    /// A message in chat `chat` (its token's key) from `addr`; `Err(ms)` to wait.
    pub fn message(&self, addr: IpAddr, chat: &str, now_ms: i64) -> Result<(), u64> {
        let chat = chat.to_string();
        self.chat_messages.take(&chat, now_ms)?;
        self.address_messages.take(&addr, now_ms).inspect_err(|_| {
            // Refused for the address: the chat's own allowance is not spent.
            self.chat_messages.give_back(&chat);
        })
    }

    /// Whether a typing frame in `chat` is passed on.
    pub fn typing(&self, chat: &str, now_ms: i64) -> bool {
        self.typing.take(&chat.to_string(), now_ms).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, n])
    }

    #[test]
    fn a_minutes_worth_passes_then_the_wait_is_said_and_the_bucket_refills() {
        let b = Buckets::new(6);
        for _ in 0..6 {
            assert_eq!(b.take(&addr(1), 0), Ok(()));
        }
        // Six a minute: one more in ten seconds.
        assert_eq!(b.take(&addr(1), 0), Err(10_000));
        assert_eq!(b.take(&addr(1), 5_000), Err(5_000));
        assert_eq!(b.take(&addr(1), 10_000), Ok(()));
        // Other addresses are not touched.
        assert_eq!(b.take(&addr(2), 10_000), Ok(()));
        // Zero is no limit.
        let free = Buckets::new(0);
        assert!((0..10_000).all(|_| free.take(&addr(1), 0).is_ok()));
    }

    #[test]
    fn a_message_refused_for_the_address_does_not_spend_the_chats_allowance() {
        let limits = ChatLimits::new(&LimitsConfig {
            messages_per_minute_per_address: 2,
            messages_per_minute_per_chat: 2,
            ..LimitsConfig::default()
        });
        assert!(limits.message(addr(1), "a", 0).is_ok());
        assert!(limits.message(addr(1), "b", 0).is_ok());
        // The address is spent; chat "c" keeps its two.
        assert!(limits.message(addr(1), "c", 0).is_err());
        assert!(limits.message(addr(2), "c", 0).is_ok());
        assert!(limits.message(addr(2), "c", 0).is_ok());
        assert!(limits.message(addr(3), "c", 0).is_err(), "the chat's own limit");
    }

    #[test]
    fn full_buckets_are_forgotten_when_the_map_grows_past_its_bound() {
        let b = Buckets::new(60);
        for i in 0..(SWEEP_ABOVE as u32 + 10) {
            let _ = b.take(&IpAddr::from(i.to_be_bytes()), 0);
        }
        assert!(b.len() > SWEEP_ABOVE);
        // A minute later every bucket is full again: the next take sweeps them.
        let _ = b.take(&addr(1), 60_000);
        assert!(b.len() <= 2, "{} kept", b.len());
    }
}
