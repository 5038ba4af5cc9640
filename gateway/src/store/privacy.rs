//! The writing side of erasure and retention: anonymising conversations in
//! place (the skeleton stays for the KPIs), forgetting a customer's
//! identities, legal holds, visitors' erasure requests, and the candidates
//! each retention policy finds past its period. What to erase is decided in
//! `privacy::erasure` and `privacy::retention`.

use sqlx::AnyConnection;

use super::{Result, Store, placeholders};
use crate::ids::{AgentId, ConversationId};
use crate::privacy::erasure::{self, Counts, Target};

/// Rows bound per statement: well under SQLite's and PostgreSQL's limits.
const CHUNK: usize = 400;

/// What an erasure leaves to do outside the transaction.
#[derive(Debug, Default)]
pub struct Erased {
    pub counts: Counts,
    /// Blobs the erased rows named: removed once nothing else names them.
    pub blobs: Vec<String>,
    pub messages: Vec<i64>,
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    values: &'q [i64],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for v in values {
        q = q.bind(*v);
    }
    q
}

/// The single column `sql` (with `{ids}`) selects, over every chunk of `ids`.
async fn scalars<T>(conn: &mut AnyConnection, sql: &str, ids: &[i64]) -> Result<Vec<T>>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + Unpin,
{
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let sql = sql.replace("{ids}", &placeholders(1, chunk.len()));
        let mut q = sqlx::query_scalar::<_, T>(&sql);
        for v in chunk {
            q = q.bind(*v);
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// Runs `sql` (with `{ids}`) over every chunk; rows affected.
async fn exec_ids(conn: &mut AnyConnection, sql: &str, ids: &[i64]) -> Result<u64> {
    let mut n = 0;
    for chunk in ids.chunks(CHUNK) {
        let sql = sql.replace("{ids}", &placeholders(1, chunk.len()));
        n += bind_all(sqlx::query(&sql), chunk)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(n)
}

async fn exec_strings(conn: &mut AnyConnection, sql: &str, values: &[String]) -> Result<u64> {
    let mut n = 0;
    for chunk in values.chunks(CHUNK) {
        let sql = sql.replace("{values}", &placeholders(1, chunk.len()));
        let mut q = sqlx::query(&sql);
        for v in chunk {
            q = q.bind(v.as_str());
        }
        n += q.execute(&mut *conn).await?.rows_affected();
    }
    Ok(n)
}

/// A LIKE pattern matching `value` quoted inside a JSON or text body.
fn quoted_like(value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// Anonymises `conversations` in the caller's transaction: every text,
/// file, fact and identity goes; the skeleton (channel, queue, priority,
/// status, times, events, SLA timers) stays. `addresses` are the customer's
/// own (empty when a retention policy erases one old conversation of a
/// customer who may still be writing): their identities, merges, places in
/// other customers' threads and mentions in error logs go too.
pub async fn erase(conn: &mut AnyConnection, conversations: &[i64], addresses: &[String], now: i64) -> Result<Erased> {
    let mut out = Erased::default();
    let c = conversations;
    let messages = scalars::<i64>(conn, "SELECT id FROM messages WHERE conversation_id IN ({ids})", c).await?;
    out.blobs.extend(
        scalars::<String>(
            conn,
            "SELECT a.sha256 FROM attachments a JOIN messages m ON m.id = a.message_id \
             WHERE m.conversation_id IN ({ids}) AND a.sha256 IS NOT NULL",
            c,
        )
        .await?,
    );
    let raw = scalars::<String>(
        conn,
        "SELECT raw_ref FROM messages WHERE conversation_id IN ({ids}) AND raw_ref IS NOT NULL",
        c,
    )
    .await?;
    out.counts.raw_mails = raw.len() as u64;
    out.blobs
        .extend(raw.iter().filter_map(|r| r.strip_prefix("sha256:").map(str::to_string)));
    // A visitor's uploads are filed under their conversation key.
    let keys = scalars::<String>(
        conn,
        "SELECT chat_key FROM conversations WHERE id IN ({ids}) AND chat_key IS NOT NULL",
        c,
    )
    .await?;
    if !keys.is_empty() {
        let sql = format!(
            "SELECT sha256 FROM uploads WHERE owner_key IN ({})",
            placeholders(1, keys.len())
        );
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for k in &keys {
            q = q.bind(k.as_str());
        }
        out.blobs.extend(q.fetch_all(&mut *conn).await?);
        exec_strings(conn, "DELETE FROM uploads WHERE owner_key IN ({values})", &keys).await?;
    }

    // Translations were cached in the same instant they were stored: the
    // cache rows of those instants go (a cache: at worst a text is asked again).
    let window: Vec<(Option<i64>, Option<i64>)> = {
        let mut w = Vec::new();
        for chunk in messages.chunks(CHUNK) {
            let sql = format!(
                "SELECT MIN(created_at), MAX(created_at) FROM message_translations WHERE message_id IN ({})",
                placeholders(1, chunk.len())
            );
            w.push(bind_scalar_pair(&sql, chunk, conn).await?);
        }
        w
    };
    for (from, to) in window {
        if let (Some(from), Some(to)) = (from, to) {
            sqlx::query("DELETE FROM translation_cache WHERE created_at BETWEEN $1 AND $2")
                .bind(from)
                .bind(to)
                .execute(&mut *conn)
                .await?;
        }
    }

    exec_ids(
        conn,
        "DELETE FROM media_jobs WHERE attachment_id IN (SELECT a.id FROM attachments a \
         JOIN messages m ON m.id = a.message_id WHERE m.conversation_id IN ({ids}))",
        c,
    )
    .await?;
    out.counts.attachments = exec_ids(
        conn,
        "DELETE FROM attachments WHERE message_id IN (SELECT id FROM messages WHERE conversation_id IN ({ids}))",
        c,
    )
    .await?;
    for table in ["message_versions", "message_translations"] {
        exec_ids(
            conn,
            &format!(
                "DELETE FROM {table} WHERE message_id IN (SELECT id FROM messages WHERE conversation_id IN ({{ids}}))"
            ),
            c,
        )
        .await?;
    }
    exec_ids(
        conn,
        "DELETE FROM reactions WHERE target_external_id IN \
         (SELECT external_id FROM messages WHERE conversation_id IN ({ids}) AND external_id IS NOT NULL)",
        c,
    )
    .await?;
    exec_ids(
        conn,
        "DELETE FROM delivery_receipts WHERE message_external_id IN \
         (SELECT external_id FROM outbox WHERE conversation_id IN ({ids}) AND external_id IS NOT NULL)",
        c,
    )
    .await?;
    for table in [
        "mail_ids",
        "fact_mentions",
        "participants",
        "intervention_report_versions",
    ] {
        exec_ids(
            conn,
            &format!("DELETE FROM {table} WHERE conversation_id IN ({{ids}})"),
            c,
        )
        .await?;
    }
    out.counts.reports = exec_ids(
        conn,
        "DELETE FROM intervention_reports WHERE conversation_id IN ({ids})",
        c,
    )
    .await?;
    // What was not sent yet never will be: the address it was for is gone.
    out.counts.outbox_rows = exec_ids(
        conn,
        "UPDATE outbox SET payload = NULL, last_error = NULL, \
         status = CASE WHEN status IN ('pending', 'sending') THEN 'cancelled' ELSE status END \
         WHERE conversation_id IN ({ids})",
        c,
    )
    .await?;
    exec_ids(
        conn,
        "UPDATE escalations SET phone = NULL, notes = NULL, preferred_slot = NULL, room_url = NULL \
         WHERE conversation_id IN ({ids})",
        c,
    )
    .await?;
    exec_ids(
        conn,
        "UPDATE satisfaction SET comment = NULL WHERE conversation_id IN ({ids})",
        c,
    )
    .await?;
    // Verdicts keep their classification, lose their facts.
    for chunk in c.chunks(CHUNK) {
        let sql = format!(
            "SELECT id, detail, priority, queue, escalation FROM verdicts WHERE conversation_id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<_, (i64, String, String, String, String)>(&sql);
        for v in chunk {
            q = q.bind(*v);
        }
        for (id, detail, priority, queue, escalation) in q.fetch_all(&mut *conn).await? {
            sqlx::query("UPDATE verdicts SET detail = $2 WHERE id = $1")
                .bind(id)
                .bind(erasure::anonymise_verdict(&detail, &priority, &queue, &escalation))
                .execute(&mut *conn)
                .await?;
        }
    }
    // The search index follows the texts (SQLite triggers, PostgreSQL's generated column).
    out.counts.messages = exec_ids(
        conn,
        "UPDATE messages SET body = '', subject = NULL, quoted = NULL, html = NULL, raw_ref = NULL, \
         thread_reason = NULL, author_name = CASE WHEN author_kind = 'customer' THEN NULL ELSE author_name END, \
         external_id = CASE WHEN channel = 'email' THEN NULL ELSE external_id END \
         WHERE conversation_id IN ({ids})",
        c,
    )
    .await?;
    out.messages = messages;

    // Still open: resolved now, out of the queues (nobody can answer an erased customer).
    let open = scalars::<i64>(
        conn,
        "SELECT id FROM conversations WHERE id IN ({ids}) AND status <> 'resolved'",
        c,
    )
    .await?;
    for id in &open {
        super::conversations::change_status(&mut *conn, ConversationId(*id), true, None, now)
            .await
            .map_err(|e| match e {
                super::conversations::ChangeError::Store(e) => e,
                other => super::StoreError::Corrupt(other.to_string()),
            })?;
    }
    out.counts.closed = open.len() as u64;
    for chunk in c.chunks(CHUNK) {
        let sql = format!(
            "UPDATE erasure_requests SET done_at = $1 WHERE done_at IS NULL AND conversation_id IN ({})",
            placeholders(2, chunk.len())
        );
        bind_all(sqlx::query(&sql).bind(now), chunk).execute(&mut *conn).await?;
        let sql = format!(
            "UPDATE conversations SET customer_address = $1, customer_name = NULL, customer_email = NULL, \
             customer_phone = NULL, customer_company = NULL, machine_serial = NULL, subject = NULL, \
             subject_key = NULL, chat_key = NULL, erased_at = $2 WHERE id IN ({})",
            placeholders(3, chunk.len())
        );
        out.counts.conversations += bind_all(sqlx::query(&sql).bind(erasure::erased_address(c)).bind(now), chunk)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }

    if !addresses.is_empty() {
        out.counts.identities = exec_strings(
            conn,
            "DELETE FROM whatsapp_customers WHERE address IN ({values}) OR phone IN ({values}) OR bsuid IN ({values})",
            addresses,
        )
        .await?;
        exec_strings(
            conn,
            "DELETE FROM customer_merges WHERE address IN ({values}) OR into_address IN ({values})",
            addresses,
        )
        .await?;
        exec_strings(conn, "DELETE FROM reactions WHERE sender IN ({values})", addresses).await?;
        // In other customers' threads they stay a participant, unnamed and left out of replies.
        let elsewhere: Vec<i64> = {
            let sql = format!(
                "SELECT DISTINCT conversation_id FROM participants WHERE address IN ({})",
                placeholders(1, addresses.len())
            );
            let mut q = sqlx::query_scalar::<_, i64>(&sql);
            for a in addresses {
                q = q.bind(a.as_str());
            }
            q.fetch_all(&mut *conn).await?
        };
        exec_strings(conn, "DELETE FROM participants WHERE address IN ({values})", addresses).await?;
        for id in &elsewhere {
            sqlx::query(
                "INSERT INTO participants (conversation_id, address, name, role, active, created_at) \
                 VALUES ($1, $2, NULL, 'cc', 0, $3) ON CONFLICT (conversation_id, address) DO NOTHING",
            )
            .bind(*id)
            .bind(erasure::erased_address(c))
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
        out.counts.participants_elsewhere = elsewhere.len() as u64;
        // Error logs and supervisor notices may quote an address or a number.
        for a in addresses.iter().filter(|a| a.len() >= 6) {
            let like = quoted_like(a);
            for sql in [
                "DELETE FROM channel_errors WHERE details LIKE $1 ESCAPE '\\'",
                "DELETE FROM notices WHERE body LIKE $1 ESCAPE '\\' OR subject LIKE $1 ESCAPE '\\'",
            ] {
                sqlx::query(sql).bind(&like).execute(&mut *conn).await?;
            }
        }
    }
    out.blobs.sort();
    out.blobs.dedup();
    Ok(out)
}

async fn bind_scalar_pair(sql: &str, ids: &[i64], conn: &mut AnyConnection) -> Result<(Option<i64>, Option<i64>)> {
    let q = bind_all(sqlx::query(sql), ids);
    let row = q.fetch_one(&mut *conn).await?;
    use sqlx::Row;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// An erasure request from a visitor, waiting for an admin.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ErasureRequest {
    pub id: i64,
    pub conversation_id: i64,
    pub customer_address: String,
    pub via: String,
    pub requested_at: i64,
}

/// Legal hold and erasure state of these conversations.
async fn targets(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<Target>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let sql = format!(
            "SELECT id, legal_hold, erased_at FROM conversations WHERE id IN ({}) ORDER BY id",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<_, (i64, Option<String>, Option<i64>)>(&sql);
        for v in chunk {
            q = q.bind(*v);
        }
        out.extend(
            q.fetch_all(&mut *conn)
                .await?
                .into_iter()
                .map(|(conversation, legal_hold, erased_at)| Target {
                    conversation,
                    legal_hold,
                    erased_at,
                }),
        );
    }
    Ok(out)
}

impl Store {
    /// Erases in one transaction; holds are checked again inside it, so a
    /// hold placed a moment ago is never run over.
    pub async fn erase_conversations(
        &self,
        conversations: &[i64],
        addresses: &[String],
        now: i64,
    ) -> Result<Result<Erased, erasure::Refused>> {
        let mut tx = self.begin().await?;
        let ids = match erasure::plan(&targets(&mut tx, conversations).await?) {
            Ok(ids) => ids,
            Err(refused) => return Ok(Err(refused)),
        };
        let erased = erase(&mut tx, &ids, addresses, now).await?;
        tx.commit().await?;
        Ok(Ok(erased))
    }

    /// Forgets processed webhook bodies that name one of these identities
    /// (a body still pending is a message not read yet: it arrives, as new).
    pub async fn journal_forget(&self, identities: &[String]) -> Result<u64> {
        let mut n = 0;
        for id in identities.iter().filter(|a| a.len() >= 6) {
            n += sqlx::query("DELETE FROM webhook_journal WHERE status <> 'pending' AND body LIKE $1 ESCAPE '\\'")
                .bind(quoted_like(&format!("\"{id}\"")))
                .execute(&self.journal)
                .await?
                .rows_affected();
        }
        Ok(n)
    }

    /// Whether a blob is still named by anything.
    pub async fn blob_in_use(&self, sha256: &str) -> Result<bool> {
        let mut conn = self.reader.acquire().await?;
        super::uploads::blob_referenced(&mut conn, sha256).await
    }

    /// Places or lifts (`reason = None`) a legal hold; false when the conversation is unknown.
    pub async fn set_legal_hold(
        &self,
        conversation: ConversationId,
        reason: Option<&str>,
        agent: AgentId,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE conversations SET legal_hold = $2, legal_hold_by = $3, legal_hold_at = $4 WHERE id = $1",
        )
        .bind(conversation.0)
        .bind(reason)
        .bind(reason.map(|_| agent.0))
        .bind(reason.map(|_| now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Files a visitor's request; one open request per conversation.
    pub async fn request_erasure(&self, conversation: ConversationId, via: &str, now: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let open: Option<i64> =
            sqlx::query_scalar("SELECT id FROM erasure_requests WHERE conversation_id = $1 AND done_at IS NULL")
                .bind(conversation.0)
                .fetch_optional(&mut *tx)
                .await?;
        if open.is_none() {
            sqlx::query("INSERT INTO erasure_requests (conversation_id, via, requested_at) VALUES ($1, $2, $3)")
                .bind(conversation.0)
                .bind(via)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(open.is_none())
    }

    pub async fn erasure_requests_open(&self) -> Result<Vec<ErasureRequest>> {
        Ok(sqlx::query_as(
            "SELECT r.id, r.conversation_id, c.customer_address, r.via, r.requested_at \
             FROM erasure_requests r JOIN conversations c ON c.id = r.conversation_id \
             WHERE r.done_at IS NULL ORDER BY r.requested_at",
        )
        .fetch_all(&self.reader)
        .await?)
    }

    /// Resolved before `before`, not erased, not held.
    pub async fn retention_resolved(&self, before: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM conversations WHERE status = 'resolved' AND resolved_at < $1 \
             AND erased_at IS NULL AND legal_hold IS NULL ORDER BY id",
        )
        .bind(before)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Chats of visitors who never left a name, an address or a number,
    /// silent since `before`.
    pub async fn retention_anonymous_chats(&self, before: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM conversations WHERE channel = 'webchat' AND updated_at < $1 \
             AND customer_name IS NULL AND customer_email IS NULL AND customer_phone IS NULL \
             AND customer_company IS NULL AND erased_at IS NULL AND legal_hold IS NULL ORDER BY id",
        )
        .bind(before)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Messages whose raw mail is older than `before` (their text stays).
    pub async fn retention_raw_mails(&self, before: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.raw_ref IS NOT NULL AND m.created_at < $1 AND c.legal_hold IS NULL ORDER BY m.id",
        )
        .bind(before)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Attachments of messages older than `before`.
    pub async fn retention_attachments(&self, before: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT a.id FROM attachments a JOIN messages m ON m.id = a.message_id \
             JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.created_at < $1 AND c.legal_hold IS NULL ORDER BY a.id",
        )
        .bind(before)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Delivery logs older than `before`: receipts, finished outbox rows
    /// still carrying a payload or an error, channel errors, sent notices.
    pub async fn retention_delivery_logs(&self, before: i64) -> Result<u64> {
        let mut n = 0;
        for sql in [
            "SELECT COUNT(*) FROM delivery_receipts WHERE received_at < $1",
            "SELECT COUNT(*) FROM outbox WHERE status NOT IN ('pending', 'sending') AND updated_at < $1 \
             AND (payload IS NOT NULL OR last_error IS NOT NULL)",
            "SELECT COUNT(*) FROM channel_errors WHERE received_at < $1",
            "SELECT COUNT(*) FROM notices WHERE status <> 'pending' AND created_at < $1",
        ] {
            let c: i64 = sqlx::query_scalar(sql).bind(before).fetch_one(&self.reader).await?;
            n += u64::try_from(c).unwrap_or(0);
        }
        Ok(n)
    }

    pub async fn retention_translation_cache(&self, before: i64) -> Result<u64> {
        let c: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM translation_cache WHERE created_at < $1")
            .bind(before)
            .fetch_one(&self.reader)
            .await?;
        Ok(u64::try_from(c).unwrap_or(0))
    }

    pub async fn retention_journal(&self, before: i64) -> Result<u64> {
        let c: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_journal WHERE status = 'done' AND processed_at < $1")
                .bind(before)
                .fetch_one(&self.journal)
                .await?;
        Ok(u64::try_from(c).unwrap_or(0))
    }

    /// Drops the raw mails of these messages; the blobs they named.
    pub async fn drop_raw_mails(&self, messages: &[i64]) -> Result<Vec<String>> {
        let mut tx = self.begin().await?;
        let refs = scalars::<String>(
            &mut tx,
            "SELECT raw_ref FROM messages WHERE id IN ({ids}) AND raw_ref IS NOT NULL",
            messages,
        )
        .await?;
        exec_ids(
            &mut tx,
            "UPDATE messages SET raw_ref = NULL WHERE id IN ({ids})",
            messages,
        )
        .await?;
        tx.commit().await?;
        Ok(refs
            .iter()
            .filter_map(|r| r.strip_prefix("sha256:").map(str::to_string))
            .collect())
    }

    /// Drops these attachments (and their pending downloads); the blobs they
    /// named. The visitor's uploads of the same files, long expired by
    /// `before` but perhaps not swept yet, go too, so the files can.
    pub async fn drop_attachments(&self, attachments: &[i64], before: i64) -> Result<Vec<String>> {
        let mut tx = self.begin().await?;
        let shas = scalars::<String>(
            &mut tx,
            "SELECT sha256 FROM attachments WHERE id IN ({ids}) AND sha256 IS NOT NULL",
            attachments,
        )
        .await?;
        exec_ids(
            &mut tx,
            "DELETE FROM media_jobs WHERE attachment_id IN ({ids})",
            attachments,
        )
        .await?;
        exec_ids(&mut tx, "DELETE FROM attachments WHERE id IN ({ids})", attachments).await?;
        for chunk in shas.chunks(CHUNK) {
            let sql = format!(
                "DELETE FROM uploads WHERE created_at < $1 AND sha256 IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(before);
            for sha in chunk {
                q = q.bind(sha.as_str());
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(shas)
    }

    /// Prunes the delivery logs older than `before`; rows touched.
    pub async fn prune_delivery_logs(&self, before: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let mut n = 0;
        for sql in [
            "DELETE FROM delivery_receipts WHERE received_at < $1",
            "UPDATE outbox SET payload = NULL, last_error = NULL WHERE status NOT IN ('pending', 'sending') \
             AND updated_at < $1 AND (payload IS NOT NULL OR last_error IS NOT NULL)",
            "DELETE FROM channel_errors WHERE received_at < $1",
            "DELETE FROM notices WHERE status <> 'pending' AND created_at < $1",
        ] {
            n += sqlx::query(sql).bind(before).execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(n)
    }

    pub async fn prune_translation_cache(&self, before: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("DELETE FROM translation_cache WHERE created_at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }
}
