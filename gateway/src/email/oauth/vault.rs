//! Secrets at rest (a mailbox's refresh token): AES-256-GCM under the key
//! of `server.secret_key` (32 bytes as 64 hex digits, given in the
//! environment as `SWITCHYARD__SERVER__SECRET_KEY`), bound to what they
//! belong to, so a sealed value copied to another row does not open there.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

pub const KEY_VARIABLE: &str = "SWITCHYARD__SERVER__SECRET_KEY";
const PREFIX: &str = "v1.";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VaultError {
    #[error("{KEY_VARIABLE} is not set: secrets cannot be kept (generate one with `openssl rand -hex 32`)")]
    NoKey,
    #[error("{KEY_VARIABLE} must be 64 hex digits (32 bytes)")]
    BadKey,
    #[error("the sealed value cannot be opened (another key, or damaged)")]
    Open,
    #[error("sealing failed")]
    Seal,
}

#[derive(Clone)]
pub struct Vault {
    key: [u8; 32],
}

impl Vault {
    pub fn new(key: [u8; 32]) -> Vault {
        Vault { key }
    }

    /// The configured key; `NoKey` when it is not set.
    pub fn from_config(key: &str) -> Result<Vault, VaultError> {
        match key.trim() {
            "" => Err(VaultError::NoKey),
            k => Vault::from_hex(k),
        }
    }

    pub fn from_hex(hex_key: &str) -> Result<Vault, VaultError> {
        let bytes = hex::decode(hex_key).map_err(|_| VaultError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| VaultError::BadKey)?;
        Ok(Vault { key })
    }

    fn key(&self) -> Result<LessSafeKey, VaultError> {
        Ok(LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &self.key).map_err(|_| VaultError::BadKey)?,
        ))
    }

    /// `secret` sealed for `context` (the mailbox's name).
    pub fn seal(&self, context: &str, secret: &str) -> Result<String, VaultError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| VaultError::Seal)?;
        let mut data = secret.as_bytes().to_vec();
        self.key()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut data,
            )
            .map_err(|_| VaultError::Seal)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    pub fn open(&self, context: &str, sealed: &str) -> Result<String, VaultError> {
        let raw = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .ok_or(VaultError::Open)?;
        if raw.len() < NONCE_LEN {
            return Err(VaultError::Open);
        }
        let (nonce, data) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| VaultError::Open)?;
        let mut data = data.to_vec();
        let plain = self
            .key()?
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut data)
            .map_err(|_| VaultError::Open)?;
        String::from_utf8(plain.to_vec()).map_err(|_| VaultError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_context() {
        let vault = Vault::new([7; 32]);
        let sealed = vault.seal("sav", "1//refresh-token").unwrap_or_default();
        assert!(!sealed.contains("refresh"), "{sealed}");
        assert_eq!(vault.open("sav", &sealed), Ok("1//refresh-token".into()));
        assert_ne!(
            sealed,
            vault.seal("sav", "1//refresh-token").unwrap_or_default(),
            "a fresh nonce each time"
        );
        assert_eq!(
            vault.open("other", &sealed),
            Err(VaultError::Open),
            "bound to its mailbox"
        );
        assert_eq!(Vault::new([8; 32]).open("sav", &sealed), Err(VaultError::Open));
        assert_eq!(vault.open("sav", "v1.AAAA"), Err(VaultError::Open));
        assert_eq!(Vault::from_hex("abcd").err(), Some(VaultError::BadKey));
    }
}
