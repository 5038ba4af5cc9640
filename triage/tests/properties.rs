//! Any input classifies without panicking, and the same input always gets the same verdict.

use proptest::prelude::*;
use triage::{AttachmentKind, Channel, Engine, Input};

fn engine() -> &'static Engine {
    static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(Engine::builtin)
}

fn channel() -> impl Strategy<Value = Channel> {
    prop_oneof![Just(Channel::Email), Just(Channel::Webchat), Just(Channel::Whatsapp)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_unicode_classifies_deterministically(text in any::<String>(), subject in proptest::option::of(any::<String>()), ch in channel()) {
        let mut input = Input::text(ch, "someone", &text);
        input.subject = subject.as_deref();
        let a = engine().classify(&input);
        let b = engine().classify(&input);
        prop_assert_eq!(&a, &b);
        for span in a.rules.iter().flat_map(|r| &r.spans) {
            let source = if span.field == "subject" { subject.as_deref().unwrap_or_default() } else { text.as_str() };
            prop_assert_eq!(source.get(span.start..span.end), Some(span.text.as_str()));
        }
    }

    #[test]
    fn hotline_like_text_with_noise_never_panics(
        words in proptest::collection::vec(prop_oneof![
            Just("ligne"), Just("arrêtée"), Just("pas"), Just("E17"), Just("> "), Just("\n"), Just("fumée"),
            Just("ÉÈÊ"), Just("ß"), Just("line"), Just("down"), Just("S/N"), Just("+33 6 12 34 56 78"), Just("'"),
            Just("🔥"), Just("\u{0301}"), Just("ǅ"), Just("İ"), Just("mais"), Just("résolu"),
        ], 0..40),
        ch in channel(),
    ) {
        let text = words.join(" ");
        let mut input = Input::text(ch, "+33612345678", &text);
        input.attachments = &[AttachmentKind::Image];
        let v = engine().classify(&input);
        for span in v.rules.iter().flat_map(|r| &r.spans) {
            prop_assert_eq!(text.get(span.start..span.end), Some(span.text.as_str()));
        }
    }
}
