//! Which language to answer in, when the channel did not say.

const FRENCH: &[&str] = &[
    "le",
    "la",
    "les",
    "est",
    "une",
    "des",
    "pas",
    "bonjour",
    "merci",
    "ligne",
    "machine",
    "nous",
    "vous",
    "avec",
    "pour",
    "arrêtée",
    "arretee",
    "panne",
    "depuis",
    "et",
];
const ENGLISH: &[&str] = &[
    "the", "is", "a", "an", "not", "hello", "hi", "thanks", "line", "we", "you", "with", "for", "down", "since", "and",
    "our", "stopped", "please",
];

/// `fr` or `en` from the words used; `default` when the text does not tell.
pub fn guess(text: &str, default: &str) -> String {
    let (mut fr, mut en) = (0, 0);
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let w = word.to_lowercase();
        fr += usize::from(FRENCH.contains(&w.as_str()));
        en += usize::from(ENGLISH.contains(&w.as_str()));
    }
    match fr.cmp(&en) {
        std::cmp::Ordering::Greater => "fr".into(),
        std::cmp::Ordering::Less => "en".into(),
        std::cmp::Ordering::Equal => default.into(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn guesses_from_common_words() {
        assert_eq!(super::guess("Ligne 2 arrêtée, code E17", "en"), "fr");
        assert_eq!(super::guess("Line 3 is down since 6am", "fr"), "en");
        assert_eq!(super::guess("E17", "fr"), "fr");
    }
}
