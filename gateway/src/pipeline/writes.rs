//! The write phase of a batch, for the rows no later step of the batch reads
//! back as it goes: verdicts, queue entries and fact mentions, held in memory and written a
//! few hundred per statement. Whatever would read those tables first writes
//! what is pending ([`PendingWrites::flush`]), and the batch flushes before it
//! commits, so the transaction holds the same rows as if each had been written
//! at once.

use sqlx::AnyConnection;

use crate::ids::{ConversationId, MessageId};
use crate::search::mentions::Mention;
use crate::store::StoreError;
use crate::store::ingest::{self, NewMention, NewVerdict, QueueEntry};

#[derive(Default)]
pub struct PendingWrites {
    verdicts: Vec<NewVerdict>,
    /// One entry per conversation, in the order they were first queued.
    queue: Vec<QueueEntry>,
    mentions: Vec<NewMention>,
}

impl PendingWrites {
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

    /// Writes everything pending.
    pub async fn flush(&mut self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        if !self.verdicts.is_empty() {
            ingest::insert_verdicts(conn, &self.verdicts).await?;
            self.verdicts.clear();
        }
        if !self.queue.is_empty() {
            ingest::upsert_queue_entries(conn, &self.queue).await?;
            self.queue.clear();
        }
        if !self.mentions.is_empty() {
            ingest::insert_mentions(conn, &self.mentions).await?;
            self.mentions.clear();
        }
        Ok(())
    }

    #[cfg(test)]
    fn queued(&self, conversation: crate::ids::ConversationId) -> Option<&QueueEntry> {
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
        let mut pending = PendingWrites::default();
        pending.queue(entry(7, "level1", 3, Some(1_000)));
        pending.queue(entry(8, "level1", 3, Some(1_500)));
        pending.queue(entry(7, "experts", 1, Some(2_000)));
        assert_eq!(
            pending.queued(ConversationId(7)),
            Some(&entry(7, "experts", 1, Some(1_000)))
        );
        assert_eq!(
            pending.queued(ConversationId(8)),
            Some(&entry(8, "level1", 3, Some(1_500)))
        );
        assert_eq!(
            pending.queue.len(),
            2,
            "one row per conversation: one statement may not upsert a row twice"
        );
    }

    #[test]
    fn a_wait_unknown_at_first_is_taken_from_the_later_entry() {
        let mut pending = PendingWrites::default();
        pending.queue(entry(7, "level1", 3, None));
        pending.queue(entry(7, "level1", 3, Some(2_000)));
        assert_eq!(
            pending.queued(ConversationId(7)).and_then(|e| e.waiting_since),
            Some(2_000)
        );
    }
}
