//! The widget's side of the gateway: websocket sessions, uploads, the live hub.

mod hub;
mod session;
mod upload;

use channels::webchat::{HistoryAttachment, HistoryItem};

pub use hub::Hub;
pub use session::{Session, SocketIn};
pub use upload::{UploadQuery, receive_upload, router, serve_blob};

use crate::store::messages::{AttachmentRow, MessageRow};

/// A stored message as the visitor sees it. The widget adds its token to
/// attachment links; the server checks the file is in that conversation.
pub fn history_item(m: &MessageRow, attachments: &[AttachmentRow]) -> HistoryItem {
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
                url: format!("/api/v1/chat/files/{}", a.id),
            })
            .collect(),
        at: m.created_at,
        client_id: m.client_id.clone(),
    }
}
