use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest text frame the server reads; larger ones are refused with an error frame.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
const MAX_TEXT_CHARS: usize = 8_000;
const MAX_CLIENT_ID_CHARS: usize = 64;
const MAX_ATTACHMENTS: usize = 10;
const MAX_PRECHAT_FIELD_CHARS: usize = 200;
const MAX_COMMENT_CHARS: usize = 2_000;

/// Optional facts the visitor gives before chatting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prechat {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub machine_serial: Option<String>,
}

/// What the widget sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame {
    /// First frame: a new chat (no token) or a resume.
    Open {
        token: Option<String>,
        prechat: Prechat,
        lang: Option<String>,
    },
    Message {
        client_id: String,
        text: String,
        attachments: Vec<String>,
    },
    Typing {
        on: bool,
    },
    /// The visitor's answer to the satisfaction question, with an optional comment.
    Rate {
        good: bool,
        comment: Option<String>,
    },
    /// The visitor asks for their data to be erased (filed for an admin).
    EraseRequest,
    Ping,
}

/// One message as the visitor sees it (history and live pushes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryItem {
    pub id: i64,
    /// `customer`, `agent` or `system`.
    pub author: String,
    pub name: Option<String>,
    pub text: String,
    pub attachments: Vec<HistoryAttachment>,
    /// Unix milliseconds.
    pub at: i64,
    /// The client id the visitor gave, for their own messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Quick answers to a question (Level 1): the widget shows them as chips.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
}

/// A quick answer the visitor can tap: its title is sent as their message,
/// or, for `photo`, the file picker opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub photo: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryAttachment {
    pub name: Option<String>,
    pub content_type: Option<String>,
    pub url: String,
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Opened {
        token: String,
        conversation: Option<String>,
        history: Vec<HistoryItem>,
        /// The site's privacy notice, when the gateway knows it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        privacy_url: Option<String>,
        /// Whether the visitor may ask for erasure from the widget.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        erasure: bool,
    },
    Ack {
        client_id: String,
        message_id: i64,
        conversation: String,
        duplicate: bool,
    },
    Message(HistoryItem),
    Typing {
        on: bool,
    },
    /// The rating was recorded (`recorded: false`: it was answered before, or never asked).
    Rated {
        recorded: bool,
    },
    /// The erasure request was filed (`recorded: false`: there is nothing of
    /// the visitor's to erase, or requests are not taken from the widget).
    EraseRequested {
        recorded: bool,
    },
    Error {
        code: String,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        /// For `rate_limited`: when the same frame would be taken.
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    Pong,
}

impl ServerFrame {
    pub fn error(e: &FrameError) -> Self {
        ServerFrame::Error {
            code: e.code().to_string(),
            message: e.to_string(),
            client_id: None,
            retry_after_ms: None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("frame is larger than {MAX_FRAME_BYTES} bytes")]
    TooLarge,
    #[error("frame is not valid JSON: {0}")]
    Malformed(String),
    #[error("frame has no string field \"type\"")]
    MissingType,
    #[error("unknown frame type {0:?}")]
    UnknownType(String),
    #[error("invalid {kind} frame: {reason}")]
    Invalid { kind: &'static str, reason: String },
}

impl FrameError {
    pub fn code(&self) -> &'static str {
        match self {
            FrameError::TooLarge => "frame_too_large",
            FrameError::Malformed(_) => "malformed_frame",
            FrameError::MissingType => "missing_type",
            FrameError::UnknownType(_) => "unknown_type",
            FrameError::Invalid { .. } => "invalid_frame",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenBody {
    #[serde(rename = "type")]
    _type: String,
    token: Option<String>,
    #[serde(default)]
    prechat: Option<Prechat>,
    lang: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageBody {
    #[serde(rename = "type")]
    _type: String,
    client_id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    attachments: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateBody {
    #[serde(rename = "type")]
    _type: String,
    rating: String,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypingBody {
    #[serde(rename = "type")]
    _type: String,
    on: bool,
}

pub fn parse_client_frame(raw: &str) -> Result<ClientFrame, FrameError> {
    if raw.len() > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge);
    }
    let value: Value = serde_json::from_str(raw).map_err(|e| FrameError::Malformed(e.to_string()))?;
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .ok_or(FrameError::MissingType)?;
    match kind {
        "open" => {
            let b: OpenBody = body("open", value)?;
            let prechat = b.prechat.unwrap_or_default();
            for (field, v) in [
                ("name", &prechat.name),
                ("email", &prechat.email),
                ("phone", &prechat.phone),
                ("company", &prechat.company),
                ("machine_serial", &prechat.machine_serial),
            ] {
                if v.as_ref().is_some_and(|v| v.chars().count() > MAX_PRECHAT_FIELD_CHARS) {
                    return Err(invalid(
                        "open",
                        format!("prechat.{field} is longer than {MAX_PRECHAT_FIELD_CHARS} characters"),
                    ));
                }
            }
            Ok(ClientFrame::Open {
                token: b.token,
                prechat,
                lang: b.lang.filter(|l| l.len() <= 16),
            })
        }
        "message" => {
            let b: MessageBody = body("message", value)?;
            let id_len = b.client_id.chars().count();
            if id_len == 0 || id_len > MAX_CLIENT_ID_CHARS || b.client_id.chars().any(char::is_control) {
                return Err(invalid(
                    "message",
                    format!("client_id must be 1 to {MAX_CLIENT_ID_CHARS} printable characters"),
                ));
            }
            if b.text.trim().is_empty() && b.attachments.is_empty() {
                return Err(invalid("message", "text is empty and there is no attachment".into()));
            }
            if b.text.chars().count() > MAX_TEXT_CHARS {
                return Err(invalid(
                    "message",
                    format!("text is longer than {MAX_TEXT_CHARS} characters"),
                ));
            }
            if b.attachments.len() > MAX_ATTACHMENTS {
                return Err(invalid("message", format!("more than {MAX_ATTACHMENTS} attachments")));
            }
            Ok(ClientFrame::Message {
                client_id: b.client_id,
                text: b.text,
                attachments: b.attachments,
            })
        }
        "typing" => {
            let b: TypingBody = body("typing", value)?;
            Ok(ClientFrame::Typing { on: b.on })
        }
        "rate" => {
            let b: RateBody = body("rate", value)?;
            let good = match b.rating.as_str() {
                "good" => true,
                "bad" => false,
                _ => return Err(invalid("rate", "rating must be \"good\" or \"bad\"".into())),
            };
            if b.comment
                .as_ref()
                .is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS)
            {
                return Err(invalid(
                    "rate",
                    format!("comment is longer than {MAX_COMMENT_CHARS} characters"),
                ));
            }
            Ok(ClientFrame::Rate {
                good,
                comment: b.comment.filter(|c| !c.trim().is_empty()),
            })
        }
        "ping" => Ok(ClientFrame::Ping),
        "erase_request" => Ok(ClientFrame::EraseRequest),
        other => Err(FrameError::UnknownType(other.chars().take(40).collect())),
    }
}

fn body<T: serde::de::DeserializeOwned>(kind: &'static str, value: Value) -> Result<T, FrameError> {
    serde_json::from_value(value).map_err(|e| invalid(kind, e.to_string()))
}

fn invalid(kind: &'static str, reason: String) -> FrameError {
    FrameError::Invalid { kind, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_frame() {
        assert_eq!(
            parse_client_frame(r#"{"type":"open","token":null,"prechat":{"name":"Ana"}}"#),
            Ok(ClientFrame::Open {
                token: None,
                prechat: Prechat {
                    name: Some("Ana".into()),
                    ..Prechat::default()
                },
                lang: None
            })
        );
        assert_eq!(
            parse_client_frame(r#"{"type":"message","client_id":"c1","text":"Ligne arrêtée"}"#),
            Ok(ClientFrame::Message {
                client_id: "c1".into(),
                text: "Ligne arrêtée".into(),
                attachments: vec![]
            })
        );
        assert_eq!(
            parse_client_frame(r#"{"type":"typing","on":true}"#),
            Ok(ClientFrame::Typing { on: true })
        );
        assert_eq!(parse_client_frame(r#"{"type":"ping"}"#), Ok(ClientFrame::Ping));
        assert_eq!(
            parse_client_frame(r#"{"type":"erase_request"}"#),
            Ok(ClientFrame::EraseRequest)
        );
        assert_eq!(
            parse_client_frame(r#"{"type":"rate","rating":"bad","comment":"too slow"}"#),
            Ok(ClientFrame::Rate {
                good: false,
                comment: Some("too slow".into())
            })
        );
        assert_eq!(
            parse_client_frame(r#"{"type":"rate","rating":"good","comment":"  "}"#),
            Ok(ClientFrame::Rate {
                good: true,
                comment: None
            })
        );
    }

    #[test]
    fn bad_frames_say_what_is_wrong() {
        let cases: &[(&str, &str)] = &[
            ("not json", "malformed_frame"),
            ("[1,2]", "missing_type"),
            (r#"{"type":"rate","rating":"5"}"#, "invalid_frame"),
            (r#"{"type":"launch_missiles"}"#, "unknown_type"),
            (r#"{"type":"message","text":"hi"}"#, "invalid_frame"),
            (r#"{"type":"message","client_id":"","text":"hi"}"#, "invalid_frame"),
            (r#"{"type":"message","client_id":"a","text":"  "}"#, "invalid_frame"),
            (
                r#"{"type":"message","client_id":"a","text":"x","extra":1}"#,
                "invalid_frame",
            ),
            (r#"{"type":"typing","on":"yes"}"#, "invalid_frame"),
        ];
        for (raw, code) in cases {
            let err = parse_client_frame(raw).err().map(|e| e.code());
            assert_eq!(err, Some(*code), "{raw}");
        }
        let big = format!(
            r#"{{"type":"message","client_id":"a","text":"{}"}}"#,
            "x".repeat(MAX_FRAME_BYTES)
        );
        assert_eq!(parse_client_frame(&big), Err(FrameError::TooLarge));
    }

    #[test]
    fn server_frames_have_a_type_tag() {
        let json = serde_json::to_value(ServerFrame::Pong).unwrap_or_default();
        assert_eq!(json, serde_json::json!({"type": "pong"}));
    }
}
