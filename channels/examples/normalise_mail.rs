//! Prints the normalised form of each mail file given, as JSON (a development aid;
//! admins use `switchyard email inspect`).

fn main() {
    let own = vec!["sav@maker.test".to_string()];
    let options = channels::email::Options {
        own: channels::email::Own {
            addresses: &own,
            loop_value: "test-node",
        },
        max_attachment_bytes: 25 * 1024 * 1024,
    };
    for path in std::env::args().skip(1) {
        match std::fs::read(&path) {
            Ok(raw) => {
                let n = channels::email::normalise(&raw, &options);
                let mut v = serde_json::to_value(&n).unwrap_or_default();
                if let Some(h) = v.get_mut("html") {
                    *h = serde_json::Value::from(h.as_str().map(|s| s.chars().take(120).collect::<String>()));
                }
                println!("== {path}\n{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            }
            Err(e) => eprintln!("{path}: {e}"),
        }
    }
}
