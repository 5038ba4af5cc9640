//! Web chat: the widget's websocket protocol (documented in `docs/webchat-protocol.md`).
//! Frames are JSON text with a `type`; parsing never panics and says what was wrong.

mod frames;
mod normalise;
mod token;

pub use frames::{
    Choice, ClientFrame, FrameError, HistoryAttachment, HistoryItem, MAX_FRAME_BYTES, Prechat, ServerFrame,
    parse_client_frame,
};
pub use normalise::to_inbound;
pub use token::{ConversationToken, TokenError};
