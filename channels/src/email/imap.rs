//! An IMAP session on one mailbox folder: fetch by UID after a checkpoint,
//! move or flag what was committed, wait with IDLE (or poll). Every network
//! step has a timeout, so a dead connection is noticed and dropped.

use std::collections::HashSet;
use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use tokio::net::TcpStream;

use super::stream::{self, MailStream};

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Implicit TLS (port 993).
    Tls,
    /// Plain connection upgraded with STARTTLS (port 143).
    Starttls,
    /// No encryption: only for a server on loopback.
    Plain,
}

/// How the session logs in.
#[derive(Clone)]
pub enum ImapLogin {
    Password(String),
    /// SASL XOAUTH2 with this access token (Microsoft 365, Google Workspace, Dovecot's oauth2 passdb).
    XOAuth2(String),
    /// SASL OAUTHBEARER (RFC 7628) with this access token.
    OAuthBearer(String),
}

impl ImapLogin {
    /// The access token, for a token login.
    pub fn token(&self) -> Option<&str> {
        match self {
            ImapLogin::Password(_) => None,
            ImapLogin::XOAuth2(t) | ImapLogin::OAuthBearer(t) => Some(t),
        }
    }
}

impl std::fmt::Debug for ImapLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ImapLogin::Password(_) => "Password(…)",
            ImapLogin::XOAuth2(_) => "XOAuth2(…)",
            ImapLogin::OAuthBearer(_) => "OAuthBearer(…)",
        })
    }
}

#[derive(Debug, Clone)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: String,
    pub login: ImapLogin,
    pub folder: String,
    /// Every network step (connect, login, fetch, move) must finish within this.
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("timed out during {0}")]
    Timeout(&'static str),
    #[error("{step}: {message}")]
    Protocol { step: &'static str, message: String },
    #[error("login refused: {0}")]
    Login(String),
    /// The server refused the access token: it expired, or consent was withdrawn.
    #[error("token refused: {0}")]
    TokenRefused(String),
    #[error("the server did not report UIDVALIDITY for {0}")]
    NoUidValidity(String),
}

/// What SELECT told us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selected {
    pub uid_validity: u32,
    pub uid_next: Option<u32>,
    pub exists: u32,
}

/// One fetched mail.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub uid: u32,
    /// The whole message; only its header when `oversized`.
    pub raw: Vec<u8>,
    /// The message's size when it is over the limit and was not downloaded.
    pub oversized: Option<u64>,
}

/// How an IDLE wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woke {
    /// The server announced a change (EXISTS, EXPUNGE, ...).
    NewData,
    /// Nothing happened within the wait; re-issue IDLE.
    Timeout,
}

pub struct ImapSession {
    session: Session<MailStream>,
    settings: ImapSettings,
    capabilities: HashSet<String>,
}

/// Answers the server's first (empty) challenge with the token string; an
/// error challenge after it (a JSON status) gets the reply that ends the
/// exchange (`^A` for OAUTHBEARER, RFC 7628 §3.2.3; empty for XOAUTH2), so
/// the server's NO comes back as the error.
struct TokenResponse {
    response: String,
    sent: bool,
}

impl async_imap::Authenticator for TokenResponse {
    type Response = String;

    fn process(&mut self, _challenge: &[u8]) -> String {
        if self.sent {
            if self.response.starts_with("n,") {
                "\x01".into()
            } else {
                String::new()
            }
        } else {
            self.sent = true;
            self.response.clone()
        }
    }
}

async fn step<T, E: std::fmt::Display>(
    timeout: Duration,
    name: &'static str,
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(timeout, fut).await {
        Err(_) => Err(ImapError::Timeout(name)),
        Ok(Err(e)) => Err(ImapError::Protocol {
            step: name,
            message: e.to_string(),
        }),
        Ok(Ok(v)) => Ok(v),
    }
}

impl ImapSession {
    /// Connects, protects and logs in; reads the capabilities.
    pub async fn connect(settings: &ImapSettings) -> Result<ImapSession, ImapError> {
        let t = settings.timeout;
        let tcp = step(
            t,
            "connect",
            TcpStream::connect((settings.host.as_str(), settings.port)),
        )
        .await?;
        let _ = tcp.set_nodelay(true);
        let client = match settings.security {
            Security::Plain => {
                let mut c = Client::new(MailStream::Plain(tcp));
                greeting(&mut c, t).await?;
                c
            }
            Security::Tls => {
                let s = step(t, "TLS handshake", stream::tls(tcp, &settings.host)).await?;
                let mut c = Client::new(s);
                greeting(&mut c, t).await?;
                c
            }
            Security::Starttls => {
                let mut c = Client::new(MailStream::Plain(tcp));
                greeting(&mut c, t).await?;
                step(t, "STARTTLS", c.run_command_and_check_ok("STARTTLS", None)).await?;
                let MailStream::Plain(tcp) = c.into_inner() else {
                    return Err(ImapError::Protocol {
                        step: "STARTTLS",
                        message: "connection already encrypted".into(),
                    });
                };
                Client::new(step(t, "TLS handshake", stream::tls(tcp, &settings.host)).await?)
            }
        };
        let session = match &settings.login {
            ImapLogin::Password(password) => {
                match tokio::time::timeout(t, client.login(&settings.user, password)).await {
                    Err(_) => return Err(ImapError::Timeout("login")),
                    Ok(Err((e, _))) => return Err(ImapError::Login(e.to_string())),
                    Ok(Ok(s)) => s,
                }
            }
            ImapLogin::XOAuth2(_) | ImapLogin::OAuthBearer(_) => {
                let (mechanism, response) = match &settings.login {
                    ImapLogin::OAuthBearer(token) => ("OAUTHBEARER", super::sasl::oauthbearer(&settings.user, token)),
                    ImapLogin::XOAuth2(token) | ImapLogin::Password(token) => {
                        ("XOAUTH2", super::sasl::xoauth2(&settings.user, token))
                    }
                };
                let initial = TokenResponse { response, sent: false };
                match tokio::time::timeout(t, client.authenticate(mechanism, initial)).await {
                    Err(_) => return Err(ImapError::Timeout("login")),
                    Ok(Err((e, _))) => return Err(ImapError::TokenRefused(e.to_string())),
                    Ok(Ok(s)) => s,
                }
            }
        };
        let mut this = ImapSession {
            session,
            settings: settings.clone(),
            capabilities: HashSet::new(),
        };
        let caps = step(t, "CAPABILITY", this.session.capabilities()).await?;
        this.capabilities = caps.iter().map(|c| format!("{c:?}").to_ascii_uppercase()).collect();
        for name in ["IDLE", "MOVE", "UIDPLUS"] {
            if caps.has_str(name) {
                this.capabilities.insert(name.to_string());
            }
        }
        Ok(this)
    }

    pub fn supports(&self, capability: &str) -> bool {
        self.capabilities.contains(capability)
    }

    /// Creates a folder if it does not exist (the processed folder).
    pub async fn ensure_folder(&mut self, folder: &str) -> Result<(), ImapError> {
        let t = self.settings.timeout;
        let exists = {
            let list = step(t, "LIST", self.session.list(Some(""), Some(folder))).await?;
            let names: Vec<_> = step(t, "LIST", list.try_collect::<Vec<_>>()).await?;
            !names.is_empty()
        };
        if !exists {
            step(t, "CREATE", self.session.create(folder)).await?;
        }
        Ok(())
    }

    pub async fn select(&mut self) -> Result<Selected, ImapError> {
        let folder = self.settings.folder.clone();
        let mailbox = step(self.settings.timeout, "SELECT", self.session.select(&folder)).await?;
        Ok(Selected {
            uid_validity: mailbox.uid_validity.ok_or(ImapError::NoUidValidity(folder))?,
            uid_next: mailbox.uid_next,
            exists: mailbox.exists,
        })
    }

    /// UIDs above `after`, ascending, at most `limit` of them.
    pub async fn uids_after(&mut self, after: u32, limit: usize) -> Result<Vec<u32>, ImapError> {
        let query = format!("UID {}:*", after.saturating_add(1));
        let found = step(self.settings.timeout, "UID SEARCH", self.session.uid_search(&query)).await?;
        // `N:*` also matches the highest UID when it is below N (RFC 3501 §6.4.8).
        let mut uids: Vec<u32> = found.into_iter().filter(|u| *u > after).collect();
        uids.sort_unstable();
        uids.truncate(limit);
        Ok(uids)
    }

    /// The raw messages of these UIDs, without setting \Seen.
    /// The messages, whole up to `max_bytes` each; of a larger one only the
    /// header is downloaded (its size asked first), so one huge mail never
    /// sits in memory.
    pub async fn fetch(&mut self, uids: &[u32], max_bytes: u64) -> Result<Vec<Fetched>, ImapError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let t = self.settings.timeout;
        let stream = step(
            t,
            "UID FETCH",
            self.session.uid_fetch(&uid_set(uids), "(UID RFC822.SIZE)"),
        )
        .await?;
        let sizes: Vec<_> = step(t, "UID FETCH", stream.try_collect::<Vec<_>>()).await?;
        let (mut small, mut large) = (Vec::new(), Vec::new());
        for f in &sizes {
            let (Some(uid), Some(size)) = (f.uid, f.size) else {
                continue;
            };
            if !uids.contains(&uid) {
                continue;
            }
            if u64::from(size) > max_bytes {
                large.push((uid, u64::from(size)));
            } else {
                small.push(uid);
            }
        }
        let mut out = Vec::with_capacity(small.len() + large.len());
        if !small.is_empty() {
            let stream = step(
                t,
                "UID FETCH",
                self.session.uid_fetch(&uid_set(&small), "(UID BODY.PEEK[])"),
            )
            .await?;
            let fetches: Vec<_> = step(t * 4, "UID FETCH", stream.try_collect::<Vec<_>>()).await?;
            out.extend(fetches.iter().filter_map(|f| {
                Some(Fetched {
                    uid: f.uid?,
                    raw: f.body()?.to_vec(),
                    oversized: None,
                })
            }));
        }
        if !large.is_empty() {
            let set = uid_set(&large.iter().map(|(u, _)| *u).collect::<Vec<_>>());
            let stream = step(t, "UID FETCH", self.session.uid_fetch(&set, "(UID BODY.PEEK[HEADER])")).await?;
            let fetches: Vec<_> = step(t, "UID FETCH", stream.try_collect::<Vec<_>>()).await?;
            out.extend(fetches.iter().filter_map(|f| {
                let uid = f.uid?;
                Some(Fetched {
                    uid,
                    raw: f.header()?.to_vec(),
                    oversized: large.iter().find(|(u, _)| *u == uid).map(|(_, s)| *s),
                })
            }));
        }
        out.retain(|f| uids.contains(&f.uid));
        out.sort_by_key(|f| f.uid);
        out.dedup_by_key(|f| f.uid);
        Ok(out)
    }

    /// Moves the messages to `folder` (MOVE, or COPY + \Deleted + EXPUNGE without it).
    pub async fn move_to(&mut self, uids: &[u32], folder: &str) -> Result<(), ImapError> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = uid_set(uids);
        let t = self.settings.timeout;
        if self.supports("MOVE") {
            step(t, "UID MOVE", self.session.uid_mv(&set, folder)).await?;
        } else {
            step(t, "UID COPY", self.session.uid_copy(&set, folder)).await?;
            self.flag(uids, "\\Deleted").await?;
            let expunged = step(t, "EXPUNGE", self.session.expunge()).await?;
            step(t, "EXPUNGE", expunged.try_collect::<Vec<_>>()).await?;
        }
        Ok(())
    }

    /// Adds a flag (e.g. `\Seen` or a keyword) to the messages.
    pub async fn flag(&mut self, uids: &[u32], flag: &str) -> Result<(), ImapError> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = uid_set(uids);
        let t = self.settings.timeout;
        let query = format!("+FLAGS.SILENT ({flag})");
        let updates = step(t, "UID STORE", self.session.uid_store(&set, &query)).await?;
        step(t, "UID STORE", updates.try_collect::<Vec<_>>()).await?;
        Ok(())
    }

    /// Waits for the server to announce a change, at most `wait` (re-issued by
    /// the caller well within the 29 minutes of RFC 2177). Keepalives reset the
    /// wait; a connection that says nothing for `wait` is reported as a timeout
    /// and the caller re-checks the folder with a command, which notices a dead link.
    pub async fn idle(self, wait: Duration) -> Result<(ImapSession, Woke), ImapError> {
        let ImapSession {
            session,
            settings,
            capabilities,
        } = self;
        let t = settings.timeout;
        let mut handle = session.idle();
        step(t, "IDLE", handle.init()).await?;
        let woke = {
            let (fut, _stop) = handle.wait_with_timeout(wait);
            // The library's own timer resets on keepalives; this outer one catches a stalled read.
            match tokio::time::timeout(wait + t, fut).await {
                Err(_) => return Err(ImapError::Timeout("IDLE")),
                Ok(Err(e)) => {
                    return Err(ImapError::Protocol {
                        step: "IDLE",
                        message: e.to_string(),
                    });
                }
                Ok(Ok(IdleResponse::NewData(_))) => Woke::NewData,
                Ok(Ok(IdleResponse::Timeout | IdleResponse::ManualInterrupt)) => Woke::Timeout,
            }
        };
        // DONE can hang on a dropped network (chatmail/core#975): bounded like every step.
        let session = step(t, "DONE", handle.done()).await?;
        Ok((
            ImapSession {
                session,
                settings,
                capabilities,
            },
            woke,
        ))
    }

    /// Cheap liveness check between polls.
    pub async fn noop(&mut self) -> Result<(), ImapError> {
        step(self.settings.timeout, "NOOP", self.session.noop()).await
    }

    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(self.settings.timeout, self.session.logout()).await;
    }
}

async fn greeting(client: &mut Client<MailStream>, t: Duration) -> Result<(), ImapError> {
    match tokio::time::timeout(t, client.read_response()).await {
        Err(_) => Err(ImapError::Timeout("greeting")),
        Ok(Err(e)) => Err(ImapError::Protocol {
            step: "greeting",
            message: e.to_string(),
        }),
        Ok(Ok(None)) => Err(ImapError::Protocol {
            step: "greeting",
            message: "connection closed".into(),
        }),
        Ok(Ok(Some(_))) => Ok(()),
    }
}

/// `1:3,7,9:10` from sorted UIDs.
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}:{end}")
        });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::uid_set;

    #[test]
    fn uid_sets_are_compact() {
        assert_eq!(uid_set(&[3, 1, 2, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[]), "");
    }
}
