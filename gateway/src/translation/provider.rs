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
struct LibreAnswer {
    #[serde(rename = "translatedText")]
    translated: serde_json::Value,
}

/// Sends a request and reads the service's JSON answer, or why not.
async fn answer_of<T: serde::de::DeserializeOwned>(request: reqwest::RequestBuilder) -> Result<T, TranslateError> {
    let unreachable = |e: reqwest::Error| TranslateError::Unavailable(e.to_string());
    let response = request.send().await.map_err(unreachable)?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(unreachable)?;
    if status != 200 {
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

    /// `texts` from `source` (None: the service detects it) into `target`, in order.
    pub async fn translate(
        &self,
        http: &reqwest::Client,
        texts: &[String],
        source: Option<&str>,
        target: &str,
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
