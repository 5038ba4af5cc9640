//! A knowledge-base entry (front matter and Markdown), as an admin or the
//! report-derived drafts write it: parsed, and a base of it answers questions.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &[u8]| {
    let Ok(content) = std::str::from_utf8(raw) else {
        return;
    };
    if let Ok(entry) = triage::kb::KbEntry::parse("fuzz.md", content) {
        let kb = triage::KnowledgeBase::new(vec![entry], 0.1);
        let _ = kb.best(&triage::kb::fold("comment réinitialiser l'alarme E-217 ?"), None);
    }
});
