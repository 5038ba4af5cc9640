//! Classification: one scan of the text, then each rule's condition evaluated
//! against what the scan found. The highest priority wins; ties go to the
//! earlier rule. Nothing matched: the rule file's defaults, never dropped.

use crate::extract::Fields;
use crate::fold::Folded;
use crate::input::{Channel, Input};
use crate::kb::KnowledgeBase;
use crate::language;
use crate::matcher::{FOLDED, Hit, Hits, Regexes, SUBJECT, TEXT};
use crate::rules::compile::normalise_sender;
use crate::rules::{Cond, FieldKind, HistorySame, Lang, Rule, RuleSet};
use crate::verdict::{Escalation, MissingField, Priority, RuleMatch, Span, Verdict};

/// Compiled rules and knowledge base. Share it (`Arc`): classification takes `&self`.
pub struct Engine {
    rules: RuleSet,
    kb: KnowledgeBase,
}

const FIELDS: [&str; 2] = ["text", "subject"];

/// Which rules a classification evaluates.
#[derive(Clone, Copy)]
enum Candidates {
    /// Those the rule index lists for the scan's hits.
    Indexed,
    /// Every rule: what the index must never change.
    #[cfg(test)]
    All,
}

struct Ctx<'a> {
    input: &'a Input<'a>,
    /// Folded text and subject, for proximity conditions.
    folded: [&'a str; 2],
    hits: &'a Hits,
    regexes: &'a Regexes<'a>,
    fields: &'a Fields,
    lang: Option<Lang>,
    sender: String,
}

impl Engine {
    pub fn new(rules: RuleSet, kb: KnowledgeBase) -> Self {
        Engine { rules, kb }
    }

    /// The rules and knowledge base that ship with the binary.
    pub fn builtin() -> Self {
        Engine::new(RuleSet::builtin(), KnowledgeBase::builtin())
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    pub fn knowledge_base(&self) -> &KnowledgeBase {
        &self.kb
    }

    pub fn classify(&self, input: &Input<'_>) -> Verdict {
        self.classify_with(input, Candidates::Indexed)
    }

    fn classify_with(&self, input: &Input<'_>, candidates: Candidates) -> Verdict {
        let text = Folded::new(input.text);
        let subject = input.subject.map(Folded::new);
        let scanner = &self.rules.scanner;

        let hinted = input.language.and_then(Lang::parse);
        let stopwords = language::stopword_scores(&text.text);
        let mut lang = language::decide(&stopwords, &[0; 6]).or(hinted);
        let sure = language::confident(&stopwords);
        let forms = &self.rules.forms;
        let canon_text = forms.canonical(&text, sure);
        let canon_subject = subject.as_ref().map(|s| forms.canonical(s, sure));
        let mut hits = scanner.new_hits();
        scanner.scan(&canon_text, TEXT, sure, &mut hits);
        if let Some(canon) = &canon_subject {
            scanner.scan(canon, SUBJECT, sure, &mut hits);
        }
        // Regex hits are cancelled by the negation words of the language as first guessed.
        let regexes = scanner.regexes([Some(&text.text), subject.as_ref().map(|s| s.text.as_str())], lang);
        // Keywords that matched are better evidence of the language than common words.
        lang = language::decide(&stopwords, &hits.per_lang).or(hinted).or(lang);

        let mut fields = match input.subject {
            Some(s) => Fields::extract(&format!("{}\n{s}", input.text), input.attachments, &self.rules.models),
            None => Fields::extract(input.text, input.attachments, &self.rules.models),
        };

        let ctx = Ctx {
            input,
            folded: [
                canon_text.text.as_str(),
                canon_subject.as_ref().map(|s| s.text.as_str()).unwrap_or_default(),
            ],
            hits: &hits,
            regexes: &regexes,
            fields: &fields,
            lang,
            sender: normalise_sender(input.from),
        };
        let mut matched: Vec<(&Rule, Vec<Hit>)> = Vec::new();
        let rules = match candidates {
            Candidates::Indexed => self.rules.index.candidates(&hits, &regexes),
            #[cfg(test)]
            Candidates::All => (0..self.rules.rules.len()).collect(),
        };
        for r in rules {
            let rule = &self.rules.rules[r];
            if let Some(evidence) = eval(&rule.when, &ctx) {
                matched.push((rule, evidence));
            }
        }

        let winner = matched
            .iter()
            .map(|(r, _)| *r)
            .fold(None::<&Rule>, |best, r| match best {
                Some(b) if b.priority >= r.priority => Some(b),
                _ => Some(r),
            });
        let originals = [input.text, input.subject.unwrap_or_default()];
        let folded = [Some(&text), subject.as_ref()];
        let canonical = [Some(&canon_text), canon_subject.as_ref()];
        let to_span = |h: &Hit| {
            let field = h.field % FOLDED;
            let f = folded[field].unwrap_or(&text);
            // A canonical hit maps to folded bytes first, a folded one directly.
            let (fs, fe) = match canonical[field] {
                Some(c) if h.field < FOLDED => c.folded_range(h.start, h.end),
                _ => (h.start, h.end),
            };
            let (s, e) = f.original_range(fs, fe, originals[field]);
            Span {
                field: FIELDS[field].to_string(),
                start: s,
                end: e,
                text: originals[field].get(s..e).unwrap_or_default().to_string(),
            }
        };

        // The words that made a rule of consequence fire say what the problem does.
        fields.impact = matched
            .iter()
            .filter(|(r, e)| r.priority > Priority::Faq && !e.is_empty())
            .find_map(|(_, e)| e.first().map(|h| to_span(h).text));

        // No rule understood the message: a knowledge-base answer is a positive
        // sign of a question; otherwise the defaults (shipped: a human looks).
        let kb_answer = match winner {
            None => self.kb.best(&text.text, lang),
            Some(_) => None,
        };
        let (priority, queue, escalation, ack) = match winner {
            Some(r) => (r.priority, r.queue.clone(), r.escalation, r.ack.clone()),
            None if kb_answer.is_some() => (
                Priority::Faq,
                self.queue_for(Priority::Faq),
                Escalation::None,
                "ack_faq".to_string(),
            ),
            None => {
                let p = self.rules.default_priority;
                (p, self.queue_for(p), Escalation::None, self.rules.default_ack.clone())
            }
        };
        let ask_for = winner
            .map(|r| r.ask_for.iter().copied().filter(|f| missing(*f, &fields)).collect())
            .unwrap_or_default();
        let mut tags: Vec<String> = Vec::new();
        for (r, _) in &matched {
            for t in &r.tags {
                if !tags.contains(t) {
                    tags.push(t.clone());
                }
            }
        }
        let faq = match (priority, kb_answer) {
            (Priority::Faq, Some(found)) => Some(found),
            (Priority::Faq, None) => self.kb.best(&text.text, lang),
            _ => None,
        };

        Verdict {
            priority,
            queue,
            escalation,
            ack_template: ack,
            rules: matched
                .iter()
                .map(|(r, evidence)| RuleMatch {
                    rule: r.name.clone(),
                    priority: r.priority,
                    spans: evidence.iter().map(to_span).collect(),
                })
                .collect(),
            fields,
            ask_for,
            tags,
            language: lang.map(|l| l.code().to_string()),
            faq,
        }
    }
}

impl Engine {
    /// The queue of a priority when no rule names one: `[defaults] queues`,
    /// else `[defaults] queue` for the default priority, else the usual name.
    fn queue_for(&self, p: Priority) -> String {
        match self.rules.queues_by_priority.get(&p) {
            Some(q) => q.clone(),
            None if p == self.rules.default_priority => self.rules.default_queue.clone(),
            None => crate::rules::compile::default_queue(p).to_string(),
        }
    }
}

fn missing(field: MissingField, f: &Fields) -> bool {
    match field {
        MissingField::Machine => !f.has_machine(),
        MissingField::FaultCode => f.fault_codes.is_empty(),
        MissingField::Impact => f.impact.is_none(),
        MissingField::Photo => f.photos == 0,
    }
}

/// `Some(evidence)` when the condition holds; evidence is the text that made it hold.
fn eval(cond: &Cond, ctx: &Ctx<'_>) -> Option<Vec<Hit>> {
    let yes = |b: bool| b.then(Vec::new);
    match cond {
        Cond::All(list) => {
            let mut evidence = Vec::new();
            for c in list {
                evidence.extend(eval(c, ctx)?);
            }
            Some(evidence)
        }
        Cond::Any(list) => list.iter().find_map(|c| eval(c, ctx)),
        Cond::Not(inner) => yes(eval(inner, ctx).is_none()),
        Cond::Keywords(ids) => ids.iter().find_map(|&i| ctx.hits.sets[i]).map(|h| vec![h]),
        Cond::Near { a, b, within } => ctx.hits.all[*a]
            .iter()
            .find_map(|ha| {
                ctx.hits.all[*b]
                    .iter()
                    .find_map(|hb| crate::matcher::near(ctx.folded[ha.field], *ha, *hb, *within))
            })
            .map(|h| vec![h]),
        Cond::Regex(i) => ctx.regexes.hit(*i).map(|h| vec![h]),
        Cond::Follows { earlier, later } => {
            let gather =
                |ids: &[usize]| -> Vec<Hit> { ids.iter().flat_map(|&i| ctx.hits.all[i].iter().copied()).collect() };
            let later_hits = gather(later);
            crate::matcher::follows(&gather(earlier), &later_hits).then(|| {
                later_hits
                    .into_iter()
                    .max_by_key(|h| (h.field == TEXT, h.start))
                    .into_iter()
                    .collect()
            })
        }
        Cond::Channel(list) => yes(list.contains(&ctx.input.channel)),
        Cond::Language(list) => yes(ctx.lang.is_some_and(|l| list.contains(&l))),
        Cond::Sender { exact, domains } => {
            let domain = ctx.sender.rsplit_once('@').map(|(_, d)| d);
            yes(exact.contains(&ctx.sender)
                || domain.is_some_and(|d| domains.iter().any(|x| d == x || d.ends_with(&format!(".{x}")))))
        }
        Cond::Tier(tiers) => yes(ctx
            .input
            .tier
            .is_some_and(|t| tiers.iter().any(|x| x.eq_ignore_ascii_case(t)))),
        Cond::Attachment(kind) => yes(match kind {
            None => !ctx.input.attachments.is_empty(),
            Some(k) => ctx.input.attachments.contains(k),
        }),
        Cond::HasField(f) => yes(has_field(*f, ctx.fields)),
        Cond::MissingField(f) => yes(!has_field(*f, ctx.fields)),
        Cond::History { days, same, at_least } => {
            let count = ctx
                .input
                .history
                .incidents
                .iter()
                .filter(|i| i.days_ago <= *days)
                .filter(|i| match same {
                    HistorySame::Any => true,
                    HistorySame::FaultCode => i.fault_codes.iter().any(|c| ctx.fields.fault_codes.contains(c)),
                    HistorySame::Machine => i
                        .machines
                        .iter()
                        .any(|m| ctx.fields.serials.contains(m) || ctx.fields.models.contains(m)),
                })
                .count();
            yes(count >= *at_least as usize)
        }
        Cond::OpenConversations(n) => yes(ctx.input.history.open_conversations >= *n),
        Cond::UnansweredMessages(n) => yes(ctx.input.history.unanswered_messages >= *n),
        Cond::Exchanges(n) => yes(ctx.input.history.agent_answers >= *n),
        Cond::WaitingMinutes(n) => yes(ctx.input.history.waiting_minutes >= *n),
        Cond::BusinessHours(b) => yes(ctx.input.business_hours == *b),
    }
}

fn has_field(f: FieldKind, fields: &Fields) -> bool {
    match f {
        FieldKind::FaultCode => !fields.fault_codes.is_empty(),
        FieldKind::Serial => !fields.serials.is_empty(),
        FieldKind::Model => !fields.models.is_empty(),
        FieldKind::Machine => fields.has_machine(),
        FieldKind::Firmware => !fields.firmware.is_empty(),
        FieldKind::Phone => !fields.phones.is_empty(),
        FieldKind::Photo => fields.photos > 0,
    }
}

impl Channel {
    /// All channels, for tools that enumerate them.
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::Webchat, Channel::Whatsapp];
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule index only skips rules that cannot hold: on every labelled
    /// message, evaluating all rules gives the same verdict.
    #[test]
    fn the_rule_index_changes_no_verdict() {
        let engine = Engine::builtin();
        let tables = [
            include_str!("../tests/data/labelled.tsv"),
            include_str!("../tests/data/holdout.tsv"),
            include_str!("../tests/data/fresh.tsv"),
        ];
        let mut checked = 0;
        for table in tables {
            let (cases, errors) = crate::eval::parse_tsv(table);
            assert!(errors.is_empty(), "{errors:?}");
            for c in cases {
                let input = Input::text(c.channel, &c.from, &c.text);
                assert_eq!(
                    engine.classify_with(&input, Candidates::Indexed),
                    engine.classify_with(&input, Candidates::All),
                    "{}",
                    c.text
                );
                checked += 1;
            }
        }
        assert!(checked > 400, "only {checked} messages checked");
    }
}
