//! Signed assertions (RFC 7523), RS256 with ring from a PKCS#8 PEM key: what
//! a Google service account presents to get a token for the mailbox it
//! impersonates (the JWT-bearer grant), and what a Microsoft Entra app
//! presents instead of a client secret when it authenticates with a
//! certificate (a client assertion naming the certificate's thumbprint).

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

/// `header.claims.signature` signed with the PEM key.
fn signed(key_pem: &str, header: &serde_json::Value, claims: &impl Serialize) -> Result<String, JwtError> {
    let key = RsaKeyPair::from_pkcs8(&pem_der(key_pem)?).map_err(|e| JwtError::Key(e.to_string()))?;
    let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).map_err(|_| JwtError::Sign)?);
    let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(|_| JwtError::Sign)?);
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

/// The service account's assertion, valid for an hour from `now_secs`.
pub fn assertion(
    account: &ServiceAccount,
    scope: &str,
    audience: &str,
    subject: &str,
    now_secs: i64,
) -> Result<String, JwtError> {
    let claims = Claims {
        iss: &account.client_email,
        scope,
        aud: audience,
        sub: subject,
        iat: now_secs,
        exp: now_secs + 3600,
    };
    signed(
        &account.private_key,
        &serde_json::json!({"alg": "RS256", "typ": "JWT"}),
        &claims,
    )
}

#[derive(Debug, Serialize)]
struct ClientClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: i64,
    exp: i64,
}

/// A Microsoft Entra client assertion: the app (`iss` = `sub` = client id)
/// proves itself with its certificate's key; `x5t` is the certificate's
/// SHA-1 thumbprint (hex, as the Entra portal shows it). Ten minutes valid.
pub fn client_assertion(
    client_id: &str,
    audience: &str,
    key_pem: &str,
    thumbprint_hex: &str,
    now_secs: i64,
) -> Result<String, JwtError> {
    let thumbprint = hex::decode(thumbprint_hex.trim().replace(':', ""))
        .map_err(|_| JwtError::Key("certificate_thumbprint must be hex (the SHA-1 thumbprint)".into()))?;
    let mut jti = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut jti);
    let claims = ClientClaims {
        aud: audience,
        iss: client_id,
        sub: client_id,
        jti: hex::encode(jti),
        nbf: now_secs,
        exp: now_secs + 600,
    };
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": URL_SAFE_NO_PAD.encode(thumbprint)});
    signed(key_pem, &header, &claims)
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
