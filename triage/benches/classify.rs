//! Classifications per second: the default rules and 1,000 generated rules,
//! each beside a naive baseline that runs one regex per rule over the text.
//! Run: cargo bench -p triage --bench classify

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use regex::Regex;
use triage::{Channel, Engine, Input, KnowledgeBase, RuleSet};

use triage::bench_support::{generated_rules, message};

/// The naive way: one case-insensitive regex per rule, all tried in turn.
fn naive(rules: &RuleSet, source_phrases: &[Vec<String>]) -> Vec<Regex> {
    let _ = rules;
    source_phrases
        .iter()
        .filter_map(|phrases| {
            let alternation: Vec<String> = phrases.iter().map(|p| regex::escape(p)).collect();
            Regex::new(&format!(r"(?i)\b(?:{})\b", alternation.join("|"))).ok()
        })
        .collect()
}

fn phrases_of(source: &str) -> Vec<Vec<String>> {
    let value: toml::Value = toml::from_str(source).unwrap_or(toml::Value::Integer(0));
    let Some(sets) = value.get("keywords").and_then(|k| k.as_table()) else {
        return Vec::new();
    };
    sets.values()
        .map(|set| {
            ["fr", "en", "de", "es", "it", "any"]
                .iter()
                .filter_map(|l| set.get(*l).and_then(|v| v.as_array()))
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let default_src = triage::rules::DEFAULT_RULES;
    let generated_src = generated_rules(1000);
    let engines = [
        (
            "default",
            Engine::new(RuleSet::builtin(), KnowledgeBase::builtin()),
            phrases_of(default_src),
        ),
        (
            "default+1000-rules",
            Engine::new(
                RuleSet::parse(&generated_src).unwrap_or_else(|e| panic!("{e}")),
                KnowledgeBase::builtin(),
            ),
            phrases_of(&generated_src),
        ),
    ];
    for (name, engine, phrases) in &engines {
        let baseline = naive(engine.rules(), phrases);
        let mut group = c.benchmark_group(format!("classify/{name}"));
        group.throughput(Throughput::Elements(1));
        for len in [200, 1024, 10 * 1024] {
            let text = message(len);
            group.bench_with_input(BenchmarkId::new("engine", len), &text, |b, text| {
                b.iter(|| engine.classify(black_box(&Input::text(Channel::Email, "customer@example.com", text))))
            });
            group.bench_with_input(BenchmarkId::new("naive-regex-per-rule", len), &text, |b, text| {
                b.iter(|| {
                    let lower = black_box(text).to_lowercase();
                    baseline.iter().filter(|re| re.is_match(&lower)).count()
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
