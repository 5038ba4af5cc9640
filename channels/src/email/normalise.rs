//! One raw mail → what the pipeline sees: participants, subject, the new text
//! with quoted history and signature set apart, sanitised HTML, attachments,
//! threading hints, automatic-mail flags and the bounce report if it is one.
//! Never fails: a mail that cannot be read is still returned, marked as such,
//! so the mailbox is never blocked and an agent sees the raw message.

use std::borrow::Cow;

use mail_parser::{Address, Message, MessageParser, MimeHeaders, PartType};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::auto::{self, Auto, Own};
use super::{ids, quote, subject};
use crate::inbound::{AttachmentRef, Bounce, ChannelKind, Contact, Inbound, Participant, ThreadHints};

/// One attachment or inline part, with its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MailPart {
    pub name: String,
    pub content_type: String,
    pub size: usize,
    /// `cid:` of an inline image, to map HTML references to the stored file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
    pub inline: bool,
    /// False when the part was over the size limit: only the raw message has it.
    pub kept: bool,
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// The normalised mail; serialised as-is by `switchyard email inspect`.
#[derive(Debug, Clone, Serialize)]
pub struct Normalised {
    /// Unfolded, without brackets; synthesised from the headers when missing.
    pub message_id: String,
    pub message_id_synthesised: bool,
    /// The idempotency key: Message-ID plus a hash of Date, From and Subject,
    /// so a buggy mailer reusing one id for different mails loses nothing.
    pub dedupe_key: String,
    pub from: Participant,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Participant>,
    pub to: Vec<Participant>,
    pub cc: Vec<Participant>,
    pub subject: Option<String>,
    /// What the sender just wrote: quoted history and signature removed.
    pub text: String,
    pub quoted: Option<String>,
    /// The HTML body after sanitising (no script, no event handlers, no styles blocks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    pub attachments: Vec<MailPart>,
    pub thread_hints: ThreadHints,
    pub auto: Auto,
    /// For a bounce: the Message-ID of the returned mail.
    pub bounce_of: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounce: Option<Bounce>,
    /// Unix milliseconds from the Date header.
    pub sent_at: Option<i64>,
    /// What could not be read, for agents and admins.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Options<'a> {
    pub own: Own<'a>,
    /// Attachments larger than this stay in the raw message only.
    pub max_attachment_bytes: usize,
}

pub fn normalise(raw: &[u8], options: &Options<'_>) -> Normalised {
    // mail-parser 0.11 panics on some malformed multipart nestings (fuzzing
    // found one: "Invalid part ID, could not find multipart"). One such mail
    // must not take the mailbox reader down, nor come back on every poll: a
    // panic while reading it makes it an unreadable mail, kept as received.
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        match MessageParser::default().parse(raw) {
            Some(msg) if !msg.headers().is_empty() => Some(from_message(&msg, raw, options)),
            _ => None,
        }
    }));
    match read {
        Ok(Some(normalised)) => normalised,
        Ok(None) => unreadable(raw, "not a readable MIME message"),
        Err(_) => unreadable(raw, "the MIME parser failed on this message's structure"),
    }
}

fn from_message(msg: &Message<'_>, raw: &[u8], options: &Options<'_>) -> Normalised {
    let mut warnings = Vec::new();
    let from = msg
        .from()
        .and_then(first)
        .filter(|p| !p.address.starts_with('@'))
        .or_else(|| msg.header_raw("From").and_then(lenient_address))
        .unwrap_or_else(|| {
            // No usable From: whoever a reply would reach.
            warnings.push("no usable From address".to_string());
            msg.reply_to()
                .and_then(first)
                .or_else(|| msg.sender().and_then(first))
                .or_else(|| {
                    msg.return_address().map(|a| Participant {
                        address: a.to_lowercase(),
                        name: None,
                    })
                })
                .unwrap_or_default()
        });
    let header_block = raw.get(..msg.root_part().raw_body_offset() as usize).unwrap_or(raw);
    let (message_id, synthesised) = match msg.header_raw("Message-ID").and_then(ids::parse_one) {
        Some(id) => (id, false),
        // The same headers give the same id, so a redelivery still dedupes.
        None => (
            format!("{}@switchyard.missing-id", &sha256_hex(header_block)[..32]),
            true,
        ),
    };
    let fingerprint = [
        msg.header_raw("Date").unwrap_or_default(),
        msg.header_raw("From").unwrap_or_default(),
        msg.header_raw("Subject").unwrap_or_default(),
    ]
    .join("\n");
    let dedupe_key = format!("{message_id}#{}", &sha256_hex(fingerprint.as_bytes())[..12]);

    let subject = msg.subject().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let (auto, bounce) = auto::detect(msg, &from.address, &options.own);

    let (mut text, quoted, html) = bodies(msg);
    let mut attachments = Vec::new();
    for (n, part) in msg.attachments().enumerate() {
        attachments.push(attachment(part, n, options.max_attachment_bytes));
    }
    // Forwarded as an attachment with nothing around it: the inner mail is the content.
    if text.trim().is_empty()
        && let Some(inner) = msg.attachments().find_map(|p| match &p.body {
            PartType::Message(m) => Some(m),
            _ => None,
        })
    {
        let (inner_text, _, _) = bodies(inner);
        text = inner_text;
    }
    // Headers and nothing else (a mail cut short in transit, or sent empty):
    // an agent must see that, not an empty message.
    let nothing = text.trim().is_empty()
        && html.as_deref().is_none_or(|h| h.trim().is_empty())
        && attachments.is_empty()
        && subject.as_deref().is_none_or(|s| s.trim().is_empty());
    if nothing {
        warnings.push("no subject, text or attachment: an empty or truncated mail".to_string());
    }
    for a in attachments.iter().filter(|a| !a.kept) {
        warnings.push(format!(
            "attachment {:?} ({} bytes) is over the {} byte limit: kept in the raw message only",
            a.name, a.size, options.max_attachment_bytes
        ));
    }

    let mut references = msg.header_raw("References").map(ids::parse_list).unwrap_or_default();
    let mut in_reply_to = msg.header_raw("In-Reply-To").map(ids::parse_list).unwrap_or_default();
    let bounce_of = bounce.as_ref().and_then(|b| b.original_message_id.clone());
    // A bounce belongs with the mail it returns.
    if let Some(id) = &bounce_of
        && !in_reply_to.contains(id)
    {
        in_reply_to.insert(0, id.clone());
    }
    references.retain(|r| !in_reply_to.contains(r));
    let thread_hints = ThreadHints {
        in_reply_to,
        references,
        ticket_tag: subject
            .as_deref()
            .and_then(subject::ticket_tag)
            .map(|n| format!("{}-{n}", subject::TAG_PREFIX)),
        ..Default::default()
    };

    Normalised {
        message_id,
        message_id_synthesised: synthesised,
        dedupe_key,
        reply_to: msg.reply_to().and_then(first).filter(|r| r.address != from.address),
        from,
        to: msg.to().map(all).unwrap_or_default(),
        cc: msg.cc().map(all).unwrap_or_default(),
        subject,
        text,
        quoted,
        html,
        attachments,
        thread_hints,
        auto,
        bounce_of,
        bounce,
        sent_at: msg.date().map(|d| d.to_timestamp() * 1000),
        warnings,
    }
}

/// New text, quoted rest and sanitised HTML.
fn bodies(msg: &Message<'_>) -> (String, Option<String>, Option<String>) {
    let html_raw: Option<Cow<'_, str>> = msg.html_bodies().find_map(|p| match &p.body {
        PartType::Html(h) => Some(h.clone()),
        _ => None,
    });
    let plain: Vec<Cow<'_, str>> = msg
        .text_bodies()
        .filter_map(|p| match &p.body {
            PartType::Text(t) => Some(
                mislabelled_utf8(msg, p)
                    .map(Cow::Owned)
                    .unwrap_or(Cow::Borrowed(t.as_ref())),
            ),
            _ => None,
        })
        .collect();
    let split = if !plain.is_empty() {
        quote::split_text(&plain.join("\n\n"))
    } else if let Some(html) = &html_raw {
        // HTML only: cut at the client's quote marker first, then read it as text.
        match quote::cut_html(html) {
            Some(new_html) => {
                let new = quote::split_text(&mail_parser::decoders::html::html_to_text(new_html));
                let rest = html.get(new_html.len()..).unwrap_or_default();
                let rest_text = mail_parser::decoders::html::html_to_text(rest);
                let quoted = [new.quoted.unwrap_or_default(), rest_text.trim().to_string()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n");
                if new.new.is_empty() {
                    quote::split_text(&mail_parser::decoders::html::html_to_text(html))
                } else {
                    quote::Split {
                        new: new.new,
                        quoted: Some(quoted).filter(|q| !q.is_empty()),
                    }
                }
            }
            None => quote::split_text(&mail_parser::decoders::html::html_to_text(html)),
        }
    } else {
        quote::Split {
            new: String::new(),
            quoted: None,
        }
    };
    let html = html_raw.map(|h| sanitize_html(&h)).filter(|h| !h.trim().is_empty());
    (split.new, split.quoted, html)
}

/// Mail HTML made safe to show: no script, no event handlers, no forms or
/// frames, links marked `noopener noreferrer`. `cid:` references are kept so
/// the inbox can point them at the stored inline parts. Used when a mail is
/// stored and again when it is served, so HTML stored by an older version is
/// never shown raw.
pub fn sanitize_html(html: &str) -> String {
    ammonia::Builder::default()
        .add_url_schemes(&["cid"])
        .clean(html)
        .to_string()
}

/// Whether a Content-ID is made only of characters an RFC 5322 msg-id can
/// hold without quoting. Anything else (quotes, spaces, angle brackets) is
/// refused before it can come near markup.
pub fn is_safe_content_id(cid: &str) -> bool {
    !cid.is_empty()
        && cid.len() <= 250
        && cid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.@".contains(&b))
}

/// [`sanitize_html`] for display, with each `cid:` image source replaced by
/// `resolve(content_id)` *inside* the sanitiser: the URL comes back as an
/// attribute value ammonia escapes, never as text spliced into its output.
/// A `cid:` that does not resolve loses its `src`.
pub fn sanitize_html_resolving_cid<F>(html: &str, resolve: F) -> String
where
    F: Fn(&str) -> Option<String> + Send + Sync + 'static,
{
    ammonia::Builder::default()
        .add_url_schemes(&["cid"])
        .attribute_filter(move |element, attribute, value| {
            let Some(cid) = value.strip_prefix("cid:") else {
                return Some(value.into());
            };
            if element != "img" || attribute != "src" || !is_safe_content_id(cid) {
                return None;
            }
            resolve(cid).map(Into::into)
        })
        .clean(html)
        .to_string()
}

/// A part labelled US-ASCII (or unlabelled) and sent 8-bit whose bytes are
/// valid UTF-8: common, non-conformant, and better read as UTF-8 than as mojibake.
fn mislabelled_utf8(msg: &Message<'_>, part: &mail_parser::MessagePart<'_>) -> Option<String> {
    let charset = part.content_type().and_then(|ct| ct.attribute("charset"));
    if !charset.is_none_or(|c| c.eq_ignore_ascii_case("us-ascii") || c.eq_ignore_ascii_case("ascii")) {
        return None;
    }
    let encoding = part.content_transfer_encoding().unwrap_or("7bit");
    if !(encoding.eq_ignore_ascii_case("8bit")
        || encoding.eq_ignore_ascii_case("7bit")
        || encoding.eq_ignore_ascii_case("binary"))
    {
        return None;
    }
    let raw = msg
        .raw_message()
        .get(part.raw_body_offset() as usize..part.raw_end_offset() as usize)?;
    if raw.is_ascii() {
        return None;
    }
    std::str::from_utf8(raw).ok().map(str::to_string)
}

fn attachment(part: &mail_parser::MessagePart<'_>, n: usize, limit: usize) -> MailPart {
    let (ctype, bytes): (String, Cow<'_, [u8]>) = match &part.body {
        PartType::Message(inner) => ("message/rfc822".into(), Cow::Borrowed(inner.raw_message())),
        _ => (
            part.content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
                    None => ct.ctype().to_ascii_lowercase(),
                })
                .unwrap_or_else(|| "application/octet-stream".into()),
            Cow::Borrowed(part.contents()),
        ),
    };
    let name = part
        .attachment_name()
        .map(|s| s.replace(['/', '\\', '\0'], "_"))
        .filter(|s| !s.trim().is_empty())
        .or_else(|| match &part.body {
            PartType::Message(inner) => inner.subject().map(|s| format!("{}.eml", s.replace(['/', '\\'], "_"))),
            _ => None,
        })
        // Lotus Notes and others send inline images with no name at all.
        .unwrap_or_else(|| format!("part-{}.{}", n + 1, extension(&ctype)));
    let size = bytes.len();
    let kept = size <= limit;
    MailPart {
        name,
        content_type: ctype,
        size,
        content_id: part.content_id().map(|c| c.trim_matches(['<', '>']).to_string()),
        inline: part.content_disposition().is_none_or(|d| !d.is_attachment()),
        kept,
        bytes: if kept { bytes.into_owned() } else { Vec::new() },
    }
}

fn extension(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpg",
        "image/gif" => "gif",
        "application/pdf" => "pdf",
        "message/rfc822" => "eml",
        "text/plain" => "txt",
        "text/html" => "html",
        "text/calendar" => "ics",
        "application/ms-tnef" => "dat",
        "message/delivery-status" | "text/rfc822-headers" | "message/rfc822-headers" => "txt",
        _ => "bin",
    }
}

fn participant(a: &mail_parser::Addr<'_>) -> Option<Participant> {
    let address = a.address()?.trim().to_lowercase();
    if address.is_empty() {
        return None;
    }
    Some(Participant {
        address,
        name: a.name().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
    })
}

fn first(a: &Address<'_>) -> Option<Participant> {
    a.iter().find_map(participant)
}

fn all(a: &Address<'_>) -> Vec<Participant> {
    let mut out: Vec<Participant> = Vec::new();
    for p in a.iter().filter_map(participant) {
        if !out.iter().any(|o| o.address == p.address) {
            out.push(p);
        }
    }
    out
}

/// A From header the parser could not read as an address (spam, broken
/// mailers, encoded words inside the address): its `<…>` part or the whole
/// value, encoded words decoded, so agents see what the sender typed.
fn lenient_address(raw: &str) -> Option<Participant> {
    let raw = raw.trim();
    let inner = match (raw.rfind('<'), raw.rfind('>')) {
        (Some(a), Some(b)) if a < b && b > a + 1 => &raw[a + 1..b],
        _ => raw,
    };
    let decoded = decode_words(inner.trim());
    let address: String = decoded.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    (address.contains('@') && !address.starts_with('@')).then_some(Participant { address, name: None })
}

/// RFC 2047 words decoded leniently (the text may contain `?`), for display only.
fn decode_words(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("=?") {
        out.push_str(&rest[..start]);
        let word = &rest[start + 2..];
        let mut parts = word.splitn(3, '?');
        let (Some(_charset), Some(enc), Some(tail)) = (parts.next(), parts.next(), parts.next()) else {
            out.push_str(&rest[start..]);
            return out;
        };
        let Some(end) = tail.rfind("?=") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let text = &tail[..end];
        let bytes = if enc.eq_ignore_ascii_case("b") {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap_or_default()
        } else {
            q_decode(text)
        };
        out.push_str(&String::from_utf8_lossy(&bytes));
        rest = &tail[end + 2..];
    }
    out.push_str(rest);
    out
}

fn q_decode(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'_' => out.push(b' '),
            b'=' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'='),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A mail the parser could not make sense of: kept, and shown to agents as such.
fn unreadable(raw: &[u8], why: &str) -> Normalised {
    let id = format!("{}@switchyard.unreadable", &sha256_hex(raw)[..32]);
    let preview: String = String::from_utf8_lossy(raw).chars().take(4000).collect();
    Normalised {
        dedupe_key: id.clone(),
        message_id: id,
        message_id_synthesised: true,
        from: Participant::default(),
        reply_to: None,
        to: Vec::new(),
        cc: Vec::new(),
        subject: None,
        text: "[This message could not be read as e-mail. The raw message is kept as received.]".into(),
        quoted: Some(preview).filter(|p| !p.trim().is_empty()),
        html: None,
        attachments: Vec::new(),
        thread_hints: ThreadHints::default(),
        auto: Auto::default(),
        bounce_of: None,
        bounce: None,
        sent_at: None,
        warnings: vec![why.to_string()],
    }
}

impl Normalised {
    /// The pipeline's message, once the attachments are stored (`stored` in the same order).
    pub fn into_inbound(self, endpoint: &str, stored: Vec<AttachmentRef>, raw_ref: Option<String>) -> Inbound {
        Inbound {
            channel: ChannelKind::Email,
            endpoint: endpoint.to_string(),
            external_id: self.dedupe_key,
            thread_hints: self.thread_hints,
            contact: Contact {
                name: self.from.name.clone(),
                email: Some(self.from.address.clone()).filter(|a| !a.is_empty()),
                ..Default::default()
            },
            from: self.from,
            to: self.to,
            cc: self.cc,
            subject: self.subject,
            text: self.text,
            quoted: self.quoted,
            html: self.html,
            attachments: stored,
            sent_at: self.sent_at,
            language: None,
            auto: self.auto.flags,
            raw_ref,
            bounce: self.bounce,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cid_sources_resolve_inside_the_sanitiser_and_stay_attribute_values() {
        let resolve = |cid: &str| (cid == "logo@x").then(|| "/files/1".to_string());
        let html =
            r#"<p><img src="cid:logo@x" alt="logo"><img src="cid:X&quot; style=&quot;position:fixed" alt=""></p>"#;
        let clean = sanitize_html_resolving_cid(html, resolve);
        assert!(clean.contains(r#"src="/files/1""#), "{clean}");
        assert!(!clean.contains("style"), "no attribute smuggled in: {clean}");
        assert_eq!(
            clean.matches("src=").count(),
            1,
            "an unresolved cid loses its src: {clean}"
        );
        assert!(is_safe_content_id("part1.0a1b@mail.example"));
        assert!(!is_safe_content_id("X\" alt="));
        assert!(!is_safe_content_id("a b"));
    }

    #[test]
    fn broken_from_headers_still_name_a_sender() {
        let p = |raw: &str| lenient_address(raw).map(|p| p.address);
        assert_eq!(p("=?utf-8?Q?agent?=@example.com").as_deref(), Some("agent@example.com"));
        assert_eq!(
            p("=?utf-8?Q?attacker?Q?agent?=@victim.example").as_deref(),
            Some("attacker?q?agent@victim.example")
        );
        assert_eq!(
            p("\"Big Win\"@example.com>").as_deref(),
            Some("\"big win\"@example.com>")
        );
        assert_eq!(p("Name <>"), None);
        assert_eq!(p("no address"), None);
    }

    #[test]
    fn q_and_b_words_decode() {
        assert_eq!(decode_words("=?UTF-8?Q?J=C3=A9r=C3=B4me_L?= x"), "Jérôme L x");
        assert_eq!(decode_words("=?UTF-8?B?w6k=?="), "é");
        assert_eq!(decode_words("=?broken"), "=?broken");
        assert_eq!(decode_words("trailing ="), "trailing =");
    }
}
