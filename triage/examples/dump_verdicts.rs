//! Every verdict of labelled tables as JSON, one line per message, so that an
//! engine change meant to keep behaviour can be checked with `diff`:
//! `cargo run --release -p triage --example dump_verdicts -- triage/tests/data/*.tsv > before`.
use std::process::ExitCode;

use triage::{Engine, Input, eval};

fn main() -> ExitCode {
    let engine = Engine::builtin();
    for path in std::env::args().skip(1) {
        let source = match std::fs::read_to_string(&path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{path}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let (cases, errors) = if path.ends_with(".jsonl") {
            eval::parse_jsonl(&source)
        } else {
            eval::parse_tsv(&source)
        };
        for e in errors {
            eprintln!("{path}: {e}");
        }
        for c in cases {
            let mut input = Input::text(c.channel, &c.from, &c.text);
            input.subject = c.subject.as_deref();
            input.language = c.language.as_deref();
            match serde_json::to_string(&engine.classify(&input)) {
                Ok(json) => println!("{path}\t{}\t{json}", c.id),
                Err(e) => eprintln!("{path}: {}: {e}", c.id),
            }
        }
    }
    ExitCode::SUCCESS
}
