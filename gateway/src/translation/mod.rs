//! Automatic translation for agents who do not read the customer's language:
//! each customer message in another language is translated after it is
//! committed, by a worker that reads the messages in order (the accept path
//! does nothing more), and stored beside the original — never replacing it.
//! `provider` speaks DeepL's and LibreTranslate's APIs; `budget` caps the
//! calls per minute; a text already translated comes from the cache. A
//! provider that is down never holds a message back: it is shown
//! untranslated ("translation unavailable, retrying") and translated when
//! the provider answers again.

pub mod budget;
pub mod protect;
pub mod provider;
pub mod translator;
pub mod worker;

use sha2::{Digest, Sha256};

pub use provider::{Provider, TranslateError};
pub use translator::{Translated, Translator};
pub use worker::{TranslationStatus, TranslationWorker};

/// The cache key of `text` from `source` into `target` by `provider`.
pub fn cache_key(provider: &str, source: &str, target: &str, text: &str) -> String {
    let mut h = Sha256::new();
    for part in [provider, source, target, text] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_names_the_provider_the_languages_and_the_text() {
        let k = cache_key("deepl", "de", "fr", "Maschine steht");
        assert_eq!(k.len(), 64);
        assert_ne!(k, cache_key("libretranslate", "de", "fr", "Maschine steht"));
        assert_ne!(k, cache_key("deepl", "de", "en", "Maschine steht"));
        assert_ne!(
            cache_key("deepl", "ab", "c", "x"),
            cache_key("deepl", "a", "bc", "x"),
            "no ambiguity at the seams"
        );
    }
}
