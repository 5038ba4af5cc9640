//! One translation service for the worker (customer messages) and the reply
//! box (agents' answers): protected terms masked, the cache first, then the
//! provider within the per-minute budget, the placeholders put back.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use tracing::warn;

use super::budget::Budget;
use super::protect::{self, Term};
use super::provider::{Provider, TranslateError};
use super::worker::TranslationStatus;
use crate::store::Store;

pub struct Translator {
    pub provider: Provider,
    pub http: reqwest::Client,
    pub store: Store,
    pub budget: Mutex<Budget>,
    /// The agents' language.
    pub agents: String,
    /// Terms kept verbatim, and preferred translations.
    pub keep: Vec<String>,
    pub terms: Vec<Term>,
    pub status: Arc<Mutex<TranslationStatus>>,
    /// DeepL glossaries by language pair, once known: (name, id).
    pub glossaries: Mutex<HashMap<(String, String), (String, String)>>,
}

/// The glossary's name for a language pair: its entries' digest in it, so
/// the account keeps one glossary per set of terms.
pub fn glossary_name(source: &str, target: &str, entries: &[(String, String)]) -> String {
    let mut h = Sha256::new();
    h.update(super::provider::glossary_tsv(entries).as_bytes());
    format!("switchyard {source}-{target} {}", &hex::encode(h.finalize())[..12])
}

/// One text's translation, and the protected terms the provider lost (the
/// agent is told before the reply leaves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translated {
    pub text: String,
    pub lost: Vec<String>,
}

impl Translator {
    pub fn set_status(&self, f: impl FnOnce(&mut TranslationStatus)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
    }

    pub fn status(&self) -> TranslationStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The DeepL glossary of this pair's terms, made on first use; None when
    /// the provider has no glossaries, the pair no terms, or DeepL refuses
    /// (the terms are then protected by placeholders, as for other providers).
    async fn glossary(&self, source: &str, target: &str) -> Option<(String, String)> {
        let pair = (source.to_string(), target.to_string());
        if let Some(known) = self.glossaries.lock().ok().and_then(|g| g.get(&pair).cloned()) {
            return Some(known);
        }
        let entries: Vec<(String, String)> = self
            .terms
            .iter()
            .filter(|t| t.source_language == source && t.target_language == target)
            .map(|t| (t.source.clone(), t.target.clone()))
            .collect();
        if entries.is_empty() {
            return None;
        }
        let name = glossary_name(source, target, &entries);
        match self
            .provider
            .glossary(&self.http, &name, source, target, &entries)
            .await
        {
            Ok(Some(id)) => {
                if let Ok(mut g) = self.glossaries.lock() {
                    g.insert(pair, (name.clone(), id.clone()));
                }
                Some((name, id))
            }
            Ok(None) => None,
            Err(e) => {
                warn!(error = %e, source, target, "no DeepL glossary; the terms are protected by placeholders");
                None
            }
        }
    }

    /// `texts` from `source` into `target`, in order.
    pub async fn translate(
        &self,
        texts: &[String],
        source: &str,
        target: &str,
        now: i64,
    ) -> Result<Vec<Translated>, TranslateError> {
        let glossary = self.glossary(source, target).await;
        // With a glossary DeepL places the terms itself (and inflects them):
        // placeholders only for what must stay verbatim.
        let terms: &[Term] = if glossary.is_some() { &[] } else { &self.terms };
        let name = match &glossary {
            Some((glossary_name, _)) => format!("{}+{glossary_name}", self.provider.name()),
            None => self.provider.name().to_string(),
        };
        let masked: Vec<protect::Masked> = texts
            .iter()
            .map(|t| protect::mask(t, &self.keep, terms, source, target))
            .collect();
        let keys: Vec<String> = masked
            .iter()
            .map(|m| super::cache_key(&name, source, target, &m.text))
            .collect();
        let mut known: BTreeMap<String, String> = self
            .store
            .cached_translations(&keys)
            .await
            .map_err(|e| TranslateError::Unavailable(format!("store: {e}")))?
            .into_iter()
            .collect();
        let hits = known.len();
        let mut misses: Vec<usize> = (0..texts.len()).filter(|i| !known.contains_key(&keys[*i])).collect();
        misses.dedup_by_key(|i| keys[*i].clone());
        if !misses.is_empty() {
            if !self.budget.lock().map(|mut b| b.take(now)).unwrap_or(false) {
                return Err(TranslateError::Unavailable("the per-minute budget is spent".into()));
            }
            let asked: Vec<String> = misses.iter().map(|i| masked[*i].text.clone()).collect();
            let answers = self
                .provider
                .translate(
                    &self.http,
                    &asked,
                    Some(source),
                    target,
                    glossary.as_ref().map(|(_, id)| id.as_str()),
                )
                .await?;
            let fresh: Vec<(String, String)> = misses.iter().map(|i| keys[*i].clone()).zip(answers).collect();
            self.store
                .cache_translations(&fresh, now)
                .await
                .map_err(|e| TranslateError::Unavailable(format!("store: {e}")))?;
            known.extend(fresh);
        }
        self.set_status(|s| {
            s.cache_hits += hits as u64;
            s.translated += misses.len() as u64;
        });
        Ok(masked
            .iter()
            .zip(&keys)
            .map(|(m, key)| {
                let (text, lost) = protect::unmask(known.get(key).map(String::as_str).unwrap_or_default(), m);
                Translated { text, lost }
            })
            .collect())
    }
}
