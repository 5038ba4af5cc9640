//! The rows behind feedback: a knowledge answer waiting for the customer's
//! verdict (`knowledge_checks`), the satisfaction question and its answer
//! (`satisfaction`), and what a supervisor entered for the worth estimate
//! (`worth_inputs`). Every answer is taken once: the update that records it
//! only matches a row still waiting.

use serde::Serialize;
use sqlx::AnyConnection;

use super::batch::SqlBatch;
use super::conversations::ChangeError;
use super::{Result, Store};
use crate::ids::{AgentId, ConversationId, MessageId};
use crate::level1::feedback::Answer;
use crate::reports::facts::EventKind;

/// A knowledge answer went out: the conversation waits for the customer's
/// verdict until `hold_until` (the assigner skips it meanwhile, unless the
/// customer writes again).
/// A knowledge answer's wait for the customer's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCheck {
    pub conversation: ConversationId,
    pub entry: String,
    /// The message that carried the answer.
    pub message: MessageId,
    pub sent_at: i64,
    pub hold_until: i64,
}

/// Opens the checks (a conversation's first one stays).
pub fn push_checks(batch: &mut SqlBatch, checks: &[NewCheck]) {
    for chunk in checks.chunks(400) {
        batch.statement(
            "INSERT INTO knowledge_checks (conversation_id, entry, message_id, sent_at, hold_until) VALUES ",
            chunk.len() * 5,
        );
        for c in chunk {
            batch.row();
            batch.value(c.conversation.0);
            batch.value(c.entry.clone());
            batch.value(c.message.0);
            batch.value(c.sent_at);
            batch.value(c.hold_until);
            batch.end_row();
        }
        batch.text(" ON CONFLICT (conversation_id) DO NOTHING");
    }
}

/// Whether `answer` answers a question this conversation is waiting on: a
/// knowledge check without a verdict, or a satisfaction question not yet
/// answered and not expired.
pub async fn waiting_for(
    conn: &mut AnyConnection,
    conversation: ConversationId,
    answer: Answer,
    now: i64,
) -> Result<bool> {
    let n: i64 = if answer.is_rating() {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM satisfaction WHERE conversation_id = $1 AND rating IS NULL AND expires_at > $2",
        )
        .bind(conversation.0)
        .bind(now)
        .fetch_one(conn)
        .await?
    } else {
        sqlx::query_scalar("SELECT COUNT(*) FROM knowledge_checks WHERE conversation_id = $1 AND outcome IS NULL")
            .bind(conversation.0)
            .fetch_one(conn)
            .await?
    };
    Ok(n > 0)
}

/// An answer is a customer message like any other for WhatsApp's 24-hour
/// window, though it changes nothing else of the conversation.
pub async fn customer_wrote(conn: &mut AnyConnection, conversation: ConversationId, at: i64) -> Result<()> {
    sqlx::query("UPDATE conversations SET last_customer_at = $2 WHERE id = $1 AND last_customer_at < $2")
        .bind(conversation.0)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// The verdict on a knowledge answer; the entry, if it was still waiting.
pub async fn answer_check(
    conn: &mut AnyConnection,
    conversation: ConversationId,
    answer: Answer,
    via: &str,
    now: i64,
) -> Result<Option<String>> {
    let entry: Option<String> = sqlx::query_scalar(
        "UPDATE knowledge_checks SET outcome = $2, answered_at = $3, answered_via = $4 \
         WHERE conversation_id = $1 AND outcome IS NULL RETURNING entry",
    )
    .bind(conversation.0)
    .bind(answer.as_str())
    .bind(now)
    .bind(via)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(entry) = &entry {
        let kind = if answer == Answer::Solved {
            EventKind::KnowledgeSolved
        } else {
            EventKind::KnowledgeDeclined
        };
        super::reporting::record_event(conn, conversation, kind, now, None, Some(entry)).await?;
    }
    Ok(entry)
}

/// "Yes, solved": the conversation is resolved by the customer, no agent
/// involved; whether it was open.
pub async fn resolve_self_service(conn: &mut AnyConnection, conversation: ConversationId, now: i64) -> Result<bool> {
    match super::conversations::change_status(conn, conversation, true, None, now).await {
        Ok(changed) => Ok(changed),
        Err(ChangeError::Store(e)) => Err(e),
        Err(_) => Ok(false),
    }
}

/// What the satisfaction question's decision reads of a conversation.
#[derive(Debug, Clone)]
pub struct SurveyRow {
    pub channel: String,
    pub endpoint: String,
    pub language: Option<String>,
    pub queue: String,
    pub assignee: Option<i64>,
    pub last_customer_at: i64,
    pub asked_before: bool,
    pub human_wrote: bool,
    pub bounced: bool,
}

#[derive(sqlx::FromRow)]
struct SurveyLine {
    channel: String,
    endpoint: String,
    language: Option<String>,
    queue: String,
    assignee_id: Option<i64>,
    last_customer_at: Option<i64>,
    asked: i64,
    human: i64,
    bounced: i64,
}

pub async fn survey_facts(conn: &mut AnyConnection, conversation: ConversationId) -> Result<Option<SurveyRow>> {
    let row: Option<SurveyLine> = sqlx::query_as(
        "SELECT c.channel, c.endpoint, c.language, c.queue, c.assignee_id, c.last_customer_at, \
         (SELECT COUNT(*) FROM satisfaction s WHERE s.conversation_id = c.id) AS asked, \
         (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'in' \
          AND m.auto IS NULL) AS human, \
         (SELECT COUNT(*) FROM outbox o JOIN conversations oc ON oc.id = o.conversation_id \
          WHERE oc.customer_address = c.customer_address AND o.channel = 'email' AND o.status = 'failed') AS bounced \
         FROM conversations c WHERE c.id = $1",
    )
    .bind(conversation.0)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|l| SurveyRow {
        channel: l.channel,
        endpoint: l.endpoint,
        language: l.language,
        queue: l.queue,
        assignee: l.assignee_id,
        last_customer_at: l.last_customer_at.unwrap_or(0),
        asked_before: l.asked > 0,
        human_wrote: l.human > 0,
        bounced: l.bounced > 0,
    }))
}

pub struct NewSurvey<'a> {
    pub conversation: ConversationId,
    pub agent: Option<AgentId>,
    pub channel: &'a str,
    pub queue: &'a str,
    pub message: MessageId,
    pub now: i64,
    pub expires: i64,
}

pub async fn insert_survey(conn: &mut AnyConnection, s: &NewSurvey<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO satisfaction (conversation_id, agent_id, channel, queue, message_id, sent_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (conversation_id) DO NOTHING",
    )
    .bind(s.conversation.0)
    .bind(s.agent.map(|a| a.0))
    .bind(s.channel)
    .bind(s.queue)
    .bind(s.message.0)
    .bind(s.now)
    .bind(s.expires)
    .execute(conn)
    .await?;
    Ok(())
}

/// What became of a rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rated {
    Recorded,
    /// Answered before (a second click on the link, or a second tap).
    AlreadyAnswered,
    /// Never asked, or its links have expired.
    NotWaiting,
}

/// Records a rating once; a bad one reopens the conversation when configured.
pub async fn rate(
    conn: &mut AnyConnection,
    conversation: ConversationId,
    answer: Answer,
    comment: Option<&str>,
    via: &str,
    reopen_on_bad: bool,
    now: i64,
) -> Result<Rated> {
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    let updated = sqlx::query(
        "UPDATE satisfaction SET rating = $2, comment = $3, answered_at = $4, answered_via = $5 \
         WHERE conversation_id = $1 AND rating IS NULL AND expires_at > $4",
    )
    .bind(conversation.0)
    .bind(answer.as_str())
    .bind(comment)
    .bind(now)
    .bind(via)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated == 0 {
        let answered: Option<Option<String>> =
            sqlx::query_scalar("SELECT rating FROM satisfaction WHERE conversation_id = $1")
                .bind(conversation.0)
                .fetch_optional(&mut *conn)
                .await?;
        return Ok(match answered {
            Some(Some(_)) => Rated::AlreadyAnswered,
            _ => Rated::NotWaiting,
        });
    }
    if answer == Answer::Bad && reopen_on_bad {
        match super::conversations::change_status(conn, conversation, false, None, now).await {
            Ok(_) | Err(ChangeError::NotFound) => {}
            Err(ChangeError::Store(e)) => return Err(e),
            Err(_) => {}
        }
    }
    Ok(Rated::Recorded)
}

/// What the inbox shows of a conversation's feedback.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ConversationFeedback {
    pub knowledge: Option<KnowledgeCheck>,
    pub satisfaction: Option<Satisfaction>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct KnowledgeCheck {
    pub entry: String,
    pub sent_at: i64,
    pub hold_until: i64,
    /// `solved`, `not_solved`; none: no verdict (yet).
    pub outcome: Option<String>,
    pub answered_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Satisfaction {
    pub agent_id: Option<i64>,
    pub sent_at: i64,
    pub rating: Option<String>,
    pub comment: Option<String>,
    pub answered_at: Option<i64>,
    pub answered_via: Option<String>,
}

/// A rating as a report reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RatingLine {
    pub conversation_id: i64,
    pub agent_id: Option<i64>,
    pub agent_name: Option<String>,
    pub channel: String,
    pub queue: String,
    /// `good` or `bad`.
    pub rating: String,
    pub comment: Option<String>,
    pub answered_at: i64,
}

impl Store {
    pub async fn conversation_feedback(&self, conversation: ConversationId) -> Result<ConversationFeedback> {
        let mut conn = self.reader().acquire().await?;
        let knowledge: Option<KnowledgeCheck> = sqlx::query_as(
            "SELECT entry, sent_at, hold_until, outcome, answered_at FROM knowledge_checks WHERE conversation_id = $1",
        )
        .bind(conversation.0)
        .fetch_optional(&mut *conn)
        .await?;
        let satisfaction: Option<Satisfaction> = sqlx::query_as(
            "SELECT agent_id, sent_at, rating, comment, answered_at, answered_via FROM satisfaction \
             WHERE conversation_id = $1",
        )
        .bind(conversation.0)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(ConversationFeedback {
            knowledge,
            satisfaction,
        })
    }

    /// An answer given outside a message — a mail's link (`via`: email), the
    /// widget's rating form (webchat): the knowledge verdict (solved resolves
    /// as self-service, not solved hands over) or a rating.
    pub async fn feedback_answer(
        &self,
        conversation: ConversationId,
        answer: Answer,
        comment: Option<&str>,
        via: &str,
        settings: &crate::feedback::Settings,
        now: i64,
    ) -> Result<Rated> {
        let mut tx = self.begin().await?;
        let out = if answer.is_rating() {
            rate(&mut tx, conversation, answer, comment, via, settings.reopen_on_bad, now).await?
        } else {
            match answer_check(&mut tx, conversation, answer, via, now).await? {
                Some(_) => {
                    if answer == Answer::Solved && resolve_self_service(&mut tx, conversation, now).await? {
                        crate::feedback::survey::ask(&mut tx, settings, conversation, None, true, now).await?;
                    }
                    if answer == Answer::NotSolved {
                        // Back to the front of the wait: a person takes over now.
                        sqlx::query("UPDATE knowledge_checks SET hold_until = $2 WHERE conversation_id = $1")
                            .bind(conversation.0)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                    }
                    Rated::Recorded
                }
                None => {
                    let asked: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM knowledge_checks WHERE conversation_id = $1")
                            .bind(conversation.0)
                            .fetch_one(&mut *tx)
                            .await?;
                    if asked > 0 {
                        Rated::AlreadyAnswered
                    } else {
                        Rated::NotWaiting
                    }
                }
            }
        };
        tx.commit().await?;
        Ok(out)
    }

    /// Ratings answered in `[start, end)`.
    pub async fn ratings(&self, start: i64, end: i64) -> Result<Vec<RatingLine>> {
        Ok(sqlx::query_as(
            "SELECT s.conversation_id, s.agent_id, a.display_name AS agent_name, s.channel, s.queue, s.rating, \
             s.comment, s.answered_at FROM satisfaction s LEFT JOIN agents a ON a.id = s.agent_id \
             WHERE s.answered_at >= $1 AND s.answered_at < $2 AND s.rating IS NOT NULL ORDER BY s.answered_at",
        )
        .bind(start)
        .bind(end)
        .fetch_all(self.reader())
        .await?)
    }

    /// What supervisors entered for the worth estimate, by name.
    pub async fn worth_inputs(&self) -> Result<Vec<(String, f64)>> {
        Ok(sqlx::query_as("SELECT name, value FROM worth_inputs ORDER BY name")
            .fetch_all(self.reader())
            .await?)
    }

    pub async fn set_worth_inputs(&self, values: &[(String, f64)], agent: AgentId, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        for (name, value) in values {
            sqlx::query(
                "INSERT INTO worth_inputs (name, value, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by",
            )
            .bind(name)
            .bind(value)
            .bind(now)
            .bind(agent.0)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
