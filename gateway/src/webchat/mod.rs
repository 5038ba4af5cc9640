//! The widget's side of the gateway: websocket sessions, uploads, the live hub.

mod hub;
mod limits;
mod quota;
mod session;
mod sweeper;
mod upload;

use channels::webchat::{HistoryAttachment, HistoryItem};

pub use hub::Hub;
pub use limits::{ChatLimits, LimitsConfig};
pub use quota::UploadBudget;
pub use session::{Session, SocketIn};
pub use sweeper::UploadSweeper;
pub use upload::{UploadQuery, Uploaded, api_router, new_upload_id, receive_upload, router, serve_blob};

use crate::signing::Signer;
use crate::store::messages::{AttachmentRow, MessageRow};

/// Signs the file links handed to a visitor, valid until `expires_ms`.
pub struct FileLinks<'a> {
    pub signer: &'a Signer,
    pub expires_ms: i64,
}

/// A stored message as the visitor sees it. Attachment links carry a
/// short-lived signature for that one file: the chat token, the only key to
/// the conversation, never goes into a URL (logs, proxies, history).
pub fn history_item(m: &MessageRow, attachments: &[AttachmentRow], links: &FileLinks<'_>) -> HistoryItem {
    HistoryItem {
        id: m.id,
        author: m.author_kind.clone(),
        name: m.author_name.clone(),
        text: m.body.clone(),
        attachments: attachments
            .iter()
            .filter(|a| a.message_id == m.id)
            .map(|a| HistoryAttachment {
                name: a.name.clone(),
                content_type: Some(a.content_type.clone()),
                url: format!(
                    "/api/v1/chat/files/{}?{}",
                    a.id,
                    links.signer.file_link_query(a.id, links.expires_ms)
                ),
            })
            .collect(),
        at: m.created_at,
        client_id: m.client_id.clone(),
        choices: Vec::new(),
    }
}
