//! The Switchyard gateway. See ARCHITECTURE.md for the map.

pub mod agents_cli;
pub mod api;
pub mod assets;
pub mod auth;
pub mod backup;
pub mod blobs;
pub mod bootstrap;
pub mod bounded;
pub mod cli;
pub mod client_addr;
pub mod clock;
pub mod config;
pub mod dispatch;
pub mod doctor;
pub mod email;
pub mod escalation;
pub mod events;
pub mod feedback;
pub mod health;
pub mod ids;
pub mod intervention;
pub mod level1;
pub mod listener;
pub mod metrics;
pub mod notices;
pub mod outbox;
pub mod pipeline;
pub mod privacy;
pub mod reports;
pub mod search;
pub mod server;
pub mod settings_sync;
pub mod signing;
pub mod sla;
pub mod state;
pub mod store;
pub mod translation;
pub mod triage_cli;
pub mod triage_service;
pub mod web;
pub mod webchat;
pub mod whatsapp;
pub mod ws_buffers;

#[cfg(test)]
mod test_support;
