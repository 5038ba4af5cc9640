//! The WhatsApp notification parser on every documented shape (our own
//! fixtures, built here), and on `../shared/fixtures/whatsapp` when present.

use channels::whatsapp::{StatusKind, parse_notification, verify_signature};
use channels::{AttachmentSource, ChannelKind};
use serde_json::{Value, json};

const PNID: &str = "106540352242922";

fn notification(messages: Vec<Value>, statuses: Vec<Value>) -> Vec<u8> {
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "33186950001", "phone_number_id": PNID},
        "contacts": [{"profile": {"name": "Jean-Luc"}, "wa_id": "33612345678"}],
        "messages": messages, "statuses": statuses}}]}]});
    body.to_string().into_bytes()
}

fn msg(kind: &str, payload: Value) -> Value {
    let mut m = json!({"from": "33612345678", "id": format!("wamid.{kind}"), "timestamp": "1767346200", "type": kind});
    m[kind] = payload;
    m
}

fn one(kind: &str, payload: Value) -> channels::Inbound {
    let n = parse_notification(&notification(vec![msg(kind, payload)], vec![])).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n.messages.len(), 1);
    n.messages.into_iter().next().unwrap_or_else(|| panic!("one message"))
}

#[test]
fn text_message_is_normalised() {
    let m = one("text", json!({"body": "Ligne L3 à l'arrêt, code E-217"}));
    assert_eq!(m.channel, ChannelKind::Whatsapp);
    assert_eq!(m.endpoint, PNID);
    assert_eq!(m.external_id, "wamid.text");
    assert_eq!(m.from.address, "33612345678");
    assert_eq!(m.from.name.as_deref(), Some("Jean-Luc"));
    assert_eq!(m.contact.phone.as_deref(), Some("+33612345678"));
    assert_eq!(m.text, "Ligne L3 à l'arrêt, code E-217");
    assert_eq!(m.sent_at, Some(1_767_346_200_000));
}

#[test]
fn media_messages_carry_a_handle_to_fetch() {
    for (kind, extra) in [
        ("image", json!({"caption": "écran HMI"})),
        ("video", json!({})),
        ("audio", json!({"voice": true})),
        ("document", json!({"filename": "log.pdf", "caption": "le journal"})),
        ("sticker", json!({"animated": false})),
    ] {
        let mut payload = json!({"id": format!("media-{kind}"), "mime_type": "x/y", "sha256": "abc"});
        if let (Some(p), Some(e)) = (payload.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        let m = one(kind, payload);
        assert_eq!(m.attachments.len(), 1, "{kind}");
        let a = &m.attachments[0];
        assert_eq!(
            a.source,
            AttachmentSource::Remote {
                handle: format!("media-{kind}")
            }
        );
        assert_eq!(a.sha256.as_deref(), Some("abc"));
        match kind {
            "image" => assert_eq!(m.text, "écran HMI"),
            "audio" => assert_eq!(m.text, "🎤"),
            "document" => assert_eq!(a.name.as_deref(), Some("log.pdf")),
            _ => {}
        }
    }
}

#[test]
fn location_contacts_interactive_and_template_buttons_become_text() {
    let m = one(
        "location",
        json!({"latitude": 45.764, "longitude": 4.8357, "name": "Usine Lyon"}),
    );
    assert!(m.text.starts_with("📍 45.764000, 4.835700 — Usine Lyon"), "{}", m.text);
    assert!(
        m.text.contains("openstreetmap.org/?mlat=45.764000&mlon=4.835700"),
        "{}",
        m.text
    );
    let m = one(
        "contacts",
        json!([{"name": {"formatted_name": "Paul Durand"}, "phones": [{"phone": "+33 6 11 22 33 44"}]}]),
    );
    assert_eq!(m.text, "👤 Paul Durand +33 6 11 22 33 44");
    let m = one(
        "interactive",
        json!({"type": "button_reply", "button_reply": {"id": "yes", "title": "Oui, résolu"}}),
    );
    assert_eq!(m.text, "Oui, résolu");
    let m = one(
        "interactive",
        json!({"type": "list_reply", "list_reply": {"id": "l2", "title": "Ligne 2", "description": "Conditionnement"}}),
    );
    assert_eq!(m.text, "Ligne 2 — Conditionnement");
    let m = one("button", json!({"text": "Rappelez-moi", "payload": "callback"}));
    assert_eq!(m.text, "Rappelez-moi");
    // A catalogue order, as Meta documents it (quantity and price as strings or numbers).
    let m = one(
        "order",
        json!({"catalog_id": "cat-77", "text": "Pour la presse P200 svp", "product_items": [
            {"product_retailer_id": "JOINT-H42", "quantity": "2", "item_price": "12.5", "currency": "EUR"},
            {"product_retailer_id": "FILTRE-F7", "quantity": 1, "item_price": 48, "currency": "EUR"}
        ]}),
    );
    assert_eq!(
        m.text,
        "🛒 Order from catalogue cat-77\n- 2 × JOINT-H42 at 12.5 EUR\n- 1 × FILTRE-F7 at 48 EUR\nPour la presse P200 svp"
    );
}

#[test]
fn replies_system_and_unsupported_messages_are_kept() {
    let mut reply = msg("text", json!({"body": "oui"}));
    reply["context"] = json!({"from": "33186950001", "id": "wamid.ours"});
    let n = parse_notification(&notification(vec![reply], vec![])).unwrap_or_default();
    assert_eq!(
        n.messages[0].thread_hints.reply_to_external.as_deref(),
        Some("wamid.ours")
    );

    let m = one(
        "system",
        json!({"body": "User changed number", "wa_id": "33611112222", "type": "user_changed_number"}),
    );
    assert_eq!(m.text, "[user_changed_number] User changed number");
    assert!(m.auto.auto_reply, "no acknowledgement to a system message");

    let mut unsupported = msg("unsupported", json!({"type": "poll_creation"}));
    unsupported["errors"] =
        json!([{"code": 131051, "title": "Message type unknown", "error_data": {"details": "not supported"}}]);
    let n = parse_notification(&notification(vec![unsupported], vec![])).unwrap_or_default();
    assert_eq!(
        n.messages[0].text,
        "[unsupported WhatsApp message: poll_creation] 131051 Message type unknown: not supported"
    );
    let mut legacy = json!({"from": "1", "id": "wamid.u", "timestamp": "1", "type": "unknown"});
    legacy["errors"] = json!([{"code": 131051, "details": "Message type is not currently supported", "title": "Unsupported message type"}]);
    let n = parse_notification(&notification(vec![legacy], vec![])).unwrap_or_default();
    assert!(
        n.messages[0]
            .text
            .starts_with("[unsupported WhatsApp message: unknown] 131051"),
        "{}",
        n.messages[0].text
    );
}

#[test]
fn reactions_statuses_and_value_errors() {
    let add = msg("reaction", json!({"message_id": "wamid.target", "emoji": "👍"}));
    let mut remove = msg("reaction", json!({"message_id": "wamid.target", "emoji": ""}));
    remove["id"] = json!("wamid.reaction2");
    let statuses = vec![
        json!({"id": "wamid.out", "status": "delivered", "timestamp": "1767346300", "recipient_id": "33612345678"}),
        json!({"id": "wamid.out2", "status": "failed", "timestamp": "1767346300", "recipient_id": "336",
               "errors": [{"code": 131047, "title": "Re-engagement message", "error_data": {"details": "more than 24 hours"}}]}),
        json!({"id": "wamid.out3", "status": "played", "timestamp": "1", "recipient_id": "336"}),
    ];
    let n = parse_notification(&notification(vec![add, remove], statuses)).unwrap_or_default();
    assert!(n.messages.is_empty());
    assert_eq!(n.reactions.len(), 2);
    assert_eq!(n.reactions[0].emoji.as_deref(), Some("👍"));
    assert_eq!(n.reactions[1].emoji, None, "an empty emoji removes the reaction");
    assert_eq!(n.statuses[0].kind, Some(StatusKind::Delivered));
    assert_eq!(n.statuses[1].errors[0].code, Some(131047));
    assert_eq!(n.statuses[1].errors[0].details, "more than 24 hours");
    assert_eq!(n.statuses[2].kind, None);
    assert_eq!(n.statuses[2].raw_status, "played");

    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "messages", "value": {"metadata": {"phone_number_id": PNID}, "errors": [{"code": 130429, "title": "Rate limit hit"}]}},
        {"field": "account_update", "value": {"event": "X"}}]}]});
    let n = parse_notification(body.to_string().as_bytes()).unwrap_or_default();
    assert_eq!(n.errors.len(), 1);
    assert_eq!(n.errors[0].code, Some(130429));
    assert_eq!(n.information[0].field, "account_update", "recorded as information");
}

#[test]
fn bad_bodies_get_clear_errors() {
    assert!(parse_notification(b"not json").is_err());
    let e = parse_notification(br#"{"object":"page","entry":[]}"#)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("not a WhatsApp Business notification"), "{e}");
    let n = parse_notification(br#"{"object":"whatsapp_business_account"}"#).unwrap_or_default();
    assert_eq!(n, Default::default());
}

/// `../shared/fixtures/whatsapp` when it is beside the project; in CI
/// (`CI=true`) its absence is a failure, elsewhere a note.
fn shared() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/whatsapp");
    if dir.exists() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").is_err(),
        "{} is missing: CI must have ../shared beside the project",
        dir.display()
    );
    println!(
        "note: {} not found; the shared fixtures were not checked",
        dir.display()
    );
    None
}

#[test]
fn shared_fixtures_parse_and_their_signatures_verify() {
    let Some(dir) = shared() else { return };
    let mut count = 0;
    for entry in std::fs::read_dir(dir.join("inbound")).into_iter().flatten().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap_or_default();
        let n = parse_notification(&bytes).unwrap_or_else(|e| panic!("{}: {e}", entry.path().display()));
        let items = n.messages.len()
            + n.reactions.len()
            + n.statuses.len()
            + n.revisions.len()
            + n.errors.len()
            + n.information.len();
        assert!(items > 0, "{} gave nothing", entry.path().display());
        count += 1;
    }
    assert!(count >= 27, "{count} fixtures");
    let manifest_path = dir.join("signature/manifest.json");
    let manifest: Value = std::fs::read(&manifest_path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        .unwrap_or_else(|e| panic!("{}: {e}", manifest_path.display()));
    let cases = manifest.as_array().cloned().unwrap_or_default();
    assert!(!cases.is_empty(), "no signature cases in {}", manifest_path.display());
    for case in &cases {
        let file = case["file"].as_str().unwrap_or_default();
        let raw = std::fs::read(dir.join("signature").join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let secret = case["app_secret"].as_str().unwrap_or_default().as_bytes();
        assert_eq!(
            verify_signature(secret, &raw, case["x_hub_signature_256"].as_str()),
            Ok(()),
            "{file}"
        );
        if let Some(wrong) = case["signature_of_utf8_reserialised_body_must_NOT_match"].as_str() {
            assert!(verify_signature(secret, &raw, Some(wrong)).is_err(), "{file}");
        }
    }
}

/// A notification as Meta sends it for a customer who adopted a username and
/// shares no phone number: a BSUID in the contact and in `from_user_id`.
fn username_only(bsuid: &str, name: &str, username: &str, text: &str) -> Vec<u8> {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "33186950001", "phone_number_id": PNID},
        "contacts": [{"profile": {"name": name, "username": username}, "user_id": bsuid,
                      "parent_user_id": format!("{}.ENT.{}", &bsuid[..2], &bsuid[3..])}],
        "messages": [{"from_user_id": bsuid, "id": format!("wamid.{bsuid}"), "timestamp": "1767346200",
                      "type": "text", "text": {"body": text}}]}}]}]})
    .to_string()
    .into_bytes()
}

#[test]
fn a_customer_without_a_phone_number_is_known_by_their_business_scoped_id() {
    let n = parse_notification(&username_only("FR.111", "Alice", "@alice", "La presse est arrêtée"))
        .unwrap_or_else(|e| panic!("{e}"));
    let m = &n.messages[0];
    assert_eq!(m.from.address, "FR.111");
    assert_eq!(m.contact.phone, None);
    assert_eq!(m.contact.bsuid.as_deref(), Some("FR.111"));
    assert_eq!(m.contact.parent_bsuid.as_deref(), Some("FR.ENT.111"));
    assert_eq!(m.contact.username.as_deref(), Some("@alice"));
    assert_eq!(m.from.name.as_deref(), Some("Alice"));
}

#[test]
fn a_message_with_both_identifiers_carries_both() {
    let mut m = msg("text", json!({"body": "Bonjour"}));
    m["from_user_id"] = json!("FR.111");
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "metadata": {"phone_number_id": PNID},
        "contacts": [{"profile": {"name": "Alice"}, "wa_id": "33612345678", "user_id": "FR.111"}],
        "messages": [m]}}]}]});
    let n = parse_notification(body.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let m = &n.messages[0];
    assert_eq!(
        m.from.address, "33612345678",
        "the phone number is the address when there is one"
    );
    assert_eq!(m.contact.bsuid.as_deref(), Some("FR.111"));
}

#[test]
fn a_message_with_no_identity_is_an_error_not_a_message() {
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "metadata": {"phone_number_id": PNID},
        "contacts": [{"profile": {"name": "Nobody"}}, {"profile": {"name": "Other"}}],
        "messages": [{"id": "wamid.x", "timestamp": "1767346200", "type": "text", "text": {"body": "?"}}]}}]}]});
    let n = parse_notification(body.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert!(n.messages.is_empty());
    assert!(
        n.errors[0].title.contains("no phone number and no user id"),
        "{:?}",
        n.errors
    );
}

#[test]
fn edits_and_deletions_are_revisions_of_the_message_they_name() {
    let edit = msg(
        "edit",
        json!({"original_message_id": "wamid.orig", "message": {"type": "text", "text": {"body": "corrigé"}}}),
    );
    let revoke = msg("revoke", json!({"original_message_id": "wamid.orig2"}));
    let n = parse_notification(&notification(vec![edit, revoke], vec![])).unwrap_or_else(|e| panic!("{e}"));
    assert!(n.messages.is_empty());
    assert_eq!(n.revisions.len(), 2);
    assert_eq!(n.revisions[0].target, "wamid.orig");
    assert_eq!(n.revisions[0].text.as_deref(), Some("corrigé"));
    assert_eq!(n.revisions[1].target, "wamid.orig2");
    assert_eq!(n.revisions[1].text, None);
}

#[test]
fn other_webhook_fields_are_information_not_errors() {
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}},
        {"field": "message_template_status_update", "value": {"event": "PAUSED", "message_template_name": "sav_followup"}},
        {"field": "account_update", "value": {"event": "ACCOUNT_VIOLATION"}}]}]});
    let n = parse_notification(body.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let fields: Vec<&str> = n.information.iter().map(|i| i.field.as_str()).collect();
    assert_eq!(fields, ["account_update", "message_template_status_update"]);
    assert_eq!(n.templates[0].status, "PAUSED");
    assert_eq!(n.errors.len(), 1, "a violation is for an admin to act on");
    assert_eq!(n.errors[0].title, "account_update: ACCOUNT_VIOLATION");
}
