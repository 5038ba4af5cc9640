//! Opening escalations inside the accept (or agent) transaction.

use channels::{ChannelKind, Inbound};
use rand::RngCore;
use sqlx::AnyConnection;
use triage::{Escalation, Verdict};

use crate::ids::{AgentId, ConversationId};
use crate::sla::Calendar;
use crate::store::StoreError;
use crate::store::escalations::{self, NewEscalation, OpenKinds, Opening};
use crate::store::messages::{self, Direction};
use crate::store::outbox;

#[derive(Debug, Clone)]
pub struct EscalationPolicy {
    pub visio_url_template: String,
    pub on_call_hours: Calendar,
    /// The SLA calendar the on-call hours follow (`always`: around the
    /// clock); an admin's edit of that calendar applies from the next batch.
    pub on_call_calendar: String,
    pub on_call_webhook: String,
    pub on_call_email: String,
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        EscalationPolicy {
            visio_url_template: "https://meet.jit.si/switchyard-{room}".into(),
            on_call_hours: Calendar::always(),
            on_call_calendar: "always".into(),
            on_call_webhook: String::new(),
            on_call_email: String::new(),
        }
    }
}

impl EscalationPolicy {
    /// This policy with the on-call hours of the calendars in force now.
    pub fn with_calendars(&self, sla: &crate::sla::SlaPolicies) -> std::borrow::Cow<'_, EscalationPolicy> {
        match sla.calendar_named(&self.on_call_calendar) {
            Some(hours) if self.on_call_calendar != "always" => std::borrow::Cow::Owned(EscalationPolicy {
                on_call_hours: hours.clone(),
                ..self.clone()
            }),
            _ => std::borrow::Cow::Borrowed(self),
        }
    }

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
    match known_callback_number(inbound, verdict) {
        Some(known) => Ok(known),
        None => {
            let on_record = crate::store::whatsapp::phone_for(conn, &inbound.from.address).await?;
            Ok(whatsapp_number(inbound, verdict, on_record))
        }
    }
}

/// [`callback_number`] when it needs no store: `None` when the WhatsApp
/// number on record must be read ([`whatsapp_number`] then decides).
pub fn known_callback_number(inbound: &Inbound, verdict: &Verdict) -> Option<Option<String>> {
    if inbound.channel != ChannelKind::Whatsapp {
        return Some(other_callback_number(inbound, verdict));
    }
    inbound.contact.phone.as_deref().map(|p| Some(p.to_string()))
}

/// A WhatsApp customer's number: the one on record (also the new number of a
/// customer who changed numbers), else their address when it is a number,
/// else one in their message.
pub fn whatsapp_number(inbound: &Inbound, verdict: &Verdict, on_record: Option<String>) -> Option<String> {
    let address = inbound.from.address.as_str();
    let known = match on_record {
        Some(p) => Some(format!("+{p}")),
        None if !crate::whatsapp::identity::is_bsuid(address) => Some(format!("+{}", address.trim_start_matches('+'))),
        None => None,
    };
    known.or_else(|| verdict.fields.phones.first().cloned())
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

/// One write of an escalation step, in the order the step makes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// The open escalations of this kind are done (what they waited for came).
    Close {
        kind: &'static str,
    },
    Open(Opening),
    /// A message in the conversation and the outbox row that carries it.
    Message {
        direction: Direction,
        author_name: Option<&'static str>,
        body: String,
        to: Recipient,
        payload: Option<String>,
    },
}

/// Where an escalation's message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// The customer, on the conversation's channel.
    Customer,
    OnCallWebhook,
    OnCallEmail,
}

impl Recipient {
    /// The outbox channel, for a conversation on `channel`.
    pub fn channel(self, channel: &str) -> &str {
        match self {
            Recipient::Customer => channel,
            Recipient::OnCallWebhook => "oncall_webhook",
            Recipient::OnCallEmail => "email",
        }
    }
}

/// What an escalation step writes, decided without a database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decided {
    pub writes: Vec<Write>,
    /// Callbacks and video rooms opened (not number requests).
    pub opened: usize,
    /// Messages queued in the outbox.
    pub outgoing: usize,
}

/// Opens what the verdict asks for (once per kind while open) and, out of
/// hours, notifies the on-call contact. `phone`: where to call back
/// ([`callback_number`]).
///
/// `open` holds the kinds open on the conversation before this message (read
/// with the rest of its batch); it is kept up to date with what opens here.
pub fn for_verdict(
    ctx: &Context<'_>,
    open: &mut OpenKinds,
    inbound: &Inbound,
    verdict: &Verdict,
    phone: Option<String>,
) -> Decided {
    let mut d = Decided::default();
    // The number we asked for has come: the callback we could not open opens now.
    if phone.is_some() && open.remove(NUMBER_REQUEST) {
        d.writes.push(Write::Close { kind: NUMBER_REQUEST });
        decide_request(ctx, open, true, false, phone.as_deref(), None, None, &mut d);
    }
    let (mut callback, visio) = wanted(verdict.escalation);
    if !callback && !visio {
        return d;
    }
    if callback && phone.is_none() && inbound.channel == ChannelKind::Whatsapp {
        // No number to call (a customer with a username): ask for one, once,
        // rather than open a callback nobody can make.
        callback = false;
        decide_ask(ctx, open, &mut d);
    }
    decide_request(ctx, open, callback, visio, phone.as_deref(), None, None, &mut d);
    if !ctx.policy.on_call_hours.is_open(ctx.now) && d.opened > 0 {
        decide_on_call(ctx, inbound, verdict, phone.as_deref(), &mut d);
    }
    d
}

/// [`for_verdict`], written in the caller's transaction.
pub async fn open_for_verdict(
    conn: &mut AnyConnection,
    ctx: &Context<'_>,
    open: &mut OpenKinds,
    inbound: &Inbound,
    verdict: &Verdict,
) -> Result<Opened, StoreError> {
    let phone = callback_number(conn, inbound, verdict).await?;
    apply(conn, ctx, for_verdict(ctx, open, inbound, verdict, phone)).await
}

/// Writes a step's rows in their order.
async fn apply(conn: &mut AnyConnection, ctx: &Context<'_>, d: Decided) -> Result<Opened, StoreError> {
    let mut opened = Opened {
        escalations: Vec::new(),
        outgoing: d.outgoing,
    };
    for w in d.writes {
        match w {
            Write::Close { kind } => escalations::close_of_kind(conn, ctx.conversation, kind, ctx.now).await?,
            Write::Open(o) => {
                let id = escalations::insert(
                    conn,
                    &NewEscalation {
                        conversation: ctx.conversation,
                        kind: o.kind,
                        phone: o.phone.as_deref(),
                        preferred_slot: o.slot.as_deref(),
                        room_url: o.room_url.as_deref(),
                        agent: o.agent,
                        now: ctx.now,
                    },
                )
                .await?;
                if o.kind != NUMBER_REQUEST {
                    opened.escalations.push(id);
                }
            }
            Write::Message {
                direction,
                author_name,
                body,
                to,
                payload,
            } => {
                let message = messages::insert_system(
                    conn,
                    &messages::SystemMessage {
                        conversation_id: ctx.conversation,
                        direction,
                        author_name,
                        channel: ctx.channel,
                        endpoint: ctx.endpoint,
                        body: &body,
                        created_at: ctx.now,
                    },
                )
                .await?;
                outbox::insert(
                    conn,
                    message,
                    ctx.conversation,
                    to.channel(ctx.channel),
                    payload.as_deref(),
                    ctx.now,
                )
                .await?;
            }
        }
    }
    Ok(opened)
}

/// The escalation kind that records we asked a customer for their number.
pub const NUMBER_REQUEST: &str = "number_request";

/// Asks the customer for a phone number in words (once while the request is
/// open); the callback opens when the number comes. Inside the 24-hour window.
pub async fn ask_number(conn: &mut AnyConnection, ctx: &Context<'_>) -> Result<usize, StoreError> {
    let mut open = escalations::open_kinds(conn, ctx.conversation).await?;
    let mut d = Decided::default();
    decide_ask(ctx, &mut open, &mut d);
    Ok(apply(conn, ctx, d).await?.outgoing)
}

/// Records that the customer was asked for a number by other means (a
/// template's contact-request button); false when a request is open already.
pub async fn note_number_request(conn: &mut AnyConnection, ctx: &Context<'_>) -> Result<bool, StoreError> {
    let mut open = escalations::open_kinds(conn, ctx.conversation).await?;
    let mut d = Decided::default();
    let noted = decide_number_request(&mut open, &mut d);
    apply(conn, ctx, d).await?;
    Ok(noted)
}

fn decide_number_request(open: &mut OpenKinds, d: &mut Decided) -> bool {
    if !open.insert(NUMBER_REQUEST.to_string()) {
        return false;
    }
    d.writes.push(Write::Open(Opening::of_kind(NUMBER_REQUEST)));
    true
}

/// Asks the customer for a phone number (once while the request is open).
fn decide_ask(ctx: &Context<'_>, open: &mut OpenKinds, d: &mut Decided) {
    if !decide_number_request(open, d) {
        return;
    }
    d.writes.push(Write::Message {
        direction: Direction::Out,
        author_name: None,
        body: number_question(ctx.language).to_string(),
        to: Recipient::Customer,
        payload: None,
    });
    d.outgoing += 1;
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
    let mut d = Decided::default();
    decide_request(ctx, &mut open, callback, visio, phone, slot, agent, &mut d);
    apply(conn, ctx, d).await
}

/// [`request`] knowing which kinds are open already (and recording what it opens).
#[allow(clippy::too_many_arguments)]
fn decide_request(
    ctx: &Context<'_>,
    open: &mut OpenKinds,
    callback: bool,
    visio: bool,
    phone: Option<&str>,
    slot: Option<&str>,
    agent: Option<AgentId>,
    d: &mut Decided,
) {
    if callback && open.insert("callback".to_string()) {
        d.writes.push(Write::Open(Opening {
            phone: phone.map(str::to_string),
            slot: slot.map(str::to_string),
            agent,
            ..Opening::of_kind("callback")
        }));
        d.opened += 1;
    }
    if visio && open.insert("visio".to_string()) {
        let url = ctx.policy.room_url();
        // The link goes to the customer on their own channel, like any reply.
        let text = visio_text(ctx.language, &url);
        d.writes.push(Write::Open(Opening {
            room_url: Some(url),
            agent,
            ..Opening::of_kind("visio")
        }));
        d.writes.push(Write::Message {
            direction: Direction::Out,
            author_name: None,
            body: text,
            to: Recipient::Customer,
            payload: None,
        });
        d.opened += 1;
        d.outgoing += 1;
    }
}

/// The on-call contact hears of a critical conversation out of hours: a note
/// in the conversation, delivered by webhook and/or email through the outbox.
fn decide_on_call(ctx: &Context<'_>, inbound: &Inbound, verdict: &Verdict, phone: Option<&str>, d: &mut Decided) {
    let policy = ctx.policy;
    if policy.on_call_webhook.is_empty() && policy.on_call_email.is_empty() {
        return;
    }
    let text = format!(
        "On-call: critical {} on {} from {}{}. {}",
        ctx.ticket,
        ctx.channel,
        inbound.from.address,
        phone.map(|p| format!(", call back {p}")).unwrap_or_default(),
        inbound.text.chars().take(500).collect::<String>()
    );
    let note = |to, payload| Write::Message {
        direction: Direction::Note,
        author_name: Some("On-call"),
        body: text.clone(),
        to,
        payload: Some(payload),
    };
    if !policy.on_call_webhook.is_empty() {
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
        d.writes.push(note(Recipient::OnCallWebhook, payload));
        d.outgoing += 1;
    }
    if !policy.on_call_email.is_empty() {
        let payload = serde_json::json!({"to": [policy.on_call_email], "cc": []}).to_string();
        d.writes.push(note(Recipient::OnCallEmail, payload));
        d.outgoing += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(escalation: Escalation) -> Verdict {
        crate::test_support::verdict(triage::Priority::Critical, "critical", escalation)
    }

    fn ctx<'a>(policy: &'a EscalationPolicy, channel: &'a str) -> Context<'a> {
        Context {
            policy,
            conversation: ConversationId(7),
            channel,
            endpoint: "e",
            language: "en",
            ticket: "SY-7".into(),
            now: 1_790_000_000_000,
        }
    }

    fn kinds(d: &Decided) -> Vec<String> {
        d.writes
            .iter()
            .map(|w| match w {
                Write::Close { kind } => format!("close {kind}"),
                Write::Open(o) => format!("open {} {:?}", o.kind, o.phone),
                Write::Message { to, .. } => format!("message to {to:?}"),
            })
            .collect()
    }

    #[test]
    fn a_line_stop_opens_a_callback_and_a_room_once() {
        let policy = EscalationPolicy::default();
        let ctx = ctx(&policy, "webchat");
        let mut inbound = Inbound::text(ChannelKind::Webchat, "site", "k:1", "visitor:k", "Line stopped");
        inbound.contact.phone = Some("+33 6 00 00 00 01".into());
        let v = verdict(Escalation::CallbackVisio);
        let mut open = OpenKinds::new();
        let phone = known_callback_number(&inbound, &v).flatten();
        let d = for_verdict(&ctx, &mut open, &inbound, &v, phone.clone());
        assert_eq!(
            kinds(&d),
            [
                "open callback Some(\"+33 6 00 00 00 01\")",
                "open visio None",
                "message to Customer"
            ]
        );
        assert_eq!((d.opened, d.outgoing), (2, 1));
        let again = for_verdict(&ctx, &mut open, &inbound, &v, phone);
        assert_eq!(again, Decided::default(), "both kinds are open already");
    }

    #[test]
    fn a_whatsapp_customer_without_a_number_is_asked_once_and_called_when_it_comes() {
        let policy = EscalationPolicy::default();
        let ctx = ctx(&policy, "whatsapp");
        let inbound = Inbound::text(ChannelKind::Whatsapp, "1", "wamid.1", "FR.123", "Machine down");
        let v = verdict(Escalation::Callback);
        assert_eq!(
            known_callback_number(&inbound, &v),
            None,
            "the store may know the number"
        );
        assert_eq!(whatsapp_number(&inbound, &v, None), None);
        let mut open = OpenKinds::new();
        let d = for_verdict(&ctx, &mut open, &inbound, &v, None);
        assert_eq!(kinds(&d), ["open number_request None", "message to Customer"]);
        assert_eq!((d.opened, d.outgoing), (0, 1), "a number request is not a callback");
        assert_eq!(for_verdict(&ctx, &mut open, &inbound, &v, None), Decided::default());

        let d = for_verdict(
            &ctx,
            &mut open,
            &inbound,
            &verdict(Escalation::None),
            Some("+33600".into()),
        );
        assert_eq!(kinds(&d), ["close number_request", "open callback Some(\"+33600\")"]);
    }
}
