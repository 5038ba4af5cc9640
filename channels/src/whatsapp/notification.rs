//! A webhook notification, as what the gateway stores: messages (normalised),
//! reactions, delivery statuses and value-level errors. Unknown shapes are
//! kept as errors to show, never dropped.

use serde_json::Value;

use crate::inbound::{
    AttachmentRef, AttachmentSource, AutoFlags, ChannelKind, Contact, Inbound, Participant, ThreadHints,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    #[error("body is not JSON: {0}")]
    NotJson(String),
    #[error("not a WhatsApp Business notification (object = {0:?})")]
    WrongObject(String),
}

/// A reaction to a message; `emoji: None` means the reaction was removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub endpoint: String,
    pub external_id: String,
    pub from: String,
    pub target: String,
    pub emoji: Option<String>,
    pub at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StatusKind {
    Sent,
    Delivered,
    Read,
    Failed,
}

impl StatusKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusKind::Sent => "sent",
            StatusKind::Delivered => "delivered",
            StatusKind::Read => "read",
            StatusKind::Failed => "failed",
        }
    }
}

/// A delivery receipt for a message we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub endpoint: String,
    pub message_id: String,
    /// `None` for a status name this code does not know (kept as `raw_status`).
    pub kind: Option<StatusKind>,
    pub raw_status: String,
    pub recipient: String,
    pub at: i64,
    pub errors: Vec<ValueError>,
}

/// An error Meta reports: value-level, in a status, or in an unsupported message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    pub endpoint: String,
    pub code: Option<i64>,
    pub title: String,
    pub details: String,
}

/// A customer changed a message they sent: its new text, or its removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub endpoint: String,
    /// The wamid of the edit or revoke event itself.
    pub external_id: String,
    /// The wamid of the message it changes.
    pub target: String,
    /// The new text; `None`: the customer deleted the message.
    pub text: Option<String>,
    pub at: i64,
}

/// A message the business sent from the WhatsApp Business app on a number
/// also connected to the Cloud API ("coexistence"): part of the conversation,
/// written by the business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echo {
    pub endpoint: String,
    pub external_id: String,
    /// The customer it went to: phone number, else business-scoped user id.
    pub to: String,
    pub text: String,
    pub at: i64,
}

/// A customer changed their phone number (Meta's `user_changed_number` system
/// message); a new number also means a new business-scoped user id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberChange {
    pub old_phone: String,
    pub new_phone: String,
    pub new_bsuid: Option<String>,
}

/// A WhatsApp call between the business number and a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEvent {
    pub endpoint: String,
    pub id: String,
    /// The customer: phone number, else business-scoped user id.
    pub customer: String,
    /// `connect`, `terminate`, …
    pub event: String,
    /// `BUSINESS_INITIATED` or `USER_INITIATED`, when Meta says.
    pub direction: String,
    pub status: String,
    pub duration_secs: Option<i64>,
    pub at: i64,
}

impl CallEvent {
    /// One line for the conversation.
    pub fn describe(&self) -> String {
        let who = if self.direction.eq_ignore_ascii_case("BUSINESS_INITIATED") {
            "to the customer"
        } else {
            "from the customer"
        };
        match self.event.as_str() {
            "connect" => format!("📞 WhatsApp call {who}: ringing"),
            "terminate" => {
                let status = if self.status.is_empty() {
                    "ended".to_string()
                } else {
                    self.status.to_lowercase()
                };
                match self.duration_secs {
                    Some(d) if d > 0 => format!("📞 WhatsApp call {who}: {status}, {} min {:02} s", d / 60, d % 60),
                    _ => format!("📞 WhatsApp call {who}: {status}"),
                }
            }
            other => format!("📞 WhatsApp call {who}: {other}"),
        }
    }
}

/// A template's state changed at Meta (approved, paused, rejected, disabled…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateState {
    pub name: String,
    pub language: String,
    /// Meta's event, upper case: `APPROVED`, `PAUSED`, `REJECTED`, `DISABLED`, …
    pub status: String,
    pub reason: String,
}

/// A customer stopped (or resumed) a category of messages, e.g. marketing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preference {
    /// Phone number, else business-scoped user id.
    pub customer: String,
    pub category: String,
    /// `stop` or `resume`.
    pub value: String,
    pub at: i64,
}

/// Something Meta reported that is not a message and needs no action from
/// the gateway (a webhook field it does not apply yet): kept for the admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Information {
    pub endpoint: String,
    pub field: String,
    pub details: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notification {
    pub messages: Vec<Inbound>,
    pub reactions: Vec<Reaction>,
    pub statuses: Vec<Status>,
    /// Edits and deletions of messages customers sent.
    pub revisions: Vec<Revision>,
    /// What the business wrote from the WhatsApp Business app.
    pub echoes: Vec<Echo>,
    pub templates: Vec<TemplateState>,
    pub preferences: Vec<Preference>,
    pub calls: Vec<CallEvent>,
    pub number_changes: Vec<NumberChange>,
    /// Value-level errors and anything this code could not read.
    pub errors: Vec<ValueError>,
    /// Account and number events an admin must act on (a ban, a violation, a
    /// quality drop, a partner removed); also in `errors`, for the record.
    pub account_alerts: Vec<ValueError>,
    /// Webhook fields recorded, not applied.
    pub information: Vec<Information>,
}

fn s(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

fn seconds(v: &Value) -> i64 {
    let t = v.get("timestamp");
    let secs = t
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<i64>().ok())
        .or_else(|| t.and_then(Value::as_i64));
    secs.unwrap_or(0).saturating_mul(1000)
}

fn errors_of(v: &Value, endpoint: &str) -> Vec<ValueError> {
    v.get("errors")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|e| ValueError {
                    endpoint: endpoint.to_string(),
                    code: e.get("code").and_then(Value::as_i64),
                    title: s(e, "title"),
                    details: e
                        .get("error_data")
                        .and_then(|d| d.get("details"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| s(e, "details")),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Parses the raw body (after its signature was checked).
pub fn parse_notification(raw: &[u8]) -> Result<Notification, NotificationError> {
    let root: Value = serde_json::from_slice(raw).map_err(|e| NotificationError::NotJson(e.to_string()))?;
    let object = s(&root, "object");
    if object != "whatsapp_business_account" {
        return Err(NotificationError::WrongObject(object));
    }
    let mut out = Notification::default();
    let entries = root.get("entry").and_then(Value::as_array).cloned().unwrap_or_default();
    for entry in &entries {
        for change in entry.get("changes").and_then(Value::as_array).into_iter().flatten() {
            let value = change.get("value").cloned().unwrap_or(Value::Null);
            let endpoint = value
                .get("metadata")
                .and_then(|m| m.get("phone_number_id"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let field = s(change, "field");
            if field == "smb_message_echoes" {
                for m in value
                    .get("message_echoes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let to = non_empty(m.get("to")).or_else(|| non_empty(m.get("to_user_id")));
                    let Some(to) = to else {
                        out.errors.push(ValueError {
                            endpoint: endpoint.clone(),
                            code: None,
                            title: "message echo without a recipient".into(),
                            details: m.to_string().chars().take(2000).collect(),
                        });
                        continue;
                    };
                    // The content reads like any message; only who wrote it differs.
                    let content = message(m, &endpoint, &[]);
                    out.echoes.push(Echo {
                        endpoint: endpoint.clone(),
                        external_id: s(m, "id"),
                        to,
                        text: content.text,
                        at: seconds(m),
                    });
                }
                continue;
            }
            if field == "message_template_status_update" {
                out.templates.push(TemplateState {
                    name: s(&value, "message_template_name"),
                    language: s(&value, "message_template_language"),
                    status: s(&value, "event").to_ascii_uppercase(),
                    reason: s(&value, "reason"),
                });
            }
            if field == "calls" {
                for c in value.get("calls").and_then(Value::as_array).into_iter().flatten() {
                    // The customer is whichever side is not the business number.
                    let direction = s(c, "direction");
                    let side = if direction.eq_ignore_ascii_case("BUSINESS_INITIATED") {
                        "to"
                    } else {
                        "from"
                    };
                    let customer = non_empty(c.get(side)).or_else(|| non_empty(c.get(format!("{side}_user_id"))));
                    if let Some(customer) = customer {
                        out.calls.push(CallEvent {
                            endpoint: endpoint.clone(),
                            id: s(c, "id"),
                            customer,
                            event: s(c, "event"),
                            direction,
                            status: s(c, "status"),
                            duration_secs: c.get("duration").and_then(Value::as_i64),
                            at: seconds(c),
                        });
                    }
                }
            }
            if field == "account_update" || field == "phone_number_quality_update" {
                let event = s(&value, "event").to_ascii_uppercase();
                const SERIOUS: &[&str] = &[
                    "ACCOUNT_VIOLATION",
                    "ACCOUNT_RESTRICTION",
                    "DISABLED_UPDATE",
                    "ACCOUNT_DELETED",
                    "PARTNER_REMOVED",
                    "DOWNGRADE",
                    "FLAGGED",
                ];
                if SERIOUS.contains(&event.as_str()) {
                    // Bans, violations, quality drops, a partner removed: an admin must act.
                    let alert = ValueError {
                        endpoint: endpoint.clone(),
                        code: None,
                        title: format!("{field}: {event}"),
                        details: value.to_string().chars().take(2000).collect(),
                    };
                    out.account_alerts.push(alert.clone());
                    out.errors.push(alert);
                    continue;
                }
            }
            if field == "user_preferences" {
                for p in value
                    .get("user_preferences")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(customer) = non_empty(p.get("wa_id")).or_else(|| non_empty(p.get("user_id"))) {
                        out.preferences.push(Preference {
                            customer,
                            category: s(p, "category"),
                            value: s(p, "value"),
                            at: seconds(p),
                        });
                    }
                }
            }
            if field != "messages" {
                // Documented fields the gateway does not act on (yet), and any
                // future one: recorded as information, not as errors.
                out.information.push(Information {
                    endpoint,
                    field,
                    details: value.to_string().chars().take(2000).collect(),
                });
                continue;
            }
            let contacts = value
                .get("contacts")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for m in value.get("messages").and_then(Value::as_array).into_iter().flatten() {
                if let Some(revision) = revision(m, &endpoint) {
                    out.revisions.push(revision);
                    continue;
                }
                if m.get("type").and_then(Value::as_str) == Some("reaction") {
                    let r = m.get("reaction").cloned().unwrap_or(Value::Null);
                    let emoji = s(&r, "emoji");
                    out.reactions.push(Reaction {
                        endpoint: endpoint.clone(),
                        external_id: s(m, "id"),
                        from: sender(m, &contacts).address().unwrap_or_default().to_string(),
                        target: s(&r, "message_id"),
                        emoji: (!emoji.is_empty()).then_some(emoji),
                        at: seconds(m),
                    });
                    continue;
                }
                if sender(m, &contacts).address().is_none() {
                    // Stored under an empty address it would merge with every other such customer.
                    out.errors.push(ValueError {
                        endpoint: endpoint.clone(),
                        code: None,
                        title: "message without a sender: no phone number and no user id".into(),
                        details: m.to_string().chars().take(2000).collect(),
                    });
                    continue;
                }
                let mut inbound = message(m, &endpoint, &contacts);
                if let Some(change) = number_change(m) {
                    // The notice is filed under the customer's new number, which
                    // the gateway links to their row before threading it.
                    inbound.contact.phone = Some(format!("+{}", change.new_phone));
                    inbound.from.address = change.new_phone.clone();
                    out.number_changes.push(change);
                }
                out.messages.push(inbound);
            }
            for st in value.get("statuses").and_then(Value::as_array).into_iter().flatten() {
                let raw_status = s(st, "status");
                let kind = match raw_status.as_str() {
                    "sent" => Some(StatusKind::Sent),
                    "delivered" => Some(StatusKind::Delivered),
                    "read" => Some(StatusKind::Read),
                    "failed" => Some(StatusKind::Failed),
                    _ => None,
                };
                out.statuses.push(Status {
                    endpoint: endpoint.clone(),
                    message_id: s(st, "id"),
                    kind,
                    raw_status,
                    recipient: s(st, "recipient_id"),
                    at: seconds(st),
                    errors: errors_of(st, &endpoint),
                });
            }
            out.errors.extend(errors_of(&value, &endpoint));
        }
    }
    Ok(out)
}

fn number_change(m: &Value) -> Option<NumberChange> {
    let system = m.get("system").filter(|_| s(m, "type") == "system")?;
    if s(system, "type") != "user_changed_number" {
        return None;
    }
    Some(NumberChange {
        old_phone: non_empty(m.get("from"))?,
        new_phone: non_empty(system.get("wa_id")).or_else(|| non_empty(system.get("new_wa_id")))?,
        new_bsuid: non_empty(system.get("user_id")),
    })
}

/// An `edit` (new text of a message the customer sent) or a `revoke` (they
/// deleted it), as Meta documents them for the messages webhook.
fn revision(m: &Value, endpoint: &str) -> Option<Revision> {
    let kind = m.get("type").and_then(Value::as_str)?;
    let body = m.get(kind)?;
    let target = s(body, "original_message_id");
    let text = match kind {
        "edit" => {
            let inner = body.get("message").cloned().unwrap_or(Value::Null);
            let inner_kind = s(&inner, "type");
            let content = inner.get(&inner_kind).cloned().unwrap_or(Value::Null);
            Some(if inner_kind == "text" {
                s(&content, "body")
            } else {
                s(&content, "caption")
            })
        }
        "revoke" => None,
        _ => return None,
    };
    Some(Revision {
        endpoint: endpoint.to_string(),
        external_id: s(m, "id"),
        target,
        text,
        at: seconds(m),
    })
}

/// Who sent a message: their phone number (`from`, absent for some users with
/// a username), their business-scoped user id (`from_user_id`, or `user_id`
/// of their contact entry), the parent BSUID, the profile name and username.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sender {
    pub phone: Option<String>,
    pub bsuid: Option<String>,
    pub parent_bsuid: Option<String>,
    pub name: Option<String>,
    pub username: Option<String>,
}

impl Sender {
    /// The address a new customer is first known by: the phone number when
    /// there is one, else the BSUID. `None`: nobody to answer.
    pub fn address(&self) -> Option<&str> {
        self.phone.as_deref().or(self.bsuid.as_deref())
    }
}

fn non_empty(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

pub fn sender(m: &Value, contacts: &[Value]) -> Sender {
    let phone = non_empty(m.get("from"));
    let from_user = non_empty(m.get("from_user_id"));
    // The contact entry of this sender; with one sender per notification, the only one.
    let contact = contacts
        .iter()
        .find(|c| {
            let wa_id = non_empty(c.get("wa_id"));
            let user_id = non_empty(c.get("user_id"));
            (phone.is_some() && wa_id == phone) || (from_user.is_some() && user_id == from_user)
        })
        .or_else(|| (contacts.len() == 1).then(|| &contacts[0]));
    let profile = contact.and_then(|c| c.get("profile"));
    Sender {
        phone: phone.or_else(|| contact.and_then(|c| non_empty(c.get("wa_id")))),
        bsuid: from_user.or_else(|| contact.and_then(|c| non_empty(c.get("user_id")))),
        parent_bsuid: non_empty(m.get("from_parent_user_id"))
            .or_else(|| contact.and_then(|c| non_empty(c.get("parent_user_id")))),
        name: profile.and_then(|p| non_empty(p.get("name"))),
        username: profile.and_then(|p| non_empty(p.get("username"))),
    }
}

/// A WhatsApp Flows answer: its fields, one per line (`response_json` is a
/// JSON object encoded as a string).
fn flow_reply(r: &Value) -> String {
    let fields: Option<serde_json::Map<String, Value>> = r
        .get("response_json")
        .and_then(Value::as_str)
        .and_then(|j| serde_json::from_str(j).ok());
    let mut lines = vec![format!("[form] {}", s(r, "name")).trim().to_string()];
    for (k, v) in fields.into_iter().flatten() {
        if k == "flow_token" {
            continue;
        }
        let v = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
        lines.push(format!("{k}: {v}"));
    }
    lines.join("\n")
}

/// A cart sent from the catalogue (spare parts, consumables): its lines and
/// the customer's note. Meta sends quantity and price as numbers or strings.
fn order(o: &Value) -> String {
    let field = |v: &Value, k: &str| match v.get(k) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let mut lines = vec![
        format!("🛒 Order from catalogue {}", s(o, "catalog_id"))
            .trim()
            .to_string(),
    ];
    for item in o.get("product_items").and_then(Value::as_array).into_iter().flatten() {
        let price = [field(item, "item_price"), field(item, "currency")]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        lines.push(format!(
            "- {} × {}{}",
            field(item, "quantity"),
            field(item, "product_retailer_id"),
            if price.is_empty() {
                String::new()
            } else {
                format!(" at {price}")
            }
        ));
    }
    let note = s(o, "text");
    if !note.is_empty() {
        lines.push(note);
    }
    lines.join("\n")
}

fn message(m: &Value, endpoint: &str, contacts: &[Value]) -> Inbound {
    let who = sender(m, contacts);
    let from = who.address().unwrap_or_default().to_string();
    let name = who.name.clone().or_else(|| who.username.clone());
    let kind = s(m, "type");
    let body = m.get(&kind).cloned().unwrap_or(Value::Null);
    let mut attachments = Vec::new();
    let mut auto = AutoFlags::default();
    let text = match kind.as_str() {
        "text" => s(&body, "body"),
        "image" | "video" | "audio" | "document" | "sticker" => {
            attachments.push(AttachmentRef {
                name: body.get("filename").and_then(Value::as_str).map(str::to_string),
                content_type: body.get("mime_type").and_then(Value::as_str).map(str::to_string),
                size: None,
                sha256: body.get("sha256").and_then(Value::as_str).map(str::to_string),
                source: AttachmentSource::Remote { handle: s(&body, "id") },
                content_id: None,
            });
            let caption = s(&body, "caption");
            match kind.as_str() {
                "audio" if body.get("voice").and_then(Value::as_bool) == Some(true) && caption.is_empty() => {
                    "🎤".into()
                }
                _ => caption,
            }
        }
        "location" => {
            let (lat, lon) = (
                body.get("latitude").and_then(Value::as_f64),
                body.get("longitude").and_then(Value::as_f64),
            );
            let place = [s(&body, "name"), s(&body, "address")]
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            match (lat, lon) {
                (Some(lat), Some(lon)) => format!(
                    "📍 {lat:.6}, {lon:.6}{}{place}\nhttps://www.openstreetmap.org/?mlat={lat:.6}&mlon={lon:.6}#map=17/{lat:.6}/{lon:.6}",
                    if place.is_empty() { "" } else { " — " }
                ),
                _ => format!("📍 {place}"),
            }
        }
        "contacts" => body
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let name = c
                    .get("name")
                    .and_then(|n| n.get("formatted_name"))
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                let phones: Vec<String> = c
                    .get("phones")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.get("phone").and_then(Value::as_str).map(str::to_string))
                    .collect();
                format!("👤 {name} {}", phones.join(", "))
            })
            .collect::<Vec<_>>()
            .join("\n"),
        "interactive" if body.get("nfm_reply").is_some() => flow_reply(&body["nfm_reply"]),
        "interactive" if body.get("call_permission_reply").is_some() => {
            let r = &body["call_permission_reply"];
            format!(
                "[call permission] {}",
                match s(r, "response").as_str() {
                    "accept" => "accepted: the customer may be called on WhatsApp",
                    "reject" => "declined",
                    _ => "answered",
                }
            )
        }
        "interactive" => {
            let reply = body
                .get("button_reply")
                .or_else(|| body.get("list_reply"))
                .cloned()
                .unwrap_or(Value::Null);
            let description = s(&reply, "description");
            if description.is_empty() {
                s(&reply, "title")
            } else {
                format!("{} — {description}", s(&reply, "title"))
            }
        }
        "button" => s(&body, "text"),
        "order" => order(&body),
        "system" => {
            auto.auto_reply = true;
            format!("[{}] {}", s(&body, "type"), s(&body, "body"))
        }
        other => {
            // unsupported (and the legacy "unknown"): stored and shown, never dropped.
            let inner = m.get("unsupported").map(|u| s(u, "type")).filter(|t| !t.is_empty());
            let errors: Vec<String> = errors_of(m, endpoint)
                .iter()
                .map(|e| {
                    format!(
                        "{} {}: {}",
                        e.code.map(|c| c.to_string()).unwrap_or_default(),
                        e.title,
                        e.details
                    )
                })
                .collect();
            format!(
                "[unsupported WhatsApp message: {}] {}",
                inner.unwrap_or_else(|| other.to_string()),
                errors.join("; ")
            )
            .trim()
            .to_string()
        }
    };
    Inbound {
        channel: ChannelKind::Whatsapp,
        endpoint: endpoint.to_string(),
        external_id: s(m, "id"),
        thread_hints: ThreadHints {
            reply_to_external: m
                .get("context")
                .and_then(|c| c.get("id"))
                .and_then(Value::as_str)
                .map(str::to_string),
            ..ThreadHints::default()
        },
        from: Participant {
            address: from.clone(),
            name: name.clone(),
        },
        to: Vec::new(),
        cc: Vec::new(),
        contact: Contact {
            name,
            phone: who.phone.as_ref().map(|p| format!("+{p}")),
            bsuid: who.bsuid.clone(),
            parent_bsuid: who.parent_bsuid.clone(),
            username: who.username.clone(),
            ..Contact::default()
        },
        subject: None,
        text,
        quoted: None,
        html: None,
        attachments,
        sent_at: Some(seconds(m)).filter(|t| *t > 0),
        language: None,
        auto,
        raw_ref: None,
        bounce: None,
    }
}
