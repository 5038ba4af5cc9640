//! Level 1's state per conversation (`level1::State`), read and written in
//! the transaction of the customer's message; an agent's reply stops it.

use sqlx::AnyConnection;

use super::Result;
use super::batch::SqlBatch;
use crate::ids::ConversationId;
use crate::level1::{Fact, State, Stop};

fn facts(s: &str) -> Vec<Fact> {
    s.split(',').filter_map(Fact::parse).collect()
}

fn names(f: &[Fact]) -> String {
    f.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(",")
}

type Row = (String, Option<String>, String, i64, Option<String>);

fn state((known, asked, asked_before, unanswered, stopped): Row) -> State {
    State {
        known: facts(&known),
        asked: asked.as_deref().and_then(Fact::parse),
        asked_before: facts(&asked_before),
        unanswered: u32::try_from(unanswered).unwrap_or(u32::MAX),
        stopped: stopped.as_deref().and_then(Stop::parse),
    }
}

pub async fn load(conn: &mut AnyConnection, conversation: ConversationId) -> Result<Option<State>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT known, asked, asked_before, unanswered, stopped FROM qualifications WHERE conversation_id = $1",
    )
    .bind(conversation.0)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(state))
}

/// The states of these conversations that have one.
pub async fn load_many(conn: &mut AnyConnection, conversations: &[i64]) -> Result<Vec<(i64, State)>> {
    let mut out = Vec::new();
    for chunk in conversations.chunks(500) {
        let sql = format!(
            "SELECT conversation_id, known, asked, asked_before, unanswered, stopped FROM qualifications \
             WHERE conversation_id IN ({})",
            super::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (i64, String, Option<String>, String, i64, Option<String>)>(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&mut *conn).await?;
        out.extend(rows.into_iter().map(|(id, a, b, c, d, e)| (id, state((a, b, c, d, e)))));
    }
    Ok(out)
}

/// Saves a conversation's state (each conversation once per statement).
pub fn push_save(batch: &mut SqlBatch, conversation: ConversationId, s: &State, now: i64) {
    batch.statement(
        "INSERT INTO qualifications (conversation_id, known, asked, asked_before, unanswered, stopped, updated_at) \
         VALUES ",
        7,
    );
    batch.row();
    batch.value(conversation.0);
    batch.value(names(&s.known));
    batch.value(s.asked.map(Fact::as_str));
    batch.value(names(&s.asked_before));
    batch.value(i64::from(s.unanswered));
    batch.value(s.stopped.map(Stop::as_str));
    batch.value(now);
    batch.end_row();
    batch.text(
        " ON CONFLICT (conversation_id) DO UPDATE SET known = excluded.known, asked = excluded.asked, \
         asked_before = excluded.asked_before, unanswered = excluded.unanswered, stopped = excluded.stopped, \
         updated_at = excluded.updated_at",
    );
}

/// An agent wrote to the customer: no more automatic questions.
pub async fn stop_for_agent(conn: &mut AnyConnection, conversation: ConversationId, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE qualifications SET stopped = 'agent', asked = NULL, updated_at = $2 \
         WHERE conversation_id = $1 AND stopped IS NULL",
    )
    .bind(conversation.0)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl super::Store {
    pub async fn qualification(&self, conversation: ConversationId) -> Result<Option<State>> {
        let mut conn = self.reader().acquire().await?;
        load(&mut conn, conversation).await
    }
}
