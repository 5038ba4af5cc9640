//! Which of the five hotline languages a text is in, from its common words.

use std::sync::LazyLock;

use crate::word_table::WordMap;

use crate::rules::Lang;

const STOPWORDS: [&[&str]; 5] = [
    // fr
    &[
        "le",
        "la",
        "les",
        "des",
        "une",
        "est",
        "pas",
        "et",
        "je",
        "nous",
        "vous",
        "il",
        "elle",
        "sur",
        "dans",
        "pour",
        "avec",
        "au",
        "aux",
        "du",
        "ce",
        "cette",
        "qui",
        "que",
        "bonjour",
        "merci",
        "depuis",
        "notre",
        "votre",
        "ne",
        "mais",
        "tres",
        "on",
        "nos",
        "vos",
        "ca",
        "c'est",
        "j'ai",
        "d'un",
        "d'une",
        "svp",
        "les",
        "est-ce",
        "avons",
        "sommes",
        "plus",
        "rien",
        "tout",
        "toute",
        "votre",
        "cordialement",
        "madame",
        "monsieur",
        "n'est",
        "qu'on",
    ],
    // en
    &[
        "the", "is", "are", "and", "we", "you", "it", "on", "in", "for", "with", "to", "of", "this", "that", "hello",
        "hi", "thanks", "thank", "please", "since", "our", "your", "not", "but", "have", "has", "was", "what", "there",
        "can", "my", "an", "at", "again", "be", "been", "were", "they", "from", "just", "any", "all", "will", "won't",
        "doesn't", "isn't", "can't", "we're", "it's", "regards", "dear", "team", "since",
    ],
    // de
    &[
        "der", "die", "das", "und", "ist", "nicht", "wir", "sie", "ein", "eine", "mit", "fur", "auf", "bei", "von",
        "zu", "den", "dem", "hallo", "danke", "bitte", "seit", "unsere", "ihr", "kein", "keine", "es", "steht", "ich",
        "guten", "tag", "wieder", "auch", "noch", "sich", "nach", "wird", "haben", "hat", "uns", "unser", "unserer",
        "mehr", "schon", "jetzt", "heute", "gestern", "grussen", "gruss", "nix", "ist", "im",
    ],
    // es
    &[
        "el", "los", "las", "y", "es", "un", "una", "con", "por", "para", "que", "en", "del", "al", "hola", "gracias",
        "desde", "nuestra", "nuestro", "esta", "estan", "pero", "se", "muy", "hay", "ha", "buenos", "dias", "otra",
        "la", "lo", "hemos", "han", "nada", "sin", "ya", "cuando", "tambien", "buenas", "saludo", "saludos", "pueden",
        "podemos", "nos", "estamos", "sale", "tiene", "usted", "ustedes", "mas",
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
        "la",
        "le",
        "ci",
        "dopo",
        "tutta",
        "tutto",
        "nel",
        "nella",
        "sul",
        "sulla",
        "piu",
        "anche",
        "salve",
        "ieri",
        "oggi",
        "potete",
        "stiamo",
        "siamo",
        "niente",
        "vostro",
        "cordiali",
        "saluti",
    ],
];

/// Each stopword with the languages it belongs to, as a bit mask (bit i =
/// `Lang::SPOKEN[i]`), by the stopword's number in the table.
static INDEX: LazyLock<WordMap<u8>> = LazyLock::new(|| {
    let mut masks = WordMap::default();
    for (i, list) in STOPWORDS.iter().enumerate() {
        for w in *list {
            *masks.entry(w.as_bytes()) |= 1 << i;
        }
    }
    masks
});

/// Words looked at: the language shows in the first sentences, and a long
/// message must not cost more here than a short one.
const MAX_WORDS: usize = 40;

/// Stopword counts per language in folded text.
pub fn stopword_scores(folded: &str) -> [u32; 5] {
    let masks = &*INDEX;
    // One byte per language in one integer: at most MAX_WORDS (< 256) words count.
    let mut lanes = 0u64;
    for word in crate::words::forward(folded).take(MAX_WORDS) {
        if word.len() > 10 {
            continue;
        }
        if let Some(&mask) = masks.get(word.as_bytes()) {
            lanes += spread(mask);
        }
    }
    std::array::from_fn(|i| ((lanes >> (8 * i)) & 0xFF) as u32)
}

/// Bit i of `mask` as byte i of the result.
fn spread(mask: u8) -> u64 {
    (0..5).fold(0, |v, i| v | u64::from(mask >> i & 1) << (8 * i))
}

/// The language when common words leave no doubt: at least two of them, and
/// two more than any other language has. Word forms and single-word keywords
/// of other languages are set aside only then ("Stück" is not "stuck"); when in
/// doubt, every language's keywords count.
pub fn confident(stopwords: &[u32; 5]) -> Option<Lang> {
    let mut order: Vec<usize> = (0..5).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(stopwords[i]));
    let (best, second) = (stopwords[order[0]], stopwords[order[1]]);
    (best >= 2 && best >= second + 2).then(|| Lang::SPOKEN[order[0]])
}

/// The most likely language from stopword counts plus keyword hits per
/// language (`Lang::index` order, weighted double). `None` when nothing tells.
pub fn decide(stopwords: &[u32; 5], keyword_hits: &[u32; 6]) -> Option<Lang> {
    let score: Vec<u32> = (0..5).map(|i| stopwords[i] + 2 * keyword_hits[i]).collect();
    let best = (0..5).max_by_key(|&i| (score[i], std::cmp::Reverse(i)))?;
    (score[best] > 0).then(|| Lang::SPOKEN[best])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guess(text: &str) -> Option<Lang> {
        decide(&stopword_scores(text), &[0; 6])
    }

    #[test]
    fn common_words_tell_the_language() {
        assert_eq!(guess("bonjour, la ligne est arretee depuis ce matin"), Some(Lang::Fr));
        assert_eq!(guess("hello, the line is down since this morning"), Some(Lang::En));
        assert_eq!(guess("guten tag, die linie steht seit heute morgen"), Some(Lang::De));
        assert_eq!(guess("hola, la linea esta parada desde esta manana"), Some(Lang::Es));
        assert_eq!(guess("buongiorno, la linea e ferma da stamattina"), Some(Lang::It));
        assert_eq!(guess("e17"), None);
    }

    #[test]
    fn confident_only_with_a_margin() {
        let sure = |t: &str| confident(&stopword_scores(t));
        assert_eq!(
            sure("sale humo del cuadro electrico de la caldera, hemos cortado la luz general"),
            Some(Lang::Es)
        );
        assert_eq!(
            sure("la confezionatrice non riparte dopo il blackout, linea tutta ferma"),
            Some(Lang::It)
        );
        assert_eq!(
            sure("brauche Teilenummer fur den Naherungsschalter am Einlaufband"),
            Some(Lang::De)
        );
        assert_eq!(sure("output down 30 %"), None);
    }
}
