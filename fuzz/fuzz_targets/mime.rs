//! A raw mail, as the mailbox reader hands it over: normalised, sanitised,
//! turned into the pipeline's message and classified. Any input must give a
//! message (an unreadable one says so), never a panic.
#![no_main]

use channels::email::{Options, Own, normalise};
use libfuzzer_sys::fuzz_target;

/// Compiled once: compiling the default rules per input would be most of the run.
static ENGINE: std::sync::LazyLock<triage::Engine> = std::sync::LazyLock::new(triage::Engine::builtin);

/// mail-parser 0.11 panics on some malformed multiparts; `normalise` catches
/// that and keeps the mail as unreadable (the regression inputs are in
/// channels/tests/fixtures/fuzz/mime). libFuzzer's hook aborts on every
/// panic, caught or not: panics raised inside mail-parser are let through to
/// that catch, every other one still aborts and is reported.
fn let_parser_panics_unwind() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_parser = info.location().is_some_and(|l| l.file().contains("/mail-parser-"));
            if !in_parser {
                abort(info);
            }
        }));
    });
}

fuzz_target!(|raw: &[u8]| {
    let_parser_panics_unwind();
    let own = ["sav@example.com".to_string()];
    let options = Options {
        own: Own {
            addresses: &own,
            loop_value: "switchyard-fuzz",
        },
        max_attachment_bytes: 64 * 1024,
    };
    let mail = normalise(raw, &options);
    let inbound = mail.into_inbound("sav@example.com", Vec::new(), None);
    let input = triage::Input::text(triage::Channel::Email, &inbound.from.address, &inbound.text);
    let _ = ENGINE.classify(&input);
});
