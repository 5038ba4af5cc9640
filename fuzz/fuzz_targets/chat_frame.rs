//! A websocket text frame from the widget (anyone on the internet): parsed,
//! and a message frame turned into the pipeline's message.
#![no_main]

use channels::webchat::{ClientFrame, ConversationToken, Prechat, parse_client_frame, to_inbound};
use libfuzzer_sys::fuzz_target;

/// Compiled once: compiling the default rules per input would be most of the run.
static ENGINE: std::sync::LazyLock<triage::Engine> = std::sync::LazyLock::new(triage::Engine::builtin);

fuzz_target!(|raw: &[u8]| {
    let Ok(text) = std::str::from_utf8(raw) else {
        return;
    };
    match parse_client_frame(text) {
        Ok(ClientFrame::Open { token: Some(t), .. }) => {
            let _ = ConversationToken::parse(&t);
        }
        Ok(ClientFrame::Message {
            client_id,
            text,
            attachments,
        }) => {
            let token = ConversationToken::from_bytes(&[7; 32]);
            let inbound = to_inbound(
                "site",
                &token,
                &Prechat::default(),
                None,
                &client_id,
                &text,
                &attachments,
            );
            let _ = ENGINE.classify(&triage::Input::text(
                triage::Channel::Webchat,
                &inbound.from.address,
                &inbound.text,
            ));
        }
        _ => {}
    }
});
