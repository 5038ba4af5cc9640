//! Tells long-lived agent sockets that their session ended, so a logout, a
//! password change or a disabled account closes them at once rather than when
//! they next check the store.

use tokio::sync::broadcast;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoked {
    /// One session, by token hash (logout).
    Session(String),
    /// Every session of the agent except `keep` (password change, disabled account).
    Agent { id: i64, keep: Option<String> },
}

impl Revoked {
    /// Whether this revocation ends the session `hash` of agent `agent`.
    pub fn ends(&self, agent: i64, hash: &str) -> bool {
        match self {
            Revoked::Session(h) => h == hash,
            Revoked::Agent { id, keep } => *id == agent && keep.as_deref() != Some(hash),
        }
    }
}

#[derive(Clone)]
pub struct Revocations(broadcast::Sender<Revoked>);

impl Default for Revocations {
    fn default() -> Self {
        Revocations(broadcast::channel(256).0)
    }
}

impl Revocations {
    pub fn publish(&self, revoked: Revoked) {
        // No socket listening is fine.
        let _ = self.0.send(revoked);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Revoked> {
        self.0.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_change_ends_the_other_sessions_only() {
        let r = Revoked::Agent {
            id: 7,
            keep: Some("mine".into()),
        };
        assert!(r.ends(7, "other"));
        assert!(!r.ends(7, "mine"));
        assert!(!r.ends(8, "other"));
        assert!(Revoked::Session("x".into()).ends(1, "x"));
    }
}
