//! The inbox and the widget as a browser fetches them: compressed by
//! `Accept-Encoding`, revalidated with ETags, the inbox's modules under
//! versioned URLs cached for good, and the first load of the inbox (the page,
//! its stylesheet and every module statically imported from `app.js`) small.

use std::collections::{BTreeSet, VecDeque};
use std::io::Read;

use e2e::spawn_app;
use reqwest::header::{
    ACCEPT_ENCODING, ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_ENCODING, ETAG, IF_NONE_MATCH, VARY,
};

/// What the inbox's first load may transfer, as the issue asks (bytes).
const FIRST_LOAD_BUDGET: usize = 25_000;

struct Fetched {
    status: u16,
    encoding: Option<String>,
    cache: String,
    etag: String,
    wire: usize,
    text: String,
}

async fn fetch(url: &str, accept: &str, etag: Option<&str>) -> anyhow::Result<Fetched> {
    // No automatic decompression: what travels is what is measured.
    let http = reqwest::Client::builder().no_gzip().no_brotli().build()?;
    let mut request = http.get(url).header(ACCEPT_ENCODING, accept);
    if let Some(e) = etag {
        request = request.header(IF_NONE_MATCH, e);
    }
    let r = request.send().await?;
    let header = |name| r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let status = r.status().as_u16();
    let encoding = header(CONTENT_ENCODING);
    let cache = header(CACHE_CONTROL).unwrap_or_default();
    let etag = header(ETAG).unwrap_or_default();
    if status == 200 {
        assert_eq!(header(VARY).as_deref(), Some("accept-encoding"), "{url}");
    }
    let bytes = r.bytes().await?;
    let mut plain = Vec::new();
    match encoding.as_deref() {
        Some("br") => {
            brotli::Decompressor::new(&bytes[..], 4096).read_to_end(&mut plain)?;
        }
        Some("gzip") => {
            flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut plain)?;
        }
        _ => plain = bytes.to_vec(),
    }
    Ok(Fetched {
        status,
        encoding,
        cache,
        etag,
        wire: bytes.len(),
        text: String::from_utf8(plain)?,
    })
}

/// `import … from "./x.js"` (static) and `import("./x.js")` (dynamic) targets.
fn imports(module: &str) -> (Vec<String>, Vec<String>) {
    let mut statics = Vec::new();
    let mut dynamics = Vec::new();
    for line in module.lines() {
        let line = line.trim_start();
        if line.starts_with("import ")
            && line.contains(" from \"./")
            && let Some(target) = line.split('"').nth(1)
        {
            statics.push(target.trim_start_matches("./").to_string());
        }
        let mut rest = line;
        while let Some(at) = rest.find("import(\"./") {
            rest = &rest[at + "import(\"./".len()..];
            if let Some(end) = rest.find('"') {
                dynamics.push(rest[..end].to_string());
            }
        }
    }
    (statics, dynamics)
}

#[tokio::test]
async fn the_inbox_loads_compressed_versioned_and_small() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let base = app.base();

    // The page: brotli, revalidated on each load, 304 when unchanged.
    let page = fetch(&format!("{base}/inbox"), "gzip, deflate, br", None).await?;
    assert_eq!(page.status, 200);
    assert_eq!(page.encoding.as_deref(), Some("br"));
    assert_eq!(page.cache, "no-cache");
    assert!(page.etag.starts_with('"'), "{}", page.etag);
    let again = fetch(&format!("{base}/inbox"), "gzip, deflate, br", Some(&page.etag)).await?;
    assert_eq!(again.status, 304);
    assert_eq!(again.wire, 0);
    let version = page
        .text
        .split("/inbox/v/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
        .to_string();
    assert_eq!(version.len(), 16, "the page names versioned modules: {}", page.text);
    let assets = format!("{base}/inbox/v/{version}");
    assert!(page.text.contains(&format!(
        "<script type=\"module\" src=\"/inbox/v/{version}/app.js\"></script>"
    )));
    assert!(page.text.contains(&format!("href=\"/inbox/v/{version}/inbox.css\"")));

    // Every module reachable from app.js, statically or when first shown.
    let css = fetch(&format!("{assets}/inbox.css"), "br", None).await?;
    assert_eq!(css.status, 200);
    assert_eq!(css.cache, "public, max-age=31536000, immutable");
    let mut first_load = page.wire + css.wire;
    let mut first_load_plain = page.text.len() + css.text.len();
    let mut all_plain = first_load_plain;
    let mut statically: BTreeSet<String> = BTreeSet::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<(String, bool)> = VecDeque::from([("app.js".to_string(), true)]);
    while let Some((module, is_static)) = queue.pop_front() {
        if is_static && !statically.insert(module.clone()) {
            continue;
        }
        let first_time = seen.insert(module.clone());
        let f = fetch(&format!("{assets}/{module}"), "br", None).await?;
        assert_eq!(f.status, 200, "{module}");
        assert_eq!(f.encoding.as_deref(), Some("br"), "{module}");
        assert_eq!(f.cache, "public, max-age=31536000, immutable", "{module}");
        if is_static {
            first_load += f.wire;
            first_load_plain += f.text.len();
        }
        if first_time {
            all_plain += f.text.len();
        }
        let (statics, dynamics) = imports(&f.text);
        for s in statics {
            queue.push_back((s, is_static));
        }
        for d in dynamics {
            if !seen.contains(&d) {
                queue.push_back((d, false));
            }
        }
    }
    for lazy in [
        "conversation.js",
        "composer.js",
        "report.js",
        "reports.js",
        "fr.js",
        "customer.js",
    ] {
        assert!(seen.contains(lazy), "{lazy} is reachable");
        assert!(!statically.contains(lazy), "{lazy} is loaded only when needed");
    }
    println!(
        "inbox first load: {first_load} bytes transferred (brotli) for {first_load_plain} bytes of page, style and {} modules; all {} modules and style: {all_plain} bytes",
        statically.len(),
        seen.len()
    );
    assert!(
        first_load < FIRST_LOAD_BUDGET,
        "the inbox's first load transfers {first_load} bytes: {statically:?}"
    );

    // Another build's version is gone; the plain names still answer, revalidated.
    let stale = fetch(&format!("{base}/inbox/v/0000000000000000/app.js"), "br", None).await?;
    assert_eq!(stale.status, 404);
    let plain = fetch(&format!("{base}/inbox/app.js"), "identity", None).await?;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.encoding, None);
    assert_eq!(plain.cache, "no-cache");

    // gzip for a client without brotli; the same text.
    let gz = fetch(&format!("{assets}/app.js"), "gzip", None).await?;
    assert_eq!(gz.encoding.as_deref(), Some("gzip"));
    assert_eq!(gz.text, plain.text);
    assert!(gz.wire * 2 < plain.wire, "gzip {} of {}", gz.wire, plain.wire);

    // The widget: one URL host sites embed, cacheable for an hour, from any origin.
    let widget = fetch(&format!("{base}/widget.js"), "br", None).await?;
    assert_eq!(widget.status, 200);
    assert_eq!(widget.encoding.as_deref(), Some("br"));
    assert_eq!(widget.cache, "public, max-age=3600");
    let r = reqwest::Client::new().get(format!("{base}/widget.js")).send().await?;
    assert_eq!(
        r.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).map(|v| v.as_bytes()),
        Some(&b"*"[..])
    );
    let revalidated = fetch(&format!("{base}/widget.js"), "br", Some(&widget.etag)).await?;
    assert_eq!(revalidated.status, 304);
    println!(
        "widget.js: {} bytes transferred (brotli) for {} bytes",
        widget.wire,
        widget.text.len()
    );
    app.stop().await;
    Ok(())
}
