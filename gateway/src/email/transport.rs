//! The SMTP transport replies and notices leave by: a fixed one for a
//! password, or, for an OAuth 2 account, one rebuilt whenever the access
//! token changes (lettre's credentials are fixed per transport). A refused
//! token is dropped and the send reported as transient, so the outbox tries
//! again with a fresh one instead of failing the mail for good.

use std::sync::Arc;

use channels::email::{MailMessage as Message, SendError, SmtpAuth, SmtpClient, SmtpSettings};

use super::oauth::{TokenError, TokenSource};

#[derive(Clone)]
pub enum MailTransport {
    Fixed(SmtpClient),
    OAuth(Arc<OAuthTransport>),
}

pub struct OAuthTransport {
    /// Everything but the token.
    settings: SmtpSettings,
    tokens: Arc<TokenSource>,
    current: tokio::sync::Mutex<Option<(String, SmtpClient)>>,
}

/// SMTP's answers to a refused login (RFC 4954 535 5.7.8, 534, 530 5.7.0).
fn refused_login(e: &SendError) -> bool {
    ["SMTP 535", "SMTP 534", "SMTP 530"]
        .iter()
        .any(|code| e.message.starts_with(code))
}

impl MailTransport {
    pub fn oauth(settings: SmtpSettings, tokens: Arc<TokenSource>) -> MailTransport {
        MailTransport::OAuth(Arc::new(OAuthTransport {
            settings,
            tokens,
            current: tokio::sync::Mutex::new(None),
        }))
    }

    pub async fn send(&self, message: &Message) -> Result<(), SendError> {
        match self {
            MailTransport::Fixed(client) => client.send(message).await,
            MailTransport::OAuth(t) => t.send(message).await,
        }
    }
}

impl OAuthTransport {
    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let token = self.tokens.access_token().await.map_err(|e| SendError {
            permanent: false,
            message: match e {
                TokenError::NeedsReconnect(m) => format!("no SMTP token, the account needs an admin: {m}"),
                TokenError::Unavailable(m) => format!("no SMTP token yet: {m}"),
            },
        })?;
        let client = {
            let mut current = self.current.lock().await;
            match current.as_ref() {
                Some((t, client)) if *t == token => client.clone(),
                _ => {
                    let settings = SmtpSettings {
                        auth: SmtpAuth::XOAuth2(token.clone()),
                        ..self.settings.clone()
                    };
                    let client = SmtpClient::new(&settings)?;
                    *current = Some((token.clone(), client.clone()));
                    client
                }
            }
        };
        match client.send(message).await {
            Err(e) if refused_login(&e) => {
                self.tokens.refused(&token).await;
                *self.current.lock().await = None;
                Err(SendError {
                    permanent: false,
                    message: format!("token refused, retrying with a new one: {}", e.message),
                })
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_logins_are_recognised_by_their_code() {
        let e = |m: &str| SendError {
            permanent: true,
            message: m.into(),
        };
        assert!(refused_login(&e("SMTP 535: 5.7.8 Authentication unsuccessful")));
        assert!(!refused_login(&e("SMTP 550: mailbox unavailable")));
    }
}
