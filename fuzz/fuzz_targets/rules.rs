//! A rule file as an admin writes it: compiled (or refused with errors at
//! line:column), and a compiled one classifies messages.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &[u8]| {
    let Ok(source) = std::str::from_utf8(raw) else {
        return;
    };
    match triage::RuleSet::parse(source) {
        Ok(rules) => {
            let engine = triage::Engine::new(rules, triage::KnowledgeBase::default());
            for text in [
                "La ligne 3 est arrêtée, code E-217 sur la remplisseuse SN 4711-22",
                "Wie kann ich das Handbuch herunterladen?",
                "",
            ] {
                let _ = engine.classify(&triage::Input::text(triage::Channel::Email, "a@b.example", text));
            }
        }
        Err(errors) => {
            // The errors are shown to the admin with the lines they point at.
            let _ = errors.to_string();
        }
    }
});
