//! The reads behind one search — the store's statements, at once — then the
//! pure ranking. The one part of `search` that touches the store (reads only);
//! `api/search.rs` serves it and `benches/search.rs` times it.

use std::collections::BTreeMap;

use super::Query;
use super::customers::Merges;
use super::results::{self, Found, Ranked};
use crate::store::conversations::ConversationRow;
use crate::store::search::Filters;
use crate::store::{Result, Store};

/// Messages each statement may bring back: the newest matches, ranked here.
const MESSAGE_CANDIDATES: i64 = 400;
const OTHER_CANDIDATES: i64 = 200;
const MAX_CUSTOMERS: usize = 20;

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Hit {
    pub conversation: ConversationRow,
    #[serde(flatten)]
    pub ranked: Ranked,
}

/// A customer whose own record (name, company, address, email, phone) matched.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CustomerHit {
    pub address: String,
    pub name: Option<String>,
    pub company: Option<String>,
    pub channels: Vec<String>,
    pub conversations: usize,
    pub last_at: i64,
}

#[derive(Debug, serde::Serialize)]
pub struct Outcome {
    /// Conversations that matched, before `limit`.
    pub found: usize,
    pub results: Vec<Hit>,
    pub customers: Vec<CustomerHit>,
}

/// Whether a conversation found through its customer passes the filters the
/// statements applied to the others.
fn passes(c: &ConversationRow, f: &Filters) -> bool {
    let is = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w.is_empty() || w == have);
    is(&f.channel, &c.channel)
        && is(&f.priority, &c.priority)
        && is(&f.queue, &c.queue)
        && is(&f.status, &c.status)
        && f.assignee.is_none_or(|a| c.assignee_id == Some(a))
        && f.from.is_none_or(|from| c.updated_at >= from)
        && f.to.is_none_or(|to| c.created_at < to)
}

pub async fn find(store: &Store, query: &Query, f: &Filters, limit: usize) -> Result<Outcome> {
    let (messages, attachments, facts, customer_conversations) = tokio::try_join!(
        store.search_messages(query, f, MESSAGE_CANDIDATES),
        store.search_attachments(query, f, OTHER_CANDIDATES),
        store.search_facts(query, f, OTHER_CANDIDATES),
        store.search_customer_conversations(query, OTHER_CANDIDATES),
    )?;
    let mut message_ids: Vec<i64> = messages.iter().chain(&attachments).map(|m| m.message_id).collect();
    message_ids.sort_unstable();
    message_ids.dedup();
    let (rows, names, customer_rows) = tokio::try_join!(
        store.messages_get(&message_ids),
        store.attachments_of_messages(&message_ids),
        store.conversations_get(&customer_conversations),
    )?;
    let customers = customer_hits(store, &customer_rows).await?;
    let customer_conversations: Vec<i64> = customer_rows.iter().filter(|c| passes(c, f)).map(|c| c.id).collect();
    let mut ranked = results::rank(
        query,
        &Found {
            messages: &rows,
            attachments: &names,
            facts: &facts,
            customer_conversations: &customer_conversations,
        },
    );
    let found = ranked.len();
    ranked.truncate(limit);
    let ids: Vec<i64> = ranked.iter().map(|r| r.conversation_id).collect();
    let mut conversations: BTreeMap<i64, ConversationRow> = store
        .conversations_get(&ids)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let results = ranked
        .into_iter()
        .filter_map(|ranked| {
            conversations
                .remove(&ranked.conversation_id)
                .map(|conversation| Hit { conversation, ranked })
        })
        .collect();
    Ok(Outcome {
        found,
        results,
        customers,
    })
}

/// The customers behind conversations whose customer matched, merged records as one.
async fn customer_hits(store: &Store, rows: &[ConversationRow]) -> Result<Vec<CustomerHit>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let merges = Merges::new(store.customer_links().await?);
    let mut by_root: BTreeMap<String, CustomerHit> = BTreeMap::new();
    for c in rows {
        let root = merges.root(&c.customer_address).to_string();
        let hit = by_root.entry(root.clone()).or_insert_with(|| CustomerHit {
            address: root,
            name: None,
            company: None,
            channels: Vec::new(),
            conversations: 0,
            last_at: 0,
        });
        hit.conversations += 1;
        hit.last_at = hit.last_at.max(c.updated_at);
        hit.name = hit.name.take().or_else(|| c.customer_name.clone());
        hit.company = hit.company.take().or_else(|| c.customer_company.clone());
        if !hit.channels.contains(&c.channel) {
            hit.channels.push(c.channel.clone());
        }
    }
    let mut out: Vec<CustomerHit> = by_root.into_values().collect();
    out.sort_by_key(|c| std::cmp::Reverse(c.last_at));
    out.truncate(MAX_CUSTOMERS);
    Ok(out)
}
