//! What the customer page shows, from what the store holds about the
//! addresses of one customer: every identity, every stated detail, their
//! machines. Pure; `api/customers.rs` reads and serves it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::code;
use super::mentions::{MODEL, PHONE, SERIAL};
use crate::store::conversations::ConversationRow;
use crate::store::search::{Mention, WhatsappIdentity};

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Identity {
    pub address: String,
    /// The channel its conversations came on.
    pub channel: String,
    pub conversations: usize,
    pub first_at: i64,
    pub last_at: i64,
    pub phone: Option<String>,
    pub whatsapp_id: Option<String>,
    pub username: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Machine {
    pub serial: String,
    /// Normalised, for the machine page's address.
    pub key: String,
    pub models: Vec<String>,
    pub conversations: usize,
    pub last_at: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default, utoipa::ToSchema)]
pub struct Profile {
    pub identities: Vec<Identity>,
    pub names: Vec<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub companies: Vec<String>,
    pub machines: Vec<Machine>,
}

fn add(list: &mut Vec<String>, value: Option<&str>) {
    if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty())
        && !list.iter().any(|x| x.eq_ignore_ascii_case(v))
    {
        list.push(v.to_string());
    }
}

/// `rows` are the group's conversations, `mentions` theirs.
pub fn build(rows: &[ConversationRow], mentions: &[Mention], whatsapp: &[WhatsappIdentity]) -> Profile {
    let mut p = Profile::default();
    let mut identities: BTreeMap<&str, Identity> = BTreeMap::new();
    for c in rows {
        let id = identities.entry(&c.customer_address).or_insert_with(|| Identity {
            address: c.customer_address.clone(),
            channel: c.channel.clone(),
            conversations: 0,
            first_at: c.created_at,
            last_at: c.updated_at,
            phone: None,
            whatsapp_id: None,
            username: None,
        });
        id.conversations += 1;
        id.first_at = id.first_at.min(c.created_at);
        id.last_at = id.last_at.max(c.updated_at);
        add(&mut p.names, c.customer_name.as_deref());
        add(&mut p.companies, c.customer_company.as_deref());
        add(&mut p.phones, c.customer_phone.as_deref());
        add(&mut p.emails, c.customer_email.as_deref());
        if c.channel == "email" {
            add(&mut p.emails, Some(&c.customer_address));
        }
    }
    for w in whatsapp {
        if let Some(id) = identities.get_mut(w.address.as_str()) {
            id.phone = id.phone.take().or_else(|| w.phone.clone());
            id.whatsapp_id = id.whatsapp_id.take().or_else(|| w.bsuid.clone());
            id.username = id.username.take().or_else(|| w.username.clone());
        }
        add(
            &mut p.phones,
            w.phone
                .as_deref()
                .map(|ph| format!("+{}", ph.trim_start_matches('+')))
                .as_deref(),
        );
    }
    for m in mentions.iter().filter(|m| m.kind == PHONE) {
        add(&mut p.phones, Some(&m.value));
    }
    dedupe_phones(&mut p.phones);
    p.identities = identities.into_values().collect();
    p.identities.sort_by_key(|i| i.first_at);
    p.machines = machines(mentions);
    p
}

/// One number written twice (`+33 6…`, `06…`) is shown once, as first written.
fn dedupe_phones(phones: &mut Vec<String>) {
    let mut seen: Vec<String> = Vec::new();
    phones.retain(|p| match code::phone_key(p) {
        Some(k) if seen.contains(&k) => false,
        Some(k) => {
            seen.push(k);
            true
        }
        None => true,
    });
}

/// The serials mentioned, each with the models its conversations named.
pub fn machines(mentions: &[Mention]) -> Vec<Machine> {
    let mut out: Vec<Machine> = Vec::new();
    let mut conversations: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for m in mentions.iter().filter(|m| m.kind == SERIAL) {
        let seen = conversations.entry(&m.norm).or_default();
        if !seen.contains(&m.conversation_id) {
            seen.push(m.conversation_id);
        }
        match out.iter_mut().find(|x| x.key == m.norm) {
            Some(x) => x.last_at = x.last_at.max(m.created_at),
            None => out.push(Machine {
                serial: m.value.clone(),
                key: m.norm.clone(),
                models: Vec::new(),
                conversations: 0,
                last_at: m.created_at,
            }),
        }
    }
    for machine in &mut out {
        let ids = conversations.get(machine.key.as_str()).cloned().unwrap_or_default();
        machine.conversations = ids.len();
        for m in mentions
            .iter()
            .filter(|m| m.kind == MODEL && ids.contains(&m.conversation_id))
        {
            add(&mut machine.models, Some(&m.value));
        }
    }
    out.sort_by_key(|c| std::cmp::Reverse(c.last_at));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn row(id: i64, channel: &str, address: &str, at: i64) -> ConversationRow {
        ConversationRow {
            id,
            channel: channel.into(),
            endpoint: "e".into(),
            chat_key: None,
            customer_address: address.into(),
            customer_name: None,
            customer_email: None,
            customer_phone: None,
            customer_company: None,
            machine_serial: None,
            subject: None,
            language: None,
            status: "open".into(),
            priority: "important".into(),
            queue: "experts".into(),
            escalation: "none".into(),
            assignee_id: None,
            assignee_name: None,
            created_at: at,
            updated_at: at,
            last_customer_at: at,
            first_response_at: None,
            resolved_at: None,
            waiting_since: None,
            preview: None,
            legal_hold: None,
            erased_at: None,
        }
    }

    use crate::search::mentions::stored as mention;

    #[test]
    fn a_merged_customer_shows_every_identity_and_each_detail_once() {
        let mut mail = row(1, "email", "jane@acme.com", 100);
        mail.customer_name = Some("Jane Roe".into());
        mail.customer_company = Some("ACME".into());
        let mut wa = row(2, "whatsapp", "33612345678", 200);
        wa.customer_name = Some("Jane Roe".into());
        wa.customer_phone = Some("+33612345678".into());
        let whatsapp = [WhatsappIdentity {
            address: "33612345678".into(),
            phone: Some("33612345678".into()),
            bsuid: Some("FR.13491208655302741918".into()),
            username: None,
        }];
        let mentions = [
            mention(2, PHONE, "06 12 34 56 78", 200),
            mention(1, SERIAL, "SN-4471", 100),
            mention(2, SERIAL, "sn4471", 200),
            mention(2, MODEL, "P200", 200),
        ];
        let p = build(&[mail, wa], &mentions, &whatsapp);
        assert_eq!(p.identities.len(), 2);
        assert_eq!(p.identities[1].whatsapp_id.as_deref(), Some("FR.13491208655302741918"));
        assert_eq!(p.names, ["Jane Roe"]);
        assert_eq!(p.emails, ["jane@acme.com"]);
        assert_eq!(p.phones, ["+33612345678"], "one number, however written");
        assert_eq!(p.machines.len(), 1);
        assert_eq!(p.machines[0].conversations, 2);
        assert_eq!(p.machines[0].models, ["P200"]);
    }
}
