//! The read phase of a batch: what accepting its messages needs to know,
//! read with one query per kind of fact for the whole batch before any of it
//! is written (each statement costs a round trip to the store, which is what
//! bounded the pipeline, not the work in it).
//!
//! A later message of the batch must see what an earlier one wrote (the
//! second message of a new chat joins the conversation the first opened): each
//! message applies what it wrote to the facts in memory ([`BatchFacts::record`]).
//! A fact the read phase did not cover (an email thread, a WhatsApp reply to
//! a given message, a customer whose identifiers an earlier message changed)
//! is read inside the transaction, which holds everything written so far.

use std::collections::{HashMap, HashSet};

use channels::{ChannelKind, Inbound};
use sqlx::AnyConnection;

use crate::ids::ConversationId;
use crate::store::StoreError;
use crate::store::escalations::{self, OpenKinds};
use crate::store::ingest::{self, ConversationCounts, ConversationHead, CustomerConversation, ExistingMessage};
use crate::store::whatsapp;
use crate::whatsapp::identity::Known;

use super::plan::WritePlan;
use crate::store::reserve::Ids;

/// A message's idempotency key: channel, endpoint, external id.
type MessageKey = (ChannelKind, String, String);

#[derive(Default)]
pub struct BatchFacts {
    /// Every key of the batch: the message stored under it, if any (this
    /// batch's own messages are added as they are stored).
    stored: HashMap<MessageKey, Option<ExistingMessage>>,
    /// WhatsApp customers by phone number and by business-scoped id, for every
    /// identifier the batch names (`None`: nobody has it).
    customers_by_phone: HashMap<String, Option<Known>>,
    customers_by_bsuid: HashMap<String, Option<Known>>,
    /// The open WhatsApp conversation of each (number, customer) the batch names.
    whatsapp_open: HashMap<(String, String), Option<ConversationHead>>,
    /// The conversation of each chat key the batch names.
    chats: HashMap<String, Option<ConversationHead>>,
    /// The conversations history counts, for each customer the batch names.
    customers: HashMap<String, Vec<CustomerConversation>>,
    /// History counts and open escalations of each conversation found above.
    counts: HashMap<i64, ConversationCounts>,
    escalations: HashMap<i64, OpenKinds>,
    /// Phone numbers and business-scoped ids whose rows this batch changed: read again.
    touched_identifiers: HashSet<String>,
    /// Paused SLA timers of each conversation found above that waits for its customer.
    paused: HashMap<i64, Vec<crate::store::sla::TimerRow>>,
    /// Level 1's state of each conversation found above (`None`: it has none).
    qualifications: HashMap<i64, Option<crate::level1::State>>,
    /// Online agents of each queue an acknowledgement's answer time was asked of.
    online: HashMap<String, i64>,
    /// What this batch decided and has not written yet.
    pub plan: WritePlan,
    /// Ids for the conversations and messages the plan opens.
    pub ids: Option<Ids>,
}

impl BatchFacts {
    /// The read phase: a handful of statements for the whole batch.
    pub async fn read(conn: &mut AnyConnection, batch: &[&Inbound], now: i64) -> Result<Self, StoreError> {
        let mut facts = BatchFacts {
            ids: Some(Ids::read(conn).await?),
            ..BatchFacts::default()
        };
        facts.read_stored(conn, batch).await?;
        let fresh: Vec<&Inbound> = batch
            .iter()
            .copied()
            .filter(|i| facts.stored.get(&key(i)).is_some_and(Option::is_none))
            .collect();

        let phones = distinct(fresh.iter().filter_map(|i| whatsapp_phone(i)));
        let bsuids = distinct(fresh.iter().filter_map(|i| whatsapp_bsuid(i)));
        if !phones.is_empty() || !bsuids.is_empty() {
            for p in &phones {
                facts.customers_by_phone.insert(p.to_string(), None);
            }
            for b in &bsuids {
                facts.customers_by_bsuid.insert(b.to_string(), None);
            }
            for known in whatsapp::customers_by(conn, &phones, &bsuids).await? {
                if let Some(p) = known.phone.clone().filter(|p| facts.customers_by_phone.contains_key(p)) {
                    facts.customers_by_phone.insert(p, Some(known.clone()));
                }
                if let Some(b) = known.bsuid.clone().filter(|b| facts.customers_by_bsuid.contains_key(b)) {
                    facts.customers_by_bsuid.insert(b, Some(known));
                }
            }
        }

        // Conversations: by chat key, and a WhatsApp customer's open one.
        let keys = distinct(fresh.iter().filter_map(|i| i.thread_hints.conversation_key.as_deref()));
        for k in &keys {
            facts.chats.insert(k.to_string(), None);
        }
        for (k, head) in ingest::conversations_by_chat_keys(conn, &keys).await? {
            facts.chats.insert(k, Some(head));
        }
        let mut by_endpoint: HashMap<&str, Vec<&str>> = HashMap::new();
        for i in &fresh {
            if i.channel == ChannelKind::Whatsapp && i.thread_hints.conversation_key.is_none() {
                by_endpoint
                    .entry(i.endpoint.as_str())
                    .or_default()
                    .push(i.from.address.as_str());
            }
        }
        for (endpoint, addresses) in by_endpoint {
            let addresses = distinct(addresses.into_iter());
            for a in &addresses {
                facts.whatsapp_open.insert((endpoint.to_string(), a.to_string()), None);
            }
            // In id order: the newest open conversation of a customer wins.
            for head in whatsapp::open_conversations_of(conn, endpoint, &addresses).await? {
                facts
                    .whatsapp_open
                    .insert((endpoint.to_string(), head.customer_address.clone()), Some(head));
            }
        }

        // History and escalations of the conversations found, and of the customers.
        let addresses = distinct(fresh.iter().map(|i| i.from.address.as_str()));
        for a in &addresses {
            facts.customers.insert(a.to_string(), Vec::new());
        }
        for c in ingest::conversations_of_customers(conn, &addresses, ingest::history_since(now)).await? {
            facts.customers.entry(c.customer_address.clone()).or_default().push(c);
        }
        let mut conversations: Vec<i64> = facts
            .chats
            .values()
            .chain(facts.whatsapp_open.values())
            .flatten()
            .map(|h| h.id)
            .collect();
        conversations.sort_unstable();
        conversations.dedup();
        for (id, counts) in ingest::conversation_counts(conn, &conversations).await? {
            facts.counts.insert(id, counts);
        }
        let waiting: Vec<i64> = facts
            .chats
            .values()
            .chain(facts.whatsapp_open.values())
            .flatten()
            .filter(|h| h.awaiting_customer_since.is_some())
            .map(|h| h.id)
            .collect();
        for id in &waiting {
            facts.paused.insert(*id, Vec::new());
        }
        for t in crate::store::sla::paused_of(conn, &waiting).await? {
            facts.paused.entry(t.conversation_id).or_default().push(t);
        }
        for id in &conversations {
            facts.qualifications.insert(*id, None);
        }
        for (id, state) in crate::store::qualifications::load_many(conn, &conversations).await? {
            facts.qualifications.insert(id, Some(state));
        }
        let mut open = escalations::open_kinds_of(conn, &conversations).await?;
        for id in conversations {
            facts.escalations.insert(id, open.remove(&id).unwrap_or_default());
        }
        Ok(facts)
    }

    async fn read_stored(&mut self, conn: &mut AnyConnection, batch: &[&Inbound]) -> Result<(), StoreError> {
        let mut groups: HashMap<(ChannelKind, &str), Vec<&str>> = HashMap::new();
        for i in batch {
            self.stored.insert(key(i), None);
            groups
                .entry((i.channel, i.endpoint.as_str()))
                .or_default()
                .push(i.external_id.as_str());
        }
        for ((channel, endpoint), ids) in groups {
            let ids = distinct(ids.into_iter());
            for (external_id, existing) in ingest::find_messages(conn, channel.as_str(), endpoint, &ids).await? {
                self.stored
                    .insert((channel, endpoint.to_string(), external_id), Some(existing));
            }
        }
        Ok(())
    }

    /// The message already stored under this one's key (before or earlier in this batch).
    pub async fn stored(
        &mut self,
        conn: &mut AnyConnection,
        inbound: &Inbound,
    ) -> Result<Option<ExistingMessage>, StoreError> {
        match self.stored.get(&key(inbound)) {
            Some(found) => Ok(*found),
            None => {
                self.plan.flush(conn).await?;
                ingest::find_message(conn, inbound.channel.as_str(), &inbound.endpoint, &inbound.external_id).await
            }
        }
    }

    /// Who a WhatsApp customer is (see [`whatsapp::resolve_customer`]).
    pub async fn resolve_whatsapp_customer(
        &mut self,
        conn: &mut AnyConnection,
        inbound: &Inbound,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let phone = whatsapp_phone(inbound);
        let bsuid = whatsapp_bsuid(inbound);
        let by_phone = match phone {
            Some(p) => self.customer(conn, Identifier::Phone, p).await?,
            None => None,
        };
        let by_bsuid = match bsuid {
            Some(b) => self.customer(conn, Identifier::Bsuid, b).await?,
            None => None,
        };
        let resolved = whatsapp::resolve_customer(conn, &inbound.contact, phone, by_phone, by_bsuid, now).await?;
        Ok(resolved.map(|(address, wrote)| {
            if wrote {
                self.touched_identifiers
                    .extend(phone.into_iter().chain(bsuid).map(str::to_string));
            }
            address
        }))
    }

    async fn customer(
        &self,
        conn: &mut AnyConnection,
        by: Identifier,
        value: &str,
    ) -> Result<Option<Known>, StoreError> {
        let (read, phones, bsuids): (_, &[&str], &[&str]) = match by {
            Identifier::Phone => (self.customers_by_phone.get(value), &[value], &[]),
            Identifier::Bsuid => (self.customers_by_bsuid.get(value), &[], &[value]),
        };
        match read {
            Some(known) if !self.touched_identifiers.contains(value) => Ok(known.clone()),
            _ => Ok(whatsapp::customers_by(conn, phones, bsuids).await?.into_iter().next()),
        }
    }

    /// The conversation of a chat key.
    pub async fn chat(&mut self, conn: &mut AnyConnection, key: &str) -> Result<Option<ConversationHead>, StoreError> {
        match self.chats.get(key) {
            Some(head) => Ok(head.clone()),
            None => {
                self.plan.flush(conn).await?;
                ingest::conversation_by_chat_key(conn, key).await
            }
        }
    }

    /// The WhatsApp conversation a message continues: the one it replies to, else the customer's open one.
    pub async fn whatsapp_conversation(
        &mut self,
        conn: &mut AnyConnection,
        inbound: &Inbound,
        customer: &str,
    ) -> Result<Option<ConversationHead>, StoreError> {
        let reply_to = inbound.thread_hints.reply_to_external.as_deref();
        let read = self
            .whatsapp_open
            .get(&(inbound.endpoint.clone(), customer.to_string()));
        match read {
            Some(head) if reply_to.is_none() => Ok(head.clone()),
            _ => {
                self.plan.flush(conn).await?;
                whatsapp::conversation_for(conn, &inbound.endpoint, customer, reply_to).await
            }
        }
    }

    /// What triage's history conditions need for this customer and conversation.
    pub async fn history(
        &mut self,
        conn: &mut AnyConnection,
        customer: &str,
        conversation: Option<ConversationId>,
        now: i64,
    ) -> Result<triage::History, StoreError> {
        let current = conversation.map(|c| c.0).unwrap_or(-1);
        let counts = match conversation {
            None => Some(ConversationCounts::default()),
            Some(c) => self.counts.get(&c.0).copied(),
        };
        let customer_conversations = self.customers.get(customer);
        match (counts, customer_conversations) {
            (Some(counts), Some(list)) => {
                let customer_counts = ingest::CustomerCounts::of(list, current, ingest::history_since(now));
                // Earlier incidents are read from the verdicts.
                if customer_counts.recent > 0 {
                    self.plan.flush(conn).await?;
                }
                ingest::history_from(conn, customer, current, customer_counts, counts, now).await
            }
            _ => {
                self.plan.flush(conn).await?;
                ingest::history_facts(conn, customer, conversation, now).await
            }
        }
    }

    /// The escalation kinds open on a conversation.
    pub async fn open_escalations(
        &self,
        conn: &mut AnyConnection,
        conversation: ConversationId,
    ) -> Result<OpenKinds, StoreError> {
        match self.escalations.get(&conversation.0) {
            Some(open) => Ok(open.clone()),
            None => escalations::open_kinds(conn, conversation).await,
        }
    }

    /// Level 1's state of a conversation, as this batch left it.
    pub async fn qualification(
        &mut self,
        conn: &mut AnyConnection,
        conversation: ConversationId,
    ) -> Result<Option<crate::level1::State>, StoreError> {
        match self.qualifications.get(&conversation.0) {
            Some(state) => Ok(state.clone()),
            None => {
                self.plan.flush(conn).await?;
                crate::store::qualifications::load(conn, conversation).await
            }
        }
    }

    /// The paused timers of a conversation that waited for its customer; they
    /// run again now, so a later message of the batch finds none.
    pub async fn take_paused(
        &mut self,
        conn: &mut AnyConnection,
        conversation: ConversationId,
    ) -> Result<Vec<crate::store::sla::TimerRow>, StoreError> {
        match self.paused.get_mut(&conversation.0) {
            Some(paused) => Ok(std::mem::take(paused)),
            None => {
                self.plan.flush(conn).await?;
                let paused = crate::store::sla::paused(conn, conversation).await?;
                self.paused.insert(conversation.0, Vec::new());
                Ok(paused)
            }
        }
    }

    /// Level 1's state a message of this batch left (`None`: it has none).
    pub fn qualified(&mut self, conversation: ConversationId, state: Option<crate::level1::State>) {
        self.qualifications.insert(conversation.0, state);
    }

    /// Agents online on a queue, read once per batch (the pipeline does not change presence).
    pub async fn online_agents(&mut self, conn: &mut AnyConnection, queue: &str) -> Result<i64, StoreError> {
        if let Some(n) = self.online.get(queue) {
            return Ok(*n);
        }
        let n = super::eta::online_agents(conn, queue).await?;
        self.online.insert(queue.to_string(), n);
        Ok(n)
    }

    /// Before a step that reads or writes the store itself: what the plan
    /// holds is written first.
    pub async fn before_inline(&mut self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        self.plan.flush(conn).await
    }

    /// After a step that used the store itself: when it inserted messages
    /// with the table's own ids, the reserved ids continue after them.
    pub async fn after_inline(&mut self, conn: &mut AnyConnection, inserted: bool) -> Result<(), StoreError> {
        match &mut self.ids {
            Some(ids) if inserted => ids.resync(conn).await,
            _ => Ok(()),
        }
    }

    /// Ids one message's plan may take: itself, its acknowledgement,
    /// Level 1's question, an escalation's room link and on-call notes.
    pub async fn reserve_for_one(&mut self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        self.reserved()?.ensure(conn, 0, 8).await
    }

    /// The id of the conversation a message opens (taken only then: it is
    /// the ticket number, and an id reserved but unused is a gap in them).
    pub async fn new_conversation_id(&mut self, conn: &mut AnyConnection) -> Result<ConversationId, StoreError> {
        let ids = self.reserved()?;
        ids.ensure(conn, 1, 0).await?;
        ids.conversation()
    }

    /// The next reserved message id.
    pub fn message_id(&mut self) -> Result<crate::ids::MessageId, StoreError> {
        self.reserved()?.message()
    }

    fn reserved(&mut self) -> Result<&mut Ids, StoreError> {
        self.ids
            .as_mut()
            .ok_or_else(|| StoreError::Corrupt("the batch reserved no ids".into()))
    }

    /// A message was stored: what it wrote becomes what the batch's later
    /// messages read. Only facts the read phase holds are updated (the others
    /// are read from the transaction when asked).
    /// A conversation of the batch was resolved by its customer ("yes,
    /// solved"): the batch's later messages must not find it open.
    pub fn resolved(&mut self, conversation: ConversationId) {
        let id = conversation.0;
        for head in self.chats.values_mut().flatten().filter(|h| h.id == id) {
            head.status = "resolved".into();
        }
        for slot in self.whatsapp_open.values_mut() {
            if slot.as_ref().is_some_and(|h| h.id == id) {
                *slot = None;
            }
        }
        for c in self.customers.values_mut().flatten().filter(|c| c.id == id) {
            c.status = "resolved".into();
        }
    }

    pub fn record(&mut self, inbound: &Inbound, w: Written<'_>) {
        self.stored.insert(key(inbound), Some(w.stored));
        let id = w.head.id;
        // A customer message more: counted, and unanswered.
        let counts = if w.new_conversation {
            Some(self.counts.entry(id).or_default())
        } else {
            self.counts.get_mut(&id)
        };
        if let Some(c) = counts {
            c.earlier += 1;
            c.unanswered += 1;
            c.oldest_unanswered.get_or_insert(w.now);
        }
        if let Some(open) = w.open_escalations {
            self.escalations.insert(id, open);
        } else if w.new_conversation {
            self.escalations.insert(id, OpenKinds::new());
        }
        if w.quiet {
            return;
        }
        // The conversation is open now: the customer's history counts it so.
        if let Some(list) = self.customers.get_mut(&w.head.customer_address) {
            match list.iter_mut().find(|c| c.id == id) {
                Some(c) => c.status = w.head.status.clone(),
                None => list.push(CustomerConversation {
                    customer_address: w.head.customer_address.clone(),
                    id,
                    status: w.head.status.clone(),
                    // Not read before, so not created within the window (or new now).
                    created_at: if w.new_conversation { w.now } else { i64::MIN },
                }),
            }
        }
        if let Some(k) = &inbound.thread_hints.conversation_key
            && let Some(slot) = self.chats.get_mut(k)
        {
            *slot = Some(w.head.clone());
        }
        if inbound.channel == ChannelKind::Whatsapp
            && inbound.thread_hints.conversation_key.is_none()
            && w.head.customer_address == w.customer
            && let Some(slot) = self
                .whatsapp_open
                .get_mut(&(inbound.endpoint.clone(), w.customer.to_string()))
        {
            // The newest open conversation stays the one a message finds (a
            // reply to an older message may have reopened an older one).
            if slot.as_ref().is_none_or(|h| h.id <= id) {
                *slot = Some(w.head);
            }
        }
    }
}

/// What accepting one message wrote, as [`BatchFacts::record`] applies it.
pub struct Written<'a> {
    /// The customer as resolved (a WhatsApp customer named by business-scoped
    /// id is filed under their number).
    pub customer: &'a str,
    pub stored: ExistingMessage,
    /// The conversation as the message left it.
    pub head: ConversationHead,
    pub new_conversation: bool,
    /// Automatic mail on a known conversation: the message stored, nothing else changed.
    pub quiet: bool,
    /// The escalation kinds open after it, when the escalation step ran.
    pub open_escalations: Option<OpenKinds>,
    pub now: i64,
}

/// How a WhatsApp customer is named.
#[derive(Clone, Copy)]
enum Identifier {
    Phone,
    Bsuid,
}

fn key(inbound: &Inbound) -> MessageKey {
    (inbound.channel, inbound.endpoint.clone(), inbound.external_id.clone())
}

/// The phone number a WhatsApp message names its sender by, without `+`.
pub fn whatsapp_phone(inbound: &Inbound) -> Option<&str> {
    if inbound.channel != ChannelKind::Whatsapp {
        return None;
    }
    inbound.contact.phone.as_deref().map(|p| p.trim_start_matches('+'))
}

fn whatsapp_bsuid(inbound: &Inbound) -> Option<&str> {
    if inbound.channel != ChannelKind::Whatsapp {
        return None;
    }
    inbound.contact.bsuid.as_deref()
}

/// Each value once, in first-seen order.
fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    values.filter(|v| seen.insert(*v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::MessageId;

    const NOW: i64 = 1_790_000_000_000;

    fn chat_message(key: &str) -> Inbound {
        let mut m = Inbound::text(ChannelKind::Webchat, "site", &format!("{key}:1"), "visitor:c", "hello");
        m.thread_hints.conversation_key = Some(key.into());
        m
    }

    fn head(id: i64, status: &str) -> ConversationHead {
        ConversationHead {
            id,
            status: status.into(),
            priority: "faq".into(),
            queue: "level1".into(),
            escalation: "none".into(),
            customer_address: "visitor:c".into(),
            language: None,
            first_response_at: None,
            awaiting_customer_since: None,
        }
    }

    fn written(head: ConversationHead, new_conversation: bool, quiet: bool) -> Written<'static> {
        Written {
            customer: "visitor:c",
            stored: ExistingMessage {
                message_id: MessageId(100),
                conversation_id: ConversationId(head.id),
                priority: triage::Priority::Faq,
            },
            head,
            new_conversation,
            quiet,
            open_escalations: None,
            now: NOW,
        }
    }

    /// A conversation of the customer, resolved.
    fn resolved(id: i64, created_at: i64) -> CustomerConversation {
        CustomerConversation {
            customer_address: "visitor:c".into(),
            id,
            status: "resolved".into(),
            created_at,
        }
    }

    fn customer_counts(facts: &BatchFacts, current: i64) -> ingest::CustomerCounts {
        ingest::CustomerCounts::of(&facts.customers["visitor:c"], current, ingest::history_since(NOW))
    }

    #[test]
    fn a_reopened_conversation_is_open_and_unanswered_for_the_next_message() {
        let mut facts = BatchFacts::default();
        facts
            .customers
            .insert("visitor:c".into(), vec![resolved(5, NOW - 86_400_000)]);
        facts.counts.insert(
            5,
            ConversationCounts {
                earlier: 2,
                unanswered: 0,
                answers: 1,
                oldest_unanswered: None,
            },
        );
        facts.record(&chat_message("k"), written(head(5, "open"), false, false));
        assert_eq!(
            customer_counts(&facts, 9),
            ingest::CustomerCounts { open: 1, recent: 1 }
        );
        assert_eq!(
            facts.counts[&5],
            ConversationCounts {
                earlier: 3,
                unanswered: 1,
                answers: 1,
                oldest_unanswered: Some(NOW),
            }
        );
    }

    #[test]
    fn a_new_conversation_is_found_by_its_key_and_counted_for_its_customer() {
        let mut facts = BatchFacts::default();
        facts.chats.insert("k".into(), None);
        facts.customers.insert("visitor:c".into(), Vec::new());
        facts.record(&chat_message("k"), written(head(7, "open"), true, false));
        assert_eq!(facts.chats["k"].as_ref().map(|h| h.id), Some(7));
        assert_eq!(
            customer_counts(&facts, -1),
            ingest::CustomerCounts { open: 1, recent: 1 }
        );
        assert_eq!(customer_counts(&facts, 7), ingest::CustomerCounts::default());
        assert_eq!(facts.counts[&7].unanswered, 1);
        assert_eq!(facts.escalations.get(&7), Some(&OpenKinds::new()));
        assert!(
            facts.stored[&key(&chat_message("k"))].is_some(),
            "a later copy is a duplicate"
        );
    }

    #[test]
    fn automatic_mail_is_counted_but_reopens_nothing() {
        let mut facts = BatchFacts::default();
        facts.customers.insert("visitor:c".into(), vec![resolved(5, NOW)]);
        facts.counts.insert(5, ConversationCounts::default());
        facts.record(&chat_message("k"), written(head(5, "resolved"), false, true));
        assert_eq!(customer_counts(&facts, 9).open, 0);
        assert_eq!(facts.counts[&5].earlier, 1);
    }
}
