//! Agent authentication: argon2 password hashes, server-side sessions behind an
//! HttpOnly cookie, and a per-session CSRF token for every state-changing call.

mod password;
mod session;
mod throttle;

pub use password::{hash_password, verify_password};
pub use session::{CurrentAgent, SESSION_COOKIE, clear_cookie, new_secret, session_cookie, token_hash};
pub use throttle::LoginThrottle;
