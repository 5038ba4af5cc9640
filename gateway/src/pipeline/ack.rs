//! The acknowledgement a customer gets when a conversation starts: what
//! happens next, when, and what we still need from them — in their language.

use triage::{MissingField, Priority, Verdict};

struct Texts {
    hello: &'static str,
    critical: &'static str,
    important: &'static str,
    faq: &'static str,
    ask: &'static str,
    machine: &'static str,
    fault_code: &'static str,
    impact: &'static str,
    photo: &'static str,
    faq_intro: &'static str,
    faq_check: &'static str,
}

const FR: Texts = Texts {
    hello: "Bonjour, nous avons bien reçu votre message (référence {ticket}).",
    critical: "Votre demande est traitée en priorité critique : un expert vous rappelle {eta} et peut ouvrir une assistance vidéo.",
    important: "Un expert prend votre demande en charge et vous répond par écrit {eta}.",
    faq: "Notre équipe vous répond {eta}.",
    ask: "Pour aller plus vite, merci de nous indiquer :",
    machine: "le modèle et le numéro de série de la machine",
    fault_code: "le code défaut affiché",
    impact: "l'impact sur la production",
    photo: "une photo de l'écran ou de la pièce",
    faq_intro: "Voici une réponse qui pourrait vous aider :",
    faq_check: "Cela répond-il à votre question ? Sinon, répondez simplement à ce message : un technicien prend le relais.",
};

const EN: Texts = Texts {
    hello: "Hello, we have received your message (reference {ticket}).",
    critical: "Your request is handled as critical: an expert will call you back {eta} and can open a video assistance session.",
    important: "An expert is taking your request and will answer in writing {eta}.",
    faq: "Our team will answer {eta}.",
    ask: "To speed things up, please send us:",
    machine: "the machine model and serial number",
    fault_code: "the fault code shown",
    impact: "the impact on production",
    photo: "a photo of the screen or the part",
    faq_intro: "Here is an answer that may help:",
    faq_check: "Does this answer your question? If not, just reply to this message and a technician will take over.",
};

const DE: Texts = Texts {
    hello: "Guten Tag, wir haben Ihre Nachricht erhalten (Referenz {ticket}).",
    critical: "Ihre Anfrage wird mit höchster Priorität bearbeitet: Ein Experte ruft Sie {eta} zurück und kann eine Video-Unterstützung starten.",
    important: "Ein Experte übernimmt Ihre Anfrage und antwortet schriftlich {eta}.",
    faq: "Unser Team antwortet Ihnen {eta}.",
    ask: "Damit es schneller geht, senden Sie uns bitte:",
    machine: "Maschinenmodell und Seriennummer",
    fault_code: "den angezeigten Fehlercode",
    impact: "die Auswirkung auf die Produktion",
    photo: "ein Foto des Displays oder des Teils",
    faq_intro: "Hier ist eine Antwort, die Ihnen helfen könnte:",
    faq_check: "Beantwortet das Ihre Frage? Wenn nicht, antworten Sie einfach auf diese Nachricht: ein Techniker übernimmt.",
};

const ES: Texts = Texts {
    hello: "Hola, hemos recibido su mensaje (referencia {ticket}).",
    critical: "Su solicitud se trata con prioridad crítica: un experto le llamará {eta} y puede abrir una asistencia por vídeo.",
    important: "Un experto se encarga de su solicitud y le responderá por escrito {eta}.",
    faq: "Nuestro equipo le responderá {eta}.",
    ask: "Para ir más rápido, indíquenos por favor:",
    machine: "el modelo y el número de serie de la máquina",
    fault_code: "el código de error mostrado",
    impact: "el impacto en la producción",
    photo: "una foto de la pantalla o de la pieza",
    faq_intro: "Aquí tiene una respuesta que puede ayudarle:",
    faq_check: "¿Responde esto a su pregunta? Si no, responda a este mensaje y un técnico se encargará.",
};

const IT: Texts = Texts {
    hello: "Buongiorno, abbiamo ricevuto il suo messaggio (riferimento {ticket}).",
    critical: "La sua richiesta è trattata con priorità critica: un esperto la richiamerà {eta} e può avviare un'assistenza video.",
    important: "Un esperto prende in carico la sua richiesta e risponderà per iscritto {eta}.",
    faq: "Il nostro team le risponderà {eta}.",
    ask: "Per fare prima, ci indichi per favore:",
    machine: "il modello e il numero di serie della macchina",
    fault_code: "il codice di errore visualizzato",
    impact: "l'impatto sulla produzione",
    photo: "una foto del display o del pezzo",
    faq_intro: "Ecco una risposta che potrebbe aiutarla:",
    faq_check: "Risponde alla sua domanda? Altrimenti risponda a questo messaggio: un tecnico se ne occuperà.",
};

/// The knowledge-base answer the acknowledgement carries: one marked
/// auto_send on a FAQ verdict goes out at once; the conversation stays
/// queued, so a human checks it and takes over if the customer says no.
pub fn knowledge_answer(verdict: &Verdict) -> Option<&triage::FaqMatch> {
    verdict
        .faq
        .as_ref()
        .filter(|f| f.auto_send && verdict.priority == Priority::Faq)
}

/// The acknowledgement. `eta` is the phrase of `super::eta` ("within 15 minutes",
/// "before 14:30"); `template`, from `[[ack_templates]]`, replaces the opening
/// sentences (placeholders `{ticket}` and `{eta}`); the questions about missing
/// facts and an automatic FAQ answer follow either way.
/// `ask_all`: the missing facts are listed here (email), not asked one at a time by Level 1.
/// `verdict_asked`: "did this solve it?" follows the knowledge answer as a
/// question of its own (buttons, chips or links), so the text does not ask it.
pub fn text(
    verdict: &Verdict,
    language: &str,
    ticket: &str,
    eta: &str,
    template: Option<&str>,
    ask_all: bool,
    verdict_asked: bool,
) -> String {
    let t = match language {
        "fr" => &FR,
        "de" => &DE,
        "es" => &ES,
        "it" => &IT,
        _ => &EN,
    };
    let next = match verdict.priority {
        Priority::Critical => t.critical,
        Priority::Important => t.important,
        Priority::Faq => t.faq,
    };
    let mut out = match template {
        Some(template) => template.replace("{ticket}", ticket).replace("{eta}", eta),
        None => format!("{} {}", t.hello.replace("{ticket}", ticket), next.replace("{eta}", eta)),
    };
    if let Some(faq) = knowledge_answer(verdict) {
        out.push_str(&format!("\n\n{}\n\n{}", t.faq_intro, faq.answer.trim()));
        if !verdict_asked {
            out.push_str("\n\n");
            out.push_str(t.faq_check);
        }
    }
    if ask_all && !verdict.ask_for.is_empty() {
        let items: Vec<&str> = verdict
            .ask_for
            .iter()
            .map(|f| match f {
                MissingField::Machine => t.machine,
                MissingField::FaultCode => t.fault_code,
                MissingField::Impact => t.impact,
                MissingField::Photo => t.photo,
            })
            .collect();
        out.push('\n');
        out.push_str(t.ask);
        out.push(' ');
        out.push_str(&items.join(", "));
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use triage::{Escalation, FaqMatch};

    fn verdict(priority: Priority, auto_send: bool) -> Verdict {
        Verdict {
            priority,
            queue: "n1".into(),
            escalation: Escalation::None,
            ack_template: String::new(),
            rules: Vec::new(),
            fields: triage::Fields::default(),
            ask_for: vec![MissingField::Machine, MissingField::FaultCode],
            tags: Vec::new(),
            language: Some("en".into()),
            faq: Some(FaqMatch {
                id: "reset-counter".into(),
                score: 0.9,
                auto_send,
                title: None,
                answer: "Hold the reset key for five seconds.".into(),
            }),
        }
    }

    #[test]
    fn the_verdict_question_is_left_to_its_buttons_when_they_follow() {
        let v = verdict(Priority::Faq, true);
        let by_reply = text(&v, "en", "SY-1", "today", None, false, false);
        assert!(by_reply.ends_with(EN.faq_check), "{by_reply}");
        let by_buttons = text(&v, "en", "SY-1", "today", None, false, true);
        assert!(by_buttons.contains("Hold the reset key"), "{by_buttons}");
        assert!(!by_buttons.contains(EN.faq_check), "{by_buttons}");
    }

    #[test]
    fn a_knowledge_answer_goes_out_only_when_marked_so_and_only_on_a_faq_verdict() {
        let sent = text(&verdict(Priority::Faq, true), "en", "SY-1", "today", None, false, false);
        assert!(sent.contains("Hold the reset key"), "{sent}");
        for (v, why) in [
            (
                verdict(Priority::Faq, false),
                "not marked auto_send: a draft for an agent",
            ),
            (
                verdict(Priority::Important, true),
                "an important problem is not answered by the FAQ",
            ),
        ] {
            let t = text(&v, "en", "SY-1", "today", None, false, false);
            assert!(!t.contains("Hold the reset key"), "{why}: {t}");
            assert_eq!(knowledge_answer(&v), None, "{why}");
        }
    }

    #[test]
    fn the_missing_facts_are_listed_only_where_level_1_does_not_ask_them() {
        let v = verdict(Priority::Important, false);
        let listed = text(&v, "en", "SY-7", "within 15 minutes", None, true, false);
        assert!(
            listed.contains(EN.machine) && listed.contains(EN.fault_code),
            "{listed}"
        );
        assert!(
            listed.contains("SY-7") && listed.contains("within 15 minutes"),
            "{listed}"
        );
        let asked_one_by_one = text(&v, "en", "SY-7", "within 15 minutes", None, false, false);
        assert!(!asked_one_by_one.contains(EN.fault_code), "{asked_one_by_one}");
    }

    #[test]
    fn each_language_answers_in_its_own_words_and_others_in_english() {
        let v = verdict(Priority::Important, false);
        for (language, t) in [("fr", &FR), ("de", &DE), ("es", &ES), ("it", &IT), ("pt", &EN)] {
            let ack = text(&v, language, "SY-3", "-", None, true, false);
            assert!(ack.contains(t.fault_code) && ack.contains(t.ask), "{language}: {ack}");
        }
    }
}
