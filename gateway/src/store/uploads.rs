//! Files a visitor uploaded before sending the message that carries them.

use sqlx::{AnyConnection, FromRow};

use super::Result;

#[derive(Debug, Clone, FromRow)]
pub struct UploadRow {
    pub id: String,
    pub sha256: String,
    pub size: i64,
    pub content_type: String,
    pub name: Option<String>,
}

pub struct NewUpload<'a> {
    pub id: &'a str,
    pub owner_key: &'a str,
    pub sha256: &'a str,
    pub size: i64,
    pub content_type: &'a str,
    pub name: Option<&'a str>,
    pub now: i64,
}

pub async fn insert(conn: &mut AnyConnection, u: &NewUpload<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO uploads (id, owner_key, sha256, size, content_type, name, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(u.id)
    .bind(u.owner_key)
    .bind(u.sha256)
    .bind(u.size)
    .bind(u.content_type)
    .bind(u.name)
    .bind(u.now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The upload, only if the same visitor made it.
pub async fn owned(conn: &mut AnyConnection, id: &str, owner_key: &str) -> Result<Option<UploadRow>> {
    Ok(
        sqlx::query_as("SELECT id, sha256, size, content_type, name FROM uploads WHERE id = $1 AND owner_key = $2")
            .bind(id)
            .bind(owner_key)
            .fetch_optional(conn)
            .await?,
    )
}
