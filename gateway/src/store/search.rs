//! The statements behind search, the customer page and the machine page.
//! Which rows match is the store's work (FTS5 on SQLite, `tsvector` and
//! trigrams on PostgreSQL); ranking and snippets are `search::rank`'s.

use serde::Serialize;
use sqlx::FromRow;
use sqlx::any::AnyArguments;
use sqlx::query::QueryAs;

use super::{Dialect, Result, Store};
use crate::search::Query;
use crate::search::customers::Link;

/// What an agent narrowed the search to. Empty fields narrow nothing.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub channel: Option<String>,
    pub priority: Option<String>,
    pub queue: Option<String>,
    pub status: Option<String>,
    pub assignee: Option<i64>,
    /// Messages (or mentions) from this instant, epoch ms.
    pub from: Option<i64>,
    /// … and before this one.
    pub to: Option<i64>,
}

/// A statement under construction with its numbered parameters.
struct Sql {
    text: String,
    binds: Vec<Bind>,
}

enum Bind {
    Text(String),
    Int(i64),
}

impl Sql {
    fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            binds: Vec::new(),
        }
    }

    /// Appends `clause`, whose `?` is the next parameter.
    fn and(&mut self, clause: &str, bind: Bind) {
        self.binds.push(bind);
        let n = self.binds.len();
        self.text.push_str(" AND ");
        self.text.push_str(&clause.replace('?', &format!("${n}")));
    }

    fn filters(&mut self, f: &Filters, at: &str) {
        let text = |v: &Option<String>| v.as_ref().filter(|s| !s.is_empty()).cloned();
        if let Some(v) = text(&f.channel) {
            self.and("c.channel = ?", Bind::Text(v));
        }
        if let Some(v) = text(&f.priority) {
            self.and("c.priority = ?", Bind::Text(v));
        }
        if let Some(v) = text(&f.queue) {
            self.and("c.queue = ?", Bind::Text(v));
        }
        if let Some(v) = text(&f.status) {
            self.and("c.status = ?", Bind::Text(v));
        }
        if let Some(v) = f.assignee {
            self.and("c.assignee_id = ?", Bind::Int(v));
        }
        if let Some(v) = f.from {
            self.and(&format!("{at} >= ?"), Bind::Int(v));
        }
        if let Some(v) = f.to {
            self.and(&format!("{at} < ?"), Bind::Int(v));
        }
    }

    fn query_as<'q, T>(&'q self) -> QueryAs<'q, sqlx::Any, T, AnyArguments<'q>>
    where
        T: for<'r> FromRow<'r, sqlx::any::AnyRow>,
    {
        let mut q = sqlx::query_as(&self.text);
        for b in &self.binds {
            q = match b {
                Bind::Text(s) => q.bind(s.as_str()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

/// A message or attachment that matched, by id.
#[derive(Debug, Clone, Copy, FromRow)]
pub struct Match {
    pub message_id: i64,
    pub conversation_id: i64,
}

/// A code of the query found among a conversation's mentions.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct FactMatch {
    pub conversation_id: i64,
    pub kind: String,
    pub value: String,
    pub norm: String,
    pub created_at: i64,
}

/// A mention, for the machine page and the facts panel.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Mention {
    pub conversation_id: i64,
    pub message_id: Option<i64>,
    pub kind: String,
    pub value: String,
    pub norm: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct WhatsappIdentity {
    pub address: String,
    pub phone: Option<String>,
    pub bsuid: Option<String>,
    pub username: Option<String>,
}

#[derive(Debug, Clone, FromRow, Serialize, utoipa::ToSchema)]
pub struct CustomerMerge {
    pub id: i64,
    pub address: String,
    pub into_address: String,
    pub agent_id: i64,
    pub created_at: i64,
    pub undone_by: Option<i64>,
    pub undone_at: Option<i64>,
}

impl Store {
    /// The most recent messages (notes and replies included) holding every term.
    pub async fn search_messages(&self, q: &Query, f: &Filters, limit: i64) -> Result<Vec<Match>> {
        let mut sql = match (self.dialect, q.fts5(), q.tsquery()) {
            (Dialect::Sqlite, Some(fts), _) => {
                let mut sql = Sql::new(
                    "SELECT m.id AS message_id, m.conversation_id FROM messages_fts \
                     JOIN messages m ON m.id = messages_fts.rowid JOIN conversations c ON c.id = m.conversation_id \
                     WHERE messages_fts MATCH $1",
                );
                sql.binds.push(Bind::Text(fts));
                sql
            }
            (Dialect::Postgres, _, Some(ts)) => {
                let mut sql = Sql::new(
                    "SELECT m.id AS message_id, m.conversation_id FROM messages m \
                     JOIN conversations c ON c.id = m.conversation_id \
                     WHERE m.search @@ to_tsquery('sy_search', $1)",
                );
                sql.binds.push(Bind::Text(ts));
                sql
            }
            _ => return Ok(Vec::new()),
        };
        sql.filters(f, "m.created_at");
        let order = match self.dialect {
            Dialect::Sqlite => " ORDER BY messages_fts.rowid DESC",
            Dialect::Postgres => " ORDER BY m.id DESC",
        };
        sql.text.push_str(order);
        sql.and_limit(limit);
        Ok(sql.query_as().fetch_all(&self.reader).await?)
    }

    /// Messages whose attachments' names hold every term.
    pub async fn search_attachments(&self, q: &Query, f: &Filters, limit: i64) -> Result<Vec<Match>> {
        let mut sql = match (self.dialect, q.fts5(), q.tsquery()) {
            (Dialect::Sqlite, Some(fts), _) => {
                let mut sql = Sql::new(
                    "SELECT a.message_id, m.conversation_id FROM attachments_fts \
                     JOIN attachments a ON a.id = attachments_fts.rowid JOIN messages m ON m.id = a.message_id \
                     JOIN conversations c ON c.id = m.conversation_id WHERE attachments_fts MATCH $1",
                );
                sql.binds.push(Bind::Text(fts));
                sql
            }
            (Dialect::Postgres, _, Some(ts)) => {
                // Materialised for the same reason as the customers' statement below.
                let mut sql = Sql::new(
                    "WITH hits AS MATERIALIZED (SELECT id FROM attachments \
                     WHERE sy_doc(name, NULL, NULL) @@ to_tsquery('sy_search', $1)) \
                     SELECT a.message_id, m.conversation_id FROM hits JOIN attachments a ON a.id = hits.id \
                     JOIN messages m ON m.id = a.message_id JOIN conversations c ON c.id = m.conversation_id WHERE 1 = 1",
                );
                sql.binds.push(Bind::Text(ts));
                sql
            }
            _ => return Ok(Vec::new()),
        };
        sql.filters(f, "m.created_at");
        sql.text.push_str(" ORDER BY a.message_id DESC");
        sql.and_limit(limit);
        Ok(sql.query_as().fetch_all(&self.reader).await?)
    }

    /// Conversations whose mentions hold one of the query's codes (exactly,
    /// or containing it when it is long enough to mean something) or its phone number.
    pub async fn search_facts(&self, q: &Query, f: &Filters, limit: i64) -> Result<Vec<FactMatch>> {
        let mut out = Vec::new();
        let mut wanted: Vec<(String, bool)> = q.codes().map(|c| (c.to_string(), false)).collect();
        if let Some(phone) = &q.phone {
            wanted.push((phone.clone(), true));
        }
        for (norm, phone) in wanted {
            let mut sql = Sql::new(
                "SELECT x.conversation_id, x.kind, x.value, x.norm, x.created_at FROM fact_mentions x \
                 JOIN conversations c ON c.id = x.conversation_id WHERE 1 = 1",
            );
            if phone {
                sql.and("x.kind = 'phone' AND x.norm = ?", Bind::Text(norm));
            } else if norm.chars().count() >= 4 && self.dialect == Dialect::Postgres {
                // Inside a longer code too (`0417` in `22-0417`), from the trigram index.
                sql.and("x.kind <> 'phone' AND x.norm LIKE ?", Bind::Text(format!("%{norm}%")));
            } else if norm.chars().count() >= 4 {
                // SQLite has no trigram index: the code and the longer codes it starts, from the b-tree.
                sql.and("x.kind <> 'phone' AND x.norm >= ?", Bind::Text(norm.clone()));
                sql.and("x.norm < ?", Bind::Text(format!("{norm}\u{10FFFF}")));
            } else {
                sql.and("x.kind <> 'phone' AND x.norm = ?", Bind::Text(norm));
            }
            sql.filters(f, "x.created_at");
            sql.text.push_str(" ORDER BY x.id DESC");
            sql.and_limit(limit);
            out.extend(sql.query_as::<FactMatch>().fetch_all(&self.reader).await?);
        }
        Ok(out)
    }

    /// Conversations whose customer (name, company, address, email, phone) holds every term.
    pub async fn search_customer_conversations(&self, q: &Query, limit: i64) -> Result<Vec<i64>> {
        let sql = match (self.dialect, q.fts5(), q.tsquery()) {
            (Dialect::Sqlite, Some(fts), _) => {
                let mut sql = Sql::new("SELECT rowid AS id FROM customers_fts WHERE customers_fts MATCH $1");
                sql.binds.push(Bind::Text(fts));
                sql
            }
            (Dialect::Postgres, _, Some(ts)) => {
                // Materialised: with ORDER BY … LIMIT the planner would rather walk the
                // primary key backwards computing the document of every row, which
                // reads the whole table when no customer matches.
                let mut sql = Sql::new(
                    "WITH hits AS MATERIALIZED (SELECT id FROM conversations WHERE sy_customer_doc(customer_name, \
                     customer_address, customer_email, customer_phone, customer_company) @@ to_tsquery('sy_search', $1)) \
                     SELECT id FROM hits WHERE 1 = 1",
                );
                sql.binds.push(Bind::Text(ts));
                sql
            }
            _ => return Ok(Vec::new()),
        };
        let mut sql = sql;
        sql.text.push_str(" ORDER BY id DESC");
        sql.and_limit(limit);
        let rows: Vec<(i64,)> = sql.query_as().fetch_all(&self.reader).await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Every mention of a machine's serial (normalised), oldest first.
    pub async fn serial_mentions(&self, norm: &str) -> Result<Vec<Mention>> {
        Ok(sqlx::query_as(
            "SELECT conversation_id, message_id, kind, value, norm, created_at FROM fact_mentions \
             WHERE norm = $1 AND kind = 'serial' ORDER BY created_at, id",
        )
        .bind(norm)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Every mention in these conversations, oldest first.
    pub async fn mentions_of(&self, conversations: &[i64]) -> Result<Vec<Mention>> {
        if conversations.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT conversation_id, message_id, kind, value, norm, created_at FROM fact_mentions \
             WHERE conversation_id IN ({}) ORDER BY created_at, id",
            super::placeholders(1, conversations.len())
        );
        let mut query = sqlx::query_as(&sql);
        for id in conversations {
            query = query.bind(*id);
        }
        Ok(query.fetch_all(&self.reader).await?)
    }

    /// Ids of every conversation of these customer addresses, newest first.
    pub async fn conversations_of_addresses(&self, addresses: &[String]) -> Result<Vec<i64>> {
        if addresses.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id FROM conversations WHERE customer_address IN ({}) ORDER BY created_at DESC, id DESC",
            super::placeholders(1, addresses.len())
        );
        let mut query = sqlx::query_as(&sql);
        for a in addresses {
            query = query.bind(a.as_str());
        }
        let rows: Vec<(i64,)> = query.fetch_all(&self.reader).await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Which of these addresses have conversations of their own.
    pub async fn known_addresses(&self, addresses: &[String]) -> Result<Vec<String>> {
        if addresses.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT DISTINCT customer_address FROM conversations WHERE customer_address IN ({})",
            super::placeholders(1, addresses.len())
        );
        let mut query = sqlx::query_as(&sql);
        for a in addresses {
            query = query.bind(a.as_str());
        }
        let rows: Vec<(String,)> = query.fetch_all(&self.reader).await?;
        Ok(rows.into_iter().map(|(a,)| a).collect())
    }

    /// Customer addresses of conversations that mentioned one of these phone keys.
    pub async fn addresses_by_phone(&self, keys: &[String]) -> Result<Vec<String>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT DISTINCT c.customer_address FROM fact_mentions x JOIN conversations c ON c.id = x.conversation_id \
             WHERE x.kind = 'phone' AND x.norm IN ({})",
            super::placeholders(1, keys.len())
        );
        let mut query = sqlx::query_as(&sql);
        for k in keys {
            query = query.bind(k.as_str());
        }
        let rows: Vec<(String,)> = query.fetch_all(&self.reader).await?;
        Ok(rows.into_iter().map(|(a,)| a).collect())
    }

    /// The WhatsApp identities (phone, BSUID, username) behind these addresses.
    pub async fn whatsapp_identities(&self, addresses: &[String]) -> Result<Vec<WhatsappIdentity>> {
        if addresses.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT address, phone, bsuid, username FROM whatsapp_customers WHERE address IN ({}) ORDER BY id",
            super::placeholders(1, addresses.len())
        );
        let mut query = sqlx::query_as(&sql);
        for a in addresses {
            query = query.bind(a.as_str());
        }
        Ok(query.fetch_all(&self.reader).await?)
    }

    /// The merges in force.
    pub async fn customer_links(&self) -> Result<Vec<Link>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT address, into_address FROM customer_merges WHERE undone_at IS NULL")
                .fetch_all(&self.reader)
                .await?;
        Ok(rows.into_iter().map(|(address, into)| Link { address, into }).collect())
    }

    /// Every merge, undone ones included, that touched one of these addresses.
    pub async fn customer_merges_of(&self, addresses: &[String]) -> Result<Vec<CustomerMerge>> {
        if addresses.is_empty() {
            return Ok(Vec::new());
        }
        let n = addresses.len();
        let sql = format!(
            "SELECT id, address, into_address, agent_id, created_at, undone_by, undone_at FROM customer_merges \
             WHERE address IN ({}) OR into_address IN ({}) ORDER BY id",
            super::placeholders(1, n),
            super::placeholders(n + 1, n)
        );
        let mut query = sqlx::query_as(&sql);
        for a in addresses.iter().chain(addresses) {
            query = query.bind(a.as_str());
        }
        Ok(query.fetch_all(&self.reader).await?)
    }

    /// Records a merge. The caller checked it against the merges in force
    /// (`search::customers::Merges::check`); a unique index refuses a second
    /// merge in force of the same address that raced it (`None`).
    pub async fn merge_customers(&self, address: &str, into: &str, agent: i64, now: i64) -> Result<Option<i64>> {
        let id: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO customer_merges (address, into_address, agent_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (address) WHERE undone_at IS NULL DO NOTHING RETURNING id",
        )
        .bind(address)
        .bind(into)
        .bind(agent)
        .bind(now)
        .fetch_optional(&self.writer)
        .await?;
        Ok(id.map(|(id,)| id))
    }

    /// Undoes a merge; false when it was not in force.
    pub async fn unmerge_customers(&self, merge: i64, agent: i64, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE customer_merges SET undone_by = $2, undone_at = $3 WHERE id = $1 AND undone_at IS NULL",
        )
        .bind(merge)
        .bind(agent)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl Sql {
    fn and_limit(&mut self, limit: i64) {
        self.binds.push(Bind::Int(limit));
        let n = self.binds.len();
        self.text.push_str(&format!(" LIMIT ${n}"));
    }
}
