use std::sync::Arc;

use tokio::sync::watch;

use crate::blobs::Blobs;
use crate::clock::Clock;
use crate::config::Config;
use crate::events::Events;
use crate::pipeline::Pipeline;
use crate::store::Store;
use crate::triage_service::TriageService;
use crate::webchat::Hub;
use crate::whatsapp::WhatsappRuntime;

/// What request handlers share.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub pipeline: Pipeline,
    pub hub: Hub,
    pub events: Events,
    pub blobs: Blobs,
    pub clock: Clock,
    pub outbox_wake: crate::outbox::OutboxWake,
    /// Turns true when the gateway stops: long-lived sockets close themselves.
    pub shutdown: watch::Receiver<bool>,
    pub triage: Arc<TriageService>,
    /// Present when the WhatsApp channel is enabled.
    pub whatsapp: Option<Arc<WhatsappRuntime>>,
    pub health: crate::health::Health,
    pub login_throttle: Arc<crate::auth::LoginThrottle>,
    /// Argon2 runs here, a few at a time.
    pub passwords: crate::auth::PasswordWork,
    /// Signs visitor tokens and file links.
    pub signer: crate::signing::Signer,
    /// Bytes each client address may still upload this hour.
    pub upload_budget: Arc<crate::webchat::UploadBudget>,
    /// New chats, messages and typing per address and per chat.
    pub chat_limits: Arc<crate::webchat::ChatLimits>,
    /// Mail bodies already sanitised for the inbox.
    pub html_cache: Arc<crate::api::html_cache::HtmlCache>,
    /// Ends agent sockets whose session was revoked.
    pub revocations: crate::auth::Revocations,
    pub sla: crate::sla::SlaHandle,
    /// Wakes the assigner (an agent came online, capacity freed).
    pub assign_wake: Arc<tokio::sync::Notify>,
    /// Wakes the worker of notices that belong to no conversation.
    pub notice_wake: Arc<tokio::sync::Notify>,
    pub escalation: crate::escalation::EscalationPolicy,
    /// Knowledge verdicts and the satisfaction question (`[feedback]`).
    pub feedback: crate::feedback::Settings,
    /// Which facts each queue needs (Level 1), also what reports count as complete.
    pub level1: crate::level1::Policy,
    /// Access tokens of the mailboxes that log in with OAuth 2.
    pub mail_tokens: crate::email::oauth::TokenSources,
    /// The translation service, when a provider is configured.
    pub translator: Option<Arc<crate::translation::Translator>>,
    /// Counters and histograms behind `/metrics`.
    pub metrics: crate::metrics::Metrics,
}

/// Resolves once the gateway is stopping (or its stop signal is gone).
pub async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns must not live across an await.
    let _ = shutdown.wait_for(|stop| *stop).await.map(|_| ());
}
