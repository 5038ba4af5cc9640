//! `switchyard backup DEST` and `switchyard restore SRC`: a consistent copy of
//! the embedded store and the attachment files, taken while the gateway runs.
//!
//! The store is copied with SQLite's `VACUUM INTO`, which reads one snapshot
//! of the database in a read transaction: the gateway keeps writing (WAL) and
//! the copy holds exactly what was committed when it began. The webhook
//! journal is a database of its own and is copied the same way. Attachment
//! files are named by their content and never change, so they are copied
//! after the snapshot: every file the snapshot names was written before its
//! row was committed. A file erased in between (retention, erasure) is listed
//! in the manifest as missing rather than failing the backup. The manifest
//! (`manifest.json`) is written last; a directory without one is not a backup.
//!
//! PostgreSQL is backed up with its own tools (`pg_dump`, point-in-time
//! recovery); the blob directory is copied beside it (README).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

/// The databases of a data directory, in the order they are copied.
const DATABASES: [&str; 2] = ["switchyard.db", "switchyard-journal.db"];
const MANIFEST: &str = "manifest.json";
/// Raised when the layout of a backup changes.
const FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: u32,
    pub gateway_version: String,
    pub created_ms: i64,
    /// Each database copied, with its SHA-256.
    pub databases: Vec<DatabaseCopy>,
    /// Attachment files copied, and their bytes.
    pub blobs: u64,
    pub blob_bytes: u64,
    /// Files the snapshot names that were gone when the copy reached them.
    pub missing_blobs: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DatabaseCopy {
    pub file: String,
    pub sha256: String,
    pub bytes: u64,
}

/// Takes a backup of `data_dir` into `dest` (absent or empty).
pub async fn backup(data_dir: &Path, dest: &Path, now_ms: i64) -> anyhow::Result<Manifest> {
    let store = data_dir.join(DATABASES[0]);
    if !store.is_file() {
        bail!(
            "{} has no embedded store ({}); a PostgreSQL store is backed up with pg_dump",
            data_dir.display(),
            DATABASES[0]
        );
    }
    ensure_empty(dest, "backup destination")?;
    std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;

    let mut databases = Vec::new();
    for name in DATABASES {
        let source = data_dir.join(name);
        if !source.is_file() {
            continue;
        }
        let target = dest.join(name);
        snapshot(&source, &target).await?;
        let (sha256, bytes) = file_digest(&target).await?;
        databases.push(DatabaseCopy {
            file: name.to_string(),
            sha256,
            bytes,
        });
    }

    let referenced = referenced_blobs(&dest.join(DATABASES[0])).await?;
    let (from, to) = (data_dir.join("blobs"), dest.join("blobs"));
    let copied = tokio::task::spawn_blocking(move || copy_blobs(&from, &to, &referenced))
        .await
        .context("copying attachment files")??;

    let manifest = Manifest {
        format: FORMAT,
        gateway_version: env!("CARGO_PKG_VERSION").to_string(),
        created_ms: now_ms,
        databases,
        blobs: copied.files,
        blob_bytes: copied.bytes,
        missing_blobs: copied.missing,
    };
    write_manifest(dest, &manifest)?;
    Ok(manifest)
}

/// Restores the backup in `src` into `data_dir` (absent or empty): every
/// database is checked against the manifest's digest and SQLite's integrity
/// check before anything is written to `data_dir`.
pub async fn restore(src: &Path, data_dir: &Path) -> anyhow::Result<Manifest> {
    let manifest = read_manifest(src)?;
    if manifest.format != FORMAT {
        bail!(
            "backup format {} is not the one this gateway reads ({FORMAT})",
            manifest.format
        );
    }
    for db in &manifest.databases {
        if !DATABASES.contains(&db.file.as_str()) {
            bail!("the manifest names an unknown database {:?}", db.file);
        }
        let path = src.join(&db.file);
        let (sha256, _) = file_digest(&path)
            .await
            .with_context(|| format!("reading {}", path.display()))?;
        if sha256 != db.sha256 {
            bail!("{} does not match the manifest: the backup is damaged", path.display());
        }
        integrity_check(&path).await?;
    }
    ensure_empty(data_dir, "data directory to restore into")?;
    // Everything is copied to a staging directory first and moved into place
    // (renames) only once all of it is there: an interrupted copy leaves the
    // data directory with nothing but `.restoring`, which a new restore refuses.
    let staging = data_dir.join(".restoring");
    std::fs::create_dir_all(&staging).with_context(|| format!("creating {}", staging.display()))?;
    for db in &manifest.databases {
        tokio::fs::copy(src.join(&db.file), staging.join(&db.file))
            .await
            .with_context(|| format!("copying {}", db.file))?;
    }
    let (from, to) = (src.join("blobs"), staging.join("blobs"));
    tokio::task::spawn_blocking(move || copy_tree(&from, &to))
        .await
        .context("copying attachment files")??;
    for entry in std::fs::read_dir(&staging)? {
        let entry = entry?;
        std::fs::rename(entry.path(), data_dir.join(entry.file_name()))
            .with_context(|| format!("moving {} into place", entry.path().display()))?;
    }
    std::fs::remove_dir(&staging).with_context(|| format!("removing {}", staging.display()))?;
    Ok(manifest)
}

/// A directory that may receive a backup or a restore: absent or empty.
fn ensure_empty(dir: &Path, what: &str) -> anyhow::Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if let Some(entry) = entries.next() {
                let entry = entry?;
                bail!(
                    "the {what} {} is not empty ({} is there); choose an empty directory",
                    dir.display(),
                    entry.file_name().to_string_lossy()
                );
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("reading {}", dir.display())),
    }
}

async fn open(path: &Path, read_only: bool) -> anyhow::Result<SqliteConnection> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .busy_timeout(std::time::Duration::from_secs(30));
    SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("opening {}", path.display()))
}

/// One consistent copy of a live database.
async fn snapshot(source: &Path, target: &Path) -> anyhow::Result<()> {
    let mut conn = open(source, true).await?;
    let target_name = target.to_str().context("the backup path is not UTF-8")?;
    sqlx::query("VACUUM INTO ?")
        .bind(target_name)
        .execute(&mut conn)
        .await
        .with_context(|| format!("copying {} to {}", source.display(), target.display()))?;
    conn.close().await.ok();
    Ok(())
}

async fn integrity_check(path: &Path) -> anyhow::Result<()> {
    let mut conn = open(path, true).await?;
    let rows: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .with_context(|| format!("checking {}", path.display()))?;
    conn.close().await.ok();
    match rows.as_slice() {
        [(ok,)] if ok == "ok" => Ok(()),
        _ => bail!(
            "{} fails SQLite's integrity check: {}",
            path.display(),
            rows.iter().map(|(r,)| r.as_str()).collect::<Vec<_>>().join("; ")
        ),
    }
}

/// The attachment files a store names: attachments, uploads and raw mails.
async fn referenced_blobs(store: &Path) -> anyhow::Result<Vec<String>> {
    let mut conn = open(store, true).await?;
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT sha256 FROM attachments WHERE sha256 IS NOT NULL \
         UNION SELECT sha256 FROM uploads \
         UNION SELECT substr(raw_ref, 8) FROM messages WHERE raw_ref LIKE 'sha256:%'",
    )
    .fetch_all(&mut conn)
    .await
    .context("listing the attachment files the store names")?;
    conn.close().await.ok();
    Ok(rows.into_iter().map(|(s,)| s).collect())
}

async fn file_digest(path: &Path) -> anyhow::Result<(String, u64)> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        let mut hasher = Sha256::new();
        let bytes = std::io::copy(&mut file, &mut hasher)?;
        Ok((hex::encode(hasher.finalize()), bytes))
    })
    .await
    .context("hashing a database copy")?
}

struct Copied {
    files: u64,
    bytes: u64,
    missing: Vec<String>,
}

/// Copies the blob directory (not its `tmp/` of unfinished uploads) and
/// tells which of `referenced` were not there.
fn copy_blobs(from: &Path, to: &Path, referenced: &[String]) -> anyhow::Result<Copied> {
    let (files, bytes) = copy_tree(from, to)?;
    let missing = referenced
        .iter()
        .filter(|sha| !blob_path(to, sha).is_file())
        .cloned()
        .collect();
    Ok(Copied { files, bytes, missing })
}

/// `blobs/ab/abcdef…`, as `Blobs` lays them out.
fn blob_path(root: &Path, sha256: &str) -> PathBuf {
    root.join(sha256.get(..2).unwrap_or("__")).join(sha256)
}

/// Copies a directory tree, leaving out `tmp/`; (files, bytes).
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<(u64, u64)> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    let entries = match std::fs::read_dir(from) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(e) => return Err(e).with_context(|| format!("reading {}", from.display())),
    };
    let (mut files, mut bytes) = (0, 0);
    for entry in entries {
        let entry = entry?;
        let kind = entry.file_type()?;
        let name = entry.file_name();
        if kind.is_dir() {
            if name == "tmp" {
                continue;
            }
            let (f, b) = copy_tree(&entry.path(), &to.join(&name))?;
            files += f;
            bytes += b;
        } else if kind.is_file() {
            match std::fs::copy(entry.path(), to.join(&name)) {
                Ok(n) => {
                    files += 1;
                    bytes += n;
                }
                // Erased between the listing and the copy: reported as missing if named.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("copying {}", entry.path().display())),
            }
        }
    }
    Ok((files, bytes))
}

fn write_manifest(dest: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let tmp = dest.join(format!("{MANIFEST}.tmp"));
    std::fs::write(&tmp, serde_json::to_vec_pretty(manifest)?).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, dest.join(MANIFEST)).context("naming the manifest")?;
    Ok(())
}

fn read_manifest(src: &Path) -> anyhow::Result<Manifest> {
    let path = src.join(MANIFEST);
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "{} is not a backup: no {MANIFEST} (an interrupted backup has none)",
            src.display()
        )
    })?;
    serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_absent_or_empty_directory_is_accepted() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        assert!(ensure_empty(&dir.path().join("absent"), "x").is_ok());
        assert!(ensure_empty(dir.path(), "x").is_ok());
        std::fs::write(dir.path().join("switchyard.db"), b"")?;
        let Err(e) = ensure_empty(dir.path(), "data directory") else {
            panic!("a non-empty directory was accepted")
        };
        assert!(e.to_string().contains("switchyard.db"), "{e}");
        Ok(())
    }

    #[test]
    fn the_blob_tree_is_copied_without_unfinished_uploads() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let from = dir.path().join("blobs");
        std::fs::create_dir_all(from.join("ab"))?;
        std::fs::create_dir_all(from.join("tmp"))?;
        std::fs::write(from.join("ab").join("abcd"), b"photo")?;
        std::fs::write(from.join("tmp").join("partial"), b"half")?;
        let to = dir.path().join("copy");
        let copied = copy_blobs(&from, &to, &["abcd".into(), "ab99".into()])?;
        assert_eq!((copied.files, copied.bytes), (1, 5));
        assert_eq!(copied.missing, vec!["ab99".to_string()]);
        assert!(!to.join("tmp").exists());
        Ok(())
    }
}
