//! The questions Level 1 asks, in the customer's language, with the quick
//! answers a widget shows as chips and WhatsApp as reply buttons. A quick
//! answer that declines ("no code shown") answers its question as surely as
//! the fact would: Level 1 moves on instead of counting it unanswered.

use serde::Serialize;

use super::qualify::Fact;

/// A quick answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    /// Stable id (WhatsApp button id).
    pub id: String,
    pub title: &'static str,
    /// The widget opens the file picker instead of sending the title.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub photo: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Question {
    pub fact: Fact,
    pub text: &'static str,
    pub choices: Vec<Choice>,
}

const LANGUAGES: [&str; 5] = ["fr", "en", "de", "es", "it"];

/// (question, quick answers; a leading `📷 ` marks the photo button) per language, in LANGUAGES order.
fn wording(fact: Fact) -> [(&'static str, &'static [&'static str]); 5] {
    match fact {
        Fact::Machine => [
            ("Sur quelle machine ? Le modèle ou le type suffit.", &["Je ne sais pas"]),
            ("Which machine is it? Its model or type is enough.", &["I don't know"]),
            (
                "Um welche Maschine geht es? Modell oder Typ genügt.",
                &["Weiß ich nicht"],
            ),
            (
                "¿De qué máquina se trata? Basta con el modelo o el tipo.",
                &["No lo sé"],
            ),
            (
                "Di quale macchina si tratta? Basta il modello o il tipo.",
                &["Non lo so"],
            ),
        ],
        Fact::Serial => [
            (
                "Quel est le numéro de série (sur la plaque de la machine) ?",
                &["Pas sous la main"],
            ),
            ("What is the serial number (on the machine's plate)?", &["Not at hand"]),
            (
                "Wie lautet die Seriennummer (auf dem Typenschild)?",
                &["Nicht zur Hand"],
            ),
            (
                "¿Cuál es el número de serie (en la placa de la máquina)?",
                &["No lo tengo"],
            ),
            (
                "Qual è il numero di serie (sulla targhetta della macchina)?",
                &["Non a portata"],
            ),
        ],
        Fact::FaultCode => [
            (
                "Un code défaut ou une alarme s'affiche-t-il ? Lequel ?",
                &["Aucun code affiché"],
            ),
            ("Is a fault code or alarm shown? Which one?", &["No code shown"]),
            ("Wird ein Fehlercode oder Alarm angezeigt? Welcher?", &["Kein Code"]),
            ("¿Aparece un código de error o una alarma? ¿Cuál?", &["Ningún código"]),
            ("Compare un codice di errore o un allarme? Quale?", &["Nessun codice"]),
        ],
        Fact::Impact => [
            (
                "Quel est l'effet sur la production ?",
                &["Production arrêtée", "Production ralentie", "Pas d'impact"],
            ),
            (
                "What does it do to production?",
                &["Production stopped", "Production slowed", "No impact"],
            ),
            (
                "Was bedeutet das für die Produktion?",
                &["Produktion steht", "Produktion langsamer", "Keine Auswirkung"],
            ),
            (
                "¿Qué efecto tiene en la producción?",
                &["Producción parada", "Producción lenta", "Sin impacto"],
            ),
            (
                "Che effetto ha sulla produzione?",
                &["Produzione ferma", "Produzione lenta", "Nessun impatto"],
            ),
        ],
        Fact::Photo => [
            (
                "Pouvez-vous envoyer une photo de l'écran ou du défaut ?",
                &["📷 Envoyer une photo", "Pas possible"],
            ),
            (
                "Can you send a photo of the screen or of the fault?",
                &["📷 Send a photo", "Not possible"],
            ),
            (
                "Können Sie ein Foto des Displays oder des Fehlers senden?",
                &["📷 Foto senden", "Nicht möglich"],
            ),
            (
                "¿Puede enviar una foto de la pantalla o de la avería?",
                &["📷 Enviar una foto", "No es posible"],
            ),
            (
                "Può inviare una foto dello schermo o del guasto?",
                &["📷 Invia una foto", "Non è possibile"],
            ),
        ],
        Fact::CallbackNumber => [
            ("À quel numéro notre expert peut-il vous rappeler ?", &[]),
            ("Which number should our expert call you back on?", &[]),
            ("Unter welcher Nummer kann unser Experte Sie zurückrufen?", &[]),
            ("¿A qué número puede llamarle nuestro experto?", &[]),
            ("A quale numero può richiamarla il nostro esperto?", &[]),
        ],
    }
}

pub fn question(fact: Fact, language: &str) -> Question {
    let i = LANGUAGES.iter().position(|l| *l == language).unwrap_or(1);
    let (text, choices) = wording(fact)[i];
    Question {
        fact,
        text,
        choices: choices
            .iter()
            .enumerate()
            .map(|(n, c)| match c.strip_prefix("📷 ") {
                Some(title) => Choice {
                    id: format!("l1:{}:{n}", fact.as_str()),
                    title,
                    photo: true,
                },
                None => Choice {
                    id: format!("l1:{}:{n}", fact.as_str()),
                    title: c,
                    photo: false,
                },
            })
            .collect(),
    }
}

/// Whether `text` is one of the quick answers to the question about `fact`,
/// in any language (the customer may tap a chip in another language than
/// Switchyard guessed).
pub fn is_quick_answer(fact: Fact, text: &str) -> bool {
    let text = text.trim();
    !text.is_empty()
        && wording(fact)
            .iter()
            .flat_map(|(_, choices)| choices.iter())
            .any(|c| !c.starts_with("📷 ") && c.to_lowercase() == text.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_question_has_a_wording_in_every_language_and_short_buttons() {
        for fact in super::super::qualify::ALL {
            for language in LANGUAGES {
                let q = question(fact, language);
                assert!(!q.text.is_empty());
                // WhatsApp reply buttons: at most 3, titles of at most 20 characters.
                assert!(q.choices.len() <= 3, "{fact:?} {language}");
                for c in &q.choices {
                    assert!(c.title.chars().count() <= 20, "{fact:?} {language}: {}", c.title);
                }
            }
        }
    }

    #[test]
    fn a_declining_chip_answers_its_question_in_any_language() {
        assert!(is_quick_answer(Fact::FaultCode, "no code shown"));
        assert!(is_quick_answer(Fact::FaultCode, " Aucun code affiché "));
        assert!(
            !is_quick_answer(Fact::FaultCode, "No impact"),
            "another question's answer"
        );
        assert!(
            !is_quick_answer(Fact::Photo, "Send a photo"),
            "the photo button sends a photo, not text"
        );
        assert_eq!(question(Fact::Photo, "fr").choices[0].title, "Envoyer une photo");
        assert!(question(Fact::Photo, "fr").choices[0].photo);
        assert_eq!(
            question(Fact::Machine, "pt").text,
            question(Fact::Machine, "en").text,
            "English otherwise"
        );
    }
}
