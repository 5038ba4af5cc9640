//! Email: an IMAP mailbox in, SMTP out. [`normalise`] turns a raw mail into
//! what the pipeline sees; [`ImapSession`] reads a mailbox folder;
//! [`SmtpClient`] sends threaded replies composed by [`compose`].

mod auto;
mod ids;
mod imap;
mod normalise;
mod quote;
pub mod sasl;
mod smtp;
mod stream;
pub mod subject;

/// A composed mail, ready for [`SmtpClient::send`].
pub use lettre::Message as MailMessage;
use regex::Regex;

pub use auto::{Auto, LOOP_HEADER, Own};
pub use ids::{parse_list as parse_ids, parse_one as parse_id};
pub use imap::{Fetched, ImapError, ImapLogin, ImapSession, ImapSettings, Security, Selected, Woke, uid_set};
pub use normalise::{
    MailPart, Normalised, Options, is_safe_content_id, normalise, sanitize_html, sanitize_html_resolving_cid,
};
pub use quote::{Split, cut_html, split_text};
pub use smtp::{
    AutoSubmitted, ComposeError, OutgoingFile, OutgoingMail, SendError, SmtpAuth, SmtpClient, SmtpSettings, compose,
};

/// Built-in patterns are literals covered by tests: a failure is a bug, not input.
fn compile(re: &str) -> Regex {
    match Regex::new(re) {
        Ok(re) => re,
        Err(e) => panic!("built-in email pattern {re:?} does not compile: {e}"),
    }
}
