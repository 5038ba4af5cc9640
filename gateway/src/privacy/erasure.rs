//! Erasing a customer (GDPR article 17): what it may touch and what it
//! leaves. Decisions only; `store::privacy` does the writing.
//!
//! An erased conversation keeps its skeleton — channel, queue, priority,
//! status and every time — so the KPIs of a past month do not move, and
//! says when it was erased. Everything that said who the customer was or
//! what they wrote goes. A conversation under legal hold is never erased:
//! the whole request is refused, with the holds and their reasons, so an
//! admin never erases half a customer by surprise.

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

/// One of the customer's conversations, as erasure sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub conversation: i64,
    pub legal_hold: Option<String>,
    pub erased_at: Option<i64>,
}

/// A conversation that blocks the erasure, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Hold {
    pub conversation: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("nothing to erase: no conversation of this customer is left")]
    Nothing,
    #[error("{} conversation(s) under legal hold: {}", .0.len(), describe(.0))]
    Held(Vec<Hold>),
}

fn describe(holds: &[Hold]) -> String {
    holds
        .iter()
        .map(|h| format!("#{} ({})", h.conversation, h.reason))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The conversations to erase: every one not erased yet, or a refusal.
pub fn plan(targets: &[Target]) -> Result<Vec<i64>, Refused> {
    let holds: Vec<Hold> = targets
        .iter()
        .filter_map(|t| {
            t.legal_hold.as_ref().map(|reason| Hold {
                conversation: t.conversation,
                reason: reason.clone(),
            })
        })
        .collect();
    if !holds.is_empty() {
        return Err(Refused::Held(holds));
    }
    let ids: Vec<i64> = targets
        .iter()
        .filter(|t| t.erased_at.is_none())
        .map(|t| t.conversation)
        .collect();
    if ids.is_empty() {
        return Err(Refused::Nothing);
    }
    Ok(ids)
}

/// What the erased conversations answer to from now on: one name per
/// erasure (its first conversation), so the skeletons of one customer still
/// count as one customer, and it names nobody.
pub fn erased_address(conversations: &[i64]) -> String {
    format!("erased-{}", conversations.iter().min().copied().unwrap_or_default())
}

/// How the audit log names a customer once erased: a keyed digest of the
/// address. It proves, to whoever knows the address and asks, that this
/// customer was erased and when — and tells nothing to whoever does not.
pub fn subject_digest(secret: &[u8], address: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        // HMAC takes keys of any length; this arm is never taken.
        return String::new();
    };
    mac.update(address.trim().to_lowercase().as_bytes());
    format!("hmac:{}", hex::encode(&mac.finalize().into_bytes()[..16]))
}

/// The triage's reading of an erased message: the classification stays
/// (the KPIs and the rule statistics count it), the facts it extracted —
/// serials, phone numbers, quotes — go. A detail that does not parse
/// becomes the bare classification.
pub fn anonymise_verdict(detail: &str, priority: &str, queue: &str, escalation: &str) -> String {
    match serde_json::from_str::<triage::Verdict>(detail) {
        Ok(mut v) => {
            v.fields = triage::Fields::default();
            for r in &mut v.rules {
                r.spans.clear();
            }
            serde_json::to_string(&v).unwrap_or_default()
        }
        Err(_) => serde_json::json!({
            "priority": priority,
            "queue": queue,
            "escalation": escalation,
            "erased": true,
        })
        .to_string(),
    }
}

/// What one erasure touched, for the audit log and the admin: counts only.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = ErasureCounts)]
pub struct Counts {
    pub conversations: u64,
    /// Conversations still open, resolved by the erasure.
    pub closed: u64,
    pub messages: u64,
    pub attachments: u64,
    pub raw_mails: u64,
    /// Files deleted from the blob directory.
    pub files_removed: u64,
    /// Files kept because something else (another customer's message) holds the same content.
    pub files_shared: u64,
    pub identities: u64,
    pub participants_elsewhere: u64,
    pub outbox_rows: u64,
    pub journal_rows: u64,
    pub reports: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(id: i64, hold: Option<&str>, erased: Option<i64>) -> Target {
        Target {
            conversation: id,
            legal_hold: hold.map(str::to_string),
            erased_at: erased,
        }
    }

    #[test]
    fn a_single_hold_refuses_the_whole_erasure_and_says_why() {
        let refused = plan(&[target(1, None, None), target(2, Some("warranty claim 2026-114"), None)]);
        assert_eq!(
            refused,
            Err(Refused::Held(vec![Hold {
                conversation: 2,
                reason: "warranty claim 2026-114".into()
            }]))
        );
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("#2 (warranty claim 2026-114)"), "{message}");
    }

    #[test]
    fn erased_conversations_are_not_erased_twice() {
        assert_eq!(plan(&[target(1, None, Some(5)), target(2, None, None)]), Ok(vec![2]));
        assert_eq!(plan(&[target(1, None, Some(5))]), Err(Refused::Nothing));
        assert_eq!(plan(&[]), Err(Refused::Nothing));
    }

    #[test]
    fn the_erased_name_is_stable_and_names_nobody() {
        assert_eq!(erased_address(&[42, 7, 9]), "erased-7");
    }

    #[test]
    fn the_digest_proves_an_address_without_holding_it() {
        let a = subject_digest(b"secret", "Jane.Doe@Acme.example ");
        assert_eq!(a, subject_digest(b"secret", "jane.doe@acme.example"));
        assert_ne!(a, subject_digest(b"other secret", "jane.doe@acme.example"));
        assert!(a.starts_with("hmac:") && !a.contains("jane"));
        assert_eq!(a.len(), "hmac:".len() + 32);
    }

    #[test]
    fn a_verdict_keeps_its_classification_and_loses_its_facts() {
        let input = triage::Input::text(
            triage::Channel::Email,
            "jane@acme.example",
            "Ligne arrêtée, machine FX-200 série SN-99812, rappelez-moi au +33 6 12 34 56 78",
        );
        let verdict = triage::Engine::builtin().classify(&input);
        let detail = serde_json::to_string(&verdict).unwrap_or_default();
        assert!(
            detail.contains("+33612345678") && detail.contains("Ligne arr"),
            "{detail}"
        );
        let erased = anonymise_verdict(&detail, "critical", "experts", "callback");
        assert!(!erased.contains("612") && !erased.contains("Ligne arr"), "{erased}");
        let back: triage::Verdict = serde_json::from_str(&erased).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.priority, verdict.priority);
        assert_eq!(back.queue, verdict.queue);
        assert_eq!(
            back.rules.iter().map(|r| &r.rule).collect::<Vec<_>>(),
            verdict.rules.iter().map(|r| &r.rule).collect::<Vec<_>>()
        );
        let bare = anonymise_verdict("not json", "critical", "experts", "callback");
        assert!(bare.contains("\"erased\":true"));
    }
}
