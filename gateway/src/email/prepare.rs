//! Raw mail → pipeline message: normalise, keep the raw bytes and every
//! attachment content-addressed, and point the message at them.

use channels::email::{Normalised, Options, Own, normalise};
use channels::{AttachmentRef, AttachmentSource, Inbound};

use crate::blobs::{BlobError, Blobs};

/// The message for the pipeline and what the normaliser noticed.
pub struct Prepared {
    pub inbound: Inbound,
    pub warnings: Vec<String>,
}

pub struct MailSettings<'a> {
    pub endpoint: &'a str,
    pub own_addresses: &'a [String],
    pub loop_id: &'a str,
    pub max_attachment_bytes: usize,
}

pub fn normalised(raw: &[u8], s: &MailSettings<'_>) -> Normalised {
    normalise(
        raw,
        &Options {
            own: Own {
                addresses: s.own_addresses,
                loop_value: s.loop_id,
            },
            max_attachment_bytes: s.max_attachment_bytes,
        },
    )
}

/// `oversized`: the mail's size when only its header was downloaded (over `max_mail_bytes`).
pub async fn prepare(
    raw: Vec<u8>,
    oversized: Option<u64>,
    max_mail_bytes: u64,
    s: &MailSettings<'_>,
    blobs: &Blobs,
) -> Result<Prepared, BlobError> {
    // Parsing and sanitising a large mail takes milliseconds of CPU: off the runtime.
    let (own, loop_id, max_attachment_bytes) =
        (s.own_addresses.to_vec(), s.loop_id.to_string(), s.max_attachment_bytes);
    let (mut mail, raw) = tokio::task::spawn_blocking(move || {
        let settings = MailSettings {
            endpoint: "",
            own_addresses: &own,
            loop_id: &loop_id,
            max_attachment_bytes,
        };
        (normalised(&raw, &settings), raw)
    })
    .await
    .map_err(|e| BlobError::Io(std::io::Error::other(format!("parsing the mail: {e}"))))?;
    if let Some(size) = oversized {
        mail.warnings.insert(
            0,
            format!(
                "this mail is {}, over the {} limit: only its headers were read; the whole mail stays on the mail server",
                human_size(size),
                human_size(max_mail_bytes)
            ),
        );
    }
    // The raw message is proof of what arrived; it is never size-limited (of
    // an oversized mail, that is its header).
    let raw_blob = blobs.put_bytes(&raw, usize::MAX).await?;
    let mut stored = Vec::with_capacity(mail.attachments.len());
    for part in mail.attachments.iter().filter(|p| p.kept) {
        let blob = blobs.put_bytes(&part.bytes, usize::MAX).await?;
        stored.push(AttachmentRef {
            name: Some(part.name.clone()),
            content_type: Some(part.content_type.clone()),
            size: Some(blob.size),
            sha256: Some(blob.sha256.clone()),
            source: AttachmentSource::Blob { sha256: blob.sha256 },
            content_id: part.content_id.clone(),
        });
    }
    let warnings = mail.warnings.clone();
    let mut inbound = mail.into_inbound(s.endpoint, stored, Some(format!("sha256:{}", raw_blob.sha256)));
    if !warnings.is_empty() {
        // Shown to agents with the quoted part; triage reads only the new text.
        let note = warnings
            .iter()
            .map(|w| format!("[switchyard] {w}"))
            .collect::<Vec<_>>()
            .join("\n");
        inbound.quoted = Some(match inbound.quoted.take() {
            Some(q) => format!("{note}\n\n{q}"),
            None => note,
        });
    }
    Ok(Prepared { inbound, warnings })
}

/// "64 MB", "20 KB": sizes as an agent reads them.
fn human_size(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if bytes >= MB {
        format!("{} MB", bytes.div_ceil(MB))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}
