//! Outgoing mail: composing a threaded reply (our Message-ID, In-Reply-To, the
//! whole References chain, the ticket tag, text + HTML, attachments, the
//! automatic-mail markers) and sending it over one pooled SMTP transport.

use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::auto::LOOP_HEADER;
use super::ids;
use super::imap::Security;
use crate::inbound::Participant;

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// Empty: no authentication.
    pub user: String,
    pub auth: SmtpAuth,
    pub timeout: Duration,
    /// Connections kept open for reuse.
    pub pool_size: u32,
}

/// How the transport authenticates as `user`.
#[derive(Clone)]
pub enum SmtpAuth {
    Password(String),
    /// SASL XOAUTH2 with this access token.
    XOAuth2(String),
}

impl std::fmt::Debug for SmtpAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SmtpAuth::Password(_) => "Password(…)",
            SmtpAuth::XOAuth2(_) => "XOAuth2(…)",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("invalid address {0:?}")]
    Address(String),
    #[error("the message has no recipient")]
    NoRecipient,
    #[error("could not build the message: {0}")]
    Build(String),
}

/// A send that did not work; `permanent` for 5xx answers, which retrying will not fix.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
}

pub struct OutgoingFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// The `Auto-Submitted` a mail carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoSubmitted {
    /// Written by a person.
    No,
    /// In answer to a mail (an acknowledgement): `auto-replied`.
    Replied,
    /// On a schedule, answering nothing (a weekly summary): `auto-generated`.
    Generated,
}

pub struct OutgoingMail<'a> {
    pub from: &'a Participant,
    pub to: &'a [Participant],
    pub cc: &'a [Participant],
    pub subject: &'a str,
    pub text: &'a str,
    pub attachments: Vec<OutgoingFile>,
    /// Without brackets; ours, so replies to it thread back.
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    /// Oldest first, without brackets.
    pub references: &'a [String],
    /// Acknowledgements and other automatic mail say so (RFC 3834).
    pub automatic: AutoSubmitted,
    /// Our loop header's value, recognised when the mail comes back.
    pub loop_value: &'a str,
}

fn mailbox(p: &Participant) -> Result<Mailbox, ComposeError> {
    let address = p
        .address
        .parse()
        .map_err(|_| ComposeError::Address(p.address.clone()))?;
    let name = p.name.as_deref().map(header_text).filter(|n| !n.is_empty());
    Ok(Mailbox::new(name, address))
}

/// A display name, subject or file name that came from outside (a customer's
/// mail, a visitor's form): control characters, CR LF among them, become
/// spaces, so no value can split a header — and lettre panics formatting a
/// name with some of them (a customer's name in an acknowledgement's To took
/// the outbox worker down; found by the hostile-content test).
fn header_text(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

fn raw_header(name: &'static str, value: &str) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value.to_string())
}

/// The text as minimal HTML, for clients that show HTML only.
fn text_to_html(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    format!(
        "<!DOCTYPE html><html><body><div style=\"font-family:sans-serif;white-space:pre-wrap\">{}</div></body></html>",
        escaped.replace("\r\n", "\n").replace('\n', "<br>\n")
    )
}

/// The mail as lettre builds it. lettre panics on some header values; a
/// panic is this mail's error (the outbox records it), never the end of the
/// worker that sends every channel's mail.
pub fn compose(mail: &OutgoingMail<'_>) -> Result<Message, ComposeError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(mail))).unwrap_or_else(|_| {
        Err(ComposeError::Build(
            "the mail library failed on this mail's headers".into(),
        ))
    })
}

fn build(mail: &OutgoingMail<'_>) -> Result<Message, ComposeError> {
    if mail.to.is_empty() {
        return Err(ComposeError::NoRecipient);
    }
    let mut builder = Message::builder()
        .from(mailbox(mail.from)?)
        .subject(header_text(mail.subject))
        .message_id(Some(ids::bracket(mail.message_id)));
    for p in mail.to {
        builder = builder.to(mailbox(p)?);
    }
    for p in mail.cc {
        builder = builder.cc(mailbox(p)?);
    }
    if let Some(parent) = mail.in_reply_to {
        builder = builder.in_reply_to(ids::bracket(parent));
    }
    if !mail.references.is_empty() {
        // One call with the whole chain: each call replaces the header.
        let chain: Vec<String> = mail.references.iter().map(|r| ids::bracket(r)).collect();
        builder = builder.references(chain.join(" "));
    }
    let auto = match mail.automatic {
        AutoSubmitted::No => None,
        AutoSubmitted::Replied => Some("auto-replied"),
        AutoSubmitted::Generated => Some("auto-generated"),
    };
    if let Some(value) = auto {
        builder = builder.raw_header(raw_header("Auto-Submitted", value));
        builder = builder.raw_header(raw_header("X-Auto-Response-Suppress", "All"));
    }
    builder = builder.raw_header(raw_header(LOOP_HEADER, mail.loop_value));
    let body = MultiPart::alternative_plain_html(mail.text.to_string(), text_to_html(mail.text));
    let message = if mail.attachments.is_empty() {
        builder.multipart(body)
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for file in &mail.attachments {
            let content_type = ContentType::parse(&file.content_type)
                .unwrap_or_else(|_| ContentType::parse("application/octet-stream").unwrap_or(ContentType::TEXT_PLAIN));
            let part: SinglePart = Attachment::new(header_text(&file.name)).body(file.bytes.clone(), content_type);
            mixed = mixed.singlepart(part);
        }
        builder.multipart(mixed)
    };
    message.map_err(|e| ComposeError::Build(e.to_string()))
}

/// One pooled transport; cheap to clone.
#[derive(Clone)]
pub struct SmtpClient {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpClient {
    pub fn new(settings: &SmtpSettings) -> Result<SmtpClient, SendError> {
        let config_error = |e: lettre::transport::smtp::Error| SendError {
            permanent: true,
            message: format!("SMTP settings: {e}"),
        };
        let tls = |host: &str| TlsParameters::new(host.to_string()).map_err(config_error);
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.clone())
            .port(settings.port)
            .timeout(Some(settings.timeout))
            .pool_config(PoolConfig::new().max_size(settings.pool_size.max(1)));
        builder = match settings.security {
            Security::Plain => builder.tls(Tls::None),
            Security::Starttls => builder.tls(Tls::Required(tls(&settings.host)?)),
            Security::Tls => builder.tls(Tls::Wrapper(tls(&settings.host)?)),
        };
        if !settings.user.is_empty() {
            builder = match &settings.auth {
                SmtpAuth::Password(password) => {
                    builder.credentials(Credentials::new(settings.user.clone(), password.clone()))
                }
                SmtpAuth::XOAuth2(token) => builder
                    .credentials(Credentials::new(settings.user.clone(), token.clone()))
                    .authentication(vec![Mechanism::Xoauth2]),
            };
        }
        Ok(SmtpClient {
            transport: builder.build(),
        })
    }

    /// Connects, says EHLO, and logs in when a user is set: whether this
    /// server would take mail from us, without sending any.
    pub async fn check(&self) -> Result<(), SendError> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(SendError {
                permanent: false,
                message: "the server did not answer NOOP".into(),
            }),
            Err(e) => Err(SendError {
                permanent: e.is_permanent(),
                message: match e.status() {
                    Some(code) => format!("SMTP {code}: {e}"),
                    None => format!("SMTP: {e}"),
                },
            }),
        }
    }

    pub async fn send(&self, message: &Message) -> Result<(), SendError> {
        match self.transport.send(message.clone()).await {
            Ok(_) => Ok(()),
            Err(e) => Err(SendError {
                permanent: e.is_permanent(),
                message: match e.status() {
                    Some(code) => format!("SMTP {code}: {e}"),
                    None => format!("SMTP: {e}"),
                },
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &str) -> Participant {
        Participant {
            address: a.into(),
            name: None,
        }
    }

    #[test]
    fn a_reply_carries_threading_and_loop_headers() {
        let from = p("sav@maker.test");
        let to = [p("client@plant.test")];
        let cc = [p("boss@plant.test")];
        let refs = vec!["a@x".to_string(), "b@y".to_string()];
        let message = compose(&OutgoingMail {
            from: &from,
            to: &to,
            cc: &cc,
            subject: "Re: Panne [#SY-4]",
            text: "Bonjour <client>",
            attachments: vec![OutgoingFile {
                name: "rapport.pdf".into(),
                content_type: "application/pdf".into(),
                bytes: b"%PDF-1.4".to_vec(),
            }],
            message_id: "sy.9.4@maker.test",
            in_reply_to: Some("b@y"),
            references: &refs,
            automatic: AutoSubmitted::Replied,
            loop_value: "node-1",
        });
        let Ok(message) = message else {
            panic!("compose failed: {:?}", message.err());
        };
        let raw = String::from_utf8_lossy(&message.formatted()).to_string();
        for needle in [
            "Message-ID: <sy.9.4@maker.test>",
            "In-Reply-To: <b@y>",
            "References: <a@x> <b@y>",
            "Auto-Submitted: auto-replied",
            "X-Switchyard-Loop: node-1",
            "Cc: boss@plant.test",
            "Subject: Re: Panne [#SY-4]",
            "text/html",
            "&lt;client&gt;",
            "rapport.pdf",
        ] {
            assert!(raw.contains(needle), "{needle} missing in\n{raw}");
        }
    }

    /// Names, subjects and file names come from customers: none may split a
    /// header or make composing panic (lettre did, on control characters).
    #[test]
    fn hostile_names_subjects_and_file_names_stay_inside_their_header() {
        let from = p("sav@maker.test");
        for hostile in [
            "nom\u{7}\u{1b}[31mrouge\u{1b}[0m\u{8}fin",
            "Panne\r\nBcc: victime@attacker.test\r\nX-Injected: 1",
            "avant\u{0}apres",
            "\"><script>alert(1)</script>",
            "Facture \u{202e}gpj.exe\u{202c}",
        ] {
            let to = [Participant {
                address: "client@plant.test".into(),
                name: Some(hostile.into()),
            }];
            let message = compose(&OutgoingMail {
                from: &from,
                to: &to,
                cc: &[],
                subject: hostile,
                text: "t",
                attachments: vec![OutgoingFile {
                    name: hostile.into(),
                    content_type: "text/plain".into(),
                    bytes: b"x".to_vec(),
                }],
                message_id: "m@x",
                in_reply_to: None,
                references: &[],
                automatic: AutoSubmitted::No,
                loop_value: "n",
            });
            let Ok(message) = message else {
                panic!("{hostile:?}: {:?}", message.err());
            };
            let raw = String::from_utf8_lossy(&message.formatted()).to_string();
            let head = raw.split("\r\n\r\n").next().unwrap_or_default();
            for line in head.split("\r\n") {
                let lower = line.to_ascii_lowercase();
                assert!(
                    !lower.starts_with("bcc:") && !lower.starts_with("x-injected:"),
                    "{hostile:?} split a header: {line}\n{head}"
                );
                assert!(!line.contains(['\u{0}', '\u{7}', '\u{1b}']), "{hostile:?}: {line:?}");
            }
        }
    }

    #[test]
    fn no_recipient_or_bad_address_is_an_error() {
        let from = p("sav@maker.test");
        let mail = |to: &[Participant]| {
            compose(&OutgoingMail {
                from: &from,
                to,
                cc: &[],
                subject: "s",
                text: "t",
                attachments: Vec::new(),
                message_id: "m@x",
                in_reply_to: None,
                references: &[],
                automatic: AutoSubmitted::No,
                loop_value: "n",
            })
        };
        assert!(matches!(mail(&[]), Err(ComposeError::NoRecipient)));
        assert!(matches!(mail(&[p("not an address")]), Err(ComposeError::Address(_))));
    }
}
