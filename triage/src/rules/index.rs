//! Which rules can hold, given what a scan found.
//!
//! Most rules need some keyword set or regex to have matched: a rule on
//! "stop state near equipment" cannot hold in a text where no stop word was
//! found. Each such rule is listed under the sets and regexes one of which
//! must have hit; classification evaluates only the rules listed under what
//! did hit, plus the few that need nothing (channel, sender, history). So an
//! admin's thousand rules cost what their hits cost, not a thousand
//! evaluations per message.

use super::model::{Cond, Rule};
use crate::matcher::{Hits, Regexes};

/// What must have hit for a condition to hold: at least one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Set(usize),
    Regex(usize),
}

#[derive(Debug, Default)]
pub struct RuleIndex {
    by_set: Vec<Vec<usize>>,
    by_regex: Vec<Vec<usize>>,
    always: Vec<usize>,
    rules: usize,
}

/// `Some(triggers)`: the condition can hold only if one of them hit.
/// `None`: it may hold whatever was found.
fn requirement(cond: &Cond) -> Option<Vec<Trigger>> {
    match cond {
        Cond::Keywords(ids) => Some(ids.iter().map(|&i| Trigger::Set(i)).collect()),
        Cond::Regex(i) => Some(vec![Trigger::Regex(*i)]),
        Cond::Near { a, .. } => Some(vec![Trigger::Set(*a)]),
        // `follows` needs a hit of a later set (earlier ones may be absent).
        Cond::Follows { later, .. } => Some(later.iter().map(|&i| Trigger::Set(i)).collect()),
        // Every part must hold: the narrowest requirement among them will do.
        Cond::All(list) => list.iter().filter_map(requirement).min_by_key(Vec::len),
        // Any part may hold: each must have a requirement, and all of them count.
        Cond::Any(list) => list
            .iter()
            .map(requirement)
            .collect::<Option<Vec<_>>>()
            .map(|parts| parts.concat()),
        _ => None,
    }
}

impl RuleIndex {
    pub fn new(rules: &[Rule], sets: usize, regexes: usize) -> Self {
        let mut index = RuleIndex {
            by_set: vec![Vec::new(); sets],
            by_regex: vec![Vec::new(); regexes],
            always: Vec::new(),
            rules: rules.len(),
        };
        for (r, rule) in rules.iter().enumerate() {
            let Some(triggers) = requirement(&rule.when) else {
                index.always.push(r);
                continue;
            };
            for t in triggers {
                let list = match t {
                    Trigger::Set(i) => index.by_set.get_mut(i),
                    Trigger::Regex(i) => index.by_regex.get_mut(i),
                };
                match list {
                    Some(list) if list.last() != Some(&r) => list.push(r),
                    Some(_) => {}
                    // Cannot happen for a compiled rule set; evaluating is always safe.
                    None => index.always.push(r),
                }
            }
        }
        index
    }

    /// The rules worth evaluating for these hits, in rule order. A regex is
    /// run only when it could add a rule that no keyword hit has added.
    pub fn candidates(&self, hits: &Hits, regexes: &Regexes<'_>) -> Vec<usize> {
        let mut marked = vec![0u64; self.rules.div_ceil(64)];
        let mut mark = |list: &[usize]| {
            for &r in list {
                marked[r / 64] |= 1 << (r % 64);
            }
        };
        mark(&self.always);
        for (i, _) in hits.sets.iter().enumerate().filter(|(_, h)| h.is_some()) {
            if let Some(list) = self.by_set.get(i) {
                mark(list);
            }
        }
        for (i, list) in self.by_regex.iter().enumerate() {
            let new = list.iter().any(|&r| marked[r / 64] & (1 << (r % 64)) == 0);
            if new && regexes.hit(i).is_some() {
                for &r in list {
                    marked[r / 64] |= 1 << (r % 64);
                }
            }
        }
        let mut out = Vec::new();
        for (w, &bits) in marked.iter().enumerate() {
            let mut bits = bits;
            while bits != 0 {
                out.push(w * 64 + bits.trailing_zeros() as usize);
                bits &= bits - 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_follow_the_logic_of_conditions() {
        let kw = |i| Cond::Keywords(vec![i]);
        assert_eq!(requirement(&kw(3)), Some(vec![Trigger::Set(3)]));
        // All: one requirement is enough (the narrowest).
        assert_eq!(
            requirement(&Cond::All(vec![
                Cond::Keywords(vec![1, 2]),
                kw(4),
                Cond::BusinessHours(true)
            ])),
            Some(vec![Trigger::Set(4)])
        );
        // Any: every branch must require something, and all count.
        assert_eq!(
            requirement(&Cond::Any(vec![kw(1), Cond::Regex(0)])),
            Some(vec![Trigger::Set(1), Trigger::Regex(0)])
        );
        assert_eq!(requirement(&Cond::Any(vec![kw(1), Cond::BusinessHours(true)])), None);
        // Near needs its first set (and its second, but one is enough).
        assert_eq!(
            requirement(&Cond::Near { a: 4, b: 5, within: 3 }),
            Some(vec![Trigger::Set(4)])
        );
        // A negation holds when nothing is found.
        assert_eq!(requirement(&Cond::Not(Box::new(kw(1)))), None);
        assert_eq!(
            requirement(&Cond::Follows {
                earlier: vec![1],
                later: vec![2, 5]
            }),
            Some(vec![Trigger::Set(2), Trigger::Set(5)])
        );
    }

    /// Past the first 64 rules, candidates are still found by their index.
    #[test]
    fn rules_beyond_the_first_word_of_the_bit_set_are_found() {
        use std::fmt::Write as _;
        let mut src = String::from("version = 1\n");
        for i in 0..200 {
            let _ = writeln!(src, "[keywords.k{i}]\nany = [\"zorg{i}\"]\n");
        }
        for i in 0..200 {
            let _ = writeln!(
                src,
                "[[rules]]\nname = \"r{i}\"\npriority = \"important\"\nwhen = {{ keywords = \"k{i}\" }}\n"
            );
        }
        let rules = crate::RuleSet::parse(&src).unwrap_or_else(|e| panic!("{e}"));
        let engine = crate::Engine::new(rules, crate::KnowledgeBase::builtin());
        for i in [0, 63, 64, 150, 199] {
            let text = format!("zorg{i} encore");
            let v = engine.classify(&crate::Input::text(crate::Channel::Email, "c@example.com", &text));
            let names: Vec<&str> = v.rules.iter().map(|r| r.rule.as_str()).collect();
            assert_eq!(names, vec![format!("r{i}")], "{text}");
        }
    }
}
