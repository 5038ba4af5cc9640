//! Classifies the benchmark's 1 KB message in a loop, for a profiler:
//! `perf record --call-graph dwarf target/release/examples/profile_classify`.
use std::time::Instant;

use triage::{Channel, Engine, Input};

const SENTENCES: &[&str] = &[
    "Bonjour, nous avons un souci sur la presse depuis ce matin. ",
    "The operator restarted the cycle twice but the tool did not move. ",
    "Les pièces sortent avec une bavure sur le côté gauche. ",
    "We changed the filter last week as the manual says. ",
    "Die Hydraulik macht ein ungewöhnliches Geräusch beim Anfahren. ",
    "La temperatura del molde sube más de lo normal. ",
    "Il nastro trasportatore vibra quando arriva a pieno carico. ",
    "Merci de nous dire quoi vérifier en premier. ",
];

/// The default rules plus `n` rules of made-up vocabulary, as the benchmark builds them.
fn generated_rules(n: usize) -> String {
    use std::fmt::Write as _;
    let mut src = format!("{}\n", triage::rules::DEFAULT_RULES);
    for i in 0..n {
        let _ = writeln!(
            src,
            "[keywords.k{i}]\nfr = [\"panne zorg{i}\", \"defaut blix{i}\"]\nen = [\"zorg{i} failure\", \"blix{i} fault\"]\nde = [\"zorg{i} defekt\"]\n"
        );
    }
    for i in 0..n {
        let priority = ["critical", "important", "faq"][i % 3];
        let when = if i % 10 == 0 {
            format!("{{ any = [{{ keywords = \"k{i}\" }}, {{ regex = 'quux{i} \\d+' }}] }}")
        } else {
            format!("{{ keywords = \"k{i}\" }}")
        };
        let _ = writeln!(
            src,
            "[[rules]]\nname = \"r{i}\"\npriority = \"{priority}\"\nwhen = {when}\n"
        );
    }
    src
}

fn main() {
    // Second argument: that many generated rules on top of the defaults.
    let extra: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(0);
    let engine = if extra == 0 {
        Engine::builtin()
    } else {
        match triage::RuleSet::parse(&generated_rules(extra)) {
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
    let tail = "La ligne 2 est arrêtée, code E17.";
    let mut text = String::new();
    let mut i = 0;
    while text.len() + tail.len() < 1024 {
        text.push_str(SENTENCES[i % SENTENCES.len()]);
        i += 1;
    }
    text.push_str(tail);
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
