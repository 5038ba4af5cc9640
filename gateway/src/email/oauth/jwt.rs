//! A signed assertion (RFC 7523) for the JWT-bearer grant: what a Google
//! service account presents to get a token for the mailbox it impersonates.
//! RS256 with ring; the key is the PKCS#8 PEM of the service account file.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde::{Deserialize, Serialize};

/// The fields of a Google service account key file that matter here.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceAccount {
    pub client_email: String,
    pub private_key: String,
    /// Where the assertion is exchanged; the provider's token endpoint when absent.
    pub token_uri: Option<String>,
}

#[derive(Debug, Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    /// The mailbox the service account acts as (domain-wide delegation).
    sub: &'a str,
    iat: i64,
    exp: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("the private key is not a PKCS#8 PEM RSA key: {0}")]
    Key(String),
    #[error("signing failed")]
    Sign,
}

/// The DER bytes of the first PEM block.
fn pem_der(pem: &str) -> Result<Vec<u8>, JwtError> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    STANDARD.decode(body).map_err(|e| JwtError::Key(e.to_string()))
}

/// `header.claims.signature`, valid for an hour from `now_secs`.
pub fn assertion(
    account: &ServiceAccount,
    scope: &str,
    audience: &str,
    subject: &str,
    now_secs: i64,
) -> Result<String, JwtError> {
    let key = RsaKeyPair::from_pkcs8(&pem_der(&account.private_key)?).map_err(|e| JwtError::Key(e.to_string()))?;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = Claims {
        iss: &account.client_email,
        scope,
        aud: audience,
        sub: subject,
        iat: now_secs,
        exp: now_secs + 3600,
    };
    let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).map_err(|_| JwtError::Sign)?);
    let message = format!("{header}.{claims}");
    let mut signature = vec![0u8; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        message.as_bytes(),
        &mut signature,
    )
    .map_err(|_| JwtError::Sign)?;
    Ok(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_is_not_one_is_refused_with_a_reason() {
        let account = ServiceAccount {
            client_email: "sa@project.iam.gserviceaccount.com".into(),
            private_key: "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n".into(),
            token_uri: None,
        };
        assert!(matches!(
            assertion(&account, "s", "a", "sav@x", 0),
            Err(JwtError::Key(_))
        ));
    }
}
