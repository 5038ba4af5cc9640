//! A webhook body that passed its signature check (anyone holding the app
//! secret, or Meta changing its payloads): parsed into messages, statuses,
//! reactions and the rest, or refused with an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// Compiled once: compiling the default rules per input would be most of the run.
static ENGINE: std::sync::LazyLock<triage::Engine> = std::sync::LazyLock::new(triage::Engine::builtin);

fuzz_target!(|raw: &[u8]| {
    if let Ok(notification) = channels::whatsapp::parse_notification(raw) {
        for m in &notification.messages {
            let input = triage::Input::text(triage::Channel::Whatsapp, &m.from.address, &m.text);
            let _ = ENGINE.classify(&input);
        }
    }
});
