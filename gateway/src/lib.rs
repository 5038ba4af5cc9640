//! The Switchyard gateway. See ARCHITECTURE.md for the map.

pub mod api;
pub mod auth;
pub mod blobs;
pub mod bootstrap;
pub mod cli;
pub mod clock;
pub mod config;
pub mod dispatch;
pub mod email;
pub mod escalation;
pub mod events;
pub mod health;
pub mod ids;
pub mod outbox;
pub mod pipeline;
pub mod server;
pub mod sla;
pub mod state;
pub mod store;
pub mod triage_cli;
pub mod triage_service;
pub mod web;
pub mod webchat;
pub mod whatsapp;
