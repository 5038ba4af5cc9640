//! The translation services Switchyard can call, behind one small
//! interface: the DeepL API and a (self-hosted) LibreTranslate server.
//! Requests and answers are the services' own shapes; a failure says
//! whether trying again later may help.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

/// Texts DeepL takes in one call.
pub const DEEPL_BATCH: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    /// Rate limited, overloaded, down or slow: try again later.
    #[error("translation unavailable: {0}")]
    Unavailable(String),
    /// The service refuses this request for good (bad key, unsupported language).
    #[error("translation refused: {0}")]
    Refused(String),
}

#[derive(Clone)]
pub enum Provider {
    DeepL { url: String, key: String },
    LibreTranslate { url: String, key: Option<String> },
}

/// The language code DeepL wants (`DE`, `EN-GB` for an English target).
fn deepl_code(language: &str, target: bool) -> String {
    match (language, target) {
        ("en", true) => "EN-GB".into(),
        (l, _) => l.to_ascii_uppercase(),
    }
}

fn classify(status: u16, body: &str) -> TranslateError {
    let detail: String = body.chars().take(200).collect();
    match status {
        // 429 too many requests, 456 quota exceeded (DeepL), 5xx.
        429 | 456 | 500..=599 => TranslateError::Unavailable(format!("HTTP {status}: {detail}")),
        _ => TranslateError::Refused(format!("HTTP {status}: {detail}")),
    }
}

#[derive(Deserialize)]
struct DeepLAnswer {
    translations: Vec<DeepLText>,
}

#[derive(Deserialize)]
struct DeepLText {
    text: String,
}

#[derive(Deserialize)]
struct GlossaryInfo {
    glossary_id: String,
    name: String,
}

#[derive(Deserialize)]
struct GlossaryList {
    glossaries: Vec<GlossaryInfo>,
}

/// Glossary entries as DeepL takes them (TSV): a tab or a line break inside
/// a term would split it, so it becomes a space.
pub fn glossary_tsv(entries: &[(String, String)]) -> String {
    let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ").trim().to_string();
    entries
        .iter()
        .map(|(a, b)| (clean(a), clean(b)))
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .map(|(a, b)| format!("{a}\t{b}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Deserialize)]
struct LibreAnswer {
    #[serde(rename = "translatedText")]
    translated: serde_json::Value,
}

/// Sends a request and reads the service's JSON answer, or why not.
async fn answer_of<T: serde::de::DeserializeOwned>(request: reqwest::RequestBuilder) -> Result<T, TranslateError> {
    // reqwest says "error sending request" for a timeout too: say which it was.
    let unreachable = |e: reqwest::Error| {
        TranslateError::Unavailable(if e.is_timeout() {
            "the provider did not answer in time (timeout)".into()
        } else if e.is_connect() {
            format!("the provider cannot be reached: {e}")
        } else {
            e.to_string()
        })
    };
    let response = request.send().await.map_err(unreachable)?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(unreachable)?;
    // A glossary is created with 201.
    if !(200..300).contains(&status) {
        return Err(classify(status, &text));
    }
    serde_json::from_str(&text).map_err(|e| TranslateError::Unavailable(format!("unexpected answer: {e}")))
}

impl Provider {
    pub fn name(&self) -> &'static str {
        match self {
            Provider::DeepL { .. } => "deepl",
            Provider::LibreTranslate { .. } => "libretranslate",
        }
    }

    /// DeepL: the id of the glossary called `name`, made from `entries` if
    /// the account has none by that name (the name carries a digest of the
    /// entries, so changed terms make a new glossary and a restart reuses
    /// the old one). Other providers have none: `None`.
    pub async fn glossary(
        &self,
        http: &reqwest::Client,
        name: &str,
        source: &str,
        target: &str,
        entries: &[(String, String)],
    ) -> Result<Option<String>, TranslateError> {
        let Provider::DeepL { url, key } = self else {
            return Ok(None);
        };
        let base = format!("{}/v2/glossaries", url.trim_end_matches('/'));
        let auth = format!("DeepL-Auth-Key {key}");
        let list: GlossaryList = answer_of(http.get(&base).header("authorization", &auth)).await?;
        if let Some(found) = list.glossaries.into_iter().find(|g| g.name == name) {
            return Ok(Some(found.glossary_id));
        }
        let body = json!({
            "name": name,
            "source_lang": source,
            "target_lang": target,
            "entries": glossary_tsv(entries),
            "entries_format": "tsv",
        });
        let made: GlossaryInfo = answer_of(http.post(&base).header("authorization", &auth).json(&body)).await?;
        Ok(Some(made.glossary_id))
    }

    /// `texts` from `source` (None: the service detects it) into `target`,
    /// in order; with a DeepL glossary when `glossary` names one.
    pub async fn translate(
        &self,
        http: &reqwest::Client,
        texts: &[String],
        source: Option<&str>,
        target: &str,
        glossary: Option<&str>,
    ) -> Result<Vec<String>, TranslateError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            Provider::DeepL { url, key } => {
                let mut out = Vec::with_capacity(texts.len());
                for chunk in texts.chunks(DEEPL_BATCH) {
                    let mut body = json!({"text": chunk, "target_lang": deepl_code(target, true)});
                    if let Some(source) = source {
                        body["source_lang"] = json!(deepl_code(source, false));
                        if let Some(glossary) = glossary {
                            body["glossary_id"] = json!(glossary);
                        }
                    }
                    let request = http
                        .post(format!("{}/v2/translate", url.trim_end_matches('/')))
                        .header("authorization", format!("DeepL-Auth-Key {key}"))
                        .json(&body);
                    let answer: DeepLAnswer = answer_of(request).await?;
                    if answer.translations.len() != chunk.len() {
                        return Err(TranslateError::Unavailable(
                            "the answer does not match the texts".into(),
                        ));
                    }
                    out.extend(answer.translations.into_iter().map(|t| t.text));
                }
                Ok(out)
            }
            Provider::LibreTranslate { url, key } => {
                let mut body = json!({
                    "q": texts,
                    "source": source.unwrap_or("auto"),
                    "target": target,
                    "format": "text",
                });
                if let Some(key) = key {
                    body["api_key"] = json!(key);
                }
                let request = http
                    .post(format!("{}/translate", url.trim_end_matches('/')))
                    .json(&body);
                let answer: LibreAnswer = answer_of(request).await?;
                let list: Vec<String> = match answer.translated {
                    serde_json::Value::Array(items) => items
                        .into_iter()
                        .map(|v| v.as_str().unwrap_or_default().to_string())
                        .collect(),
                    serde_json::Value::String(one) => vec![one],
                    _ => Vec::new(),
                };
                if list.len() != texts.len() {
                    return Err(TranslateError::Unavailable(
                        "the answer does not match the texts".into(),
                    ));
                }
                Ok(list)
            }
        }
    }
}

/// The HTTP client of the providers: a timeout on every call.
pub fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glossary_entries_are_one_pair_a_line_and_cannot_be_split() {
        let entries = vec![
            ("plieuse".to_string(), "Faltmaschine".to_string()),
            ("bande\ttransporteuse".to_string(), "Förder\nband".to_string()),
            (" ".to_string(), "leer".to_string()),
        ];
        assert_eq!(
            glossary_tsv(&entries),
            "plieuse\tFaltmaschine\nbande transporteuse\tFörder band"
        );
        let name = crate::translation::translator::glossary_name("fr", "de", &entries);
        assert!(name.starts_with("switchyard fr-de "), "{name}");
        assert_eq!(
            name,
            crate::translation::translator::glossary_name("fr", "de", &entries)
        );
        assert_ne!(
            name,
            crate::translation::translator::glossary_name("fr", "de", &entries[..1])
        );
    }

    #[test]
    fn language_codes_and_failures() {
        assert_eq!(deepl_code("de", false), "DE");
        assert_eq!(deepl_code("en", true), "EN-GB");
        assert!(matches!(classify(429, ""), TranslateError::Unavailable(_)));
        assert!(matches!(
            classify(456, "Quota exceeded"),
            TranslateError::Unavailable(_)
        ));
        assert!(matches!(classify(503, ""), TranslateError::Unavailable(_)));
        assert!(matches!(classify(403, "wrong key"), TranslateError::Refused(_)));
    }
}
