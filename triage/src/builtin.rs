//! The rule set that ships until the rule-file language replaces it: a stopped
//! line, a safety problem and degraded production, in French and English.
//! Patterns apply to folded text (lower case, no accents, straight apostrophes).

use crate::verdict::{Escalation, Priority};

pub struct BuiltinRule {
    pub name: &'static str,
    pub priority: Priority,
    pub escalation: Escalation,
    pub patterns: &'static [&'static str],
}

const EQUIPMENT_FR: &str = r"(?:ligne|production|prod|machine|presse|robot|convoyeur|usine|atelier|installation)";
const EQUIPMENT_EN: &str = r"(?:line|production|machine|plant|press|robot|conveyor|equipment)";

pub fn rules() -> Vec<(BuiltinRule, Vec<String>)> {
    let line_fr = format!(
        r"\b{EQUIPMENT_FR}(?: (?:n[o°] ?)?\d+)? (?:est |s'est |sont )?(?:completement |totalement |encore )?(?:arretee?s?|arete?e?s?|a l'arret|bloquee?s?|hs|en panne|plantee?s?|morte?s?)\b"
    );
    let line_en = format!(
        r"\b{EQUIPMENT_EN}(?: (?:no\.? ?|#)?\d+)? (?:is |has |has been |went |are )?(?:completely |totally |still )?(?:down|stopped|halted|out of order|dead|not running)\b"
    );
    vec![
        (
            BuiltinRule {
                name: "line_stopped",
                priority: Priority::Critical,
                escalation: Escalation::CallbackVisio,
                patterns: &[
                    r"\barret (?:total )?(?:de la |de |du )?(?:ligne|production|prod|machine)\b",
                    r"\b(?:plus rien ne (?:tourne|marche|fonctionne)|tout est (?:arrete|bloque))\b",
                    r"\b(?:production|line) (?:stop|stoppage|halt)\b",
                    r"\bline down\b",
                ],
            },
            vec![line_fr, line_en],
        ),
        (
            BuiltinRule {
                name: "safety",
                priority: Priority::Critical,
                escalation: Escalation::CallbackVisio,
                patterns: &[
                    r"\b(?:incendie|feu|fumee|flammes?|blessee?s?|blessure|electrocut\w*|electrise\w*|choc electrique|fuite (?:dangereuse|de gaz|d'acide|d'huile chaude))\b",
                    r"\barret d'urgence (?:ne (?:fonctionne|marche) (?:pas|plus)|inoperant|hs)\b",
                    r"\b(?:fire|smoke|smoking|flames?|injur(?:y|ed|ies)|electric shock|electrocut\w*|gas leak|dangerous leak)\b",
                    r"\b(?:emergency stop|e-stop|estop) (?:is )?(?:not working|doesn't work|does not work|failed|broken)\b",
                ],
            },
            Vec::new(),
        ),
        (
            BuiltinRule {
                name: "degraded_production",
                priority: Priority::Important,
                escalation: Escalation::None,
                patterns: &[
                    r"\b(?:cadence reduite|mode degrade|tourne au ralenti|rebuts?|micro-?arrets?|derive qualite)\b",
                    r"\b(?:reduced (?:rate|speed|output)|degraded mode|scrap rate|micro-?stops?|running slow)\b",
                ],
            },
            Vec::new(),
        ),
        (
            BuiltinRule {
                name: "recurring_incident",
                priority: Priority::Important,
                escalation: Escalation::None,
                patterns: &[
                    r"\b(?:encore une fois|de nouveau|a nouveau en panne|probleme recurrent|recidive|troisieme fois)\b",
                    r"\b(?:again and again|keeps coming back|recurring (?:problem|issue|fault)|third time)\b",
                ],
            },
            Vec::new(),
        ),
    ]
}

/// Words that, just before a match in the same clause, cancel it: negation
/// ("pas d'arrêt de ligne") and hypotheticals ("que faire si la ligne s'arrête").
pub const CANCELLERS: &[&str] = &[
    "pas", "plus", "aucun", "aucune", "sans", "jamais", "si", "no", "not", "never", "without", "if", "nothing",
    "isn't", "wasn't", "n'est", "n'etait", "case", "cas",
];

/// Phrases that say the problem is over: the past, not an emergency.
pub const RESOLVED: &[&str] = &[
    r"\bc'est reparti\b",
    r"\b(?:ca|cela) (?:re)?(?:marche|fonctionne|tourne) (?:de nouveau|a nouveau|bien)\b",
    r"\b(?:ca|elle|la ligne) (?:re)?tourne (?:de nouveau|a nouveau)\b",
    r"\b(?:probleme )?(?:resolu|regle)\b",
    r"\b(?:back up|running again|working again|is fixed|was fixed|solved|resolved)\b",
];
