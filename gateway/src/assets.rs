//! The pages, scripts and styles embedded in the binary, compressed once
//! (gzip and brotli) and served by `Accept-Encoding`, with an ETag per file.
//!
//! The inbox's modules live under `/inbox/v/<version>/`, where the version
//! is a digest of all of them: they import each other by relative paths, so
//! one version for the set keeps every import right while any change still
//! yields new URLs, and the files can be cached for a year. The inbox page
//! names that version and is revalidated on every load (304 when unchanged).
//! The widget keeps its one URL (host sites embed it) and is cached for an
//! hour.

use std::sync::LazyLock;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::Digest;

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

/// The inbox's stylesheet and ES modules.
const INBOX_FILES: &[(&str, &str)] = &[
    ("inbox.css", include_str!("../web/inbox/inbox.css")),
    ("api.js", include_str!("../web/inbox/api.js")),
    ("app.js", include_str!("../web/inbox/app.js")),
    ("composer.js", include_str!("../web/inbox/composer.js")),
    ("conversation.js", include_str!("../web/inbox/conversation.js")),
    ("channels.js", include_str!("../web/inbox/channels.js")),
    ("customer.js", include_str!("../web/inbox/customer.js")),
    ("dom.js", include_str!("../web/inbox/dom.js")),
    ("fr.js", include_str!("../web/inbox/fr.js")),
    ("i18n.js", include_str!("../web/inbox/i18n.js")),
    ("knowledge.js", include_str!("../web/inbox/knowledge.js")),
    ("list.js", include_str!("../web/inbox/list.js")),
    ("lists.js", include_str!("../web/inbox/lists.js")),
    ("live.js", include_str!("../web/inbox/live.js")),
    ("machine.js", include_str!("../web/inbox/machine.js")),
    ("mailboxes.js", include_str!("../web/inbox/mailboxes.js")),
    ("privacy.js", include_str!("../web/inbox/privacy.js")),
    ("queues.js", include_str!("../web/inbox/queues.js")),
    ("report.js", include_str!("../web/inbox/report.js")),
    ("reports.js", include_str!("../web/inbox/reports.js")),
    ("rules.js", include_str!("../web/inbox/rules.js")),
    ("search.js", include_str!("../web/inbox/search.js")),
    ("sla.js", include_str!("../web/inbox/sla.js")),
    ("team.js", include_str!("../web/inbox/team.js")),
    ("worth.js", include_str!("../web/inbox/worth.js")),
];

const INBOX_PAGE: &str = include_str!("../web/inbox/index.html");
const DEMO_PAGE: &str = include_str!("../web/index.html");
const DEMO_CSS: &str = include_str!("../web/demo.css");
const WIDGET_JS: &str = include_str!("../web/widget.js");

/// Where the inbox page names its entry points; replaced by versioned URLs.
const INBOX_ENTRY_POINTS: [&str; 2] = ["/inbox/inbox.css", "/inbox/app.js"];

/// One file in every encoding it is served in.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub identity: Bytes,
    pub gzip: Bytes,
    pub brotli: Bytes,
    /// The digest of the content, quoted: one ETag whatever the encoding
    /// (`If-None-Match` is compared weakly), so a cache that asked in gzip
    /// and one that asked in brotli both revalidate.
    pub etag: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Asset {
    fn new(name: &'static str, content_type: &'static str, content: Vec<u8>) -> Asset {
        let digest = hex::encode(sha2::Sha256::digest(&content));
        let gzip = gzip(&content);
        let brotli = brotli(&content);
        Asset {
            name,
            content_type,
            etag: format!("\"{}\"", &digest[..20]),
            identity: Bytes::from(content),
            gzip: Bytes::from(gzip),
            brotli: Bytes::from(brotli),
        }
    }

    pub fn body(&self, encoding: Encoding) -> &Bytes {
        match encoding {
            Encoding::Identity => &self.identity,
            Encoding::Gzip => &self.gzip,
            Encoding::Brotli => &self.brotli,
        }
    }
}

fn gzip(content: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    if encoder.write_all(content).is_err() {
        return content.to_vec();
    }
    encoder.finish().unwrap_or_else(|_| content.to_vec())
}

fn brotli(content: &[u8]) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    let mut out = Vec::new();
    match brotli::BrotliCompress(&mut &content[..], &mut out, &params) {
        Ok(_) => out,
        Err(_) => content.to_vec(),
    }
}

/// The best encoding the client accepts: brotli, then gzip, else none.
/// `q=0` refuses an encoding; `*` stands for those not named.
pub fn negotiate(headers: &HeaderMap) -> Encoding {
    let mut br = None;
    let mut gz = None;
    let mut any = None;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .filter_map(|q| q.trim().parse::<f32>().ok())
                .next()
                .unwrap_or(1.0);
            let accepted = q > 0.0;
            match coding.as_str() {
                "br" => br = Some(accepted),
                "gzip" | "x-gzip" => gz = Some(accepted),
                "*" => any = Some(accepted),
                _ => {}
            }
        }
    }
    if br.or(any) == Some(true) {
        Encoding::Brotli
    } else if gz.or(any) == Some(true) {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// Whether `If-None-Match` names this content (any encoding of it).
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    let bare = etag.trim_matches('"');
    headers.get_all(header::IF_NONE_MATCH).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',').any(|tag| {
                let tag = tag.trim();
                tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == bare
            })
        })
    })
}

/// How long a response may be reused without asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// Pages and unversioned files: revalidated on each load (a 304 is cheap).
    Revalidate,
    /// Versioned URLs: the content of such a URL never changes.
    Immutable,
    /// The widget: a stable URL other sites embed.
    Hour,
}

impl Caching {
    fn header(self) -> &'static str {
        match self {
            Caching::Revalidate => "no-cache",
            Caching::Immutable => "public, max-age=31536000, immutable",
            Caching::Hour => "public, max-age=3600",
        }
    }
}

/// The asset for this request: 304 when the client has it, else the body in
/// the best encoding it accepts (never a compressed body larger than the file).
pub fn respond(asset: &Asset, request: &HeaderMap, caching: Caching) -> Response {
    let mut response = if not_modified(request, &asset.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut encoding = negotiate(request);
        if asset.body(encoding).len() >= asset.identity.len() {
            encoding = Encoding::Identity;
        }
        let mut r = asset.body(encoding).clone().into_response();
        let coding = match encoding {
            Encoding::Identity => None,
            Encoding::Gzip => Some("gzip"),
            Encoding::Brotli => Some("br"),
        };
        if let Some(c) = coding {
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static(c));
        }
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
        r
    };
    let h = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&asset.etag) {
        h.insert(header::ETAG, etag);
    }
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(caching.header()));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}

/// Every embedded file, compressed.
pub struct Assets {
    /// The digest naming this build's inbox modules in their URLs.
    pub inbox_version: String,
    pub inbox_page: Asset,
    pub demo_page: Asset,
    pub demo_css: Asset,
    pub widget: Asset,
    pub inbox: Vec<Asset>,
}

impl Assets {
    fn build() -> Assets {
        let mut digest = sha2::Sha256::new();
        for (name, content) in INBOX_FILES {
            digest.update(name.as_bytes());
            digest.update([0]);
            digest.update(content.as_bytes());
            digest.update([0]);
        }
        let inbox_version = hex::encode(digest.finalize())[..16].to_string();
        let mut page = INBOX_PAGE.to_string();
        for entry in INBOX_ENTRY_POINTS {
            let versioned = entry.replacen("/inbox/", &format!("/inbox/v/{inbox_version}/"), 1);
            page = page.replace(&format!("\"{entry}\""), &format!("\"{versioned}\""));
        }
        Assets {
            inbox_page: Asset::new("index.html", HTML, page.into_bytes()),
            demo_page: Asset::new("index.html", HTML, DEMO_PAGE.as_bytes().to_vec()),
            demo_css: Asset::new("demo.css", CSS, DEMO_CSS.as_bytes().to_vec()),
            widget: Asset::new("widget.js", JS, WIDGET_JS.as_bytes().to_vec()),
            inbox: INBOX_FILES
                .iter()
                .map(|(name, content)| {
                    let kind = if name.ends_with(".css") { CSS } else { JS };
                    Asset::new(name, kind, content.as_bytes().to_vec())
                })
                .collect(),
            inbox_version,
        }
    }

    pub fn inbox_file(&self, name: &str) -> Option<&Asset> {
        self.inbox.iter().find(|a| a.name == name)
    }
}

static ASSETS: LazyLock<Assets> = LazyLock::new(Assets::build);

/// The compressed assets, built on first use (the gateway warms them at start).
pub fn assets() -> &'static Assets {
    &ASSETS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(header::ACCEPT_ENCODING, v);
        }
        h
    }

    #[test]
    fn the_best_accepted_encoding_wins_and_q0_refuses() {
        assert_eq!(negotiate(&accept("gzip, deflate, br, zstd")), Encoding::Brotli);
        assert_eq!(negotiate(&accept("gzip")), Encoding::Gzip);
        assert_eq!(negotiate(&accept("br;q=0, gzip;q=0.5")), Encoding::Gzip);
        assert_eq!(negotiate(&accept("br;q=0, gzip;q=0")), Encoding::Identity);
        assert_eq!(negotiate(&accept("*")), Encoding::Brotli);
        assert_eq!(negotiate(&accept("*, br;q=0")), Encoding::Gzip);
        assert_eq!(negotiate(&accept("identity")), Encoding::Identity);
        assert_eq!(negotiate(&HeaderMap::new()), Encoding::Identity);
    }

    #[test]
    fn the_inbox_page_names_this_builds_versioned_entry_points() {
        let a = assets();
        let page = std::str::from_utf8(&a.inbox_page.identity).unwrap_or_default();
        for entry in INBOX_ENTRY_POINTS {
            let versioned = entry.replacen("/inbox/", &format!("/inbox/v/{}/", a.inbox_version), 1);
            assert!(
                page.contains(&format!("\"{versioned}\"")),
                "{versioned} not in the page"
            );
            assert!(!page.contains(&format!("\"{entry}\"")), "{entry} left unversioned");
        }
    }

    #[test]
    fn every_encoding_decodes_to_the_file() {
        use std::io::Read;
        for asset in assets().inbox.iter().chain([&assets().widget, &assets().inbox_page]) {
            let mut gunzipped = Vec::new();
            let read = flate2::read::GzDecoder::new(&asset.gzip[..]).read_to_end(&mut gunzipped);
            assert!(read.is_ok(), "{}", asset.name);
            assert_eq!(gunzipped, asset.identity, "{}", asset.name);
            let mut unbrotlied = Vec::new();
            let read = brotli::Decompressor::new(&asset.brotli[..], 4096).read_to_end(&mut unbrotlied);
            assert!(read.is_ok(), "{}", asset.name);
            assert_eq!(unbrotlied, asset.identity, "{}", asset.name);
            assert!(asset.brotli.len() < asset.identity.len(), "{}", asset.name);
        }
    }

    #[test]
    fn a_known_etag_is_a_304_in_any_encoding_and_another_is_not() {
        let asset = &assets().widget;
        let mut h = accept("br");
        if let Ok(v) = HeaderValue::from_str(&format!("W/{}, \"other\"", asset.etag)) {
            h.insert(header::IF_NONE_MATCH, v);
        }
        assert_eq!(respond(asset, &h, Caching::Hour).status(), StatusCode::NOT_MODIFIED);
        let mut h = accept("br");
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        let r = respond(asset, &h, Caching::Hour);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(r.headers()[header::CACHE_CONTROL], "public, max-age=3600");
        assert_eq!(r.headers()[header::VARY], "accept-encoding");
    }
}
