//! `switchyard.toml`, layered: built-in defaults, then the file, then
//! `SWITCHYARD__SECTION__KEY` environment variables. Every field is documented in
//! `deploy/switchyard.example.toml`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub store: StoreConfig,
    pub auth: AuthConfig,
    pub webchat: WebchatConfig,
    pub outbox: OutboxConfig,
    pub triage: TriageConfig,
    /// The customer directory: who is a strategic account.
    pub accounts: Vec<AccountConfig>,
    pub whatsapp: WhatsappConfig,
    pub email: EmailConfig,
    pub sla: SlaConfig,
    pub dispatch: DispatchConfig,
    pub escalation: EscalationConfig,
    /// Acknowledgement openings per priority and language, replacing the built-in ones.
    pub ack_templates: Vec<AckTemplate>,
    /// Replies agents insert by typing `/keyword` in the inbox; built-in ones when empty.
    pub canned_replies: Vec<CannedReply>,
    pub reports: ReportsConfig,
    pub level1: Level1Config,
    pub feedback: FeedbackConfig,
    pub translation: TranslationConfig,
    pub retention: RetentionConfig,
}

/// How long each kind of personal data is kept (days; 0 keeps it for ever).
/// A daily job applies these, skipping conversations under legal hold; the
/// webhook journal's period is `whatsapp.journal_retention_hours`. Reasons
/// for the defaults: README, "Personal data".
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Only report what the policies would erase (audit log, admin page).
    pub dry_run: bool,
    /// Raw mails (the `.eml` as received): the text stays in the conversation.
    pub raw_mails_days: u64,
    /// Photos, videos, voice notes and files.
    pub attachments_days: u64,
    /// Resolved conversations, anonymised to their skeleton.
    pub resolved_conversations_days: u64,
    /// Chats of visitors who never left a name, an address or a number.
    pub anonymous_chats_days: u64,
    /// Delivery receipts, sent payloads, channel errors, sent notices.
    pub delivery_logs_days: u64,
    /// Translations kept to spare the provider a second call.
    pub translation_cache_days: u64,
    /// Seconds between checks whether the daily run is due.
    pub check_secs: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            dry_run: false,
            raw_mails_days: 90,
            attachments_days: 730,
            resolved_conversations_days: 1095,
            anonymous_chats_days: 30,
            delivery_logs_days: 90,
            translation_cache_days: 90,
            check_secs: 3600,
        }
    }
}

/// Automatic translation of customer messages for the agents. Nothing leaves
/// the machine unless an admin chooses a provider.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TranslationConfig {
    /// `none`, `deepl` or `libretranslate`.
    pub provider: String,
    /// DeepL: `https://api.deepl.com` (or `https://api-free.deepl.com`);
    /// LibreTranslate: your server's address.
    pub url: String,
    /// DeepL's authentication key, LibreTranslate's optional one
    /// (`SWITCHYARD__TRANSLATION__API_KEY`).
    pub api_key: Secret,
    /// The agents' language: customer messages in another are translated into it.
    pub agent_language: String,
    pub timeout_secs: u64,
    /// Calls to the provider per minute at most.
    pub per_minute: u32,
    /// Terms never translated (machine and product names, part references);
    /// codes, serials, numbers and links are kept as they are anyway.
    pub keep: Vec<String>,
    /// Preferred translations of trade terms, per language pair.
    pub terms: Vec<TranslationTerm>,
    /// Email replies carry the agent's original text below the translation.
    pub append_original_to_email: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TranslationTerm {
    pub from: String,
    pub to: String,
    pub source: String,
    pub target: String,
}

impl Default for TranslationConfig {
    fn default() -> Self {
        TranslationConfig {
            provider: "none".into(),
            url: String::new(),
            api_key: Secret::default(),
            agent_language: "fr".into(),
            timeout_secs: 10,
            per_minute: 60,
            keep: Vec::new(),
            terms: Vec::new(),
            append_original_to_email: true,
        }
    }
}

impl TranslationConfig {
    /// The provider to call; None for `none`.
    pub fn provider(&self) -> Result<Option<crate::translation::Provider>, String> {
        use crate::translation::Provider;
        let url = self.url.trim().to_string();
        let key = self.api_key.expose().trim().to_string();
        match self.provider.as_str() {
            "none" | "" => Ok(None),
            "deepl" if key.is_empty() => Err("translation.api_key: DeepL needs its authentication key".into()),
            "deepl" => Ok(Some(Provider::DeepL {
                url: if url.is_empty() {
                    "https://api.deepl.com".into()
                } else {
                    url
                },
                key,
            })),
            "libretranslate" if url.is_empty() => Err("translation.url: the LibreTranslate server's address".into()),
            "libretranslate" => Ok(Some(Provider::LibreTranslate {
                url,
                key: (!key.is_empty()).then_some(key),
            })),
            other => Err(format!(
                "translation.provider {other:?}: use none, deepl or libretranslate"
            )),
        }
    }
}

/// What follows an answer: "did this solve it?" after a knowledge answer,
/// the satisfaction question after a resolution.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedbackConfig {
    /// Minutes a conversation answered from the knowledge base waits for the
    /// customer's verdict before an agent is offered it; 0: offered at once.
    pub knowledge_wait_minutes: u32,
    /// Ask whether the customer is satisfied once a conversation is resolved.
    pub satisfaction: bool,
    /// Ask also when the customer resolved it themselves ("yes, solved").
    pub after_self_service: bool,
    /// A bad rating reopens the conversation (bad ratings are always listed for supervisors).
    pub reopen_on_bad: bool,
    /// Days a mail's one-click links stay valid.
    pub link_days: u32,
}

impl Default for FeedbackConfig {
    fn default() -> Self {
        let d = crate::feedback::Settings::default();
        FeedbackConfig {
            knowledge_wait_minutes: u32::try_from(d.knowledge_wait_ms / 60_000).unwrap_or(30),
            satisfaction: d.satisfaction,
            after_self_service: d.after_self_service,
            reopen_on_bad: d.reopen_on_bad,
            link_days: 14,
        }
    }
}

impl FeedbackConfig {
    /// The settings, mail links pointing at `public_url` and signed by `signer`.
    pub fn settings(&self, public_url: &str, signer: &crate::signing::Signer) -> crate::feedback::Settings {
        crate::feedback::Settings {
            knowledge_wait_ms: i64::from(self.knowledge_wait_minutes) * 60_000,
            satisfaction: self.satisfaction,
            after_self_service: self.after_self_service,
            reopen_on_bad: self.reopen_on_bad,
            links: Some(crate::feedback::Links {
                base: public_url.trim_end_matches('/').to_string(),
                signer: signer.clone(),
                ttl_ms: i64::from(self.link_days.max(1)) * 86_400_000,
            }),
        }
    }
}

/// Level 1's questions on the widget and WhatsApp: which facts each queue
/// needs, asked one at a time (`machine`, `serial`, `fault_code`, `impact`,
/// `photo`, `callback_number`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Level1Config {
    pub enabled: bool,
    /// Unanswered questions after which Level 1 stops asking.
    pub max_unanswered: u32,
    /// What a critical conversation is asked (it is escalated at once, whatever the answers).
    pub critical: Vec<String>,
    /// Per queue; a queue not listed is asked nothing.
    pub needs: Vec<Level1Needs>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level1Needs {
    pub queue: String,
    pub facts: Vec<String>,
}

impl Default for Level1Config {
    fn default() -> Self {
        let policy = crate::level1::Policy::default();
        let names = |f: &[crate::level1::Fact]| f.iter().map(|f| f.as_str().to_string()).collect();
        Level1Config {
            enabled: policy.enabled,
            max_unanswered: policy.max_unanswered,
            critical: names(&policy.critical),
            needs: policy
                .needs
                .iter()
                .map(|(queue, facts)| Level1Needs {
                    queue: queue.clone(),
                    facts: names(facts),
                })
                .collect(),
        }
    }
}

impl Level1Config {
    /// The policy, or the first fact name that is not one.
    pub fn policy(&self) -> Result<crate::level1::Policy, String> {
        use crate::level1::Fact;
        let facts = |names: &[String]| -> Result<Vec<Fact>, String> {
            names
                .iter()
                .map(|n| {
                    Fact::parse(n).ok_or_else(|| {
                        format!(
                            "level1: unknown fact {n:?} (machine, serial, fault_code, impact, photo, callback_number)"
                        )
                    })
                })
                .collect()
        };
        Ok(crate::level1::Policy {
            enabled: self.enabled,
            max_unanswered: self.max_unanswered.max(1),
            critical: facts(&self.critical)?,
            needs: self
                .needs
                .iter()
                .map(|n| Ok((n.queue.clone(), facts(&n.facts)?)))
                .collect::<Result<_, String>>()?,
        })
    }
}

/// The weekly summary mail: last week's figures against the week before.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportsConfig {
    /// Who gets it (needs `[email]`); none: no mail.
    pub weekly_recipients: Vec<String>,
    /// The day it leaves, in the reporting calendar's time zone (`monday`…`sunday`).
    pub weekly_day: String,
    /// The hour it leaves that day (0–23).
    pub weekly_hour: u32,
    /// `fr` or `en`.
    pub language: String,
    /// The inbox's address as supervisors open it, linked from the mail
    /// (e.g. `https://support.example.com/inbox`); empty: no link.
    pub inbox_url: String,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        ReportsConfig {
            weekly_recipients: Vec::new(),
            weekly_day: "monday".into(),
            weekly_hour: 7,
            language: "en".into(),
            inbox_url: String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where the SQLite database, attachments and raw messages live (created).
    pub data_dir: PathBuf,
    /// Largest accepted upload, in bytes.
    pub max_upload_bytes: usize,
    /// Largest accepted JSON request body, in bytes.
    pub max_body_bytes: usize,
    /// Accepted messages waiting for the committer before new ones get "busy".
    pub ingest_queue: usize,
    /// Seconds a connection may take to send a request's headers before it is dropped.
    pub header_read_timeout_secs: u64,
    /// Connections held at once; the excess is closed at accept. 0: the
    /// process's open-file limit less a reserve for the store, mail and files.
    pub max_connections: usize,
    /// Connections one client address may hold (trusted proxies excepted).
    pub max_connections_per_address: usize,
    /// Reverse proxies whose `X-Forwarded-For` names the client (exact addresses).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Bearer token that shows `/readyz` details to monitoring; admins always see them.
    pub health_token: Secret,
    /// The gateway's address as customers reach it (`https://support.example.com`),
    /// for the one-click links in mail; empty: `http://` and the listen address.
    pub public_url: String,
    /// 64 hex digits (`openssl rand -hex 32`) sealing the secrets Switchyard
    /// keeps in its store (a mailbox's OAuth refresh token). Set it in the
    /// environment (`SWITCHYARD__SERVER__SECRET_KEY`), not in the file.
    pub secret_key: Secret,
    /// Below this much free space on the data directory's disk, `/readyz`
    /// says not ready (a load balancer sends the traffic elsewhere before
    /// writes start failing). Writes that fail for lack of space are refused
    /// with a "storage full" error whatever this says.
    pub min_free_disk_mb: u64,
}

impl ServerConfig {
    pub fn public_url(&self) -> String {
        if self.public_url.trim().is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.public_url.trim().trim_end_matches('/').to_string()
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./switchyard-data"),
            max_upload_bytes: 10 * 1024 * 1024,
            max_body_bytes: 256 * 1024,
            ingest_queue: 4096,
            header_read_timeout_secs: 10,
            max_connections: 0,
            max_connections_per_address: 256,
            trusted_proxies: Vec::new(),
            health_token: Secret::default(),
            public_url: String::new(),
            secret_key: Secret::default(),
            min_free_disk_mb: 64,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite://path` or `postgres://…`; empty means `<data_dir>/switchyard.db`.
    pub url: Secret,
    /// Connections for reads (SQLite writes always use one connection).
    pub max_connections: u32,
    /// Most messages committed in one transaction: larger carries a burst
    /// faster, smaller bounds what a message waits behind one.
    pub max_batch: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: Secret::default(),
            max_connections: 8,
            max_batch: 1024,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Password of the `admin` account created on first start; random and printed once when empty.
    pub admin_password: Secret,
    /// How long an agent session lasts, in hours.
    pub session_ttl_hours: u64,
    /// Set the `Secure` flag on the session cookie. Unset: on, unless the
    /// gateway listens on a loopback address (a development machine).
    pub cookie_secure: Option<bool>,
    /// Login attempts one client address may make in a burst; then one every three seconds.
    pub login_burst_per_address: u32,
}

impl AuthConfig {
    pub fn cookie_secure(&self, listen: &SocketAddr) -> bool {
        self.cookie_secure.unwrap_or(!listen.ip().is_loopback())
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            admin_password: Secret::default(),
            session_ttl_hours: 12,
            cookie_secure: None,
            login_burst_per_address: 20,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebchatConfig {
    /// Endpoint name recorded on web-chat messages.
    pub endpoint: String,
    /// Origins allowed to open the widget socket; empty allows any.
    pub allowed_origins: Vec<String>,
    /// Seconds a socket may stay open without sending `open`.
    pub open_timeout_secs: u64,
    /// Seconds an open socket may stay silent (the widget pings every 25 s).
    pub idle_timeout_secs: u64,
    /// Bytes one client address may upload per hour.
    pub upload_bytes_per_hour: u64,
    /// Uploads one conversation token may make per hour.
    pub uploads_per_token_per_hour: u32,
    /// Minutes an upload no message carries is kept before it is deleted.
    pub upload_expiry_minutes: u64,
    /// Minutes a file link handed to the widget stays valid.
    pub file_link_minutes: u64,
    /// The site's privacy notice, linked from the widget (a `data-privacy`
    /// attribute on the script tag wins).
    pub privacy_url: String,
    /// Visitors may ask, from the widget, for their data to be erased (the
    /// request waits for an admin on the Privacy page).
    pub visitor_erasure: bool,
    /// How fast one address and one chat may open chats, send and type.
    pub limits: crate::webchat::LimitsConfig,
}

impl Default for WebchatConfig {
    fn default() -> Self {
        WebchatConfig {
            endpoint: "web".to_string(),
            allowed_origins: Vec::new(),
            open_timeout_secs: 30,
            idle_timeout_secs: 90,
            upload_bytes_per_hour: 64 * 1024 * 1024,
            uploads_per_token_per_hour: 30,
            upload_expiry_minutes: 60,
            file_link_minutes: 60,
            privacy_url: String::new(),
            visitor_erasure: true,
            limits: crate::webchat::LimitsConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// Attempts before a transient failure becomes permanent.
    pub max_attempts: i64,
    /// First retry delay in seconds; doubles each attempt.
    pub retry_base_secs: i64,
    /// Longest retry delay in seconds.
    pub retry_max_secs: i64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            max_attempts: 10,
            retry_base_secs: 2,
            retry_max_secs: 300,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TriageConfig {
    /// Rule file (TOML); empty uses the built-in rules. Reloaded when it changes, if it validates.
    pub rules: PathBuf,
    /// Folder of FAQ entries (Markdown with +++ front matter); empty uses the built-in demo entries.
    pub knowledge_base: PathBuf,
    /// Lowest score for a FAQ entry to be proposed (0 to 1).
    pub faq_threshold: f32,
    /// How often to look for changes of the rule file and knowledge base, in seconds.
    pub reload_check_secs: u64,
    /// Language for answers when the text does not tell (fr, en, de, es, it).
    pub default_language: String,
    /// Business days, ISO numbering (1 = Monday).
    pub business_days: Vec<u8>,
    /// Business hours, local time, "HH:MM-HH:MM".
    pub business_hours: String,
    /// Local time offset from UTC in minutes (60 for CET).
    pub utc_offset_minutes: i32,
}

impl Default for TriageConfig {
    fn default() -> Self {
        TriageConfig {
            rules: PathBuf::new(),
            knowledge_base: PathBuf::new(),
            faq_threshold: triage::kb::DEFAULT_THRESHOLD,
            reload_check_secs: 2,
            default_language: "fr".to_string(),
            business_days: vec![1, 2, 3, 4, 5],
            business_hours: "08:00-18:00".to_string(),
            utc_offset_minutes: 60,
        }
    }
}

/// A customer account: which senders belong to it and its tier.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AccountConfig {
    pub name: String,
    /// e.g. "strategic": rules can test it with `{ tier = "strategic" }`.
    pub tier: String,
    /// Email domains of the account ("key-account.com").
    pub domains: Vec<String>,
    /// Email addresses.
    pub addresses: Vec<String>,
    /// Phone numbers / WhatsApp ids, any formatting.
    pub phones: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WhatsappConfig {
    /// Serve the webhook and send through the Graph API.
    pub enabled: bool,
    /// The token typed in the App Dashboard for the GET handshake.
    pub verify_token: Secret,
    /// App Secret: the key of X-Hub-Signature-256.
    pub app_secret: Secret,
    /// System-user access token for the Graph API.
    pub access_token: Secret,
    /// Graph API base, version included.
    pub graph_url: String,
    /// Seconds before a Graph API call is abandoned.
    pub timeout_secs: u64,
    /// Sends per second per phone number (Meta's default limit is 80).
    pub messages_per_second: u32,
    /// Messages to one recipient in a burst, then one every `recipient_interval_secs`.
    pub recipient_burst: u32,
    pub recipient_interval_secs: u64,
    /// Warn agents this many minutes before the 24-hour window closes.
    pub window_warning_minutes: i64,
    /// A configured template (no parameters) with Meta's contact-request
    /// button: how an agent's callback asks a customer with no known number
    /// for one once the 24-hour window is closed. Empty: such a callback is refused.
    pub contact_request_template: String,
    /// Largest media downloaded, per kind, in bytes.
    pub max_image_bytes: usize,
    pub max_audio_bytes: usize,
    pub max_video_bytes: usize,
    pub max_document_bytes: usize,
    /// First retry delay of a failed media download, in milliseconds; doubles each time.
    pub media_retry_base_ms: u64,
    /// Notifications accepted but not yet processed beyond which the webhook answers 503.
    pub max_backlog: i64,
    /// Hours processed webhook bodies are kept as proof of what arrived.
    pub journal_retention_hours: u64,
    /// Days the text of a message the customer deleted is kept (for
    /// supervisors) before it is erased; 0 keeps it.
    pub deleted_text_retention_days: u64,
    /// The phone numbers this gateway answers for.
    pub numbers: Vec<WhatsappNumber>,
    /// Approved message templates agents may send outside the 24-hour window.
    pub templates: Vec<WhatsappTemplate>,
}

impl WhatsappConfig {
    /// The secrets the enabled channel cannot run without: without the app
    /// secret anyone could sign a webhook, without the verify token Meta cannot
    /// subscribe it, without the access token no reply leaves.
    pub fn missing_secrets(&self) -> Vec<&'static str> {
        [
            ("whatsapp.app_secret", &self.app_secret),
            ("whatsapp.verify_token", &self.verify_token),
            ("whatsapp.access_token", &self.access_token),
        ]
        .into_iter()
        .filter(|(_, secret)| secret.expose().trim().is_empty())
        .map(|(name, _)| name)
        .collect()
    }
}

impl Default for WhatsappConfig {
    fn default() -> Self {
        WhatsappConfig {
            enabled: false,
            verify_token: Secret::default(),
            app_secret: Secret::default(),
            access_token: Secret::default(),
            graph_url: "https://graph.facebook.com/v26.0".to_string(),
            timeout_secs: 15,
            messages_per_second: 80,
            recipient_burst: 45,
            recipient_interval_secs: 6,
            window_warning_minutes: 60,
            contact_request_template: String::new(),
            max_image_bytes: 5 * 1024 * 1024,
            max_audio_bytes: 16 * 1024 * 1024,
            max_video_bytes: 16 * 1024 * 1024,
            max_document_bytes: 100 * 1024 * 1024,
            media_retry_base_ms: 5_000,
            max_backlog: 100_000,
            journal_retention_hours: 72,
            deleted_text_retention_days: 30,
            numbers: Vec::new(),
            templates: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WhatsappNumber {
    /// The phone-number id Meta gives (not the phone number itself).
    pub phone_number_id: String,
    pub name: String,
    /// Language of acknowledgements when the text does not tell.
    pub language: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WhatsappTemplate {
    /// The template's name as approved by Meta.
    pub name: String,
    pub language: String,
    /// How many body parameters it takes, in order.
    pub parameters: usize,
    /// What it says, for agents choosing one.
    pub description: String,
    /// Meta's category: `utility`, `authentication` or `marketing` (never sent
    /// to a customer who stopped marketing messages).
    pub category: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// Read the mailboxes and send replies over SMTP.
    pub enabled: bool,
    /// The SAV address: From of every reply and acknowledgement.
    pub address: String,
    /// Display name on that address.
    pub display_name: String,
    /// Other addresses of ours (aliases, the mailbox logins): never customers, never in Cc.
    pub own_addresses: Vec<String>,
    /// Default mailbox password, for mailboxes that set none (`SWITCHYARD__EMAIL__PASSWORD`).
    pub password: Secret,
    /// Default OAuth 2 client secret, for mailboxes that set none (`SWITCHYARD__EMAIL__OAUTH2_CLIENT_SECRET`).
    pub oauth2_client_secret: Secret,
    /// Domain of our Message-IDs; empty takes the SAV address's domain.
    pub message_id_domain: String,
    /// Value of our `X-Switchyard-Loop` header; mail carrying it is our own coming back.
    pub loop_id: String,
    /// Larger attachments stay in the raw message only.
    pub max_attachment_bytes: usize,
    /// Larger mails are not downloaded: their headers become the message,
    /// marked too large, and the mail stays on the mail server.
    pub max_mail_bytes: u64,
    /// Automatic acknowledgements one address may receive per hour.
    pub max_acks_per_hour: i64,
    /// Days during which the same subject from the same sender joins an open conversation.
    pub subject_window_days: i64,
    pub smtp: SmtpConfig,
    pub mailboxes: Vec<MailboxConfig>,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            enabled: false,
            address: String::new(),
            display_name: "SAV".into(),
            own_addresses: Vec::new(),
            password: Secret::default(),
            oauth2_client_secret: Secret::default(),
            message_id_domain: String::new(),
            loop_id: "switchyard".into(),
            max_attachment_bytes: 25 * 1024 * 1024,
            max_mail_bytes: 64 * 1024 * 1024,
            max_acks_per_hour: 3,
            subject_window_days: 14,
            smtp: SmtpConfig::default(),
            mailboxes: Vec::new(),
        }
    }
}

impl EmailConfig {
    /// Every address that is us, lower-case.
    pub fn own_addresses(&self) -> Vec<String> {
        let mut own: Vec<String> = std::iter::once(&self.address)
            .chain(&self.own_addresses)
            .chain(self.mailboxes.iter().map(|m| &m.user).filter(|u| u.contains('@')))
            .filter(|a| !a.is_empty())
            .map(|a| a.trim().to_lowercase())
            .collect();
        own.sort();
        own.dedup();
        own
    }

    pub fn message_id_domain(&self) -> String {
        if !self.message_id_domain.is_empty() {
            return self.message_id_domain.clone();
        }
        self.address
            .rsplit_once('@')
            .map(|(_, d)| d.to_string())
            .unwrap_or_else(|| "switchyard.invalid".into())
    }
}

/// `tls` (implicit, 465/993), `starttls` (587/143) or `plain` (loopback only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailSecurity {
    Tls,
    Starttls,
    Plain,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: MailSecurity,
    /// Empty: no authentication.
    pub user: String,
    pub password: Secret,
    /// `password`, or `oauth2`: XOAUTH2 with the token of the mailbox named by `oauth2_mailbox`.
    pub auth: MailAuth,
    /// The `[[email.mailboxes]]` whose OAuth 2 token SMTP uses; empty: the first with `auth = "oauth2"`.
    pub oauth2_mailbox: String,
    pub timeout_secs: u64,
    /// SMTP connections kept open for reuse.
    pub pool_size: u32,
}

/// How Switchyard logs in to a mail server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailAuth {
    #[default]
    Password,
    /// SASL XOAUTH2 with an access token from `[email.mailboxes.oauth2]`.
    Oauth2,
}

/// Where a mailbox's OAuth 2 access tokens come from (docs/mail-oauth.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OAuth2Config {
    /// `microsoft`, `google` or `custom` (then `token_url`, `authorize_url` and `scope` are required).
    pub provider: String,
    /// `client_credentials` (Microsoft 365 app-only), `service_account` (Google
    /// Workspace domain-wide delegation) or `authorization_code` (an admin
    /// connects the mailbox from the inbox; its refresh token is kept encrypted).
    pub grant: String,
    /// Microsoft Entra tenant id or domain.
    pub tenant: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// Microsoft Entra: authenticate the app with a certificate instead of a
    /// secret — its private key (PKCS#8 PEM file) and its SHA-1 thumbprint (hex).
    pub certificate_key_file: String,
    pub certificate_thumbprint: String,
    /// Overrides the provider's.
    pub token_url: String,
    pub authorize_url: String,
    pub scope: String,
    /// Google service account key file (JSON, as the console downloads it).
    pub service_account_file: String,
    /// A refresh token obtained elsewhere, for `authorization_code` before anyone connects from the inbox.
    pub refresh_token: Secret,
    /// The IMAP SASL mechanism: `xoauth2` (Microsoft, Google) or `oauthbearer`
    /// (RFC 7628). SMTP always uses XOAUTH2, which both providers accept.
    pub mechanism: String,
}

impl Default for OAuth2Config {
    fn default() -> Self {
        OAuth2Config {
            provider: "microsoft".into(),
            grant: "client_credentials".into(),
            tenant: String::new(),
            client_id: String::new(),
            client_secret: Secret::default(),
            certificate_key_file: String::new(),
            certificate_thumbprint: String::new(),
            token_url: String::new(),
            authorize_url: String::new(),
            scope: String::new(),
            service_account_file: String::new(),
            refresh_token: Secret::default(),
            mechanism: "xoauth2".into(),
        }
    }
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: 587,
            security: MailSecurity::Starttls,
            user: String::new(),
            password: Secret::default(),
            auth: MailAuth::Password,
            oauth2_mailbox: String::new(),
            timeout_secs: 30,
            pool_size: 4,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailboxConfig {
    /// Endpoint name of the mailbox's conversations (e.g. "sav").
    pub name: String,
    pub host: String,
    pub port: u16,
    pub security: MailSecurity,
    pub user: String,
    /// Empty uses `email.password`.
    pub password: Secret,
    /// `password`, or `oauth2` (Microsoft 365, Google Workspace): see `oauth2`.
    pub auth: MailAuth,
    pub oauth2: OAuth2Config,
    pub folder: String,
    /// Committed mail is moved here (created if missing); empty flags it `$Switchyard` in place instead.
    pub processed_folder: String,
    /// Use IMAP IDLE when the server offers it; false polls every `poll_secs`.
    pub idle: bool,
    /// IDLE is re-issued after this many seconds (keep well under 29 minutes; NATs drop quiet links sooner).
    pub idle_secs: u64,
    /// Poll interval for servers without IDLE.
    pub poll_secs: u64,
    /// Deadline of every network step.
    pub timeout_secs: u64,
    /// Mails fetched and committed per round while catching up.
    pub batch: usize,
    /// Longest pause between reconnection attempts.
    pub max_backoff_secs: u64,
}

impl Default for MailboxConfig {
    fn default() -> Self {
        MailboxConfig {
            name: "sav".into(),
            host: "127.0.0.1".into(),
            port: 993,
            security: MailSecurity::Tls,
            user: String::new(),
            password: Secret::default(),
            auth: MailAuth::Password,
            oauth2: OAuth2Config::default(),
            folder: "INBOX".into(),
            processed_folder: "Processed".into(),
            idle: true,
            idle_secs: 300,
            poll_secs: 60,
            timeout_secs: 30,
            batch: 100,
            max_backoff_secs: 60,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AckTemplate {
    /// critical, important or faq.
    pub priority: String,
    /// fr, en, de, es, it.
    pub language: String,
    /// `{ticket}` and `{eta}` are filled in; questions about missing facts follow it.
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CannedReply {
    /// Typed after a slash in the reply box: `/photo`.
    pub keyword: String,
    /// fr, en, …; empty offers it whatever the conversation's language.
    pub language: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EscalationConfig {
    /// Video-assistance room link; `{room}` becomes an unguessable 128-bit name.
    pub visio_url_template: String,
    /// Outside these hours (an `[[sla.calendars]]` name) critical conversations notify the on-call contact.
    pub on_call_calendar: String,
    /// POSTed a JSON summary of each critical conversation out of hours (retried through the outbox).
    pub on_call_webhook: String,
    /// Also (or instead) mailed to this address, when email is enabled.
    pub on_call_email: String,
    /// Seconds before an on-call webhook call is abandoned (and retried).
    pub webhook_timeout_secs: u64,
}

impl Default for EscalationConfig {
    fn default() -> Self {
        EscalationConfig {
            visio_url_template: "https://meet.jit.si/switchyard-{room}".into(),
            on_call_calendar: "office".into(),
            on_call_webhook: String::new(),
            on_call_email: String::new(),
            webhook_timeout_secs: 10,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DispatchConfig {
    /// Queues shown to agents even when empty, most urgent first.
    pub queues: Vec<String>,
    /// An automatic assignment not answered within this many seconds goes to the next agent.
    pub answer_timeout_secs: u64,
    /// How often offers and waiting conversations are looked at, in seconds.
    pub check_secs: u64,
    /// Average handling time, for the answer time told to customers.
    pub minutes_per_conversation: i64,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            queues: vec!["critical".into(), "experts".into(), "n1".into()],
            answer_timeout_secs: 300,
            check_secs: 10,
            minutes_per_conversation: 15,
        }
    }
}

/// Service levels: business calendars and, per priority, how long a first
/// answer, the next answer and the resolution may take.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlaConfig {
    pub calendars: Vec<CalendarConfig>,
    pub policies: Vec<SlaPolicyConfig>,
    /// How often due timers are checked, in seconds.
    pub check_secs: u64,
    /// A running timer is "at risk" once less than this share of its budget is left.
    pub at_risk_ratio: f64,
    /// POSTed a JSON notice of every breach (retried through the outbox) and of every
    /// channel account alert (a WhatsApp ban, violation, quality drop; retried as a notice).
    pub supervisor_webhook: String,
}

impl Default for SlaConfig {
    fn default() -> Self {
        let office = vec!["08:00-12:00".to_string(), "13:30-18:00".to_string()];
        let policy = |priority: &str, calendar: &str, first: i64, next: i64, resolution: i64| SlaPolicyConfig {
            priority: priority.into(),
            calendar: calendar.into(),
            first_response_minutes: first,
            next_response_minutes: next,
            resolution_minutes: resolution,
        };
        SlaConfig {
            calendars: vec![CalendarConfig {
                name: "office".into(),
                time_zone: "Europe/Paris".into(),
                monday: office.clone(),
                tuesday: office.clone(),
                wednesday: office.clone(),
                thursday: office.clone(),
                friday: office,
                saturday: Vec::new(),
                sunday: Vec::new(),
                holidays: Vec::new(),
            }],
            // The promises the acknowledgements make: 15 minutes, 2 business hours, one business day.
            policies: vec![
                policy("critical", "always", 15, 30, 240),
                policy("important", "office", 120, 240, 2 * 570),
                policy("faq", "office", 570, 570, 5 * 570),
            ],
            check_secs: 5,
            at_risk_ratio: 0.25,
            supervisor_webhook: String::new(),
        }
    }
}

/// Weekly opening slots ("HH:MM-HH:MM", several a day), holidays and a time zone.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarConfig {
    pub name: String,
    /// IANA name, e.g. "Europe/Paris"; daylight saving is followed.
    pub time_zone: String,
    pub monday: Vec<String>,
    pub tuesday: Vec<String>,
    pub wednesday: Vec<String>,
    pub thursday: Vec<String>,
    pub friday: Vec<String>,
    pub saturday: Vec<String>,
    pub sunday: Vec<String>,
    /// Closed days, "YYYY-MM-DD".
    pub holidays: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SlaPolicyConfig {
    /// critical, important or faq.
    pub priority: String,
    /// A calendar's name, or "always" (around the clock).
    pub calendar: String,
    /// Business minutes; 0 means no target.
    pub first_response_minutes: i64,
    pub next_response_minutes: i64,
    pub resolution_minutes: i64,
}

/// A value that must not show up in logs or debug output.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"[redacted]\"" })
    }
}

impl Config {
    /// Defaults, then the file (if any), then `SWITCHYARD__*` variables.
    pub fn load(file: Option<&Path>) -> Result<Config, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment
            .merge(Env::prefixed("SWITCHYARD__").split("__"))
            .extract()
            .map_err(Box::new)
    }

    /// Defaults, then a TOML text (no file, no environment): the same
    /// reading as [`Config::load`], for checks and the config fuzz target.
    pub fn from_toml(text: &str) -> Result<Config, Box<figment::Error>> {
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(text))
            .extract()
            .map_err(Box::new)
    }

    /// The store URL, defaulting to a SQLite file in the data directory.
    pub fn store_url(&self) -> String {
        if self.store.url.is_empty() {
            format!("sqlite://{}", self.server.data_dir.join("switchyard.db").display())
        } else {
            self.store.url.expose().to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses_and_matches_defaults_where_uncommented() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/switchyard.example.toml");
        let config = match Config::load(Some(&path)) {
            Ok(c) => c,
            Err(e) => panic!("{}: {e}", path.display()),
        };
        // Every uncommented value in the example is the default it documents,
        // except these, which show the shape of a site's own values.
        const SITE_VALUES: &[&str] = &[
            "email.address",
            "email.display_name",
            "email.mailboxes",
            "email.own_addresses",
            "email.smtp",
            "sla.calendars",
            "whatsapp.numbers",
            "whatsapp.templates",
        ];
        let as_json = |c: &Config| serde_json::to_value(c).unwrap_or_else(|e| panic!("{e}"));
        let (example, defaults) = (as_json(&config), as_json(&Config::default()));
        let differing: Vec<String> = example
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(section, values)| {
                let defaults = &defaults[section];
                values
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(move |(key, v)| defaults[key.as_str()] != **v)
                    .map(move |(key, v)| format!("{section}.{key} = {v} (default {})", defaults[key.as_str()]))
            })
            .filter(|d| !SITE_VALUES.iter().any(|s| d.starts_with(&format!("{s} = "))))
            .collect();
        assert!(differing.is_empty(), "{differing:#?}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("bad.toml");
        let written = std::fs::write(&path, "[server]\nlisten = \"127.0.0.1:1\"\nlisen = 2\n");
        assert!(written.is_ok());
        let err = Config::load(Some(&path))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("lisen"), "{err}");
    }

    #[test]
    fn a_toml_text_reads_as_the_same_file_would() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/switchyard.example.toml");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (from_text, from_file) = match (Config::from_toml(&text), Config::load(Some(&path))) {
            (Ok(t), Ok(f)) => (t, f),
            (t, f) => panic!("{:?} / {:?}", t.err(), f.err()),
        };
        let json = |c: &Config| serde_json::to_value(c).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(json(&from_text), json(&from_file));
        assert_ne!(
            json(&from_text),
            json(&Config::default()),
            "the example sets site values"
        );
        let err = Config::from_toml("[server]\nlisen = 2\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("lisen"), "{err}");
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "\"[redacted]\"");
    }
}
