//! Opening escalations inside the accept (or agent) transaction.

use channels::{ChannelKind, Inbound};
use rand::RngCore;
use sqlx::AnyConnection;
use triage::{Escalation, Verdict};

use crate::ids::{AgentId, ConversationId};
use crate::sla::Calendar;
use crate::store::StoreError;
use crate::store::escalations::{self, NewEscalation, OpenKinds};
use crate::store::messages::{self, Direction};
use crate::store::outbox;

#[derive(Debug, Clone)]
pub struct EscalationPolicy {
    pub visio_url_template: String,
    pub on_call_hours: Calendar,
    pub on_call_webhook: String,
    pub on_call_email: String,
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        EscalationPolicy {
            visio_url_template: "https://meet.jit.si/switchyard-{room}".into(),
            on_call_hours: Calendar::always(),
            on_call_webhook: String::new(),
            on_call_email: String::new(),
        }
    }
}

impl EscalationPolicy {
    /// A fresh room link: 128 random bits, hex.
    pub fn room_url(&self) -> String {
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        self.visio_url_template.replace("{room}", &hex::encode(bytes))
    }
}

/// Where to call the customer back: their WhatsApp number (this message's, or
/// the one known for them: a customer with a username may have shared none),
/// the number they typed in the chat form, or one found in their message or
/// email signature.
async fn callback_number(
    conn: &mut AnyConnection,
    inbound: &Inbound,
    verdict: &Verdict,
) -> Result<Option<String>, StoreError> {
    if inbound.channel == ChannelKind::Whatsapp {
        let address = inbound.from.address.as_str();
        let known = match inbound.contact.phone.as_deref() {
            Some(p) => Some(p.to_string()),
            // On record: also the new number of a customer who changed numbers.
            None => match crate::store::whatsapp::phone_for(conn, address).await? {
                Some(p) => Some(format!("+{p}")),
                None if !crate::whatsapp::identity::is_bsuid(address) => {
                    Some(format!("+{}", address.trim_start_matches('+')))
                }
                None => None,
            },
        };
        return Ok(known.or_else(|| verdict.fields.phones.first().cloned()));
    }
    Ok(other_callback_number(inbound, verdict))
}

fn other_callback_number(inbound: &Inbound, verdict: &Verdict) -> Option<String> {
    if let Some(p) = inbound.contact.phone.as_deref().filter(|p| !p.trim().is_empty()) {
        return Some(p.trim().to_string());
    }
    if let Some(p) = verdict.fields.phones.first() {
        return Some(p.clone());
    }
    let signature = inbound.quoted.as_deref().unwrap_or_default();
    triage::Fields::extract(signature, &[], &[]).phones.into_iter().next()
}

/// Asked of a WhatsApp customer whose number we do not know when their
/// conversation needs a callback.
fn number_question(language: &str) -> &'static str {
    match language {
        "fr" => "Pour qu'un expert vous rappelle tout de suite, à quel numéro de téléphone pouvons-nous vous joindre ?",
        "de" => "Damit unser Experte Sie sofort zurückruft: unter welcher Telefonnummer sind Sie erreichbar?",
        "es" => "Para que un experto le llame enseguida, ¿en qué número de teléfono podemos localizarle?",
        "it" => "Perché un esperto la richiami subito, a quale numero di telefono possiamo raggiungerla?",
        _ => "So that an expert can call you back right away, which phone number can we reach you on?",
    }
}

fn visio_text(language: &str, url: &str) -> String {
    match language {
        "fr" => {
            format!("Pour une assistance vidéo avec notre expert, rejoignez ce lien depuis votre téléphone : {url}")
        }
        "de" => format!(
            "Für die Video-Unterstützung durch unseren Experten öffnen Sie diesen Link auf Ihrem Telefon: {url}"
        ),
        "es" => format!("Para la asistencia por vídeo con nuestro experto, abra este enlace en su teléfono: {url}"),
        "it" => format!("Per l'assistenza video con il nostro esperto, apra questo link dal telefono: {url}"),
        _ => format!("For video assistance with our expert, open this link on your phone: {url}"),
    }
}

/// What an escalation opened, for the steps after commit.
#[derive(Debug, Clone, Default)]
pub struct Opened {
    pub escalations: Vec<i64>,
    /// Messages queued in the outbox (room link to the customer, on-call notices).
    pub outgoing: usize,
}

pub struct Context<'a> {
    pub policy: &'a EscalationPolicy,
    pub conversation: ConversationId,
    pub channel: &'a str,
    pub endpoint: &'a str,
    pub language: &'a str,
    pub ticket: String,
    pub now: i64,
}

/// Whether [`open_for_verdict`] may have anything to do: a kind the verdict
/// asks for is not open yet, a number the conversation waits for may have
/// come, or a WhatsApp customer may have to be asked for one. When unsure, yes.
pub fn has_work(open: &OpenKinds, inbound: &Inbound, verdict: &Verdict) -> bool {
    if open.contains(NUMBER_REQUEST) {
        return true;
    }
    let (callback, visio) = wanted(verdict.escalation);
    // Whether a number is on record is read from the store: unknown here.
    let number_unsure =
        inbound.channel == ChannelKind::Whatsapp && inbound.contact.phone.is_none() && verdict.fields.phones.is_empty();
    (callback && (!open.contains("callback") || number_unsure)) || (visio && !open.contains("visio"))
}

/// Callback, video room.
fn wanted(escalation: Escalation) -> (bool, bool) {
    match escalation {
        Escalation::None => (false, false),
        Escalation::Callback => (true, false),
        Escalation::Visio => (false, true),
        Escalation::CallbackVisio => (true, true),
    }
}

/// Opens what the verdict asks for (once per kind while open) and, out of
/// hours, notifies the on-call contact.
///
/// `open` holds the kinds open on the conversation before this message (read
/// with the rest of its batch); it is kept up to date with what opens here.
pub async fn open_for_verdict(
    conn: &mut AnyConnection,
    ctx: &Context<'_>,
    open: &mut OpenKinds,
    inbound: &Inbound,
    verdict: &Verdict,
) -> Result<Opened, StoreError> {
    let phone = callback_number(conn, inbound, verdict).await?;
    let mut opened = Opened::default();
    // The number we asked for has come: the callback we could not open opens now.
    if phone.is_some() && open.remove(NUMBER_REQUEST) {
        escalations::close_of_kind(conn, ctx.conversation, NUMBER_REQUEST, ctx.now).await?;
        opened = request_in(conn, ctx, open, true, false, phone.as_deref(), None, None).await?;
    }
    let (mut callback, visio) = wanted(verdict.escalation);
    if !callback && !visio {
        return Ok(opened);
    }
    if callback && phone.is_none() && inbound.channel == ChannelKind::Whatsapp {
        // No number to call (a customer with a username): ask for one, once,
        // rather than open a callback nobody can make.
        callback = false;
        opened.outgoing += ask_for_number(conn, ctx, open).await?;
    }
    let more = request_in(conn, ctx, open, callback, visio, phone.as_deref(), None, None).await?;
    opened.escalations.extend(more.escalations);
    opened.outgoing += more.outgoing;
    if !ctx.policy.on_call_hours.is_open(ctx.now) && !opened.escalations.is_empty() {
        opened.outgoing += notify_on_call(conn, ctx, inbound, verdict, phone.as_deref()).await?;
    }
    Ok(opened)
}

/// The escalation kind that records we asked a customer for their number.
pub const NUMBER_REQUEST: &str = "number_request";

/// Asks the customer for a phone number in words (once while the request is
/// open); the callback opens when the number comes. Inside the 24-hour window.
pub async fn ask_number(conn: &mut AnyConnection, ctx: &Context<'_>) -> Result<usize, StoreError> {
    let mut open = escalations::open_kinds(conn, ctx.conversation).await?;
    ask_for_number(conn, ctx, &mut open).await
}

/// Records that the customer was asked for a number by other means (a
/// template's contact-request button); false when a request is open already.
pub async fn note_number_request(conn: &mut AnyConnection, ctx: &Context<'_>) -> Result<bool, StoreError> {
    let mut open = escalations::open_kinds(conn, ctx.conversation).await?;
    open_number_request(conn, ctx, &mut open).await
}

async fn open_number_request(
    conn: &mut AnyConnection,
    ctx: &Context<'_>,
    open: &mut OpenKinds,
) -> Result<bool, StoreError> {
    if !open.insert(NUMBER_REQUEST.to_string()) {
        return Ok(false);
    }
    escalations::insert(
        conn,
        &NewEscalation {
            conversation: ctx.conversation,
            kind: NUMBER_REQUEST,
            phone: None,
            preferred_slot: None,
            room_url: None,
            agent: None,
            now: ctx.now,
        },
    )
    .await?;
    Ok(true)
}

/// Asks the customer for a phone number (once while the request is open).
async fn ask_for_number(
    conn: &mut AnyConnection,
    ctx: &Context<'_>,
    open: &mut OpenKinds,
) -> Result<usize, StoreError> {
    if !open_number_request(conn, ctx, open).await? {
        return Ok(0);
    }
    let message = messages::insert_system(
        conn,
        &messages::SystemMessage {
            conversation_id: ctx.conversation,
            direction: Direction::Out,
            author_name: None,
            channel: ctx.channel,
            endpoint: ctx.endpoint,
            body: number_question(ctx.language),
            created_at: ctx.now,
        },
    )
    .await?;
    outbox::insert(conn, message, ctx.conversation, ctx.channel, None, ctx.now).await?;
    Ok(1)
}

/// Opens a callback and/or a video room (triage or an agent's one action).
pub async fn request(
    conn: &mut AnyConnection,
    ctx: &Context<'_>,
    callback: bool,
    visio: bool,
    phone: Option<&str>,
    slot: Option<&str>,
    agent: Option<AgentId>,
) -> Result<Opened, StoreError> {
    let mut open = escalations::open_kinds(conn, ctx.conversation).await?;
    request_in(conn, ctx, &mut open, callback, visio, phone, slot, agent).await
}

/// [`request`] knowing which kinds are open already (and recording what it opens).
#[allow(clippy::too_many_arguments)]
async fn request_in(
    conn: &mut AnyConnection,
    ctx: &Context<'_>,
    open: &mut OpenKinds,
    callback: bool,
    visio: bool,
    phone: Option<&str>,
    slot: Option<&str>,
    agent: Option<AgentId>,
) -> Result<Opened, StoreError> {
    let mut opened = Opened::default();
    if callback && open.insert("callback".to_string()) {
        let id = escalations::insert(
            conn,
            &NewEscalation {
                conversation: ctx.conversation,
                kind: "callback",
                phone,
                preferred_slot: slot,
                room_url: None,
                agent,
                now: ctx.now,
            },
        )
        .await?;
        opened.escalations.push(id);
    }
    if visio && open.insert("visio".to_string()) {
        let url = ctx.policy.room_url();
        let id = escalations::insert(
            conn,
            &NewEscalation {
                conversation: ctx.conversation,
                kind: "visio",
                phone: None,
                preferred_slot: None,
                room_url: Some(&url),
                agent,
                now: ctx.now,
            },
        )
        .await?;
        opened.escalations.push(id);
        // The link goes to the customer on their own channel, like any reply.
        let text = visio_text(ctx.language, &url);
        let message = messages::insert_system(
            conn,
            &messages::SystemMessage {
                conversation_id: ctx.conversation,
                direction: Direction::Out,
                author_name: None,
                channel: ctx.channel,
                endpoint: ctx.endpoint,
                body: &text,
                created_at: ctx.now,
            },
        )
        .await?;
        outbox::insert(conn, message, ctx.conversation, ctx.channel, None, ctx.now).await?;
        opened.outgoing += 1;
    }
    Ok(opened)
}

/// The on-call contact hears of a critical conversation out of hours: a note
/// in the conversation, delivered by webhook and/or email through the outbox.
async fn notify_on_call(
    conn: &mut AnyConnection,
    ctx: &Context<'_>,
    inbound: &Inbound,
    verdict: &Verdict,
    phone: Option<&str>,
) -> Result<usize, StoreError> {
    let policy = ctx.policy;
    if policy.on_call_webhook.is_empty() && policy.on_call_email.is_empty() {
        return Ok(0);
    }
    let text = format!(
        "On-call: critical {} on {} from {}{}. {}",
        ctx.ticket,
        ctx.channel,
        inbound.from.address,
        phone.map(|p| format!(", call back {p}")).unwrap_or_default(),
        inbound.text.chars().take(500).collect::<String>()
    );
    let mut queued = 0;
    if !policy.on_call_webhook.is_empty() {
        let message = on_call_note(conn, ctx, &text).await?;
        let payload = serde_json::json!({
            "url": policy.on_call_webhook,
            "body": {
                "event": "critical_out_of_hours",
                "ticket": ctx.ticket,
                "conversation": ctx.conversation.0,
                "channel": ctx.channel,
                "customer": inbound.from.address,
                "callback_number": phone,
                "priority": verdict.priority.as_str(),
                "escalation": verdict.escalation.as_str(),
                "fault_codes": verdict.fields.fault_codes,
                "text": inbound.text.chars().take(2000).collect::<String>(),
            }
        })
        .to_string();
        outbox::insert(
            conn,
            message,
            ctx.conversation,
            "oncall_webhook",
            Some(&payload),
            ctx.now,
        )
        .await?;
        queued += 1;
    }
    if !policy.on_call_email.is_empty() {
        let message = on_call_note(conn, ctx, &text).await?;
        let payload = serde_json::json!({"to": [policy.on_call_email], "cc": []}).to_string();
        outbox::insert(conn, message, ctx.conversation, "email", Some(&payload), ctx.now).await?;
        queued += 1;
    }
    Ok(queued)
}

async fn on_call_note(
    conn: &mut AnyConnection,
    ctx: &Context<'_>,
    text: &str,
) -> Result<crate::ids::MessageId, StoreError> {
    messages::insert_system(
        conn,
        &messages::SystemMessage {
            conversation_id: ctx.conversation,
            direction: Direction::Note,
            author_name: Some("On-call"),
            channel: ctx.channel,
            endpoint: ctx.endpoint,
            body: text,
            created_at: ctx.now,
        },
    )
    .await
}
