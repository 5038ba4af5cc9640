//! Critical escalation: a callback task with the customer's number, a video
//! room with an unguessable name whose link goes to the customer on their
//! channel, and — outside business hours — the on-call contact notified by
//! webhook and/or email through the outbox (so it is retried). Everything is
//! written in the transaction that commits the message, and the
//! conversation stays the record.

mod open;
mod webhook;

pub use open::{
    Context, Decided, EscalationPolicy, NUMBER_REQUEST, Opened, Recipient, Write, ask_number, for_verdict, has_work,
    known_callback_number, note_number_request, open_for_verdict, request, whatsapp_number,
};
pub use webhook::{WebhookSender, post_json};
