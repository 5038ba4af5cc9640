//! From what each store statement matched to one ranked list of
//! conversations: the best message of each (its score and snippet), the
//! codes its facts hold, whether its customer matched.

use std::collections::HashMap;

use serde::Serialize;

use super::Query;
use super::rank::{self, Extras, MessageDoc, MessageMatch};
use crate::store::messages::{AttachmentRow, MessageRow};
use crate::store::search::FactMatch;

/// What the statements found, fetched.
pub struct Found<'a> {
    pub messages: &'a [MessageRow],
    pub attachments: &'a [AttachmentRow],
    pub facts: &'a [FactMatch],
    pub customer_conversations: &'a [i64],
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FactFound {
    pub kind: String,
    pub value: String,
    pub exact: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ranked {
    pub conversation_id: i64,
    pub score: f64,
    pub message_id: Option<i64>,
    /// `in`, `out` or `note`: who wrote the message that matched.
    pub direction: Option<String>,
    #[serde(rename = "match")]
    pub matched: Option<MessageMatch>,
    pub facts: Vec<FactFound>,
    pub customer: bool,
}

/// Best first; equal scores, the newer conversation first.
pub fn rank(query: &Query, found: &Found) -> Vec<Ranked> {
    let mut names: HashMap<i64, Vec<String>> = HashMap::new();
    for a in found.attachments {
        if let Some(n) = &a.name {
            names.entry(a.message_id).or_default().push(n.clone());
        }
    }
    let mut by_conversation: HashMap<i64, Ranked> = HashMap::new();
    let blank = |conversation_id| Ranked {
        conversation_id,
        score: 0.0,
        message_id: None,
        direction: None,
        matched: None,
        facts: Vec::new(),
        customer: false,
    };
    let none: Vec<String> = Vec::new();
    for m in found.messages {
        let scored = rank::score_message(
            query,
            &MessageDoc {
                subject: m.subject.as_deref(),
                body: &m.body,
                quoted: m.quoted.as_deref(),
                attachments: names.get(&m.id).unwrap_or(&none),
            },
        );
        let r = by_conversation
            .entry(m.conversation_id)
            .or_insert_with(|| blank(m.conversation_id));
        let better = r
            .matched
            .as_ref()
            .is_none_or(|best| scored.score > best.score || scored.score == best.score && r.message_id < Some(m.id));
        if better {
            r.message_id = Some(m.id);
            r.direction = Some(m.direction.clone());
            r.matched = Some(scored);
        }
    }
    let codes: Vec<&str> = query.codes().chain(query.phone.as_deref()).collect();
    for f in found.facts {
        let r = by_conversation
            .entry(f.conversation_id)
            .or_insert_with(|| blank(f.conversation_id));
        let exact = codes.contains(&f.norm.as_str());
        // One fact per code and conversation: the exact one when there is one.
        match r.facts.iter_mut().find(|x| x.kind == f.kind && x.value == f.value) {
            Some(x) => x.exact |= exact,
            None => r.facts.push(FactFound {
                kind: f.kind.clone(),
                value: f.value.clone(),
                exact,
            }),
        }
    }
    for id in found.customer_conversations {
        by_conversation.entry(*id).or_insert_with(|| blank(*id)).customer = true;
    }
    let mut out: Vec<Ranked> = by_conversation
        .into_values()
        .map(|mut r| {
            let extras = Extras {
                facts: r
                    .facts
                    .iter()
                    .map(|f| (f.exact, f.kind.clone(), f.value.clone()))
                    .collect(),
                customer: r.customer,
            };
            r.score = rank::score(r.matched.as_ref(), &extras);
            r
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.conversation_id.cmp(&a.conversation_id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: i64, conversation_id: i64, body: &str, quoted: Option<&str>) -> MessageRow {
        MessageRow {
            id,
            conversation_id,
            direction: "in".into(),
            author_kind: "customer".into(),
            author_agent_id: None,
            author_name: None,
            channel: "email".into(),
            external_id: None,
            client_id: None,
            subject: None,
            body: body.into(),
            quoted: quoted.map(str::to_string),
            html: None,
            created_at: 0,
            auto: None,
            thread_reason: None,
            delivery_status: None,
            delivery_error: None,
            edited_at: None,
            deleted_at: None,
        }
    }

    #[test]
    fn new_text_ranks_above_quoted_history_and_a_customer_match_is_a_result() {
        let q = Query::parse("hydraulic leak");
        let messages = [
            message(1, 10, "Re: thanks", Some("> hydraulic leak under the press")),
            message(2, 20, "A hydraulic leak under the press", None),
        ];
        let found = Found {
            messages: &messages,
            attachments: &[],
            facts: &[],
            customer_conversations: &[30],
        };
        let order: Vec<i64> = rank(&q, &found).iter().map(|r| r.conversation_id).collect();
        let at = |id| order.iter().position(|c| *c == id);
        assert_eq!(at(20), Some(0), "{order:?}");
        assert!(at(10) > at(20) && at(30).is_some(), "{order:?}");
    }

    #[test]
    fn an_extracted_code_puts_its_conversation_first_and_says_so() {
        let q = Query::parse("E301");
        let messages = [message(1, 10, "seen E301 on the other line", None)];
        let facts = [FactMatch {
            conversation_id: 20,
            kind: "fault_code".into(),
            value: "E-301".into(),
            norm: "E301".into(),
            created_at: 0,
        }];
        let found = Found {
            messages: &messages,
            attachments: &[],
            facts: &facts,
            customer_conversations: &[],
        };
        let ranked = rank(&q, &found);
        assert_eq!(ranked[0].conversation_id, 20);
        assert!(ranked[0].facts[0].exact);
    }
}
