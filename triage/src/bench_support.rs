//! Inputs shared by the criterion benchmark and the profiling example, so both
//! measure the same thing. Not part of the engine's API.

use std::fmt::Write as _;

const SENTENCES: &[&str] = &[
    "Bonjour, nous avons un souci sur la presse depuis ce matin. ",
    "The operator restarted the cycle twice but the tool did not move. ",
    "Les pièces sortent avec une bavure sur le côté gauche. ",
    "We changed the filter last week as the manual says. ",
    "Die Hydraulik macht ein ungewöhnliches Geräusch beim Anfahren. ",
    "La temperatura del molde sube más de lo normal. ",
    "Il nastro trasportatore vibra quando arriva a pieno carico. ",
    "Merci de nous dire quoi vérifier en premier. ",
];

/// A message of about `len` bytes in five languages, ending with a stopped line.
pub fn message(len: usize) -> String {
    let tail = "La ligne 2 est arrêtée, code E17.";
    let mut s = String::with_capacity(len + 64);
    let mut i = 0;
    while s.len() + tail.len() < len {
        s.push_str(SENTENCES[i % SENTENCES.len()]);
        i += 1;
    }
    s.push_str(tail);
    s
}

/// The default rules plus `n` rules of made-up vocabulary (so verdicts stay
/// those of the defaults), one in ten with a regex: an admin's large rule file.
pub fn generated_rules(n: usize) -> String {
    let mut src = format!("{}\n", crate::rules::DEFAULT_RULES);
    for i in 0..n {
        let _ = writeln!(
            src,
            "[keywords.k{i}]\nfr = [\"panne zorg{i}\", \"defaut blix{i}\"]\nen = [\"zorg{i} failure\", \"blix{i} fault\"]\nde = [\"zorg{i} defekt\"]\n"
        );
    }
    for i in 0..n {
        let priority = ["critical", "important", "faq"][i % 3];
        let when = if i % 10 == 0 {
            format!("{{ any = [{{ keywords = \"k{i}\" }}, {{ regex = 'quux{i} \\d+' }}] }}")
        } else {
            format!("{{ keywords = \"k{i}\" }}")
        };
        let _ = writeln!(
            src,
            "[[rules]]\nname = \"r{i}\"\npriority = \"{priority}\"\nwhen = {when}\n"
        );
    }
    src
}
