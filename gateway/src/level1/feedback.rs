//! What the customer is asked after Level 1 answers or an agent resolves:
//! whether a knowledge answer solved it, and whether they are satisfied.
//! Pure: the words in five languages, the quick answers (widget chips,
//! WhatsApp reply buttons) and what a customer's message says in answer.

use serde::Serialize;

use super::questions::Choice;

/// A customer's answer to one of the two questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// The knowledge answer solved it.
    Solved,
    /// It did not: a person takes over.
    NotSolved,
    Good,
    Bad,
}

impl Answer {
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Solved => "solved",
            Answer::NotSolved => "not_solved",
            Answer::Good => "good",
            Answer::Bad => "bad",
        }
    }

    pub fn parse(s: &str) -> Option<Answer> {
        Some(match s {
            "solved" => Answer::Solved,
            "not_solved" => Answer::NotSolved,
            "good" => Answer::Good,
            "bad" => Answer::Bad,
            _ => return None,
        })
    }

    /// An answer to the satisfaction question (else to the knowledge one).
    pub fn is_rating(self) -> bool {
        matches!(self, Answer::Good | Answer::Bad)
    }
}

struct Words {
    language: &'static str,
    kb_question: &'static str,
    solved: &'static str,
    not_solved: &'static str,
    /// Before the two links of a mail (email is not a dialogue).
    kb_links: &'static str,
    rating_question: &'static str,
    good: &'static str,
    bad: &'static str,
    rating_links: &'static str,
}

const WORDS: [Words; 5] = [
    Words {
        language: "fr",
        kb_question: "Cela a-t-il résolu votre problème ?",
        solved: "Oui, résolu",
        not_solved: "Non",
        kb_links: "Un clic suffit pour nous le dire :",
        rating_question: "Votre demande est résolue. Êtes-vous satisfait de notre aide ?",
        good: "👍 Satisfait",
        bad: "👎 Pas satisfait",
        rating_links: "Un clic pour répondre (un commentaire est possible) :",
    },
    Words {
        language: "en",
        kb_question: "Did this solve it?",
        solved: "Yes, solved",
        not_solved: "No",
        kb_links: "One click tells us:",
        rating_question: "Your request is resolved. Are you satisfied with our help?",
        good: "👍 Satisfied",
        bad: "👎 Not satisfied",
        rating_links: "One click to answer (you may add a comment):",
    },
    Words {
        language: "de",
        kb_question: "Hat das Ihr Problem gelöst?",
        solved: "Ja, gelöst",
        not_solved: "Nein",
        kb_links: "Ein Klick genügt:",
        rating_question: "Ihre Anfrage ist erledigt. Sind Sie mit unserer Hilfe zufrieden?",
        good: "👍 Zufrieden",
        bad: "👎 Nicht zufrieden",
        rating_links: "Ein Klick zum Antworten (ein Kommentar ist möglich):",
    },
    Words {
        language: "es",
        kb_question: "¿Ha resuelto esto su problema?",
        solved: "Sí, resuelto",
        not_solved: "No",
        kb_links: "Un clic basta para decírnoslo:",
        rating_question: "Su solicitud está resuelta. ¿Está satisfecho con nuestra ayuda?",
        good: "👍 Satisfecho",
        bad: "👎 No satisfecho",
        rating_links: "Un clic para responder (puede añadir un comentario):",
    },
    Words {
        language: "it",
        kb_question: "Ha risolto il problema?",
        solved: "Sì, risolto",
        not_solved: "No",
        kb_links: "Basta un clic per dircelo:",
        rating_question: "La sua richiesta è risolta. È soddisfatto del nostro aiuto?",
        good: "👍 Soddisfatto",
        bad: "👎 Non soddisfatto",
        rating_links: "Un clic per rispondere (può aggiungere un commento):",
    },
];

fn words(language: &str) -> &'static Words {
    WORDS.iter().find(|w| w.language == language).unwrap_or(&WORDS[1])
}

fn choice(answer: Answer, title: &'static str) -> Choice {
    Choice {
        id: format!("feedback:{}", answer.as_str()),
        title,
        photo: false,
    }
}

/// "Did this solve it?" and its two quick answers.
pub fn knowledge_question(language: &str) -> (&'static str, Vec<Choice>) {
    let w = words(language);
    (
        w.kb_question,
        vec![
            choice(Answer::Solved, w.solved),
            choice(Answer::NotSolved, w.not_solved),
        ],
    )
}

/// The satisfaction question and its two quick answers.
pub fn rating_question(language: &str) -> (&'static str, Vec<Choice>) {
    let w = words(language);
    (
        w.rating_question,
        vec![choice(Answer::Good, w.good), choice(Answer::Bad, w.bad)],
    )
}

/// The lines a mail carries instead of buttons: the question and one link per answer.
pub fn email_lines(language: &str, links: &[(Answer, String)]) -> String {
    let w = words(language);
    let rating = links.iter().any(|(a, _)| a.is_rating());
    let (question, intro) = if rating {
        (w.rating_question, w.rating_links)
    } else {
        (w.kb_question, w.kb_links)
    };
    let mut out = format!("{question} {intro}");
    for (answer, url) in links {
        out.push_str(&format!("\n{}: {url}", title(language, *answer)));
    }
    out
}

/// The title of an answer's quick reply in `language`.
pub fn title(language: &str, answer: Answer) -> &'static str {
    let w = words(language);
    match answer {
        Answer::Solved => w.solved,
        Answer::NotSolved => w.not_solved,
        Answer::Good => w.good,
        Answer::Bad => w.bad,
    }
}

/// What a customer's message answers, when it is one of the quick answers
/// (tapped, or typed) in any of the five languages, or a bare thumb. Anything
/// longer is a message in its own right: a new problem, not an answer.
pub fn answer(text: &str) -> Option<Answer> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 24 {
        return None;
    }
    match text {
        "👍" => return Some(Answer::Good),
        "👎" => return Some(Answer::Bad),
        _ => {}
    }
    let folded = text.to_lowercase();
    let same = |title: &str| title.to_lowercase() == folded;
    [Answer::Solved, Answer::NotSolved, Answer::Good, Answer::Bad]
        .into_iter()
        .find(|a| WORDS.iter().any(|w| same(title(w.language, *a))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_answers_fit_whatsapp_buttons_in_every_language() {
        for w in &WORDS {
            for (_, choices) in [knowledge_question(w.language), rating_question(w.language)] {
                assert_eq!(choices.len(), 2);
                for c in choices {
                    assert!(c.title.chars().count() <= 20, "{}: {}", w.language, c.title);
                    assert_eq!(answer(c.title).map(|a| format!("feedback:{}", a.as_str())), Some(c.id));
                }
            }
        }
    }

    #[test]
    fn answers_are_recognised_however_typed_and_nothing_else_is() {
        assert_eq!(answer("  yes, SOLVED "), Some(Answer::Solved));
        assert_eq!(answer("nein"), Some(Answer::NotSolved));
        assert_eq!(answer("No"), Some(Answer::NotSolved));
        assert_eq!(answer("👎"), Some(Answer::Bad));
        assert_eq!(answer("👍 soddisfatto"), Some(Answer::Good));
        assert_eq!(answer("No, the line is still stopped"), None);
        assert_eq!(
            answer("yes"),
            None,
            "a bare yes may answer anything: not taken for a verdict"
        );
        assert_eq!(answer(""), None);
    }

    #[test]
    fn unknown_languages_get_english() {
        assert_eq!(knowledge_question("pt").0, "Did this solve it?");
    }

    #[test]
    fn mail_lines_name_each_link_by_its_answer() {
        let lines = email_lines(
            "fr",
            &[
                (Answer::Good, "https://x/g".into()),
                (Answer::Bad, "https://x/b".into()),
            ],
        );
        assert!(lines.starts_with("Votre demande est résolue."), "{lines}");
        assert!(
            lines.contains("\n👍 Satisfait: https://x/g\n👎 Pas satisfait: https://x/b"),
            "{lines}"
        );
    }
}
