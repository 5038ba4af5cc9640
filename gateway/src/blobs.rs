//! Content-addressed file storage under the data directory: `blobs/ab/abcdef…`
//! named by sha256, so the same photo sent twice is stored once.

use std::path::{Path, PathBuf};

use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("file is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("upload was interrupted: {0}")]
    Interrupted(String),
    #[error("storage error: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub sha256: String,
    pub size: u64,
}

#[derive(Clone)]
pub struct Blobs {
    root: PathBuf,
}

impl Blobs {
    pub fn open(data_dir: &Path) -> std::io::Result<Self> {
        let root = data_dir.join("blobs");
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(Blobs { root })
    }

    /// Streams bytes to disk, refusing past `limit`; the file is synced before it is named.
    pub async fn put_stream<S, B, E>(&self, mut body: S, limit: usize) -> Result<StoredBlob, BlobError>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let tmp = self.root.join("tmp").join(random_name());
        let result = async {
            let mut file = tokio::fs::File::create(&tmp).await?;
            let mut hasher = Sha256::new();
            let mut size: usize = 0;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| BlobError::Interrupted(e.to_string()))?;
                let chunk = chunk.as_ref();
                size += chunk.len();
                if size > limit {
                    return Err(BlobError::TooLarge { limit });
                }
                hasher.update(chunk);
                file.write_all(chunk).await?;
            }
            file.sync_all().await?;
            Ok((hex::encode(hasher.finalize()), size))
        }
        .await;
        let (sha256, size) = match result {
            Ok(v) => v,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(e);
            }
        };
        let dest = self.path_for(&sha256);
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::rename(&tmp, &dest).await?;
        Ok(StoredBlob {
            sha256,
            size: u64::try_from(size).unwrap_or(u64::MAX),
        })
    }

    pub async fn put_bytes(&self, bytes: &[u8], limit: usize) -> Result<StoredBlob, BlobError> {
        let stream = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(bytes)]);
        self.put_stream(stream, limit).await
    }

    /// Where a blob lives, if the name is a well-formed sha256.
    pub fn path(&self, sha256: &str) -> Option<PathBuf> {
        let ok = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| self.path_for(sha256))
    }

    /// Whether the file still holds what its name says (its SHA-256): a disk
    /// error or a hand that edited it shows here, before the file is served.
    pub async fn intact(&self, sha256: &str) -> std::io::Result<bool> {
        let path = self
            .path(sha256)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "not a blob name"))?;
        let expected = sha256.to_string();
        tokio::task::spawn_blocking(move || {
            let mut file = std::fs::File::open(&path)?;
            let mut hasher = Sha256::new();
            std::io::copy(&mut file, &mut hasher)?;
            Ok(hex::encode(hasher.finalize()) == expected)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Removes the blob if its file was last written before `before_ms` (unix
    /// ms); whether it did. Storing the same content again renews the file, so
    /// a blob being reused is never removed under its new owner.
    pub async fn remove_if_written_before(&self, sha256: &str, before_ms: i64) -> bool {
        let Some(path) = self.path(sha256) else {
            return false;
        };
        let written_ms = tokio::fs::metadata(&path)
            .await
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| i64::try_from(d.as_millis()).ok());
        written_ms.is_some_and(|w| w < before_ms) && tokio::fs::remove_file(&path).await.is_ok()
    }

    fn path_for(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2]).join(sha256)
    }
}

fn random_name() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_by_content_and_enforces_the_limit() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let blobs = Blobs::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let a = blobs.put_bytes(b"photo", 100).await.ok();
        let b = blobs.put_bytes(b"photo", 100).await.ok();
        assert!(a.is_some());
        assert_eq!(a, b);
        let sha = a.map(|a| a.sha256).unwrap_or_default();
        assert!(blobs.path(&sha).is_some_and(|p| p.exists()));
        assert!(matches!(
            blobs.put_bytes(&[0u8; 101], 100).await,
            Err(BlobError::TooLarge { .. })
        ));
        assert!(blobs.path("../etc/passwd").is_none());
    }
}
