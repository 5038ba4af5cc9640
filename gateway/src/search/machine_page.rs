//! What the machine page shows for a serial: the spellings it was given,
//! the fault codes, models and firmware seen in its conversations, with
//! dates. Pure; `api/machines.rs` reads and serves it.

use serde::Serialize;

use super::mentions::{FAULT_CODE, FIRMWARE, MODEL, SERIAL};
use crate::store::search::Mention;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Seen {
    pub value: String,
    pub conversation_id: i64,
    pub at: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default, utoipa::ToSchema)]
pub struct History {
    /// How the serial was written, each way once.
    pub spellings: Vec<String>,
    pub fault_codes: Vec<Seen>,
    pub models: Vec<String>,
    pub firmware: Vec<Seen>,
}

/// `mentions` are every mention of the serial's conversations, oldest first.
pub fn build(key: &str, mentions: &[Mention]) -> History {
    let mut h = History::default();
    for m in mentions {
        match m.kind.as_str() {
            SERIAL if m.norm == key && !h.spellings.contains(&m.value) => h.spellings.push(m.value.clone()),
            FAULT_CODE => h.fault_codes.push(Seen {
                value: m.value.clone(),
                conversation_id: m.conversation_id,
                at: m.created_at,
            }),
            FIRMWARE => h.firmware.push(Seen {
                value: m.value.clone(),
                conversation_id: m.conversation_id,
                at: m.created_at,
            }),
            MODEL if !h.models.contains(&m.value) => h.models.push(m.value.clone()),
            _ => {}
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::search::mentions::stored as mention;

    #[test]
    fn gathers_spellings_codes_and_models_in_time_order() {
        let mentions = [
            mention(1, SERIAL, "SN-4471", 10),
            mention(1, FAULT_CODE, "E-301", 10),
            mention(2, SERIAL, "sn4471", 20),
            mention(2, SERIAL, "SN-9999", 20),
            mention(2, FAULT_CODE, "E17", 20),
            mention(2, MODEL, "P200", 20),
        ];
        let h = build("SN4471", &mentions);
        assert_eq!(h.spellings, ["SN-4471", "sn4471"]);
        let codes: Vec<(&str, i64)> = h.fault_codes.iter().map(|s| (s.value.as_str(), s.at)).collect();
        assert_eq!(codes, [("E-301", 10), ("E17", 20)]);
        assert_eq!(h.models, ["P200"]);
    }
}
