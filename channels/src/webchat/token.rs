use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The secret a visitor holds to read and write their own conversation.
/// 256 random bits; the store only ever sees its hash ([`ConversationToken::key`]).
#[derive(Clone, PartialEq, Eq)]
pub struct ConversationToken(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a conversation token is 43 characters of base64url")]
pub struct TokenError;

const TOKEN_LEN: usize = 43;

impl ConversationToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        ConversationToken(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The token whose 32 bytes these are (the gateway issues tokens it can recognise).
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        ConversationToken(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The 32 bytes the token encodes.
    pub fn bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        if let Ok(decoded) = URL_SAFE_NO_PAD.decode(&self.0)
            && decoded.len() == 32
        {
            out.copy_from_slice(&decoded);
        }
        out
    }

    pub fn parse(s: &str) -> Result<Self, TokenError> {
        let ok = s.len() == TOKEN_LEN
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && URL_SAFE_NO_PAD.decode(s).is_ok_and(|b| b.len() == 32);
        if ok {
            Ok(ConversationToken(s.to_string()))
        } else {
            Err(TokenError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the store keeps and looks up by: sha256 of the token, hex.
    pub fn key(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl std::fmt::Debug for ConversationToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never log the secret itself.
        write!(f, "ConversationToken({}…)", &self.key()[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_and_differ() {
        let a = ConversationToken::generate();
        let b = ConversationToken::generate();
        assert_ne!(a, b);
        assert_eq!(ConversationToken::parse(a.as_str()), Ok(a.clone()));
        assert_eq!(a.key().len(), 64);
    }

    #[test]
    fn rejects_wrong_shapes() {
        for bad in [
            "",
            "short",
            "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
            &"a".repeat(44),
        ] {
            assert_eq!(ConversationToken::parse(bad), Err(TokenError), "{bad}");
        }
    }
}
