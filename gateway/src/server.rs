//! Assembles the gateway: store, pipeline, outbox worker, HTTP routes. Tests and
//! the binary both go through [`Gateway::start`] and [`Gateway::serve`].

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::trace::TraceLayer;

use crate::blobs::Blobs;
use crate::clock::Clock;
use crate::config::Config;
use crate::dispatch::Dispatch;
use crate::email::{EmailSender, MailboxReader};
use crate::events::Events;
use crate::outbox::{ChannelSender, OutboxWake, WebchatSender, Worker};
use crate::pipeline::{Committer, MailPolicy};
use crate::state::AppState;
use crate::store::Store;
use crate::triage_service::{Directory, TriageService};
use crate::webchat::Hub;
use crate::whatsapp::{JournalProcessor, MediaWorker, Pacer, WhatsappRuntime, WhatsappSender};
use crate::{api, bootstrap, email, web, webchat, whatsapp};
use channels::email::{SmtpClient, SmtpSettings};

pub struct Gateway {
    pub state: AppState,
    stop: watch::Sender<bool>,
    /// Set on the very first start when no admin password was configured.
    pub generated_admin_password: Option<String>,
    pub outbox: Worker,
    committer: tokio::task::JoinHandle<()>,
}

/// The SMTP transport of `[email]`: a password, or the OAuth 2 token of a mailbox.
fn smtp_transport(
    e: &crate::config::EmailConfig,
    tokens: &crate::email::oauth::TokenSources,
) -> anyhow::Result<crate::email::MailTransport> {
    let settings = SmtpSettings {
        host: e.smtp.host.clone(),
        port: e.smtp.port,
        security: email::security(e.smtp.security),
        user: e.smtp.user.clone(),
        auth: channels::email::SmtpAuth::Password(e.smtp.password.expose().to_string()),
        timeout: Duration::from_secs(e.smtp.timeout_secs.max(1)),
        pool_size: e.smtp.pool_size,
    };
    match e.smtp.auth {
        crate::config::MailAuth::Password => Ok(crate::email::MailTransport::Fixed(
            SmtpClient::new(&settings).context("SMTP transport")?,
        )),
        crate::config::MailAuth::Oauth2 => {
            let source = if e.smtp.oauth2_mailbox.is_empty() {
                tokens.0.values().next().cloned()
            } else {
                tokens.get(&e.smtp.oauth2_mailbox)
            };
            let source = source.ok_or_else(|| {
                anyhow::anyhow!(
                    "email.smtp.auth = \"oauth2\" needs a mailbox with auth = \"oauth2\" (email.smtp.oauth2_mailbox)"
                )
            })?;
            let user = if settings.user.is_empty() {
                source.user.clone()
            } else {
                settings.user.clone()
            };
            Ok(crate::email::MailTransport::oauth(
                SmtpSettings { user, ..settings },
                source,
            ))
        }
    }
}

/// The translation service, when `[translation]` names a provider.
fn translator(
    t: &crate::config::TranslationConfig,
    store: &Store,
) -> anyhow::Result<Option<Arc<crate::translation::Translator>>> {
    let Some(provider) = t
        .provider()
        .map_err(anyhow::Error::msg)
        .context("the [translation] configuration")?
    else {
        return Ok(None);
    };
    let status = crate::translation::TranslationStatus {
        state: "ok",
        provider: provider.name(),
        target: t.agent_language.clone(),
        ..Default::default()
    };
    Ok(Some(Arc::new(crate::translation::Translator {
        provider,
        http: crate::translation::provider::client(Duration::from_secs(t.timeout_secs.max(1)))
            .map_err(anyhow::Error::msg)?,
        store: store.clone(),
        budget: std::sync::Mutex::new(crate::translation::budget::Budget::new(t.per_minute)),
        agents: t.agent_language.clone(),
        keep: t.keep.clone(),
        terms: t
            .terms
            .iter()
            .map(|x| crate::translation::protect::Term {
                source_language: x.from.clone(),
                target_language: x.to.clone(),
                source: x.source.clone(),
                target: x.target.clone(),
            })
            .collect(),
        status: Arc::new(std::sync::Mutex::new(status)),
        glossaries: std::sync::Mutex::default(),
    })))
}

/// A token source per mailbox with `auth = "oauth2"`.
fn token_sources(
    e: &crate::config::EmailConfig,
    secret_key: &str,
    store: &Store,
    clock: &Clock,
) -> anyhow::Result<crate::email::oauth::TokenSources> {
    use crate::email::oauth::{TokenSource, TokenSources, Vault};
    if !e.enabled {
        return Ok(TokenSources::default());
    }
    // Without the key, what needs no sealed secret still works; the rest says why not.
    let vault = match Vault::from_config(secret_key) {
        Ok(v) => Some(v),
        Err(crate::email::oauth::vault::VaultError::NoKey) => None,
        Err(e) => anyhow::bail!("server.secret_key: {e}"),
    };
    let mut out = std::collections::BTreeMap::new();
    for m in e.mailboxes.iter().filter(|m| m.auth == crate::config::MailAuth::Oauth2) {
        let mut oauth2 = m.oauth2.clone();
        if oauth2.client_secret.is_empty() {
            oauth2.client_secret = e.oauth2_client_secret.clone();
        }
        let source = TokenSource::new(&m.name, &m.user, &oauth2, store.clone(), clock.clone(), vault.clone())
            .map_err(anyhow::Error::msg)?;
        out.insert(m.name.clone(), Arc::new(source));
    }
    Ok(TokenSources(Arc::new(out)))
}

impl Gateway {
    /// The weekly summary, when `[reports] weekly_recipients` and `[email]` are set.
    pub fn weekly_mailer(&self) -> anyhow::Result<Option<crate::reports::mailer::WeeklyMailer>> {
        let config = &self.state.config;
        let r = &config.reports;
        if r.weekly_recipients.is_empty() {
            return Ok(None);
        }
        if !config.email.enabled {
            anyhow::bail!("reports.weekly_recipients needs [email] enabled to send the summary");
        }
        let day = crate::reports::weekly::weekday(&r.weekly_day)
            .with_context(|| format!("reports.weekly_day {:?}: use monday … sunday", r.weekly_day))?;
        Ok(Some(crate::reports::mailer::WeeklyMailer {
            store: self.state.store.clone(),
            recipients: r.weekly_recipients.clone(),
            day,
            hour: r.weekly_hour.min(23),
            language: r.language.clone(),
            inbox_url: r.inbox_url.clone(),
            sla: self.state.sla.clone(),
            clock: self.state.clock.clone(),
            notices: self.state.notice_wake.clone(),
        }))
    }

    /// Delivers the notices that belong to no conversation (weekly mail, supervisor webhook).
    pub fn notice_worker(&self) -> anyhow::Result<crate::notices::NoticeWorker> {
        let config = &self.state.config;
        let smtp = if config.email.enabled {
            let from = channels::Participant {
                address: config.email.address.trim().to_lowercase(),
                name: Some(config.email.display_name.clone()).filter(|n| !n.is_empty()),
            };
            Some((smtp_transport(&config.email, &self.state.mail_tokens)?, from))
        } else {
            None
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.escalation.webhook_timeout_secs.max(1)))
            .build()
            .context("webhook client")?;
        Ok(crate::notices::NoticeWorker {
            store: self.state.store.clone(),
            smtp,
            http,
            retry: config.outbox.clone(),
            clock: self.state.clock.clone(),
            wake: self.state.notice_wake.clone(),
        })
    }

    /// Opens the store (running migrations) and starts the committer.
    pub async fn start(config: Config, clock: Clock) -> anyhow::Result<Gateway> {
        let data_dir = &config.server.data_dir;
        std::fs::create_dir_all(data_dir).with_context(|| format!("creating data directory {}", data_dir.display()))?;
        let store = Store::open(&config.store_url(), config.store.max_connections)
            .await
            .context("opening the store")?;
        let generated_admin_password = bootstrap::ensure_admin(&store, &config, &clock).await?;
        let blobs = Blobs::open(data_dir).context("opening the attachment store")?;
        let signer = crate::signing::Signer::load(&store, clock.now_ms())
            .await
            .context("loading the signing key")?;

        let events = Events::new();
        let hub = Hub::default();
        let outbox_wake = OutboxWake::new();
        let published = store
            .knowledge_published()
            .await
            .context("reading the published knowledge entries")?;
        // Rules saved in the inbox win over the file until an admin goes back to it.
        let edited_rules = store
            .rule_version_latest()
            .await
            .context("reading the rules saved in the inbox")?
            .and_then(|v| v.source.map(|s| (v.id, s)));
        // Accounts saved in the inbox (Lists page) win over the file's.
        let accounts = match store
            .setting(crate::api::lists::ACCOUNTS_KEY)
            .await
            .context("reading the accounts saved in the inbox")?
        {
            Some(saved) => serde_json::from_str::<Vec<crate::config::AccountConfig>>(&saved)
                .context("the accounts saved in the inbox")?,
            None => config.accounts.clone(),
        };
        let triage = TriageService::start(
            &config.triage,
            Directory::new(&accounts),
            clock.clone(),
            published,
            edited_rules,
        )
        .context("loading the triage rules and knowledge base")?;
        let assign_wake = Arc::new(tokio::sync::Notify::new());
        let dispatch = Dispatch::new(events.clone(), outbox_wake.clone(), assign_wake.clone());
        let mail_policy = MailPolicy {
            own_addresses: config.email.own_addresses(),
            max_acks_per_hour: config.email.max_acks_per_hour,
            subject_window_days: config.email.subject_window_days,
            message_id_domain: config.email.message_id_domain(),
        };
        // Calendars and targets an admin saved in the inbox win over the file's.
        let sla_config = match store
            .setting(crate::sla::edit::SETTING_KEY)
            .await
            .context("reading the service levels saved in the inbox")?
        {
            Some(saved) => serde_json::from_str::<crate::sla::edit::SlaEdit>(&saved)
                .context("the service levels saved in the inbox")?
                .applied_to(&config.sla),
            None => config.sla.clone(),
        };
        let sla = crate::sla::SlaPolicies::parse(&sla_config)
            .map_err(anyhow::Error::msg)
            .context("the [sla] configuration")?;
        let on_call_hours = if config.escalation.on_call_calendar == "always" {
            crate::sla::Calendar::always()
        } else {
            sla.calendar_named(&config.escalation.on_call_calendar)
                .cloned()
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "escalation.on_call_calendar {:?} is not an [[sla.calendars]] name",
                        config.escalation.on_call_calendar
                    )
                })?
        };
        let sla_handle = crate::sla::SlaHandle::new(sla_config, sla);
        let escalation = crate::escalation::EscalationPolicy {
            visio_url_template: config.escalation.visio_url_template.clone(),
            on_call_hours,
            on_call_calendar: config.escalation.on_call_calendar.clone(),
            on_call_webhook: config.escalation.on_call_webhook.clone(),
            on_call_email: config.escalation.on_call_email.clone(),
        };
        let feedback = config.feedback.settings(&config.server.public_url(), &signer);
        let mail_tokens = token_sources(&config.email, config.server.secret_key.expose(), &store, &clock)?;
        let translator = translator(&config.translation, &store)?;
        let level1 = config.level1.policy().map_err(anyhow::Error::msg)?;
        let metrics = crate::metrics::Metrics::new();
        // The pages and scripts are compressed once, off the runtime, before a browser asks.
        tokio::task::spawn_blocking(|| {
            let started = std::time::Instant::now();
            let assets = crate::assets::assets();
            tracing::debug!(
                ms = started.elapsed().as_millis() as u64,
                inbox_version = %assets.inbox_version,
                "pages and scripts compressed"
            );
        });
        let (pipeline, committer) = Committer::new(
            store.clone(),
            triage.clone(),
            clock.clone(),
            dispatch,
            config.store.max_batch,
        )
        .with_mail_policy(mail_policy.clone())
        .with_sla(sla_handle.clone())
        .with_escalation(escalation.clone())
        .with_acks(crate::pipeline::AckSettings {
            minutes_per_conversation: config.dispatch.minutes_per_conversation.max(1),
            templates: config.ack_templates.clone(),
        })
        .with_level1(level1.clone())
        .with_feedback(feedback.clone())
        .with_metrics(metrics.clone())
        .spawn(config.server.ingest_queue);

        let mut senders: HashMap<&'static str, Arc<dyn ChannelSender>> = HashMap::new();
        senders.insert(
            "webchat",
            Arc::new(WebchatSender::new(
                hub.clone(),
                signer.clone(),
                clock.clone(),
                Duration::from_secs(config.webchat.file_link_minutes.max(1) * 60),
            )),
        );
        senders.insert(
            "oncall_webhook",
            Arc::new(
                crate::escalation::WebhookSender::new(Duration::from_secs(
                    config.escalation.webhook_timeout_secs.max(1),
                ))
                .map_err(anyhow::Error::msg)?,
            ),
        );
        let whatsapp = if config.whatsapp.enabled {
            let missing = config.whatsapp.missing_secrets();
            if !missing.is_empty() {
                anyhow::bail!(
                    "WhatsApp is enabled but {} is empty: set it (SWITCHYARD__WHATSAPP__…) or set whatsapp.enabled = false",
                    missing.join(", ")
                );
            }
            let wa = Arc::new(
                WhatsappRuntime::new(
                    &config.whatsapp,
                    store.clone(),
                    clock.clone(),
                    config.server.ingest_queue,
                    config.store.max_batch,
                )
                .map_err(anyhow::Error::msg)
                .context("WhatsApp")?,
            );
            let c = &config.whatsapp;
            let pacer = Pacer::new(
                c.messages_per_second,
                c.recipient_burst,
                Duration::from_secs(c.recipient_interval_secs),
            );
            senders.insert(
                "whatsapp",
                Arc::new(WhatsappSender {
                    store: store.clone(),
                    graph: wa.graph.clone(),
                    pacer: Arc::new(pacer),
                    clock: clock.clone(),
                    blobs: blobs.clone(),
                }),
            );
            Some(wa)
        } else {
            None
        };
        if config.email.enabled {
            let e = &config.email;
            let smtp = smtp_transport(e, &mail_tokens)?;
            if e.address.is_empty() {
                anyhow::bail!("email.address (the SAV address replies come from) must be set when email is enabled");
            }
            senders.insert(
                "email",
                Arc::new(EmailSender {
                    smtp,
                    store: store.clone(),
                    blobs: blobs.clone(),
                    from: channels::Participant {
                        address: e.address.trim().to_lowercase(),
                        name: Some(e.display_name.clone()).filter(|n| !n.is_empty()),
                    },
                    policy: mail_policy,
                    loop_id: e.loop_id.clone(),
                }),
            );
        }
        let outbox = Worker::new(
            store.clone(),
            senders,
            events.clone(),
            clock.clone(),
            config.outbox.clone(),
            outbox_wake.clone(),
        )
        .with_metrics(metrics.clone());

        let (stop, shutdown) = watch::channel(false);
        let started_ms = clock.now_ms();
        let config_auth = config.auth.clone();
        if config.auth.cookie_secure == Some(false) && !config.server.listen.ip().is_loopback() {
            tracing::warn!(
                listen = %config.server.listen,
                "auth.cookie_secure = false while listening beyond loopback: session cookies may travel without TLS"
            );
        }
        let upload_bytes_per_hour = config.webchat.upload_bytes_per_hour;
        let chat_limits = Arc::new(crate::webchat::ChatLimits::new(&config.webchat.limits));
        let state = AppState {
            config: Arc::new(config),
            store,
            pipeline,
            hub,
            events,
            blobs,
            clock,
            outbox_wake,
            shutdown,
            triage,
            health: crate::health::Health {
                started_ms,
                media_enabled: whatsapp.is_some(),
                ..Default::default()
            },
            whatsapp,
            login_throttle: Arc::new(crate::auth::LoginThrottle::new(crate::auth::ThrottleLimits {
                address_burst: config_auth.login_burst_per_address.max(1),
                ..Default::default()
            })),
            passwords: crate::auth::PasswordWork::per_core(),
            signer,
            upload_budget: Arc::new(crate::webchat::UploadBudget::new(upload_bytes_per_hour)),
            chat_limits,
            html_cache: Arc::default(),
            revocations: crate::auth::Revocations::default(),
            sla: sla_handle,
            assign_wake,
            notice_wake: Arc::new(tokio::sync::Notify::new()),
            escalation,
            feedback,
            level1,
            mail_tokens,
            translator,
            metrics,
        };
        Ok(Gateway {
            state,
            stop,
            generated_admin_password,
            outbox,
            committer,
        })
    }

    /// One reader per configured mailbox, when email is enabled.
    pub fn mailbox_readers(&self) -> Vec<MailboxReader> {
        let e = &self.state.config.email;
        if !e.enabled {
            return Vec::new();
        }
        e.mailboxes
            .iter()
            .map(|m| MailboxReader {
                config: m.clone(),
                password: if m.password.is_empty() {
                    e.password.expose().to_string()
                } else {
                    m.password.expose().to_string()
                },
                tokens: self.state.mail_tokens.get(&m.name),
                own_addresses: e.own_addresses(),
                loop_id: e.loop_id.clone(),
                max_attachment_bytes: e.max_attachment_bytes,
                max_mail_bytes: e.max_mail_bytes,
                store: self.state.store.clone(),
                pipeline: self.state.pipeline.clone(),
                blobs: self.state.blobs.clone(),
                clock: self.state.clock.clone(),
                status: self.state.health.mailboxes.clone(),
            })
            .collect()
    }

    /// The translation worker, when `[translation]` names a provider.
    pub fn translation_worker(&self) -> Option<crate::translation::TranslationWorker> {
        let translator = self.state.translator.clone()?;
        Some(crate::translation::TranslationWorker {
            translator,
            clock: self.state.clock.clone(),
            events: self.state.events.clone(),
            poll: Duration::from_millis(500),
        })
    }

    /// The automatic assigner.
    pub fn assigner(&self) -> crate::dispatch::Assigner {
        let c = &self.state.config.dispatch;
        crate::dispatch::Assigner {
            store: self.state.store.clone(),
            clock: self.state.clock.clone(),
            events: self.state.events.clone(),
            wake: self.state.assign_wake.clone(),
            answer_timeout: Duration::from_secs(c.answer_timeout_secs.max(1)),
            check: Duration::from_secs(c.check_secs.max(1)),
            heartbeat: self.state.health.assigner.clone(),
        }
    }

    /// Removes uploads no message took, and their files.
    pub fn upload_sweeper(&self) -> crate::webchat::UploadSweeper {
        crate::webchat::UploadSweeper {
            store: self.state.store.clone(),
            blobs: self.state.blobs.clone(),
            clock: self.state.clock.clone(),
            expiry: Duration::from_secs(self.state.config.webchat.upload_expiry_minutes.max(1) * 60),
            every: Duration::from_secs(60),
        }
    }

    /// The daily retention run.
    pub fn retention_job(&self) -> crate::privacy::job::RetentionJob {
        crate::privacy::job::RetentionJob {
            store: self.state.store.clone(),
            blobs: self.state.blobs.clone(),
            clock: self.state.clock.clone(),
            config: self.state.config.retention.clone(),
            journal_hours: self.state.config.whatsapp.journal_retention_hours,
            html: self.state.html_cache.clone(),
        }
    }

    /// The SLA timer worker.
    pub fn sla_worker(&self) -> crate::sla::SlaWorker {
        crate::sla::SlaWorker {
            store: self.state.store.clone(),
            clock: self.state.clock.clone(),
            events: self.state.events.clone(),
            policies: self.state.sla.clone(),
            check: Duration::from_secs(self.state.config.sla.check_secs.max(1)),
            heartbeat: self.state.health.sla.clone(),
            supervisor_webhook: self.state.config.sla.supervisor_webhook.clone(),
            outbox_wake: self.state.outbox_wake.clone(),
        }
    }

    /// The processor of the WhatsApp webhook journal, when the channel is enabled.
    pub fn journal_processor(&self) -> Option<JournalProcessor> {
        let wa = self.state.whatsapp.as_ref()?;
        Some(JournalProcessor {
            store: self.state.store.clone(),
            pipeline: self.state.pipeline.clone(),
            events: self.state.events.clone(),
            clock: self.state.clock.clone(),
            config: wa.config.clone(),
            wake: wa.journal_wake.clone(),
            media_wake: wa.media_wake.clone(),
            backlog: wa.backlog.clone(),
            heartbeat: self.state.health.journal.clone(),
            triage: self.state.triage.clone(),
            escalation: self.state.escalation.clone(),
            outbox_wake: self.state.outbox_wake.clone(),
            assign_wake: self.state.assign_wake.clone(),
            supervisor_webhook: self.state.config.sla.supervisor_webhook.clone(),
            notice_wake: self.state.notice_wake.clone(),
        })
    }

    /// The WhatsApp media downloader, when the channel is enabled.
    pub fn media_worker(&self) -> Option<MediaWorker> {
        let wa = self.state.whatsapp.as_ref()?;
        Some(MediaWorker {
            store: self.state.store.clone(),
            graph: wa.graph.clone(),
            blobs: self.state.blobs.clone(),
            clock: self.state.clock.clone(),
            events: self.state.events.clone(),
            config: wa.config.clone(),
            wake: wa.media_wake.clone(),
            heartbeat: self.state.health.media.clone(),
        })
    }

    pub fn router(&self) -> Router {
        let limit = self.state.config.server.max_body_bytes;
        Router::new()
            .merge(web::router())
            .merge(webchat::router())
            .merge(whatsapp::router())
            .merge(api::router())
            .merge(crate::metrics::route::router())
            .route_layer(axum::middleware::from_fn_with_state(
                self.state.metrics.clone(),
                crate::metrics::http::track,
            ))
            .layer(DefaultBodyLimit::max(limit))
            .layer(TraceLayer::new_for_http())
            .with_state(self.state.clone())
    }

    /// Serves until `shutdown` resolves, then drains: in-flight requests finish,
    /// queued messages are committed, the outbox worker stops between rows.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // One loop per channel: a slow SMTP server never holds back a chat or WhatsApp reply.
        self.outbox.recover().await;
        let workers: Vec<_> = self
            .outbox
            .channels()
            .into_iter()
            .map(|channel| {
                tokio::spawn(
                    self.outbox
                        .clone()
                        .for_channel(channel)
                        .with_heartbeat(self.state.health.outbox.clone())
                        .run(self.state.shutdown.clone()),
                )
            })
            .collect();
        let watcher = tokio::spawn(self.state.triage.clone().watch(self.state.shutdown.clone()));
        // Several nodes share PostgreSQL: what an admin saves on one is put in force on the others.
        let settings = (self.state.store.dialect() == crate::store::Dialect::Postgres).then(|| {
            tokio::spawn(
                crate::settings_sync::SettingsSync::default().run(self.state.clone(), self.state.shutdown.clone()),
            )
        });
        let sla_worker = tokio::spawn(self.sla_worker().run(self.state.shutdown.clone()));
        let assigner = tokio::spawn(self.assigner().run(self.state.shutdown.clone()));
        let journal = self
            .journal_processor()
            .map(|p| tokio::spawn(p.run(self.state.shutdown.clone())));
        let media = self
            .media_worker()
            .map(|w| tokio::spawn(w.run(self.state.shutdown.clone())));
        let sweeper = tokio::spawn(self.upload_sweeper().run(self.state.shutdown.clone()));
        let retention = tokio::spawn(self.retention_job().run(self.state.shutdown.clone()));
        let weekly = self
            .weekly_mailer()?
            .map(|m| tokio::spawn(m.run(self.state.shutdown.clone())));
        let notices = tokio::spawn(self.notice_worker()?.run(self.state.shutdown.clone()));
        let readers: Vec<_> = self
            .mailbox_readers()
            .into_iter()
            .map(|r| tokio::spawn(r.run(self.state.shutdown.clone())))
            .collect();
        let translation = self
            .translation_worker()
            .map(|w| tokio::spawn(w.run(self.state.shutdown.clone())));
        let app = self.router();
        let store = self.state.store.clone();
        let server = &self.state.config.server;
        let limits = crate::listener::Limits {
            header_read_timeout: Duration::from_secs(server.header_read_timeout_secs.max(1)),
            max_connections: crate::listener::Limits::connections_for(server.max_connections),
            max_per_address: server.max_connections_per_address,
        };
        let exempt = server.trusted_proxies.clone();
        tracing::info!(max_connections = limits.max_connections, "connection limit");
        let Gateway {
            state, committer, stop, ..
        } = self;
        drop(state);
        tracing::info!(addr = %listener.local_addr().context("reading the listen address")?, "serving");
        let stop_sockets = stop.clone();
        crate::listener::serve(listener, app, limits, exempt, async move {
            shutdown.await;
            // Upgraded sockets are not waited for: tell them to close.
            let _ = stop_sockets.send(true);
        })
        .await
        .context("serving HTTP")?;
        let _ = stop.send(true);
        for worker in workers {
            let _ = tokio::time::timeout(Duration::from_secs(10), worker).await;
        }
        let _ = watcher.await;
        if let Some(settings) = settings {
            let _ = settings.await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), sla_worker).await;
        let _ = tokio::time::timeout(Duration::from_secs(10), assigner).await;
        let _ = tokio::time::timeout(Duration::from_secs(10), sweeper).await;
        let _ = tokio::time::timeout(Duration::from_secs(10), retention).await;
        if let Some(weekly) = weekly {
            let _ = tokio::time::timeout(Duration::from_secs(10), weekly).await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), notices).await;
        if let Some(journal) = journal {
            let _ = tokio::time::timeout(Duration::from_secs(10), journal).await;
        }
        if let Some(media) = media {
            let _ = tokio::time::timeout(Duration::from_secs(10), media).await;
        }
        for reader in readers {
            let _ = tokio::time::timeout(Duration::from_secs(10), reader).await;
        }
        if let Some(translation) = translation {
            let _ = tokio::time::timeout(Duration::from_secs(10), translation).await;
        }
        // Every pipeline handle is gone with the router: the committer drains and ends.
        let _ = tokio::time::timeout(Duration::from_secs(10), committer).await;
        store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}
