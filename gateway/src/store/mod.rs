//! The store: every durable fact. One interface for both backends; the SQL is
//! portable (sqlx `Any` driver, `$n` placeholders, `RETURNING`, `ON CONFLICT`),
//! and only connection set-up and migrations differ per backend.
//!
//! Invariant: SQLite writes go through one connection (`writer`), so write
//! transactions never fight over the database lock; reads use `reader`.

pub mod agents;
pub mod audit;
pub mod batch;
pub mod channel_status;
pub mod conversations;
pub mod dispatch;
pub mod email;
pub mod escalations;
pub mod feedback;
pub mod ingest;
pub mod inspect;
pub mod interventions;
pub mod journal;
pub mod keys;
pub mod knowledge;
pub mod mail_oauth;
pub mod messages;
pub mod metrics;
pub mod notices;
pub mod outbox;
pub mod privacy;
pub mod qualifications;
pub mod reporting;
pub mod reserve;
pub mod rule_versions;
pub mod search;
pub mod settings;
pub mod sla;
pub mod translations;
pub mod uploads;
pub mod whatsapp;

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Transaction};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported store url {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// The write failed because the disk (or PostgreSQL's) is full: retrying
    /// helps once space returns, and the message itself is not at fault.
    pub fn is_out_of_space(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => {
                // SQLITE_FULL (13, also as the low byte of an extended code);
                // PostgreSQL's disk_full (53100).
                let code = e.code();
                let sqlite_full = code
                    .as_deref()
                    .and_then(|c| c.parse::<i64>().ok())
                    .is_some_and(|c| c & 0xff == 13);
                sqlite_full || code.as_deref() == Some("53100") || e.message().contains("disk is full")
            }
            StoreError::Db(sqlx::Error::Io(e)) => e.kind() == std::io::ErrorKind::StorageFull,
            _ => false,
        }
    }

    /// The store did not answer (PostgreSQL down or restarting, no
    /// connection within the pool's wait): every message of the batch is
    /// refused for a retry at once, none is tried alone.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Db(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed,
            ) => true,
            // PostgreSQL: connection exceptions (08…), shutting down or starting (57P01-57P03).
            StoreError::Db(sqlx::Error::Database(e)) => e
                .code()
                .is_some_and(|c| c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03")),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    reader: AnyPool,
    writer: AnyPool,
    /// The webhook journal: on SQLite a file of its own, so accepting a webhook
    /// never waits for the pipeline's write lock; on PostgreSQL the same pool.
    journal: AnyPool,
    dialect: Dialect,
}

pub type Tx = Transaction<'static, sqlx::Any>;

/// `$first, $first+1, …`: `n` numbered parameters for an `IN (…)` list.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    let mut out = String::with_capacity(n * 5);
    for i in 0..n {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('$');
        out.push_str(&(first + i).to_string());
    }
    out
}

impl Store {
    /// Connects and runs the schema migrations.
    pub async fn open(url: &str, max_connections: u32) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        let store = match dialect {
            Dialect::Sqlite => {
                let url = if url.contains('?') {
                    url.to_string()
                } else {
                    format!("{url}?mode=rwc")
                };
                let options = AnyConnectOptions::from_str(&url)?;
                let pool = |n: u32| {
                    AnyPoolOptions::new()
                        .max_connections(n)
                        .before_acquire(|conn, _meta| Box::pin(async move { Ok(out_of_transaction(conn)) }))
                        .after_connect(|conn, _meta| {
                            Box::pin(async move {
                                // WAL lets readers run beside the writer; FULL makes each
                                // commit durable before we acknowledge anything.
                                conn.execute("PRAGMA journal_mode = WAL").await?;
                                conn.execute("PRAGMA synchronous = FULL").await?;
                                conn.execute("PRAGMA foreign_keys = ON").await?;
                                conn.execute("PRAGMA busy_timeout = 5000").await?;
                                Ok(())
                            })
                        })
                        .connect_with(options.clone())
                };
                let writer = pool(1).await?;
                let reader = pool(max_connections.max(1)).await?;
                sqlx::migrate!("migrations/sqlite").run(&writer).await?;
                let journal_url = journal_file_url(&url);
                let journal = AnyPoolOptions::new()
                    .max_connections(1)
                    .before_acquire(|conn, _meta| Box::pin(async move { Ok(out_of_transaction(conn)) }))
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            conn.execute("PRAGMA busy_timeout = 5000").await?;
                            Ok(())
                        })
                    })
                    .connect_with(AnyConnectOptions::from_str(&journal_url)?)
                    .await?;
                journal::create_sqlite_table(&journal).await?;
                Store {
                    reader,
                    writer,
                    journal,
                    dialect,
                }
            }
            Dialect::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(max_connections.max(2))
                    // A server that is down answers nothing: senders hear "retry" within
                    // seconds instead of waiting out sqlx's 30 s default.
                    .acquire_timeout(std::time::Duration::from_secs(PG_ACQUIRE_TIMEOUT_SECS))
                    .before_acquire(|conn, _meta| Box::pin(async move { Ok(out_of_transaction(conn)) }))
                    .connect(url)
                    .await?;
                sqlx::migrate!("migrations/postgres").run(&pool).await?;
                Store {
                    reader: pool.clone(),
                    journal: pool.clone(),
                    writer: pool,
                    dialect,
                }
            }
        };
        Ok(store)
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn reader(&self) -> &AnyPool {
        &self.reader
    }

    /// A write transaction. On SQLite it takes the write lock up front, so a
    /// transaction that reads then writes is never refused half-way.
    pub async fn begin(&self) -> Result<Tx> {
        let begin = match self.dialect {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        };
        Ok(self.writer.begin_with(begin).await?)
    }

    /// True when a trivial query answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.reader).await.is_ok()
    }

    pub async fn close(&self) {
        self.journal.close().await;
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// How long a PostgreSQL request waits for a connection before it is told the store is unavailable.
const PG_ACQUIRE_TIMEOUT_SECS: u64 = 5;

/// Whether a pooled connection may be handed out: not when sqlx still counts
/// it inside a transaction. A COMMIT that fails because the disk is full can
/// leave SQLite with no transaction while sqlx's count stays at one (the
/// rollback on drop then fails too), and every later `BEGIN` on that
/// connection would be refused: such a connection is closed and a new one
/// opened instead (found by the disk-full test).
fn out_of_transaction(conn: &mut sqlx::AnyConnection) -> bool {
    use sqlx::Connection as _;
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::warn!("a store connection left inside a transaction is closed and replaced");
    }
    clean
}

/// `sqlite://dir/switchyard.db?mode=rwc` → `sqlite://dir/switchyard-journal.db?mode=rwc`.
fn journal_file_url(url: &str) -> String {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let base = path.strip_suffix(".db").unwrap_or(path);
    let journal = format!("{base}-journal.db");
    if query.is_empty() {
        journal
    } else {
        format!("{journal}?{query}")
    }
}
