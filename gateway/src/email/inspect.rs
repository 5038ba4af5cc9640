//! `switchyard email inspect FILE`: the normalised message as JSON, so an admin
//! can see why a mail was threaded, acknowledged or not.

use std::io::Write;

use anyhow::Context;

use super::prepare::{MailSettings, normalised};
use crate::config::EmailConfig;

pub fn inspect(raw: &[u8], config: &EmailConfig, out: &mut impl Write) -> anyhow::Result<()> {
    // A mail saved from an mbox starts with a "From " envelope line that is not a header.
    let raw = match raw.strip_prefix(b"From ") {
        Some(rest) => rest.iter().position(|b| *b == b'\n').map_or(raw, |i| &rest[i + 1..]),
        None => raw,
    };
    let own = config.own_addresses();
    let mail = normalised(
        raw,
        &MailSettings {
            endpoint: "inspect",
            own_addresses: &own,
            loop_id: &config.loop_id,
            max_attachment_bytes: config.max_attachment_bytes,
        },
    );
    serde_json::to_writer_pretty(&mut *out, &mail).context("writing JSON")?;
    writeln!(out).context("writing JSON")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mbox_envelope_line_is_skipped() {
        let raw = b"From someone@x Mon Nov 23 08:00:00 2026\nFrom: A <a@x.test>\nSubject: Hi\n\nbody\n";
        let mut out = Vec::new();
        assert!(inspect(raw, &EmailConfig::default(), &mut out).is_ok());
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
        assert_eq!(v["from"]["address"], "a@x.test");
        assert_eq!(v["subject"], "Hi");
        assert_eq!(v["text"], "body");
        assert_eq!(v["auto"]["flags"]["bounce"], false);
    }
}
