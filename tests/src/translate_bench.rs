//! What translation adds to a message, against the local stand-in
//! (`translate_stub`): the translator the worker and the reply box use —
//! protected terms masked, the cache read, DeepL's API called on a miss, the
//! answer cached — timed per text on a replayed conversation set: each
//! customer message in another language than the agents' French, then the
//! agents' replies (canned ones, as hotlines write them) into the customer's
//! language. The cache hit rate is that set's.

use std::time::{Duration, Instant};

use anyhow::Context;
use gateway::store::Store;
use gateway::translation::provider::{Provider, client};
use gateway::translation::{Translator, budget::Budget};

/// Replies agents send again and again: the cache's best customers.
const REPLIES: &[&str] = &[
    "Bonjour, merci pour votre message. Pouvez-vous nous envoyer une photo de l'écran d'alarme ?",
    "Pouvez-vous nous indiquer le numéro de série de la machine (plaque signalétique) ?",
    "Un technicien vous rappelle dans les 15 minutes.",
    "Merci, nous regardons et revenons vers vous rapidement.",
    "La machine redémarre-t-elle après un acquittement ?",
];

/// A few messages when no set is given.
const SAMPLE: &[(&str, &str)] = &[
    (
        "de",
        "Guten Tag, die Linie 2 steht seit 6 Uhr, Fehler E-217 am Förderband.",
    ),
    (
        "it",
        "Buongiorno, la fardellatrice si ferma più volte al giorno con allarme F-12.",
    ),
    (
        "es",
        "Hola, la paletizadora va un 30 % más lenta desde el mantenimiento.",
    ),
    ("en", "Hello, where can I find the manual of the P200 press?"),
    ("de", "Danke, das Foto kommt gleich."),
];

pub struct Figures {
    pub customer: Vec<Duration>,
    pub replies: Vec<Duration>,
    pub cache_hits: u64,
    pub sent: u64,
}

/// The messages of a JSONL set (`text`, `lang`), or the built-in sample.
pub fn load(set: Option<&str>) -> anyhow::Result<Vec<(String, String)>> {
    let Some(path) = set else {
        return Ok(SAMPLE.iter().map(|(l, t)| (l.to_string(), t.to_string())).collect());
    };
    let source = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let mut out = Vec::new();
    for line in source.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).with_context(|| format!("a line of {path}"))?;
        if let (Some(l), Some(t)) = (v["lang"].as_str(), v["text"].as_str()) {
            out.push((l.to_string(), t.to_string()));
        }
    }
    Ok(out)
}

pub async fn run(messages: &[(String, String)], replies: usize) -> anyhow::Result<Figures> {
    let stub = crate::translate_stub::TranslateStub::start().await?;
    let dir = tempfile::tempdir()?;
    let store = Store::open(&format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()), 4).await?;
    let translator = Translator {
        provider: Provider::DeepL {
            url: stub.url(),
            key: crate::translate_stub::KEY.into(),
        },
        http: client(Duration::from_secs(10)).map_err(anyhow::Error::msg)?,
        store,
        budget: std::sync::Mutex::new(Budget::new(1_000_000)),
        agents: "fr".into(),
        keep: Vec::new(),
        terms: Vec::new(),
        status: Default::default(),
        glossaries: Default::default(),
    };
    let mut figures = Figures {
        customer: Vec::new(),
        replies: Vec::new(),
        cache_hits: 0,
        sent: 0,
    };
    let mut next_reply = 0;
    for (language, text) in messages.iter().filter(|(l, _)| l != "fr") {
        let started = Instant::now();
        translator
            .translate(std::slice::from_ref(text), language, "fr", 0)
            .await?;
        figures.customer.push(started.elapsed());
        for _ in 0..replies {
            let reply = REPLIES[next_reply % REPLIES.len()].to_string();
            next_reply += 1;
            let started = Instant::now();
            translator.translate(&[reply], "fr", language, 0).await?;
            figures.replies.push(started.elapsed());
        }
    }
    let status = translator.status();
    figures.cache_hits = status.cache_hits;
    figures.sent = status.translated;
    Ok(figures)
}
