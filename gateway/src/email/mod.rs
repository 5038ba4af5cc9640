//! The email channel inside the gateway: one reader task per configured
//! mailbox (IMAP IDLE, checkpointed by UID) and the SMTP sender of the outbox.

mod inspect;
mod mailbox;
pub mod oauth;
mod prepare;
mod sender;
mod status;
mod transport;

use channels::email::Security;

use crate::config::MailSecurity;

pub use inspect::inspect;
pub use mailbox::MailboxReader;
pub use prepare::{MailSettings, Prepared, normalised, prepare};
pub use sender::{EmailPayload, EmailSender};
pub use status::{MailboxStatus, MailboxStatuses};
pub use transport::MailTransport;

pub fn security(s: MailSecurity) -> Security {
    match s {
        MailSecurity::Tls => Security::Tls,
        MailSecurity::Starttls => Security::Starttls,
        MailSecurity::Plain => Security::Plain,
    }
}
