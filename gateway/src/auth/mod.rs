//! Agent authentication: argon2 password hashes checked a few at a time,
//! server-side sessions behind an HttpOnly cookie, a per-session CSRF token for
//! every state-changing call, login throttling and session revocation.

pub mod accounts;
mod password;
mod revocations;
mod session;
mod throttle;

pub use password::{PasswordWork, PasswordWorkError, hash_password, verify_password};
pub use revocations::{Revocations, Revoked};
pub use session::{CurrentAgent, SESSION_COOKIE, clear_cookie, new_secret, session_cookie, token_hash};
pub use throttle::{LoginThrottle, Refused, ThrottleLimits};
