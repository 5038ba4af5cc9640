//! The codes a message mentions, as rows of `fact_mentions`: what the
//! triage extracted, and what the customer told the widget or WhatsApp
//! told us (a serial in the pre-chat form, the number a WhatsApp message came from).

use super::code;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub kind: &'static str,
    pub value: String,
    pub norm: String,
}

pub const SERIAL: &str = "serial";
pub const MODEL: &str = "model";
pub const FAULT_CODE: &str = "fault_code";
pub const FIRMWARE: &str = "firmware";
pub const PHONE: &str = "phone";
/// A WhatsApp business-scoped user id: what names a customer without a number.
pub const WHATSAPP_ID: &str = "whatsapp_id";

/// The form a mention of this kind is compared in; none when it holds nothing to compare.
fn norm(kind: &str, value: &str) -> Option<String> {
    if kind == PHONE {
        code::phone_key(value)
    } else {
        Some(code::normalise(value)).filter(|n| !n.is_empty())
    }
}

/// A stored mention, as the store would read it back (for the pages' tests).
#[cfg(test)]
pub fn stored(conversation_id: i64, kind: &str, value: &str, at: i64) -> crate::store::search::Mention {
    crate::store::search::Mention {
        conversation_id,
        message_id: None,
        kind: kind.into(),
        value: value.into(),
        norm: norm(kind, value).unwrap_or_default(),
        created_at: at,
    }
}

/// The mentions of a message, each code once.
pub fn of_message(fields: &triage::Fields, contact: &channels::Contact) -> Vec<Mention> {
    let mut out: Vec<Mention> = Vec::new();
    let mut push = |kind: &'static str, value: &str| {
        if let Some(norm) = norm(kind, value)
            && !out.iter().any(|m| m.kind == kind && m.norm == norm)
        {
            out.push(Mention {
                kind,
                value: value.trim().to_string(),
                norm,
            });
        }
    };
    fields.serials.iter().for_each(|v| push(SERIAL, v));
    contact.machine_serial.iter().for_each(|v| push(SERIAL, v));
    fields.models.iter().for_each(|v| push(MODEL, v));
    fields.fault_codes.iter().for_each(|v| push(FAULT_CODE, v));
    fields.firmware.iter().for_each(|v| push(FIRMWARE, v));
    fields.phones.iter().for_each(|v| push(PHONE, v));
    contact.phone.iter().for_each(|v| push(PHONE, v));
    contact.bsuid.iter().for_each(|v| push(WHATSAPP_ID, v));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_once_in_its_normal_form() {
        let fields = triage::Fields {
            serials: vec!["SN-4471".into()],
            fault_codes: vec!["E-301".into(), "E301".into()],
            phones: vec!["06 12 34 56 78".into()],
            ..Default::default()
        };
        let contact = channels::Contact {
            machine_serial: Some("sn4471".into()),
            phone: Some("+33612345678".into()),
            bsuid: Some("FR.13491208655302741918".into()),
            ..Default::default()
        };
        let m = of_message(&fields, &contact);
        let kinds: Vec<(&str, &str)> = m.iter().map(|m| (m.kind, m.norm.as_str())).collect();
        assert_eq!(
            kinds,
            [
                (SERIAL, "SN4471"),
                (FAULT_CODE, "E301"),
                (PHONE, "612345678"),
                (WHATSAPP_ID, "FR13491208655302741918")
            ]
        );
        assert_eq!(m[0].value, "SN-4471", "the first spelling is kept as written");
    }
}
