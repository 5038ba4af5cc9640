//! A customer's data as one archive (tar): `customer.json` (every address of
//! theirs, their profile), one `conversations/<id>.json` per conversation
//! (the conversation, its messages — internal notes only when asked —,
//! participants and attachments), the attachments' bytes under `files/` and
//! the raw mails under `raw/`. Pure but for reading the files it is given.

use std::path::PathBuf;

use serde::Serialize;

/// One conversation as the archive holds it.
#[derive(Debug, Serialize)]
pub struct ConversationExport {
    pub conversation: serde_json::Value,
    pub messages: serde_json::Value,
    pub participants: serde_json::Value,
    pub attachments: serde_json::Value,
}

/// A file to put in the archive: its name there and where its bytes are.
#[derive(Debug, Clone)]
pub struct FileEntry {
    pub name: String,
    pub path: PathBuf,
}

/// What went into the archive, for the audit log.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub conversations: usize,
    pub messages: usize,
    pub files: usize,
    /// Files the store knows of whose bytes are not here (not fetched yet, or gone).
    pub files_missing: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("building the archive: {0}")]
    Archive(#[from] std::io::Error),
    #[error("serialising: {0}")]
    Json(#[from] serde_json::Error),
}

fn append(builder: &mut tar::Builder<Vec<u8>>, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append_data(&mut header, name, bytes)
}

/// A name safe inside the archive: no directories, no control characters.
pub fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').trim();
    if cleaned.is_empty() {
        "file".into()
    } else {
        cleaned.chars().take(120).collect()
    }
}

/// The archive; files whose bytes cannot be read are counted as missing.
pub fn archive(
    customer: &serde_json::Value,
    conversations: &[(i64, ConversationExport)],
    files: &[FileEntry],
) -> Result<(Vec<u8>, Counts), ExportError> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut counts = Counts::default();
    append(&mut builder, "customer.json", &serde_json::to_vec_pretty(customer)?)?;
    for (id, c) in conversations {
        counts.conversations += 1;
        counts.messages += c.messages.as_array().map_or(0, Vec::len);
        append(
            &mut builder,
            &format!("conversations/{id}.json"),
            &serde_json::to_vec_pretty(c)?,
        )?;
    }
    for f in files {
        match std::fs::read(&f.path) {
            Ok(bytes) => {
                append(&mut builder, &f.name, &bytes)?;
                counts.files += 1;
            }
            Err(_) => counts.files_missing += 1,
        }
    }
    Ok((builder.into_inner()?, counts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_lists_what_it_holds_and_counts_what_it_could_not_read() {
        let dir = std::env::temp_dir().join(format!("sy-export-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let photo = dir.join("photo");
        let _ = std::fs::write(&photo, b"bytes");
        let conversation = ConversationExport {
            conversation: serde_json::json!({"id": 7}),
            messages: serde_json::json!([{"body": "a"}, {"body": "b"}]),
            participants: serde_json::json!([]),
            attachments: serde_json::json!([]),
        };
        let files = vec![
            FileEntry {
                name: "files/1-photo.jpg".into(),
                path: photo,
            },
            FileEntry {
                name: "files/2-gone.jpg".into(),
                path: dir.join("nothing-here"),
            },
        ];
        let (bytes, counts) = archive(&serde_json::json!({"addresses": ["a@x"]}), &[(7, conversation)], &files)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            counts,
            Counts {
                conversations: 1,
                messages: 2,
                files: 1,
                files_missing: 1
            }
        );
        let mut names = Vec::new();
        let mut reader = tar::Archive::new(bytes.as_slice());
        for entry in reader.entries().unwrap_or_else(|e| panic!("{e}")) {
            let entry = entry.unwrap_or_else(|e| panic!("{e}"));
            names.push(entry.path().map(|p| p.display().to_string()).unwrap_or_default());
        }
        assert_eq!(names, ["customer.json", "conversations/7.json", "files/1-photo.jpg"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn names_cannot_climb_out_of_the_archive() {
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name("..."), "file");
        assert_eq!(safe_name("photo\n1.jpg"), "photo_1.jpg");
    }
}
