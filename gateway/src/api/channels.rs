//! `GET /api/v1/admin/channels`: how each channel is doing, for the inbox's
//! Channels page — each mailbox reader (connected, last good round, last
//! UID, last error, its OAuth authorisation), the outbox per channel
//! (waiting, retrying, given up, the last error), the WhatsApp numbers with
//! the webhook journal's and the media downloads' backlogs and the last
//! account-level errors, and translation. Supervisors and admins.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use crate::auth::CurrentAgent;
use crate::email::MailboxStatus;
use crate::email::oauth::OAuthStatus;
use crate::state::AppState;
use crate::store::channel_status::OutboxChannel;
use crate::store::whatsapp::ChannelErrorRow;
use crate::translation::worker::TranslationStatus;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(channels))
}

#[derive(Serialize, ToSchema)]
struct Channels {
    email: Option<Email>,
    mailboxes: Vec<Mailbox>,
    outbox: Vec<OutboxChannel>,
    whatsapp: Option<WhatsApp>,
    translation: Option<TranslationStatus>,
}

#[derive(Serialize, ToSchema)]
struct Email {
    address: String,
    /// host:port
    smtp: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = MailboxState)]
struct Mailbox {
    name: String,
    /// host:port
    server: String,
    user: String,
    folder: String,
    /// None until its reader has run once.
    status: Option<MailboxStatus>,
    /// For a mailbox that logs in with OAuth 2.
    authorisation: Option<OAuthStatus>,
}

#[derive(Serialize, ToSchema)]
struct WhatsApp {
    numbers: Vec<Number>,
    /// Webhook payloads accepted, not processed yet.
    journal_backlog: i64,
    media_backlog: i64,
    errors: Vec<ChannelErrorRow>,
}

#[derive(Serialize, ToSchema)]
struct Number {
    phone_number_id: String,
    name: String,
}

/// How each channel is doing: mailboxes, outbox queues, WhatsApp numbers, translation.
///
/// Supervisors and admins.
#[utoipa::path(get, path = "/api/v1/admin/channels", tag = "admin", responses((status = 200, body = Channels)))]
async fn channels(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<Channels>, ApiError> {
    if !agent.is_supervisor() {
        return Err(ApiError::Forbidden("supervisors and admins only".into()));
    }
    let config = &state.config;
    let statuses = state.health.mailboxes.snapshot();
    let authorisations = state.mail_tokens.statuses();
    let mailboxes: Vec<_> = if config.email.enabled {
        config
            .email
            .mailboxes
            .iter()
            .map(|m| Mailbox {
                name: m.name.clone(),
                server: format!("{}:{}", m.host, m.port),
                user: m.user.clone(),
                folder: m.folder.clone(),
                status: statuses.get(&m.name).cloned(),
                authorisation: authorisations.get(&m.name).cloned(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let whatsapp = match &state.whatsapp {
        Some(wa) => {
            let counts = state.store.metrics_counts().await?;
            Some(WhatsApp {
                numbers: wa
                    .config
                    .numbers
                    .iter()
                    .map(|n| Number {
                        phone_number_id: n.phone_number_id.clone(),
                        name: n.name.clone(),
                    })
                    .collect(),
                journal_backlog: wa.backlog.get(),
                media_backlog: counts.media_backlog,
                errors: state.store.channel_errors(10).await?,
            })
        }
        None => None,
    };
    Ok(Json(Channels {
        email: config.email.enabled.then(|| Email {
            address: config.email.address.clone(),
            smtp: format!("{}:{}", config.email.smtp.host, config.email.smtp.port),
        }),
        mailboxes,
        outbox: state.store.outbox_channels().await?,
        whatsapp,
        translation: state.translator.as_ref().map(|t| t.status()),
    }))
}
