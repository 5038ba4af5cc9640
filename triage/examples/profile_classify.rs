//! Classifies one 1 KB message in a loop, for a profiler.
use triage::{Channel, Engine, Input};

fn main() {
    let engine = Engine::builtin();
    let mut text = String::new();
    while text.len() < 1000 {
        text.push_str(
            "Bonjour, nous avons un souci sur la presse depuis ce matin. The operator restarted the cycle twice. ",
        );
    }
    text.push_str("La ligne 2 est arrêtée, code E17.");
    let mut n = 0;
    for _ in 0..20_000 {
        n += engine
            .classify(&Input::text(Channel::Email, "c@example.com", &text))
            .rules
            .len();
    }
    println!("{n}");
}
