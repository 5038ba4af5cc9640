//! The write phase of a batch: the rows its messages decided — conversations
//! opened and updated, messages, acknowledgements, questions and escalation
//! messages with their reserved ids, verdicts, queue entries, fact mentions,
//! SLA timers, outbox rows, reporting events, Level 1's state, escalations,
//! knowledge checks, mail ids and participants — held in memory and written
//! together ([`WritePlan::flush`]): a few multi-row statements, on SQLite in
//! one round trip to its thread.
//!
//! Whatever reads or writes those tables some other way inside the batch (a
//! step not planned yet: a customer's answer to a question, an email's
//! threading, attachments) flushes first, and the batch flushes before it
//! commits, so the transaction holds the same rows, in the same order, as if
//! each had been written at once.

use std::collections::HashSet;

use sqlx::AnyConnection;

use crate::ids::{ConversationId, MessageId};
use crate::level1::State;
use crate::reports::facts::EventKind;
use crate::search::mentions::Mention;
use crate::sla::TimerKind;
use crate::store::StoreError;
use crate::store::batch::SqlBatch;
use crate::store::ingest::{self, ConversationUpdate, NewConversation, NewMention, NewVerdict, QueueEntry};
use crate::store::messages::{self, PlannedMessage};
use crate::store::reporting::{self, NewEvent};
use crate::store::sla::{self, TimerStart};
use crate::store::{email, escalations, feedback, outbox, qualifications};

#[derive(Default)]
pub struct WritePlan {
    conversations: Vec<NewConversation>,
    /// One per existing conversation, later messages merged in.
    updates: Vec<ConversationUpdate>,
    messages: Vec<PlannedMessage>,
    verdicts: Vec<NewVerdict>,
    /// One entry per conversation, in the order they were first queued.
    queue: Vec<QueueEntry>,
    mentions: Vec<NewMention>,
    /// Paused timers running again (before any start, as the steps ran).
    resumed: Vec<sla::Resumed>,
    timers: Vec<TimerStart>,
    /// The timers above, by conversation and kind.
    timer_keys: HashSet<(ConversationId, TimerKind)>,
    outbox: Vec<outbox::NewRow>,
    events: Vec<NewEvent>,
    /// Level 1's state, the latest per conversation.
    qualifications: Vec<(ConversationId, State, i64)>,
    /// Escalations opened and closed, in order.
    escalations: Vec<escalations::Change>,
    /// Knowledge answers waiting for the customer's verdict.
    checks: Vec<feedback::NewCheck>,
    mail_ids: Vec<email::MailId>,
    participants: Vec<email::NewParticipant>,
}

impl WritePlan {
    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty()
            && self.updates.is_empty()
            && self.messages.is_empty()
            && self.verdicts.is_empty()
            && self.queue.is_empty()
            && self.mentions.is_empty()
            && self.timers.is_empty()
            && self.resumed.is_empty()
            && self.outbox.is_empty()
            && self.events.is_empty()
            && self.qualifications.is_empty()
            && self.mail_ids.is_empty()
            && self.checks.is_empty()
            && self.escalations.is_empty()
            && self.participants.is_empty()
    }

    pub fn open(&mut self, conversation: NewConversation) {
        self.conversations.push(conversation);
    }

    /// A customer message on a conversation: folded into the row of one this
    /// plan opens, merged with an earlier update of the same one.
    pub fn update(&mut self, update: ConversationUpdate) {
        if let Some(c) = self.conversations.iter_mut().find(|c| c.state.id == update.id) {
            c.apply(update);
        } else if let Some(u) = self.updates.iter_mut().find(|u| u.id == update.id) {
            u.merge(update);
        } else {
            self.updates.push(update);
        }
    }

    pub fn message(&mut self, message: PlannedMessage) -> MessageId {
        let id = message.id;
        self.messages.push(message);
        id
    }

    pub fn verdict(&mut self, row: NewVerdict) {
        self.verdicts.push(row);
    }

    /// The codes a message mentions, for search and the machine's history.
    pub fn mentions(&mut self, conversation: ConversationId, message: MessageId, found: Vec<Mention>, now: i64) {
        self.mentions.extend(found.into_iter().map(|mention| NewMention {
            conversation,
            message,
            mention,
            now,
        }));
    }

    /// Queues a conversation, as [`ingest::upsert_queue_entry`] would: the
    /// latest queue and rank win, the oldest waiting time is kept.
    pub fn queue(&mut self, entry: QueueEntry) {
        match self.queue.iter_mut().find(|e| e.conversation == entry.conversation) {
            Some(e) => merge(e, entry),
            None => self.queue.push(entry),
        }
    }

    /// Starts a timer, as [`sla::start`] would. A second start of the same
    /// timer finds the first one running, and so changes nothing.
    pub fn timer(&mut self, start: Option<TimerStart>) {
        if let Some(t) = start
            && self.timer_keys.insert((t.conversation, t.kind))
        {
            self.timers.push(t);
        }
    }

    /// Level 1's state of a conversation; a later one replaces an earlier.
    pub fn qualification(&mut self, conversation: ConversationId, state: State, now: i64) {
        match self.qualifications.iter_mut().find(|(c, _, _)| *c == conversation) {
            Some(q) => *q = (conversation, state, now),
            None => self.qualifications.push((conversation, state, now)),
        }
    }

    pub fn escalation(&mut self, change: escalations::Change) {
        self.escalations.push(change);
    }

    pub fn knowledge_check(&mut self, check: feedback::NewCheck) {
        self.checks.push(check);
    }

    /// An incoming mail's Message-ID.
    pub fn mail_id(&mut self, row: email::MailId) {
        self.mail_ids.push(row);
    }

    /// A mail's people (one already on the conversation keeps its role).
    pub fn participants(&mut self, rows: Vec<email::NewParticipant>) {
        self.participants.extend(rows);
    }

    pub fn resume(&mut self, rows: Vec<sla::Resumed>) {
        self.resumed.extend(rows);
    }

    pub fn outbox(&mut self, row: outbox::NewRow) {
        self.outbox.push(row);
    }

    pub fn event(&mut self, conversation: ConversationId, kind: EventKind, at: i64, detail: Option<&str>) {
        self.events.push(NewEvent {
            conversation,
            kind,
            at,
            detail: detail.map(str::to_string),
        });
    }

    /// Writes everything planned, in an order the foreign keys accept.
    pub async fn flush(&mut self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        if self.is_empty() {
            return Ok(());
        }
        let mut batch = SqlBatch::for_connection(conn);
        self.render(&mut batch);
        *self = WritePlan::default();
        batch.execute(conn).await?;
        Ok(())
    }

    fn render(&self, batch: &mut SqlBatch) {
        ingest::push_conversations(batch, &self.conversations);
        ingest::push_conversation_updates(batch, &self.updates);
        messages::push_messages(batch, &self.messages);
        email::push_mail_ids(batch, &self.mail_ids);
        email::push_participants(batch, &self.participants);
        escalations::push_changes(batch, &self.escalations);
        feedback::push_checks(batch, &self.checks);
        ingest::push_verdicts(batch, &self.verdicts);
        ingest::push_queue_entries(batch, &self.queue);
        ingest::push_mentions(batch, &self.mentions);
        sla::push_resumed(batch, &self.resumed);
        sla::push_starts(batch, &self.timers);
        outbox::push_rows(batch, &self.outbox);
        reporting::push_events(batch, &self.events);
        for (conversation, state, now) in &self.qualifications {
            qualifications::push_save(batch, *conversation, state, *now);
        }
    }

    #[cfg(test)]
    fn queued(&self, conversation: ConversationId) -> Option<&QueueEntry> {
        self.queue.iter().find(|e| e.conversation == conversation)
    }
}

/// A second upsert of the same conversation, applied to the first.
fn merge(into: &mut QueueEntry, later: QueueEntry) {
    into.queue = later.queue;
    into.priority_rank = later.priority_rank;
    into.waiting_since = into.waiting_since.or(later.waiting_since);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ConversationId;

    fn entry(conversation: i64, queue: &str, rank: i64, waiting_since: Option<i64>) -> QueueEntry {
        QueueEntry {
            conversation: ConversationId(conversation),
            queue: queue.into(),
            priority_rank: rank,
            waiting_since,
        }
    }

    #[test]
    fn a_conversation_queued_twice_keeps_the_latest_place_and_the_oldest_wait() {
        let mut plan = WritePlan::default();
        plan.queue(entry(7, "level1", 3, Some(1_000)));
        plan.queue(entry(8, "level1", 3, Some(1_500)));
        plan.queue(entry(7, "experts", 1, Some(2_000)));
        assert_eq!(
            plan.queued(ConversationId(7)),
            Some(&entry(7, "experts", 1, Some(1_000)))
        );
        assert_eq!(
            plan.queued(ConversationId(8)),
            Some(&entry(8, "level1", 3, Some(1_500)))
        );
        assert_eq!(
            plan.queue.len(),
            2,
            "one row per conversation: one statement may not upsert a row twice"
        );
    }

    fn update(id: i64, queue: &str, name: Option<&str>, customer_at: i64) -> ConversationUpdate {
        ConversationUpdate {
            id: ConversationId(id),
            priority: "important",
            queue: queue.into(),
            escalation: "none".into(),
            contact: channels::Contact {
                name: name.map(str::to_string),
                ..channels::Contact::default()
            },
            now: 5_000,
            customer_at,
        }
    }

    #[test]
    fn a_later_message_on_a_conversation_this_batch_opens_is_folded_into_its_row() {
        let mut plan = WritePlan::default();
        plan.open(NewConversation {
            channel: "webchat",
            endpoint: "site".into(),
            chat_key: Some("k".into()),
            customer_address: "visitor:k".into(),
            subject: None,
            subject_key: None,
            language: Some("fr".into()),
            state: update(7, "n1", None, 1_000),
        });
        plan.update(update(7, "experts", Some("Jeanne"), 900));
        assert!(plan.updates.is_empty(), "no UPDATE of a row not written yet");
        let row = &plan.conversations[0].state;
        assert_eq!(row.queue, "experts", "the later placement wins");
        assert_eq!(row.contact.name.as_deref(), Some("Jeanne"), "a gap is filled");
        assert_eq!(row.customer_at, 1_000, "the latest time the customer wrote");
    }

    #[test]
    fn two_messages_on_an_existing_conversation_make_one_update_as_the_two_would() {
        let mut plan = WritePlan::default();
        plan.update(update(3, "n1", Some("Jeanne"), 2_000));
        plan.update(update(3, "experts", Some("Jean"), 1_500));
        plan.update(update(4, "n1", None, 1_000));
        assert_eq!(plan.updates.len(), 2, "one row per conversation in one statement");
        let merged = &plan.updates[0];
        assert_eq!(merged.queue, "experts");
        assert_eq!(
            merged.contact.name.as_deref(),
            Some("Jeanne"),
            "the first known name stays"
        );
        assert_eq!(merged.customer_at, 2_000);
    }

    #[test]
    fn a_timer_started_twice_in_a_batch_is_written_once() {
        let mut plan = WritePlan::default();
        let start = |restart| TimerStart {
            conversation: ConversationId(3),
            kind: TimerKind::NextResponse,
            calendar: "always".into(),
            budget: 1_000,
            now: 5_000,
            due: 6_000,
            restart,
        };
        plan.timer(Some(start(true)));
        plan.timer(Some(start(true)));
        plan.timer(None);
        assert_eq!(plan.timers, vec![start(true)]);
    }

    #[test]
    fn a_flushed_plan_renders_rows_in_an_order_the_foreign_keys_accept() {
        let mut plan = WritePlan::default();
        plan.update(update(3, "n1", None, 1_000));
        plan.event(ConversationId(3), EventKind::Reopened, 5_000, None);
        plan.queue(entry(3, "n1", 2, Some(5_000)));
        let mut batch = SqlBatch::new(crate::store::Dialect::Postgres);
        plan.render(&mut batch);
        let tables: Vec<String> = batch
            .queries()
            .iter()
            .map(|q| q.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(
            tables,
            [
                "UPDATE conversations SET",
                "INSERT INTO queue_entries",
                "INSERT INTO conversation_events"
            ]
        );
    }

    #[test]
    fn a_wait_unknown_at_first_is_taken_from_the_later_entry() {
        let mut plan = WritePlan::default();
        plan.queue(entry(7, "level1", 3, None));
        plan.queue(entry(7, "level1", 3, Some(2_000)));
        assert_eq!(
            plan.queued(ConversationId(7)).and_then(|e| e.waiting_since),
            Some(2_000)
        );
    }
}
