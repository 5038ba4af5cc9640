//! A year of a busy hotline: 100,000 conversations (300,000 messages, their
//! events, SLA timers and escalations) in the embedded store, then the time
//! to read a report's facts and to compute its figures for the year, a month
//! and a week. Run: cargo bench -p gateway --bench reports
//! (`SY_BENCH_CONVERSATIONS` changes the count).

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use gateway::reports::facts::ConversationFacts;
use gateway::reports::kpi;
use gateway::reports::period::Period;
use gateway::sla::Calendar;
use gateway::store::Store;

const DAY: i64 = 86_400_000;
/// 2026-01-01T00:00:00Z.
const YEAR_START: i64 = 1_767_225_600_000;

/// Inserts `n` conversations spread over 2026, a few hundred rows a statement.
async fn seed(store: &Store, n: i64) -> anyhow::Result<()> {
    let mut tx = store.begin().await?;
    let chunk = 200;
    let mut i = 0;
    while i < n {
        let ids: Vec<i64> = (i..(i + chunk).min(n)).collect();
        let created = |id: i64| YEAR_START + id * (365 * DAY / n.max(1));
        let mut conversations = Vec::new();
        let mut messages = Vec::new();
        let mut events = Vec::new();
        let mut timers = Vec::new();
        let mut escalations = Vec::new();
        for &id in &ids {
            let c = created(id);
            let channel = ["email", "webchat", "whatsapp"][(id % 3) as usize];
            let priority = ["faq", "important", "important", "critical"][(id % 4) as usize];
            let resolved = id % 10 != 0;
            let resolved_at = c + 3 * 3_600_000 + (id % 17) * 600_000;
            conversations.push(format!(
                "({}, '{channel}', 'bench', 'cust{}', 'open', '{priority}', 'experts', 'none', {c}, {c}, {c}, {}, {})",
                id + 1,
                id % 5000,
                c + 1_800_000 + (id % 7) * 300_000,
                if resolved {
                    resolved_at.to_string()
                } else {
                    "NULL".into()
                },
            ));
            for (k, (dir, kind)) in [("in", "customer"), ("out", "agent"), ("in", "customer")]
                .iter()
                .enumerate()
            {
                messages.push(format!(
                    "({}, '{dir}', '{kind}', '{channel}', 'bench', 'x', {})",
                    id + 1,
                    c + k as i64 * 1_800_000
                ));
            }
            if resolved {
                if id % 20 == 1 {
                    events.push(format!("({}, 'resolved', {})", id + 1, resolved_at - 3_600_000));
                    events.push(format!("({}, 'reopened', {})", id + 1, resolved_at - 1_800_000));
                }
                events.push(format!("({}, 'resolved', {resolved_at})", id + 1));
            }
            for kind in ["first_response", "resolution"] {
                let breached = id % 9 == 0;
                timers.push(format!(
                    "({}, '{kind}', 'office', '{}', 7200000, 0, {c}, {}, {}, {})",
                    id + 1,
                    if breached { "breached" } else { "met" },
                    c + 7_200_000,
                    if breached {
                        "NULL".to_string()
                    } else {
                        (c + 1_800_000).to_string()
                    },
                    if breached {
                        (c + 7_200_000).to_string()
                    } else {
                        "NULL".into()
                    },
                ));
            }
            if priority == "critical" {
                escalations.push(format!("({}, 'callback', 'done', 'reached', {c}, {c})", id + 1));
            }
        }
        for (head, rows) in [
            (
                "INSERT INTO conversations (id, channel, endpoint, customer_address, status, priority, queue, \
                 escalation, created_at, updated_at, last_customer_at, first_response_at, resolved_at) VALUES ",
                conversations,
            ),
            (
                "INSERT INTO messages (conversation_id, direction, author_kind, channel, endpoint, body, created_at) \
                 VALUES ",
                messages,
            ),
            (
                "INSERT INTO conversation_events (conversation_id, kind, at) VALUES ",
                events,
            ),
            (
                "INSERT INTO sla_timers (conversation_id, kind, calendar, state, budget_ms, used_ms, started_at, \
                 due_at, met_at, breached_at) VALUES ",
                timers,
            ),
            (
                "INSERT INTO escalations (conversation_id, kind, status, outcome, created_at, updated_at) VALUES ",
                escalations,
            ),
        ] {
            if !rows.is_empty() {
                let sql = format!("{head}{}", rows.join(", "));
                sqlx::query(&sql).persistent(false).execute(&mut *tx).await?;
            }
        }
        i += chunk;
    }
    sqlx::query("UPDATE conversations SET status = 'resolved' WHERE resolved_at IS NOT NULL")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

fn bench(c: &mut Criterion) {
    let n: i64 = std::env::var("SY_BENCH_CONVERSATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let Ok(rt) = tokio::runtime::Runtime::new() else {
        return;
    };
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    // SY_BENCH_DIR keeps the database for a look with sqlite3.
    let path = std::env::var("SY_BENCH_DIR").map_or_else(|_| dir.path().to_path_buf(), std::path::PathBuf::from);
    let _ = std::fs::remove_file(path.join("bench.db"));
    let url = format!("sqlite://{}/bench.db", path.display());
    let store = match rt.block_on(async {
        let store = Store::open(&url, 4).await?;
        let started = Instant::now();
        seed(&store, n).await?;
        eprintln!("seeded {n} conversations in {:.1} s", started.elapsed().as_secs_f64());
        anyhow::Ok(store)
    }) {
        Ok(s) => s,
        Err(e) => panic!("seeding: {e:#}"),
    };
    let tz = chrono_tz::UTC;
    let calendar = Calendar::always();
    let day =
        |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default() + chrono::Duration::days(d.into());
    let periods = [
        ("year", Period::new(tz, day(0), day(364))),
        ("month", Period::new(tz, day(180), day(209))),
        ("week", Period::new(tz, day(180), day(186))),
    ];
    let now = YEAR_START + 366 * DAY;
    let mut group = c.benchmark_group("reports");
    group.sample_size(10);
    for (name, period) in periods {
        let Ok(period) = period else { continue };
        group.bench_function(format!("read-facts/{name}"), |b| {
            b.iter(|| rt.block_on(store.report_facts(black_box(period.start), period.end)))
        });
        let Ok(rows) = rt.block_on(store.report_facts(period.start, period.end)) else {
            continue;
        };
        let refs: Vec<&ConversationFacts> = rows.iter().collect();
        group.bench_function(format!("compute/{name}"), |b| {
            b.iter(|| kpi::compute(black_box(&refs), &period, &calendar, now))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
