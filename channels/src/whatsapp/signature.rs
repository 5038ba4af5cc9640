use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("X-Hub-Signature-256 header is missing")]
    Missing,
    #[error("X-Hub-Signature-256 is not \"sha256=<64 hex digits>\"")]
    Malformed,
    #[error("signature does not match the body")]
    Mismatch,
    /// An empty key would let anyone sign: never a configuration to accept bodies under.
    #[error("no app secret is configured: webhooks cannot be verified")]
    NoSecret,
}

/// Checks `X-Hub-Signature-256` against the raw body bytes, in constant time.
/// Must run before any parsing: re-serialised JSON has other bytes.
pub fn verify_signature(app_secret: &[u8], raw_body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    if app_secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_sig = header.trim().strip_prefix("sha256=").ok_or(SignatureError::Malformed)?;
    let expected = hex::decode(hex_sig).map_err(|_| SignatureError::Malformed)?;
    if expected.len() != 32 {
        return Err(SignatureError::Malformed);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret).map_err(|_| SignatureError::Malformed)?;
    mac.update(raw_body);
    let actual = mac.finalize().into_bytes();
    if bool::from(actual.as_slice().ct_eq(&expected)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The GET handshake: the challenge to echo when mode and token are right.
pub fn verify_challenge<'a>(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&'a str>,
    verify_token: &str,
) -> Option<&'a str> {
    let token_ok = token.is_some_and(|t| bool::from(t.as_bytes().ct_eq(verify_token.as_bytes())));
    (mode == Some("subscribe") && token_ok && !verify_token.is_empty())
        .then_some(challenge)
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &[u8], body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| panic!("any key length works"));
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn good_bad_missing_and_malformed() {
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        let good = sign(b"secret", body);
        assert_eq!(verify_signature(b"secret", body, Some(&good)), Ok(()));
        assert_eq!(
            verify_signature(b"other", body, Some(&good)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify_signature(b"secret", body, None), Err(SignatureError::Missing));
        assert_eq!(
            verify_signature(b"secret", body, Some("sha1=abc")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_signature(b"secret", body, Some("sha256=zz")),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn an_empty_key_verifies_nothing() {
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        let forged = sign(b"", body);
        assert_eq!(
            verify_signature(b"", body, Some(&forged)),
            Err(SignatureError::NoSecret)
        );
    }

    #[test]
    fn handshake() {
        assert_eq!(
            verify_challenge(Some("subscribe"), Some("tok"), Some("123"), "tok"),
            Some("123")
        );
        assert_eq!(
            verify_challenge(Some("subscribe"), Some("bad"), Some("123"), "tok"),
            None
        );
        assert_eq!(
            verify_challenge(Some("unsubscribe"), Some("tok"), Some("123"), "tok"),
            None
        );
        assert_eq!(
            verify_challenge(Some("subscribe"), Some(""), Some("123"), ""),
            None,
            "no token configured"
        );
    }
}
