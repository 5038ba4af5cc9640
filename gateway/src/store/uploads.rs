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

/// Uploads `owner_key` made since `since`.
pub async fn count_since(conn: &mut AnyConnection, owner_key: &str, since: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM uploads WHERE owner_key = $1 AND created_at >= $2")
            .bind(owner_key)
            .bind(since)
            .fetch_one(conn)
            .await?,
    )
}

/// Deletes uploads made before `before` (a message that carried one holds its
/// own attachment row) and returns the blobs they named.
pub async fn expire(conn: &mut AnyConnection, before: i64, limit: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "DELETE FROM uploads WHERE id IN (SELECT id FROM uploads WHERE created_at < $1 ORDER BY created_at LIMIT $2) \
         RETURNING sha256",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Whether anything still names the blob: an upload, an attachment, a raw mail.
pub async fn blob_referenced(conn: &mut AnyConnection, sha256: &str) -> Result<bool> {
    let raw_ref = format!("sha256:{sha256}");
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM uploads WHERE sha256 = $1 \
         UNION ALL SELECT 1 FROM attachments WHERE sha256 = $1 \
         UNION ALL SELECT 1 FROM messages WHERE raw_ref = $2 LIMIT 1",
    )
    .bind(sha256)
    .bind(raw_ref)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}
