//! Level 1's state per conversation (`level1::State`), read and written in
//! the transaction of the customer's message; an agent's reply stops it.

use sqlx::AnyConnection;

use super::Result;
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

pub async fn save(conn: &mut AnyConnection, conversation: ConversationId, s: &State, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO qualifications (conversation_id, known, asked, asked_before, unanswered, stopped, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (conversation_id) DO UPDATE SET known = excluded.known, \
         asked = excluded.asked, asked_before = excluded.asked_before, unanswered = excluded.unanswered, \
         stopped = excluded.stopped, updated_at = excluded.updated_at",
    )
    .bind(conversation.0)
    .bind(names(&s.known))
    .bind(s.asked.map(Fact::as_str))
    .bind(names(&s.asked_before))
    .bind(i64::from(s.unanswered))
    .bind(s.stopped.map(Stop::as_str))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
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
