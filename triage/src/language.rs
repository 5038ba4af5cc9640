//! Which of the five hotline languages a text is in, from its common words.

use crate::rules::Lang;

const STOPWORDS: [&[&str]; 5] = [
    // fr
    &[
        "le", "la", "les", "des", "une", "est", "pas", "et", "je", "nous", "vous", "il", "elle", "sur", "dans", "pour",
        "avec", "au", "aux", "du", "ce", "cette", "qui", "que", "bonjour", "merci", "depuis", "notre", "votre", "ne",
        "mais", "tres", "on", "nos", "vos", "ca", "c'est", "j'ai", "d'un", "d'une", "l'", "svp",
    ],
    // en
    &[
        "the", "is", "are", "and", "we", "you", "it", "on", "in", "for", "with", "to", "of", "this", "that", "hello",
        "hi", "thanks", "thank", "please", "since", "our", "your", "not", "but", "have", "has", "was", "what", "there",
        "can", "my", "an", "at", "again",
    ],
    // de
    &[
        "der", "die", "das", "und", "ist", "nicht", "wir", "sie", "ein", "eine", "mit", "fur", "auf", "bei", "von",
        "zu", "den", "dem", "hallo", "danke", "bitte", "seit", "unsere", "ihr", "kein", "keine", "es", "steht", "ich",
        "guten", "tag", "wieder", "auch", "noch",
    ],
    // es
    &[
        "el", "los", "las", "y", "es", "un", "una", "con", "por", "para", "que", "en", "del", "al", "hola", "gracias",
        "desde", "nuestra", "nuestro", "esta", "estan", "pero", "se", "muy", "hay", "ha", "buenos", "dias", "otra",
    ],
    // it
    &[
        "il",
        "lo",
        "gli",
        "e",
        "non",
        "un",
        "una",
        "con",
        "per",
        "che",
        "in",
        "del",
        "della",
        "al",
        "ciao",
        "grazie",
        "da",
        "nostra",
        "nostro",
        "sono",
        "questo",
        "questa",
        "ma",
        "buongiorno",
        "di",
        "ho",
        "abbiamo",
        "si",
        "ancora",
    ],
];

/// The most likely language from folded text, plus keyword hits per language
/// (`Lang::index` order) as extra evidence. `None` when nothing tells.
pub fn guess(folded: &str, keyword_hits: &[u32; 6]) -> Option<Lang> {
    let mut score = [0u32; 5];
    for word in folded
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
    {
        for (i, list) in STOPWORDS.iter().enumerate() {
            if list.contains(&word) {
                score[i] += 1;
            }
        }
    }
    for (i, s) in score.iter_mut().enumerate() {
        *s += 2 * keyword_hits[i];
    }
    let best = (0..5).max_by_key(|&i| (score[i], std::cmp::Reverse(i)))?;
    (score[best] > 0).then(|| Lang::SPOKEN[best])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_words_tell_the_language() {
        let none = [0; 6];
        assert_eq!(
            guess("bonjour, la ligne est arretee depuis ce matin", &none),
            Some(Lang::Fr)
        );
        assert_eq!(
            guess("hello, the line is down since this morning", &none),
            Some(Lang::En)
        );
        assert_eq!(
            guess("guten tag, die linie steht seit heute morgen", &none),
            Some(Lang::De)
        );
        assert_eq!(
            guess("hola, la linea esta parada desde esta manana", &none),
            Some(Lang::Es)
        );
        assert_eq!(
            guess("buongiorno, la linea e ferma da stamattina", &none),
            Some(Lang::It)
        );
        assert_eq!(guess("e17", &none), None);
    }
}
