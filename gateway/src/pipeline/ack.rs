//! The acknowledgement a customer gets when a conversation starts: what
//! happens next, when, and what we still need from them.

use triage::{MissingField, Priority, Verdict};

pub fn text(verdict: &Verdict, language: &str, ticket: &str) -> String {
    let fr = language == "fr";
    let next = match (verdict.priority, fr) {
        (Priority::Critical, true) => {
            "Votre demande est traitée en priorité critique : un expert vous rappelle dans les 15 minutes et peut ouvrir une assistance vidéo."
        }
        (Priority::Critical, false) => {
            "Your request is handled as critical: an expert will call you back within 15 minutes and can open a video assistance session."
        }
        (Priority::Important, true) => {
            "Un expert prend votre demande en charge et vous répond par écrit dans les 2 heures ouvrées."
        }
        (Priority::Important, false) => {
            "An expert is taking your request and will answer in writing within 2 business hours."
        }
        (Priority::Faq, true) => "Notre équipe vous répond dans la journée ouvrée.",
        (Priority::Faq, false) => "Our team will answer within one business day.",
    };
    let mut out = if fr {
        format!("Bonjour, nous avons bien reçu votre message (référence {ticket}). {next}")
    } else {
        format!("Hello, we have received your message (reference {ticket}). {next}")
    };
    if !verdict.ask_for.is_empty() {
        let items: Vec<&str> = verdict.ask_for.iter().map(|f| field_label(*f, fr)).collect();
        out.push_str(if fr {
            "\nPour aller plus vite, merci de nous indiquer : "
        } else {
            "\nTo speed things up, please send us: "
        });
        out.push_str(&items.join(", "));
        out.push('.');
    }
    out
}

fn field_label(field: MissingField, fr: bool) -> &'static str {
    match (field, fr) {
        (MissingField::Machine, true) => "le modèle et le numéro de série de la machine",
        (MissingField::Machine, false) => "the machine model and serial number",
        (MissingField::FaultCode, true) => "le code défaut affiché",
        (MissingField::FaultCode, false) => "the fault code shown",
        (MissingField::Impact, true) => "l'impact sur la production",
        (MissingField::Impact, false) => "the impact on production",
        (MissingField::Photo, true) => "une photo de l'écran ou de la pièce",
        (MissingField::Photo, false) => "a photo of the screen or the part",
    }
}
