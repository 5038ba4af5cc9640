//! Search on a hotline's history: 1,000,000 messages (250,000 conversations
//! in five languages on three channels, serials, fault codes, phone numbers,
//! quoted history) in a store, then a mix of the searches agents make —
//! a serial, a fault code however written, one word, two words, a customer's
//! name, a phone number, a word with a filter — each timed through
//! `search::find::find`, the API's own path; p50/p99 per kind and overall,
//! and the size of what search adds to the store.
//!
//! Run: cargo bench -p gateway --bench search
//! `SY_BENCH_MESSAGES` changes the count; `SY_BENCH_PG=postgres://…/db` runs
//! it on that PostgreSQL database (emptied first; `SY_BENCH_REUSE=1` keeps what
//! an earlier run seeded) instead of a SQLite file.

use std::time::Instant;

use gateway::search::Query;
use gateway::search::find::find;
use gateway::store::search::Filters;
use gateway::store::{Dialect, Store};

const DAY: i64 = 86_400_000;
/// 2025-01-01T00:00:00Z: two years of history end near the bench's day.
const START: i64 = 1_735_689_600_000;
const MESSAGES_PER_CONVERSATION: i64 = 4;

/// xorshift64*: reproducible, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

const MACHINES: [[&str; 8]; 5] = [
    [
        "la presse",
        "le convoyeur",
        "la plieuse",
        "l'étiqueteuse",
        "le robot de soudure",
        "le compresseur",
        "la pompe hydraulique",
        "la ligne d'embouteillage",
    ],
    [
        "the press",
        "the conveyor",
        "the folder",
        "the labeller",
        "the welding robot",
        "the compressor",
        "the hydraulic pump",
        "the bottling line",
    ],
    [
        "die Presse",
        "das Förderband",
        "die Faltmaschine",
        "der Etikettierer",
        "der Schweißroboter",
        "der Kompressor",
        "die Hydraulikpumpe",
        "die Abfüllanlage",
    ],
    [
        "la prensa",
        "la cinta transportadora",
        "la plegadora",
        "la etiquetadora",
        "el robot de soldadura",
        "el compresor",
        "la bomba hidráulica",
        "la línea de embotellado",
    ],
    [
        "la pressa",
        "il nastro trasportatore",
        "la piegatrice",
        "l'etichettatrice",
        "il robot di saldatura",
        "il compressore",
        "la pompa idraulica",
        "la linea di imbottigliamento",
    ],
];
const SYMPTOMS: [[&str; 6]; 5] = [
    [
        "est arrêtée depuis ce matin",
        "fait un bruit anormal",
        "a une fuite d'huile",
        "chauffe beaucoup trop",
        "redémarre sans arrêt",
        "produit des rebuts",
    ],
    [
        "has been stopped since this morning",
        "makes an unusual noise",
        "leaks oil",
        "runs far too hot",
        "keeps restarting",
        "produces scrap",
    ],
    [
        "steht seit heute früh still",
        "macht ein ungewöhnliches Geräusch",
        "verliert Öl",
        "wird viel zu heiß",
        "startet ständig neu",
        "produziert Ausschuss",
    ],
    [
        "está parada desde esta mañana",
        "hace un ruido extraño",
        "tiene una fuga de aceite",
        "se calienta demasiado",
        "se reinicia sin parar",
        "produce piezas defectuosas",
    ],
    [
        "è ferma da stamattina",
        "fa un rumore anomalo",
        "perde olio",
        "si scalda troppo",
        "si riavvia di continuo",
        "produce scarti",
    ],
];
const CODE_WORDS: [&str; 5] = ["code défaut", "error code", "Störung", "código de error", "errore"];
const SERIAL_WORDS: [&str; 5] = [
    "numéro de série",
    "serial number",
    "Seriennummer",
    "número de serie",
    "matricola",
];
const FILLER: [&str; 5] = [
    "Merci de nous rappeler rapidement, l'équipe de nuit attend.",
    "Please call us back, the night shift is waiting.",
    "Bitte rufen Sie uns zurück, die Nachtschicht wartet.",
    "Por favor llámennos, el turno de noche está esperando.",
    "Per favore richiamateci, il turno di notte aspetta.",
];
const NAMES: [&str; 12] = [
    "Dupont", "Martin", "Müller", "García", "Rossi", "Smith", "Bernard", "Schmidt", "López", "Bianchi", "Moreau",
    "Weber",
];
const FIRST: [&str; 8] = ["Jean", "Anna", "Luis", "Marco", "Claire", "Peter", "Sofia", "Inès"];

fn code(r: &mut Rng) -> String {
    let letters = ["E", "F", "A", "AL", "W"];
    let n = r.below(900) + 100;
    match r.below(3) {
        0 => format!("{}-{n}", r.pick(&letters)),
        1 => format!("{}{n}", r.pick(&letters)),
        _ => format!("{} {n}", r.pick(&letters).to_lowercase()),
    }
}

fn serial(machine: usize) -> String {
    format!("SN-{:05}", machine)
}

/// Inserts `n` messages, a few hundred rows a statement, as the pipeline
/// would leave them (messages, conversations, fact mentions; the store's own
/// triggers and generated columns index them).
async fn seed(store: &Store, n: i64) -> anyhow::Result<()> {
    let mut r = Rng(0x5eed_1234_5678_9abc);
    let conversations = n / MESSAGES_PER_CONVERSATION;
    let chunk = 250;
    let started = Instant::now();
    let mut c = 0;
    while c < conversations {
        let mut tx = store.begin().await?;
        for _ in 0..20 {
            if c >= conversations {
                break;
            }
            let ids: Vec<i64> = (c..(c + chunk).min(conversations)).collect();
            let (mut conv, mut msgs, mut facts) = (Vec::new(), Vec::new(), Vec::new());
            for &id in &ids {
                let at = START + id * (700 * DAY / conversations.max(1));
                let lang = r.below(5);
                let channel = ["email", "webchat", "whatsapp"][r.below(3)];
                let customer = r.below(60_000);
                let name = format!("{} {}", FIRST[customer % FIRST.len()], NAMES[customer % NAMES.len()]);
                let address = match channel {
                    "email" => format!(
                        "{}.{}@client{}.com",
                        FIRST[customer % FIRST.len()].to_lowercase(),
                        customer,
                        customer % 997
                    ),
                    "whatsapp" => format!("336{:08}", customer),
                    _ => format!("visitor:{:016x}", r.next()),
                };
                let machine = r.below(20_000);
                let m = r.below(8);
                let fault = code(&mut r);
                conv.push(format!(
                    "({}, '{channel}', 'bench', '{}', '{}', 'Client {}', '{}', 'open', 'important', 'experts', 'none', {at}, {at}, {at})",
                    id + 1,
                    address.replace('\'', "''"),
                    name.replace('\'', "''"),
                    customer % 997,
                    MACHINES[lang][m].replace('\'', "''"),
                ));
                let first = format!(
                    "Bonjour, {} {}, {} {fault}, {} {}. {}",
                    MACHINES[lang][m],
                    SYMPTOMS[lang][r.below(6)],
                    CODE_WORDS[lang],
                    SERIAL_WORDS[lang],
                    serial(machine),
                    FILLER[lang]
                );
                for k in 0..MESSAGES_PER_CONVERSATION {
                    let mid = (id * MESSAGES_PER_CONVERSATION) + k + 1;
                    let (dir, body, quoted) = match k {
                        0 => ("in", first.clone(), None),
                        1 => ("out", FILLER[(lang + 1) % 5].to_string(), None),
                        2 => (
                            "in",
                            format!("{} {}", MACHINES[lang][r.below(8)], SYMPTOMS[lang][r.below(6)]),
                            Some(format!("> {first}")),
                        ),
                        _ => (
                            "note",
                            format!("Pièce commandée pour {} ({})", serial(machine), fault),
                            None,
                        ),
                    };
                    msgs.push(format!(
                        "({mid}, {}, '{dir}', 'customer', '{channel}', 'bench', 'b{mid}', '{}', {}, {})",
                        id + 1,
                        body.replace('\'', "''"),
                        quoted.map_or("NULL".to_string(), |q| format!("'{}'", q.replace('\'', "''"))),
                        at + k * 600_000
                    ));
                }
                let first_message = id * MESSAGES_PER_CONVERSATION + 1;
                let s = serial(machine);
                facts.push(format!(
                    "({}, {first_message}, 'serial', '{s}', '{}', {at})",
                    id + 1,
                    gateway::search::code::normalise(&s)
                ));
                facts.push(format!(
                    "({}, {first_message}, 'fault_code', '{fault}', '{}', {at})",
                    id + 1,
                    gateway::search::code::normalise(&fault)
                ));
                if channel == "whatsapp" {
                    facts.push(format!(
                        "({}, {first_message}, 'phone', '+{address}', '{}', {at})",
                        id + 1,
                        gateway::search::code::phone_key(&address).unwrap_or_default()
                    ));
                }
            }
            sqlx::query(&format!(
                "INSERT INTO conversations (id, channel, endpoint, customer_address, customer_name, customer_company, subject, \
                 status, priority, queue, escalation, created_at, updated_at, last_customer_at) VALUES {}",
                conv.join(", ")
            ))
            .execute(&mut *tx)
            .await?;
            sqlx::query(&format!(
                "INSERT INTO messages (id, conversation_id, direction, author_kind, channel, endpoint, external_id, body, quoted, created_at) VALUES {}",
                msgs.join(", ")
            ))
            .execute(&mut *tx)
            .await?;
            sqlx::query(&format!(
                "INSERT INTO fact_mentions (conversation_id, message_id, kind, value, norm, created_at) VALUES {}",
                facts.join(", ")
            ))
            .execute(&mut *tx)
            .await?;
            c += chunk;
        }
        tx.commit().await?;
        if c % 25_000 < chunk * 20 {
            eprintln!(
                "  {} messages seeded in {:.0} s",
                (c.min(conversations)) * MESSAGES_PER_CONVERSATION,
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// One kind of search: its text and filters, drawn from the seeded data.
type MakeSearch = dyn Fn(&mut Rng) -> (String, Filters);

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn size_report(store: &Store, dir: Option<&std::path::Path>) -> anyhow::Result<()> {
    match store.dialect() {
        Dialect::Sqlite => {
            let mut total = 0_i64;
            for table in ["messages_fts", "attachments_fts", "customers_fts"] {
                let (bytes,): (i64,) = sqlx::query_as(&format!(
                    "SELECT COALESCE((SELECT SUM(length(block)) FROM {table}_data), 0) + COALESCE((SELECT SUM(length(term)) FROM {table}_idx), 0)"
                ))
                .fetch_one(store.reader())
                .await?;
                println!("  {table}: {:.1} MB", bytes as f64 / 1e6);
                total += bytes;
            }
            let (mentions,): (i64,) =
                sqlx::query_as("SELECT SUM(length(value) + length(norm) + length(kind) + 40) FROM fact_mentions")
                    .fetch_one(store.reader())
                    .await?;
            println!("  fact_mentions (rows, estimated): {:.1} MB", mentions as f64 / 1e6);
            println!("  search index total: {:.1} MB (+ fact_mentions)", total as f64 / 1e6);
            if let Some(dir) = dir {
                let file = std::fs::metadata(dir.join("bench.db"))?.len();
                println!("  whole database file: {:.1} MB", file as f64 / 1e6);
            }
        }
        Dialect::Postgres => {
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT name, size FROM (VALUES \
                 ('messages.search (tsvector column)', (SELECT COALESCE(SUM(pg_column_size(search)), 0)::BIGINT FROM messages)), \
                 ('messages_search (GIN)', pg_relation_size('messages_search')), \
                 ('attachments_search (GIN)', pg_relation_size('attachments_search')), \
                 ('customers_search (GIN)', pg_relation_size('customers_search')), \
                 ('fact_mentions (table)', pg_table_size('fact_mentions')), \
                 ('fact_mentions indexes', pg_indexes_size('fact_mentions')), \
                 ('whole database', pg_database_size(current_database()))) AS s (name, size)",
            )
            .fetch_all(store.reader())
            .await?;
            for (name, size) in rows {
                println!("  {name}: {:.1} MB", size as f64 / 1e6);
            }
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: i64 = std::env::var("SY_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let (store, on_disk) = match std::env::var("SY_BENCH_PG") {
        Ok(url) => {
            let store = Store::open(&url, 8).await?;
            if std::env::var("SY_BENCH_REUSE").is_err() {
                for table in ["fact_mentions", "messages", "conversations"] {
                    sqlx::query(&format!("TRUNCATE {table} CASCADE"))
                        .execute(store.reader())
                        .await?;
                }
            }
            (store, None)
        }
        Err(_) => {
            let url = format!("sqlite://{}/bench.db", dir.path().display());
            (Store::open(&url, 8).await?, Some(dir.path()))
        }
    };
    println!("search bench: {n} messages on {:?}", store.dialect());
    let started = Instant::now();
    // `SY_BENCH_REUSE=1`: the PostgreSQL database was seeded by an earlier run.
    if std::env::var("SY_BENCH_REUSE").is_err() || store.dialect() == Dialect::Sqlite {
        seed(&store, n).await?;
    }
    if store.dialect() == Dialect::Postgres {
        sqlx::query("ANALYZE").execute(store.reader()).await?;
    }
    println!("seeded in {:.0} s", started.elapsed().as_secs_f64());
    size_report(&store, on_disk).await?;

    let mut r = Rng(42);
    let kinds: Vec<(&str, Box<MakeSearch>)> = vec![
        (
            "serial",
            Box::new(|r: &mut Rng| (format!("sn{:05}", r.below(20_000)), Filters::default())),
        ),
        (
            "fault code",
            Box::new(|r: &mut Rng| (code(r).replace(['-', ' '], ""), Filters::default())),
        ),
        (
            "one word",
            Box::new(|r: &mut Rng| {
                (
                    r.pick(&["pompe", "Presse", "compressor", "Förderband", "rumore", "fuga"])
                        .to_string(),
                    Filters::default(),
                )
            }),
        ),
        (
            "two words",
            Box::new(|r: &mut Rng| {
                (
                    r.pick(&[
                        "fuite huile",
                        "unusual noise",
                        "bomba hidráulica",
                        "robot saldatura",
                        "Ausschuss produziert",
                    ])
                    .to_string(),
                    Filters::default(),
                )
            }),
        ),
        (
            "customer name",
            Box::new(|r: &mut Rng| (format!("{} {}", r.pick(&FIRST), r.pick(&NAMES)), Filters::default())),
        ),
        (
            "phone",
            Box::new(|r: &mut Rng| (format!("06 {:08}", r.below(60_000)), Filters::default())),
        ),
        (
            "word + filter",
            Box::new(|r: &mut Rng| {
                (
                    r.pick(&["arrêtée", "stopped", "bruit"]).to_string(),
                    Filters {
                        channel: Some("whatsapp".into()),
                        ..Filters::default()
                    },
                )
            }),
        ),
    ];
    // Warm the caches the way a running server's are.
    for (_, make) in &kinds {
        let (q, f) = make(&mut r);
        find(&store, &Query::parse(&q), &f, 50).await?;
    }
    let rounds = 60;
    let mut all = Vec::new();
    println!(
        "{:<15} {:>9} {:>9} {:>9}  (ms, {rounds} searches each)",
        "kind", "p50", "p99", "max"
    );
    for (kind, make) in &kinds {
        let mut times = Vec::new();
        let mut results = 0;
        for _ in 0..rounds {
            let (q, f) = make(&mut r);
            let t = Instant::now();
            let out = find(&store, &Query::parse(&q), &f, 50).await?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
            results += out.results.len();
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{kind:<15} {:>9.1} {:>9.1} {:>9.1}  ({:.0} results on average)",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times.last().copied().unwrap_or(0.0),
            results as f64 / rounds as f64
        );
        all.extend(times);
    }
    all.sort_by(f64::total_cmp);
    println!(
        "{:<15} {:>9.1} {:>9.1} {:>9.1}",
        "all",
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.last().copied().unwrap_or(0.0)
    );
    store.close().await;
    Ok(())
}
