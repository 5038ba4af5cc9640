//! Ids handed out before their rows are written: a batch decides its rows in
//! memory (an acknowledgement quotes its conversation's ticket, a verdict
//! names its message) and writes them together afterwards.
//!
//! SQLite has one writer and the batch holds its lock: the next ids are those
//! after the largest, and a step of the batch that inserts with the table's
//! own ids must be followed by [`Ids::resync`]. PostgreSQL hands out a
//! block from the table's sequence, which no other insert can take again.

use std::collections::VecDeque;

use sqlx::AnyConnection;

use super::batch::dialect_of;
use super::{Dialect, Result, StoreError};
use crate::ids::{ConversationId, MessageId};

/// Conversation and message ids reserved for a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids {
    conversations: Reserved,
    messages: Reserved,
}

impl Ids {
    pub async fn read(conn: &mut AnyConnection) -> Result<Self> {
        match dialect_of(conn) {
            Dialect::Sqlite => {
                let (c, m) = next_free(conn).await?;
                Ok(Ids {
                    conversations: Reserved::After {
                        table: Table::Conversations,
                        next: c,
                    },
                    messages: Reserved::After {
                        table: Table::Messages,
                        next: m,
                    },
                })
            }
            Dialect::Postgres => Ok(Ids {
                conversations: Reserved::Block {
                    table: Table::Conversations,
                    ids: VecDeque::new(),
                },
                messages: Reserved::Block {
                    table: Table::Messages,
                    ids: VecDeque::new(),
                },
            }),
        }
    }

    /// At least this many ids of each at hand.
    pub async fn ensure(&mut self, conn: &mut AnyConnection, conversations: usize, messages: usize) -> Result<()> {
        self.conversations.ensure(conn, conversations).await?;
        self.messages.ensure(conn, messages).await
    }

    pub fn conversation(&mut self) -> Result<ConversationId> {
        self.conversations.take().map(ConversationId)
    }

    pub fn message(&mut self) -> Result<MessageId> {
        self.messages.take().map(MessageId)
    }

    /// After rows were inserted with the tables' own ids: the next ids
    /// handed out come after them, so ids keep the order rows were decided in
    /// (a thread is read in id order). SQLite reads the largest ids again
    /// (every id taken before must have been written); PostgreSQL lets the
    /// rest of its blocks go and takes new ones.
    pub async fn resync(&mut self, conn: &mut AnyConnection) -> Result<()> {
        match (&mut self.conversations, &mut self.messages) {
            (Reserved::After { next: c, .. }, Reserved::After { next: m, .. }) => {
                let (free_c, free_m) = next_free(conn).await?;
                *c = (*c).max(free_c);
                *m = (*m).max(free_m);
            }
            (Reserved::Block { ids: c, .. }, Reserved::Block { ids: m, .. }) => {
                c.clear();
                m.clear();
                self.ensure(conn, 0, 8).await?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// A table whose ids a batch reserves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Conversations,
    Messages,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Conversations => "conversations",
            Table::Messages => "messages",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Reserved {
    /// SQLite: every id from `next` on is free while the batch holds the write lock.
    After { table: Table, next: i64 },
    /// PostgreSQL: values taken from the sequence.
    Block { table: Table, ids: VecDeque<i64> },
}

/// Ids a PostgreSQL reservation takes at a time: what a batch leaves unused
/// is a gap in the numbers. Tickets are conversation ids: those are taken
/// one at a time, when a message opens a conversation.
fn block(table: Table) -> i64 {
    match table {
        Table::Conversations => 1,
        Table::Messages => 64,
    }
}

impl Reserved {
    /// An id nobody else has or will take.
    fn take(&mut self) -> Result<i64> {
        match self {
            Reserved::After { next, .. } => {
                let id = *next;
                *next += 1;
                Ok(id)
            }
            Reserved::Block { table, ids } => ids
                .pop_front()
                .ok_or_else(|| StoreError::Corrupt(format!("no {} id reserved", table.name()))),
        }
    }

    /// At least `n` ids at hand for the next [`Reserved::take`]s.
    async fn ensure(&mut self, conn: &mut AnyConnection, n: usize) -> Result<()> {
        let Reserved::Block { table, ids } = self else {
            return Ok(());
        };
        if ids.len() >= n {
            return Ok(());
        }
        let want = i64::try_from(n).unwrap_or(i64::MAX).max(block(*table));
        let taken: Vec<i64> = sqlx::query_scalar(&format!(
            "SELECT nextval(pg_get_serial_sequence('{}', 'id')) FROM generate_series(1, $1)",
            table.name()
        ))
        .bind(want)
        .fetch_all(conn)
        .await?;
        ids.extend(taken);
        Ok(())
    }
}

/// SQLite: the ids after the largest conversation and message ids.
async fn next_free(conn: &mut AnyConnection) -> Result<(i64, i64)> {
    let (c, m): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT (SELECT MAX(id) FROM conversations), (SELECT MAX(id) FROM messages)")
            .fetch_one(conn)
            .await?;
    Ok((c.unwrap_or(0) + 1, m.unwrap_or(0) + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_ids_follow_each_other() {
        let mut r = Reserved::After {
            table: Table::Messages,
            next: 41,
        };
        assert_eq!((r.take().ok(), r.take().ok()), (Some(41), Some(42)));
    }

    #[test]
    fn an_empty_postgres_block_is_an_error_not_a_guess() {
        let mut r = Reserved::Block {
            table: Table::Messages,
            ids: VecDeque::from([7]),
        };
        assert_eq!(r.take().ok(), Some(7));
        assert!(r.take().is_err());
    }
}
