//! What the gateway signs so it can recognise it later without storing it:
//! the visitor tokens it issued, and the short-lived file links it hands the
//! widget. One key per installation, kept in the store so every node shares it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use channels::webchat::ConversationToken;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::store::{Store, StoreError};

const KEY_NAME: &str = "signing";
/// Bytes of a visitor token that are random; the rest is their tag.
const TOKEN_RANDOM: usize = 16;

#[derive(Clone)]
pub struct Signer {
    key: [u8; 32],
}

impl Signer {
    pub fn new(key: [u8; 32]) -> Self {
        Signer { key }
    }

    /// The installation's key, created on first start.
    pub async fn load(store: &Store, now_ms: i64) -> Result<Self, StoreError> {
        let mut fresh = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        let stored = store.server_key(KEY_NAME, &hex::encode(fresh), now_ms).await?;
        let mut key = [0u8; 32];
        match hex::decode(stored.trim()) {
            Ok(bytes) if bytes.len() == 32 => key.copy_from_slice(&bytes),
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "server_keys.{KEY_NAME} is not 64 hex digits"
                )));
            }
        }
        Ok(Signer { key })
    }

    fn tag(&self, domain: &str, parts: &[&[u8]]) -> [u8; 32] {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return [0u8; 32];
        };
        mac.update(domain.as_bytes());
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// How the audit log names an erased customer (`privacy::erasure::subject_digest`).
    pub fn erased_subject(&self, address: &str) -> String {
        crate::privacy::erasure::subject_digest(&self.key, address)
    }

    /// A new visitor token this gateway will recognise as its own.
    pub fn issue_chat_token(&self) -> ConversationToken {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes[..TOKEN_RANDOM]);
        let tag = self.tag("chat-token", &[&bytes[..TOKEN_RANDOM]]);
        bytes[TOKEN_RANDOM..].copy_from_slice(&tag[..32 - TOKEN_RANDOM]);
        ConversationToken::from_bytes(&bytes)
    }

    /// Whether this gateway issued the token (a token someone made up is not).
    pub fn issued(&self, token: &ConversationToken) -> bool {
        let bytes = token.bytes();
        let tag = self.tag("chat-token", &[&bytes[..TOKEN_RANDOM]]);
        bool::from(bytes[TOKEN_RANDOM..].ct_eq(&tag[..32 - TOKEN_RANDOM]))
    }

    /// `?exp=…&sig=…` for a visitor's file: the link works until `expires_ms`
    /// for that file only, so it can sit in an `<img src>` without the chat
    /// token ever being in a URL.
    pub fn file_link_query(&self, attachment: i64, expires_ms: i64) -> String {
        let sig = self.tag("chat-file", &[&attachment.to_be_bytes(), &expires_ms.to_be_bytes()]);
        format!("exp={expires_ms}&sig={}", URL_SAFE_NO_PAD.encode(sig))
    }

    pub fn file_link_valid(&self, attachment: i64, expires_ms: i64, sig: &str, now_ms: i64) -> bool {
        if now_ms >= expires_ms {
            return false;
        }
        let Ok(sent) = URL_SAFE_NO_PAD.decode(sig) else {
            return false;
        };
        let want = self.tag("chat-file", &[&attachment.to_be_bytes(), &expires_ms.to_be_bytes()]);
        bool::from(sent.as_slice().ct_eq(&want))
    }

    /// `?exp=…&sig=…` for a customer's one-click answer in a mail (`answer`
    /// names it: `solved`, `good`…): valid for that conversation and answer
    /// until `expires_ms`. Single use is the store's business.
    pub fn feedback_link_query(&self, conversation: i64, answer: &str, expires_ms: i64) -> String {
        let sig = self.tag(
            "feedback",
            &[
                &conversation.to_be_bytes(),
                answer.as_bytes(),
                &expires_ms.to_be_bytes(),
            ],
        );
        format!("exp={expires_ms}&sig={}", URL_SAFE_NO_PAD.encode(sig))
    }

    pub fn feedback_link_valid(
        &self,
        conversation: i64,
        answer: &str,
        expires_ms: i64,
        sig: &str,
        now_ms: i64,
    ) -> bool {
        if now_ms >= expires_ms {
            return false;
        }
        let Ok(sent) = URL_SAFE_NO_PAD.decode(sig) else {
            return false;
        };
        let want = self.tag(
            "feedback",
            &[
                &conversation.to_be_bytes(),
                answer.as_bytes(),
                &expires_ms.to_be_bytes(),
            ],
        );
        bool::from(sent.as_slice().ct_eq(&want))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_are_recognised_and_invented_ones_are_not() {
        let signer = Signer::new([7; 32]);
        let token = signer.issue_chat_token();
        assert!(signer.issued(&token));
        assert!(ConversationToken::parse(token.as_str()).is_ok(), "same shape as before");
        assert!(!signer.issued(&ConversationToken::generate()));
        assert!(!Signer::new([8; 32]).issued(&token), "another installation's token");
    }

    #[test]
    fn file_links_expire_and_name_one_file() {
        let signer = Signer::new([7; 32]);
        let query = signer.file_link_query(42, 1_000);
        let sig = query.split("sig=").nth(1).unwrap_or_default();
        assert!(signer.file_link_valid(42, 1_000, sig, 999));
        assert!(!signer.file_link_valid(42, 1_000, sig, 1_000), "expired");
        assert!(!signer.file_link_valid(43, 1_000, sig, 0), "another file");
        assert!(!signer.file_link_valid(42, 2_000, sig, 0), "a later expiry");
        assert!(!signer.file_link_valid(42, 1_000, "garbage!", 0));
    }

    #[test]
    fn feedback_links_name_one_conversation_and_one_answer() {
        let signer = Signer::new([7; 32]);
        let query = signer.feedback_link_query(42, "good", 1_000);
        let sig = query.split("sig=").nth(1).unwrap_or_default();
        assert!(signer.feedback_link_valid(42, "good", 1_000, sig, 999));
        assert!(
            !signer.feedback_link_valid(42, "bad", 1_000, sig, 0),
            "the other answer"
        );
        assert!(
            !signer.feedback_link_valid(43, "good", 1_000, sig, 0),
            "another conversation"
        );
        assert!(!signer.feedback_link_valid(42, "good", 1_000, sig, 1_000), "expired");
        assert!(!signer.feedback_link_valid(42, "good", 2_000, sig, 0), "a later expiry");
        let file = signer.file_link_query(42, 1_000);
        let file_sig = file.split("sig=").nth(1).unwrap_or_default();
        assert!(
            !signer.feedback_link_valid(42, "", 1_000, file_sig, 0),
            "a file link's signature"
        );
    }
}
