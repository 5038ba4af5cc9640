//! Channel adapters. Each module turns one channel's protocol data into the
//! normalised [`Inbound`] message and builds what goes back out. Parsing is
//! plain functions over bytes; nothing here knows about the store or triage.

pub mod email;
mod inbound;
mod outbound;
pub mod webchat;
pub mod whatsapp;

pub use inbound::{
    AttachmentRef, AttachmentSource, AutoFlags, Bounce, ChannelKind, Contact, Inbound, Participant, ThreadHints,
};
pub use outbound::Outbound;
