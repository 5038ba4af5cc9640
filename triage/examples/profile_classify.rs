//! Classifies the benchmark's 1 KB message in a loop, for a profiler:
//! `perf record --call-graph dwarf target/release/examples/profile_classify`.
use std::time::Instant;

use triage::{Channel, Engine, Input};

fn main() {
    // Second argument: that many generated rules on top of the defaults.
    let extra: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(0);
    let engine = if extra == 0 {
        Engine::builtin()
    } else {
        match triage::RuleSet::parse(&triage::bench_support::generated_rules(extra)) {
            Ok(rules) => Engine::new(rules, triage::KnowledgeBase::builtin()),
            Err(e) => {
                eprintln!("{e}");
                return;
            }
        }
    };
    let rules = engine.rules();
    eprintln!(
        "{} phrases, {} stems, {} regexes",
        rules.phrase_count(),
        rules.stem_count(),
        rules.regex_count()
    );
    eprintln!(
        "automata: keywords {} KB, word forms {} KB",
        rules.scanner.memory_usage() / 1024,
        rules.forms.memory_usage() / 1024
    );
    let text = triage::bench_support::message(1024);
    let rounds: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let started = Instant::now();
    let mut n = 0;
    for _ in 0..rounds {
        n += engine
            .classify(&Input::text(Channel::Email, "c@example.com", &text))
            .rules
            .len();
    }
    let each = started.elapsed() / rounds;
    eprintln!("{each:?} per classification ({n} rule matches)");
}
