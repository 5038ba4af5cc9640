//! WhatsApp Business Cloud API: webhook verification and signatures, the
//! notification payload as normalised items, and the Graph API client.
//! Protocol notes: `../shared/notes/whatsapp-cloud-api.md`.

mod graph;
mod notification;
mod signature;

pub use graph::{ErrorClass, GraphClient, GraphError, MediaInfo, SendOutcome, body, classify_error};
pub use notification::{
    CallEvent, Echo, Information, Notification, NotificationError, NumberChange, Preference, Reaction, Revision,
    Sender, Status, StatusKind, TemplateState, ValueError, parse_notification, sender,
};
pub use signature::{SignatureError, verify_challenge, verify_signature};
