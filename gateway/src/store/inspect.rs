//! A look at a store without changing it, for `switchyard doctor`: which
//! backend answers and how far its schema is, migrations not run.

use std::str::FromStr;

use sqlx::AnyConnection;
use sqlx::Connection;
use sqlx::any::AnyConnectOptions;

use super::{Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// `sqlite <path>` or `postgresql`.
    pub backend: String,
    /// False: an embedded store not created yet (the first start does).
    pub exists: bool,
    /// Migrations recorded as applied in the store.
    pub applied: usize,
    /// Migrations this version of the gateway carries.
    pub known: usize,
}

impl Store {
    pub async fn inspect(url: &str) -> Result<Inspection> {
        sqlx::any::install_default_drivers();
        let (backend, known, connect_url) = if let Some(path) = url.strip_prefix("sqlite://") {
            let file = path.split('?').next().unwrap_or_default();
            let known = sqlx::migrate!("migrations/sqlite").migrations.len();
            if !std::path::Path::new(file).exists() {
                return Ok(Inspection {
                    backend: format!("sqlite {file}"),
                    exists: false,
                    applied: 0,
                    known,
                });
            }
            // Read-only: a doctor never creates or changes the file.
            (format!("sqlite {file}"), known, format!("sqlite://{file}?mode=ro"))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let known = sqlx::migrate!("migrations/postgres").migrations.len();
            ("postgresql".to_string(), known, url.to_string())
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        let options = AnyConnectOptions::from_str(&connect_url)?;
        let mut conn = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            AnyConnection::connect_with(&options),
        )
        .await
        .map_err(|_| StoreError::Db(sqlx::Error::PoolTimedOut))??;
        let table: Option<i64> = sqlx::query_scalar(if backend == "postgresql" {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = '_sqlx_migrations'"
        } else {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
        })
        .fetch_optional(&mut conn)
        .await?;
        let applied: i64 = if table.unwrap_or(0) > 0 {
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&mut conn)
                .await?
        } else {
            0
        };
        let _ = conn.close().await;
        Ok(Inspection {
            backend,
            exists: true,
            applied: usize::try_from(applied).unwrap_or(0),
            known,
        })
    }
}
