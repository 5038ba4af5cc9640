//! Email-specific steps of accepting a message: threading (In-Reply-To and
//! References against stored Message-IDs, then the ticket tag, then subject +
//! sender as a low-confidence fallback), participants, and the loop guard.

use channels::email::subject;
use channels::{Inbound, Participant};
use sqlx::AnyConnection;

use crate::ids::{ConversationId, MessageId};
use crate::store::StoreError;
use crate::store::email as mail_store;
use crate::store::ingest::ConversationHead;

/// How the pipeline treats mail; from `[email]` in the configuration.
#[derive(Debug, Clone)]
pub struct MailPolicy {
    /// The SAV address and its aliases, lower-case: never participants, never customers.
    pub own_addresses: Vec<String>,
    /// Automatic acknowledgements one address may get per hour.
    pub max_acks_per_hour: i64,
    /// How long a subject + sender match may still join a conversation.
    pub subject_window_days: i64,
    /// Our outgoing Message-IDs end in `@<domain>`: `sy.<message>.<conversation>@<domain>`.
    pub message_id_domain: String,
}

impl Default for MailPolicy {
    fn default() -> Self {
        MailPolicy {
            own_addresses: Vec::new(),
            max_acks_per_hour: 3,
            subject_window_days: 14,
            message_id_domain: "switchyard.invalid".into(),
        }
    }
}

impl MailPolicy {
    pub fn is_own(&self, address: &str) -> bool {
        self.own_addresses.iter().any(|a| a.eq_ignore_ascii_case(address))
    }

    /// Our Message-ID for an outgoing mail: fixed by the message, so a resend keeps it.
    pub fn message_id(&self, message: MessageId, conversation: ConversationId) -> String {
        format!("sy.{}.{}@{}", message.0, conversation.0, self.message_id_domain)
    }

    /// The conversation one of our Message-IDs names, even if the store lost track of it.
    fn conversation_in_our_id(&self, id: &str) -> Option<ConversationId> {
        let (local, domain) = id.rsplit_once('@')?;
        if !domain.eq_ignore_ascii_case(&self.message_id_domain) {
            return None;
        }
        let mut parts = local.strip_prefix("sy.")?.split('.');
        let _message: i64 = parts.next()?.parse().ok()?;
        parts.next()?.parse().ok().map(ConversationId)
    }
}

/// Where a mail belongs, and why (kept on the message for agents).
pub struct Threaded {
    pub conversation: Option<ConversationHead>,
    pub reason: String,
}

pub async fn thread(
    conn: &mut AnyConnection,
    policy: &MailPolicy,
    inbound: &Inbound,
    now: i64,
) -> Result<Threaded, StoreError> {
    let hints = &inbound.thread_hints;
    // The direct parent first, then the chain from its most recent end.
    let mut ids: Vec<String> = hints.in_reply_to.clone();
    ids.extend(hints.references.iter().rev().cloned());
    let subject_key = inbound.subject.as_deref().map(subject::normalise).unwrap_or_default();
    let tag = hints
        .ticket_tag
        .as_deref()
        .and_then(|t| t.rsplit('-').next())
        .and_then(|n| n.parse::<i64>().ok())
        .map(ConversationId);

    let mut by_id = mail_store::conversation_by_mail_ids(conn, &ids).await?;
    if by_id.is_none() {
        by_id = ids
            .iter()
            .find_map(|id| policy.conversation_in_our_id(id).map(|c| (c, id.clone())));
    }
    if let Some((id, matched)) = by_id
        && let Some(head) = mail_store::head(conn, id).await?
    {
        // A new topic sent as a reply to an old mail: different subject, no tag of that conversation.
        let old_key = mail_store::subject_key(conn, id).await?.unwrap_or_default();
        let new_topic = !inbound.auto.any()
            && !subject_key.is_empty()
            && !old_key.is_empty()
            && subject_key != old_key
            && tag != Some(id);
        if !new_topic {
            return Ok(Threaded {
                conversation: Some(head),
                reason: format!("reply to <{matched}>"),
            });
        }
        return Ok(Threaded {
            conversation: None,
            reason: format!(
                "new topic: replies to <{matched}> of {} but with a different subject",
                id.ticket()
            ),
        });
    }
    if let Some(id) = tag
        && let Some(head) = mail_store::head(conn, id).await?
    {
        return Ok(Threaded {
            conversation: Some(head),
            reason: format!("ticket tag {}", id.ticket()),
        });
    }
    // Last resort, for replies whose threading headers were lost on the way: a mail
    // that does not present itself as a reply is a new incident, even with a known subject.
    let looks_like_reply = !ids.is_empty() || inbound.subject.as_deref().is_some_and(subject::is_reply);
    if looks_like_reply && !subject_key.is_empty() && !inbound.from.address.is_empty() {
        let since = now - policy.subject_window_days * 86_400_000;
        if let Some(head) =
            mail_store::conversation_by_subject(conn, &inbound.from.address, &subject_key, since).await?
        {
            return Ok(Threaded {
                reason: format!(
                    "same subject and sender as {} (low confidence)",
                    ConversationId(head.id).ticket()
                ),
                conversation: Some(head),
            });
        }
    }
    Ok(Threaded {
        conversation: None,
        reason: "new conversation".into(),
    })
}

/// The Message-ID inside our dedupe key (`<id>#<hash>`).
pub fn mail_id(inbound: &Inbound) -> &str {
    inbound
        .external_id
        .rsplit_once('#')
        .map(|(id, _)| id)
        .unwrap_or(&inbound.external_id)
}

/// The flag agents see on an automatic mail.
pub fn auto_label(inbound: &Inbound) -> Option<&'static str> {
    let a = inbound.auto;
    if a.bounce {
        Some("bounce")
    } else if a.own {
        Some("own")
    } else if a.auto_reply {
        Some("auto_reply")
    } else if a.list {
        Some("list")
    } else {
        None
    }
}

/// The mail's people other than our own addresses, with their role.
pub fn participants(
    policy: &MailPolicy,
    conversation: ConversationId,
    inbound: &Inbound,
    now: i64,
) -> Vec<mail_store::NewParticipant> {
    let roles: [(&'static str, &[Participant]); 3] = [
        ("from", std::slice::from_ref(&inbound.from)),
        ("to", &inbound.to),
        ("cc", &inbound.cc),
    ];
    let mut out = Vec::new();
    for (role, list) in roles {
        for p in list
            .iter()
            .filter(|p| !p.address.is_empty() && !policy.is_own(&p.address))
        {
            out.push(mail_store::NewParticipant {
                conversation,
                address: p.address.clone(),
                name: p.name.clone(),
                role,
                now,
            });
        }
    }
    out
}
