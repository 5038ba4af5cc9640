//! The Graph API calls the gateway makes: send, mark as read, media URL and
//! download. Every error is classified so the outbox knows whether to retry.

use std::time::Duration;

use limited::collect_limited;
use serde::Deserialize;
use serde_json::{Value, json};

/// What to do about a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Retry later with backoff (throughput, pair rate, 5xx, timeouts).
    Transient,
    /// Do not retry; the reason is shown to agents.
    Permanent,
    /// Outside the 24-hour customer-service window: only a template can go.
    WindowClosed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}", code.map(|c| format!("{c} ")).unwrap_or_default(), message)]
pub struct GraphError {
    pub class: ErrorClass,
    pub http_status: Option<u16>,
    pub code: Option<i64>,
    pub message: String,
}

/// Meta's codes: docs in `notes/whatsapp-cloud-api.md` §6.
pub fn classify_error(code: Option<i64>, http_status: Option<u16>) -> ErrorClass {
    match code {
        Some(131047) => ErrorClass::WindowClosed,
        Some(130429 | 131056 | 131048 | 80007 | 1 | 2 | 4 | 131057) => ErrorClass::Transient,
        Some(131026 | 131051 | 131060 | 132001 | 131049 | 368 | 131031 | 190 | 10 | 100) => ErrorClass::Permanent,
        _ => match http_status {
            Some(s) if s >= 500 || s == 429 || s == 408 => ErrorClass::Transient,
            None => ErrorClass::Transient,
            Some(_) => ErrorClass::Permanent,
        },
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MediaInfo {
    pub url: String,
    pub mime_type: Option<String>,
    pub sha256: Option<String>,
    /// A string in Meta's example, a number elsewhere: both accepted.
    #[serde(default, deserialize_with = "string_or_number")]
    pub file_size: Option<u64>,
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendOutcome {
    pub wamid: String,
}

#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl GraphClient {
    /// `base` is e.g. `https://graph.facebook.com/v26.0`.
    pub fn new(base: &str, token: &str, timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(GraphClient {
            http,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
        })
    }

    /// `GET /{phone-number-id}`: the number as Meta displays it, which also
    /// proves the access token may act for it.
    pub async fn phone_number(&self, phone_number_id: &str) -> Result<String, GraphError> {
        let url = format!("{}/{phone_number_id}", self.base);
        let v = self
            .call(
                self.http
                    .get(url)
                    .query(&[("fields", "display_phone_number,verified_name")]),
            )
            .await?;
        let number = v["display_phone_number"].as_str().unwrap_or(phone_number_id);
        Ok(match v["verified_name"].as_str() {
            Some(name) => format!("{number} ({name})"),
            None => number.to_string(),
        })
    }

    /// `POST /{phone-number-id}/messages`: the new message's wamid.
    pub async fn send(&self, phone_number_id: &str, body: &Value) -> Result<SendOutcome, GraphError> {
        let url = format!("{}/{phone_number_id}/messages", self.base);
        let v = self.call(self.http.post(url).json(body)).await?;
        let wamid = v
            .pointer("/messages/0/id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if wamid.is_empty() {
            return Err(GraphError {
                class: ErrorClass::Transient,
                http_status: Some(200),
                code: None,
                message: "send answered without a message id".into(),
            });
        }
        Ok(SendOutcome { wamid })
    }

    /// `POST /{phone-number-id}/media`: uploads a file, answers its media id.
    pub async fn upload_media(
        &self,
        phone_number_id: &str,
        bytes: Vec<u8>,
        content_type: &str,
        filename: &str,
    ) -> Result<String, GraphError> {
        let url = format!("{}/{phone_number_id}/media", self.base);
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(filename.to_string())
            .mime_str(content_type)
            .map_err(|e| GraphError {
                class: ErrorClass::Permanent,
                http_status: None,
                code: None,
                message: format!("bad content type {content_type:?}: {e}"),
            })?;
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", content_type.to_string())
            .part("file", part);
        let v = self.call(self.http.post(url).multipart(form)).await?;
        v.get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| GraphError {
                class: ErrorClass::Transient,
                http_status: Some(200),
                code: None,
                message: "media upload answered without an id".into(),
            })
    }

    /// Marks an inbound message (and those before it) as read.
    pub async fn mark_read(&self, phone_number_id: &str, wamid: &str) -> Result<(), GraphError> {
        let url = format!("{}/{phone_number_id}/messages", self.base);
        let body = json!({"messaging_product": "whatsapp", "status": "read", "message_id": wamid});
        self.call(self.http.post(url).json(&body)).await.map(|_| ())
    }

    /// `GET /{media-id}`: where to download the file (the URL lives minutes).
    pub async fn media_info(&self, media_id: &str) -> Result<MediaInfo, GraphError> {
        let url = format!("{}/{media_id}", self.base);
        let v = self.call(self.http.get(url)).await?;
        serde_json::from_value(v).map_err(|e| GraphError {
            class: ErrorClass::Transient,
            http_status: Some(200),
            code: None,
            message: format!("media answer unreadable: {e}"),
        })
    }

    /// Downloads the file with the bearer token, refusing past `limit` bytes.
    pub async fn download(&self, url: &str, limit: usize) -> Result<Vec<u8>, GraphError> {
        let response = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            return Err(GraphError {
                class: ErrorClass::Transient,
                http_status: Some(status.as_u16()),
                code: None,
                message: format!("download answered {status}"),
            });
        }
        collect_limited(response, limit).await
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value, GraphError> {
        let response = request.bearer_auth(&self.token).send().await.map_err(transport)?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(body);
        }
        let code = body.pointer("/error/code").and_then(Value::as_i64);
        let details = body.pointer("/error/error_data/details").and_then(Value::as_str);
        let message = body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("Graph API error");
        Err(GraphError {
            class: classify_error(code, Some(status.as_u16())),
            http_status: Some(status.as_u16()),
            code,
            message: match details {
                Some(d) => format!("{message}: {d}"),
                None => message.to_string(),
            },
        })
    }
}

fn transport(e: reqwest::Error) -> GraphError {
    GraphError {
        class: ErrorClass::Transient,
        http_status: None,
        code: None,
        message: if e.is_timeout() {
            "Graph API timed out".into()
        } else {
            format!("Graph API unreachable: {e}")
        },
    }
}

mod limited {
    use super::{ErrorClass, GraphError};

    /// Reads a response body chunk by chunk, stopping past `limit`.
    pub async fn collect_limited(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, GraphError> {
        let mut out = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if out.len() + chunk.len() > limit {
                        return Err(GraphError {
                            class: ErrorClass::Permanent,
                            http_status: None,
                            code: None,
                            message: format!("file is larger than {limit} bytes"),
                        });
                    }
                    out.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(out),
                Err(e) => return Err(super::transport(e)),
            }
        }
    }
}

/// Request bodies, as Meta documents them.
pub mod body {
    use serde_json::{Value, json};

    /// Addresses a built body to a business-scoped user id instead of a phone
    /// number: Meta takes it as `recipient`, with no `to`.
    pub fn to_user_id(mut body: Value, bsuid: &str) -> Value {
        if let Some(map) = body.as_object_mut() {
            map.remove("to");
            map.insert("recipient".into(), Value::String(bsuid.to_string()));
        }
        body
    }

    pub fn text(to: &str, text: &str, reply_to: Option<&str>) -> Value {
        let mut v = json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                           "type": "text", "text": {"preview_url": false, "body": text}});
        if let Some(id) = reply_to {
            v["context"] = json!({"message_id": id});
        }
        v
    }

    pub fn buttons(to: &str, text: &str, buttons: &[(String, String)]) -> Value {
        let buttons: Vec<Value> = buttons
            .iter()
            .map(|(id, title)| json!({"type": "reply", "reply": {"id": id, "title": title}}))
            .collect();
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "interactive",
               "interactive": {"type": "button", "body": {"text": text}, "action": {"buttons": buttons}}})
    }

    pub fn template(to: &str, name: &str, language: &str, parameters: &[String]) -> Value {
        let params: Vec<Value> = parameters.iter().map(|p| json!({"type": "text", "text": p})).collect();
        let mut template = json!({"name": name, "language": {"code": language}});
        if !params.is_empty() {
            template["components"] = json!([{"type": "body", "parameters": params}]);
        }
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "template",
               "template": template})
    }

    /// `kind`: image, document, audio, video. By uploaded media id.
    pub fn media_id(to: &str, kind: &str, id: &str, caption: Option<&str>, filename: Option<&str>) -> Value {
        let mut media = json!({"id": id});
        if let Some(c) = caption.filter(|c| !c.is_empty() && kind != "audio") {
            media["caption"] = json!(c);
        }
        if let (Some(f), "document") = (filename, kind) {
            media["filename"] = json!(f);
        }
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind, kind: media})
    }

    /// `kind`: image, document, audio, video. By public link.
    pub fn media_link(to: &str, kind: &str, link: &str, caption: Option<&str>, filename: Option<&str>) -> Value {
        let mut media = json!({"link": link});
        if let Some(c) = caption.filter(|c| !c.is_empty() && kind != "audio") {
            media["caption"] = json!(c);
        }
        if let (Some(f), "document") = (filename, kind) {
            media["filename"] = json!(f);
        }
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind, kind: media})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_classes_follow_meta_codes() {
        assert_eq!(classify_error(Some(131047), Some(400)), ErrorClass::WindowClosed);
        for code in [131026, 131051, 131060, 132001] {
            assert_eq!(classify_error(Some(code), Some(400)), ErrorClass::Permanent, "{code}");
        }
        for code in [130429, 131056] {
            assert_eq!(classify_error(Some(code), Some(400)), ErrorClass::Transient, "{code}");
        }
        assert_eq!(classify_error(None, Some(503)), ErrorClass::Transient);
        assert_eq!(classify_error(None, None), ErrorClass::Transient, "timeouts");
        assert_eq!(classify_error(None, Some(400)), ErrorClass::Permanent);
    }

    #[test]
    fn media_size_as_string_or_number() {
        let a: MediaInfo =
            serde_json::from_str(r#"{"url":"u","file_size":"303833"}"#).unwrap_or_else(|e| panic!("{e}"));
        let b: MediaInfo = serde_json::from_str(r#"{"url":"u","file_size":303833}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.file_size, Some(303_833));
        assert_eq!(a, b);
    }
}
