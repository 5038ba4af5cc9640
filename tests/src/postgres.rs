//! A fresh PostgreSQL database per test, on the server named by
//! `SWITCHYARD_TEST_PG` (default: the local server, `postgres` user, trust auth).
//! No server is a test failure, never a skip.

use anyhow::Context;
use rand::Rng;
use sqlx::{Connection, Executor, PgConnection};

pub const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

pub struct TestDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> anyhow::Result<TestDatabase> {
        let admin_url = std::env::var("SWITCHYARD_TEST_PG").unwrap_or_else(|_| DEFAULT_PG.to_string());
        let name = format!("sy_test_{:016x}", rand::thread_rng().r#gen::<u64>());
        let mut conn = PgConnection::connect(&admin_url)
            .await
            .with_context(|| format!("PostgreSQL at {admin_url} (set SWITCHYARD_TEST_PG) is required by this test"))?;
        conn.execute(format!("CREATE DATABASE {name}").as_str()).await?;
        let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin_url);
        let url = format!("{base}/{name}");
        Ok(TestDatabase { admin_url, name, url })
    }

    pub async fn drop_database(self) -> anyhow::Result<()> {
        let mut conn = PgConnection::connect(&self.admin_url).await?;
        conn.execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
            .await?;
        Ok(())
    }
}
