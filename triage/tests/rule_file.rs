//! The rule language: what a valid file does, and how a broken one is reported.

use triage::{
    AttachmentKind, Channel, Engine, Escalation, History, Incident, Input, KnowledgeBase, MissingField, Priority,
    RuleSet,
};

fn engine(source: &str) -> Engine {
    match RuleSet::parse(source) {
        Ok(rules) => Engine::new(rules, KnowledgeBase::default()),
        Err(e) => panic!("rule file should be valid:\n{e}"),
    }
}

fn errors(source: &str) -> Vec<String> {
    match RuleSet::parse(source) {
        Ok(_) => Vec::new(),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

const SMALL: &str = r#"
version = 1

[lists]
vip = ["@bigcustomer.com", "+33 6 00 00 00 01"]

[keywords.stop]
fr = ["ligne arrêtée"]
en = ["line down"]

[[rules]]
name = "vip"
priority = "important"
queue = "vip"
when = { sender_list = "vip" }

[[rules]]
name = "stop"
priority = "critical"
escalation = "callback"
ask_for = ["fault_code", "photo"]
tags = ["stop"]
when = { keywords = "stop" }

[[rules]]
name = "whatsapp_photo"
priority = "important"
when = { all = [{ channel = "whatsapp" }, { attachment = "image" }, { missing_field = "fault_code" }] }

[[rules]]
name = "repeat"
priority = "important"
when = { history = { days = 30, same = "fault_code" } }
"#;

#[test]
fn highest_priority_wins_and_ties_go_to_the_first_rule() {
    let e = engine(SMALL);
    let v = e.classify(&Input::text(
        Channel::Email,
        "boss@bigcustomer.com",
        "Ligne arrêtée depuis 8h",
    ));
    assert_eq!(v.priority, Priority::Critical);
    assert_eq!(v.escalation, Escalation::Callback);
    assert_eq!(v.queue, "critical", "queue from the priority when the rule names none");
    let names: Vec<&str> = v.rules.iter().map(|r| r.rule.as_str()).collect();
    assert_eq!(names, ["vip", "stop"], "every matching rule is explained");
    assert_eq!(v.rules[1].spans[0].text, "Ligne arrêtée");
    assert_eq!(v.ask_for, [MissingField::FaultCode, MissingField::Photo]);
    assert_eq!(v.tags, ["stop"]);

    let v = e.classify(&Input::text(Channel::Email, "boss@bigcustomer.com", "bonjour"));
    assert_eq!((v.priority, v.queue.as_str()), (Priority::Important, "vip"));
    let v = e.classify(&Input::text(Channel::Whatsapp, "33600000001", "bonjour"));
    assert_eq!(v.priority, Priority::Important, "numbers compare as digits");
}

#[test]
fn unmatched_messages_get_the_defaults() {
    let v = engine(SMALL).classify(&Input::text(Channel::Webchat, "x", "Bonjour"));
    assert_eq!(
        (v.priority, v.queue.as_str(), v.escalation),
        (Priority::Faq, "n1", Escalation::None)
    );
    assert!(v.rules.is_empty());
}

#[test]
fn attachments_fields_and_history_are_conditions() {
    let e = engine(SMALL);
    let mut input = Input::text(Channel::Whatsapp, "33611111111", "voilà l'écran");
    input.attachments = &[AttachmentKind::Image];
    assert_eq!(e.classify(&input).rules[0].rule, "whatsapp_photo");
    input.text = "voilà l'écran, code E17";
    assert!(e.classify(&input).rules.is_empty(), "the fault code is there");

    let history = History {
        incidents: vec![Incident {
            days_ago: 12,
            fault_codes: vec!["E17".into()],
            machines: vec![],
        }],
        ..History::default()
    };
    let mut input = Input::text(Channel::Email, "a@b.c", "Le défaut E17 est revenu");
    input.history = &history;
    assert_eq!(e.classify(&input).rules[0].rule, "repeat");
    let old = History {
        incidents: vec![Incident {
            days_ago: 45,
            fault_codes: vec!["E17".into()],
            machines: vec![],
        }],
        ..History::default()
    };
    input.history = &old;
    assert!(e.classify(&input).rules.is_empty(), "outside the window");
}

#[test]
fn mistakes_are_reported_with_line_column_and_hint() {
    let broken = r#"version = 1

[keywords.stop]
fr = ["ligne arrêtée"]

[[rules]]
name = "a"
priority = "urgent"
when = { keywords = "stpo" }

[[rules]]
name = "a"
priority = "critical"
escalation = "helicopter"
when = { regex = "(unclosed" }
"#;
    let errs = errors(broken);
    assert_eq!(errs.len(), 5, "{errs:#?}");
    assert!(
        errs[0].starts_with("line 8, column 12: unknown priority \"urgent\""),
        "{errs:#?}"
    );
    assert!(
        errs[1].starts_with("line 9, column 21: unknown keyword set or concept \"stpo\"")
            && errs[1].contains("did you mean \"stop\"?"),
        "{errs:#?}"
    );
    assert!(
        errs[2].starts_with("line 12, column 8: rule \"a\" is defined twice") && errs[2].contains("line 7"),
        "{errs:#?}"
    );
    assert!(
        errs[3].starts_with("line 14, column 14: unknown escalation"),
        "{errs:#?}"
    );
    assert!(
        errs[4].starts_with("line 15, column 18: regex does not compile"),
        "{errs:#?}"
    );
}

#[test]
fn syntax_errors_and_unknown_keys_point_at_their_place() {
    let errs = errors("version = 1\n[[rules]]\nname = \"x\"\npriority = \"faq\"\nwhen = { keywords = }\n");
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with("line 5, column"), "{errs:?}");
    let errs = errors("version = 1\n[[rules]]\nname = \"x\"\npriority = \"faq\"\nwhen = { channel = \"fax\" }\n");
    assert!(
        errs[0].starts_with("line 5, column 20: unknown channel \"fax\""),
        "{errs:?}"
    );
    let errs = errors("version = 1\n[[rules]]\nname = \"x\"\npriorty = \"faq\"\nwhen = { tier = \"gold\" }\n");
    assert!(errs[0].contains("priorty"), "{errs:?}");
    assert!(errs[0].contains("hint:"), "{errs:?}");
}

#[test]
fn the_shipped_rules_are_valid_and_cover_five_languages() {
    let rules = RuleSet::builtin();
    assert!(rules.phrase_count() > 400, "{} phrases", rules.phrase_count());
    assert!(rules.regex_count() >= 3);
}

#[test]
fn language_of_the_verdict_follows_the_text() {
    let e = Engine::builtin();
    for (text, lang) in [
        ("Bonjour, la ligne est arrêtée", "fr"),
        ("Hello, the line is down", "en"),
        ("Guten Tag, die Linie steht", "de"),
        ("Hola, la línea está parada", "es"),
        ("Buongiorno, la linea è ferma", "it"),
    ] {
        let v = e.classify(&Input::text(Channel::Webchat, "x", text));
        assert_eq!(v.language.as_deref(), Some(lang), "{text}");
        assert_eq!(v.priority, Priority::Critical, "{text}");
    }
}

#[test]
fn faq_answers_come_from_the_knowledge_base() {
    let e = Engine::builtin();
    let v = e.classify(&Input::text(
        Channel::Webchat,
        "x",
        "Bonjour, où trouver la notice de la presse P200 ?",
    ));
    assert_eq!(v.priority, Priority::Faq);
    let faq = v.faq.unwrap_or_else(|| panic!("no FAQ match"));
    assert_eq!(faq.id, "manual");
    assert!(faq.auto_send);
    assert!(faq.score >= 0.5);
    assert_eq!(v.fields.models, ["P200"]);
    let v = e.classify(&Input::text(Channel::Webchat, "x", "Ligne arrêtée, où est la notice ?"));
    assert!(v.faq.is_none(), "no FAQ answer to an emergency");
}

#[test]
fn strategic_accounts_are_critical() {
    let e = Engine::builtin();
    let mut input = Input::text(
        Channel::Email,
        "buyer@key-account.com",
        "Pouvez-vous nous envoyer un devis ?",
    );
    input.tier = Some("strategic");
    let v = e.classify(&input);
    assert_eq!(v.priority, Priority::Critical);
    assert_eq!(
        v.rules.iter().map(|r| r.rule.as_str()).collect::<Vec<_>>(),
        ["strategic_customer", "question"]
    );
}

#[test]
fn follow_ups_and_long_exchanges_are_conditions_on_the_conversation() {
    let rules = r#"
version = 1

[[rules]]
name = "follow_up"
priority = "important"
escalation = "callback"
when = { all = [{ unanswered_messages = 1 }, { waiting_minutes = 30 }] }

[[rules]]
name = "long_running"
priority = "important"
escalation = "visio"
when = { exchanges = 3 }
"#;
    let e = engine(rules);
    let mut history = History::default();
    let classify = |h: &History| {
        let mut input = Input::text(Channel::Whatsapp, "336", "des nouvelles ?");
        input.history = h;
        e.classify(&input)
            .rules
            .iter()
            .map(|r| r.rule.clone())
            .collect::<Vec<_>>()
    };
    assert!(classify(&history).is_empty());
    history.unanswered_messages = 1;
    history.waiting_minutes = 5;
    assert!(
        classify(&history).is_empty(),
        "a message cut in pieces is not a follow-up"
    );
    history.waiting_minutes = 45;
    assert_eq!(classify(&history), ["follow_up"]);
    let history = History {
        agent_answers: 3,
        ..History::default()
    };
    assert_eq!(classify(&history), ["long_running"]);
}

fn classify(engine: &Engine, text: &str) -> (Priority, Vec<String>) {
    let v = engine.classify(&Input::text(Channel::Webchat, "x", text));
    (v.priority, v.rules.iter().map(|r| r.rule.clone()).collect())
}

fn compile(src: &str) -> Engine {
    match RuleSet::parse(src) {
        Ok(rules) => Engine::new(rules, KnowledgeBase::default()),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn admin_rules_use_and_extend_shipped_concepts() {
    let engine = compile(
        r#"version = 1
[keywords.equipment]
extends = "equipment"
en = ["wind turbine"]

[[rules]]
name = "turbine_stopped"
priority = "critical"
when = { near = { a = "equipment", b = "stop_state", within = 4 } }
"#,
    );
    // Their own word, a shipped state, in another form than written ("stalled" → "stalling").
    assert_eq!(
        classify(&engine, "the wind turbine keeps stalling").0,
        Priority::Critical
    );
    assert_eq!(classify(&engine, "the conveyor has stalled").0, Priority::Critical);
    assert_eq!(classify(&engine, "the wind turbine is fine").0, Priority::Faq);
}

#[test]
fn an_unknown_concept_is_explained() {
    let errs = errors("version = 1\n[[rules]]\nname = \"a\"\npriority = \"faq\"\nwhen = { keywords = \"zzzz\" }\n");
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0].contains("unknown keyword set or concept \"zzzz\""), "{errs:#?}");
    assert!(
        errs[0].contains("stop_state") && errs[0].contains("equipment"),
        "lists the concepts: {errs:#?}"
    );
    let near_miss =
        errors("version = 1\n[[rules]]\nname = \"a\"\npriority = \"faq\"\nwhen = { keywords = \"stop_stat\" }\n");
    assert!(near_miss[0].contains("did you mean \"stop_state\"?"), "{near_miss:#?}");
    let bad_base = errors("version = 1\n[keywords.k]\nextends = \"equipmnt\"\nen = [\"x\"]\n");
    assert!(
        bad_base[0].contains("unknown concept \"equipmnt\"") && bad_base[0].contains("equipment"),
        "{bad_base:#?}"
    );
}

#[test]
fn named_conditions_compose_and_cycles_are_refused() {
    let engine = compile(
        r#"version = 1
[conditions]
hot = { keywords = "hazard" }
hot_now = { all = [{ is = "hot" }, { not = { keywords = "resolved" } }] }
[[rules]]
name = "fire"
priority = "critical"
when = { is = "hot_now" }
"#,
    );
    assert_eq!(classify(&engine, "smoke from the cabinet").0, Priority::Critical);
    assert_eq!(classify(&engine, "smoke from the cabinet, fixed now").0, Priority::Faq);
    let errs = errors(
        "version = 1\n[conditions]\na = { is = \"b\" }\nb = { is = \"a\" }\n[[rules]]\nname = \"r\"\npriority = \"faq\"\nwhen = { is = \"a\" }\n",
    );
    assert!(errs.iter().any(|e| e.contains("refers to itself")), "{errs:#?}");
    let unknown = errors("version = 1\n[[rules]]\nname = \"r\"\npriority = \"faq\"\nwhen = { is = \"nope\" }\n");
    assert!(unknown[0].contains("unknown condition \"nope\""), "{unknown:#?}");
}

#[test]
fn what_is_said_last_is_the_present_state() {
    let engine = compile(
        r#"version = 1
[[rules]]
name = "relapse"
priority = "critical"
when = { follows = { a = "resolved", b = "stop_state" } }
"#,
    );
    assert_eq!(classify(&engine, "it was fixed, then it stopped").0, Priority::Critical);
    assert_eq!(classify(&engine, "it stopped, now it is fixed").0, Priority::Faq);
}

#[test]
fn gapped_phrases_match_separable_verbs() {
    let engine = compile(
        r#"version = 1
[keywords.still]
de = ["steht … still"]
[[rules]]
name = "still"
priority = "critical"
when = { keywords = "still" }
"#,
    );
    assert_eq!(
        classify(&engine, "Die Presse steht seit 5 Uhr komplett still").0,
        Priority::Critical
    );
    // Too far apart, or in another sentence: no.
    assert_eq!(classify(&engine, "Die Presse steht. Alles still.").0, Priority::Faq);
    assert_eq!(classify(&engine, "still steht die Presse").0, Priority::Faq);
}

#[test]
fn a_knowledge_base_answer_is_a_sign_of_a_question() {
    let rules = RuleSet::parse("version = 1\n[defaults]\npriority = \"important\"\nqueue = \"experts\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let engine = Engine::new(rules, KnowledgeBase::builtin());
    let v = engine.classify(&Input::text(Channel::Webchat, "x", "where can I find the manual?"));
    assert_eq!(v.priority, Priority::Faq);
    assert_eq!(v.faq.as_ref().map(|f| f.id.as_str()), Some("manual"));
    assert_eq!(v.queue, "n1");
    assert!(!v.by_default());
    // Nothing understood and nothing answered: the default, a human looks.
    let v = engine.classify(&Input::text(Channel::Webchat, "x", "le truc fait des trucs"));
    assert_eq!((v.priority, v.queue.as_str()), (Priority::Important, "experts"));
    assert!(v.by_default());
}

#[test]
fn keywords_match_whole_words_with_the_punctuation_written() {
    let e = compile(
        r#"
version = 1
[keywords.down]
fr = ["H.S.", "l'arrêt", "arrêt d'urgence"]
[[rules]]
name = "down"
priority = "critical"
queue = "line-stop"
when = { keywords = "down" }
"#,
    );
    let fires = |text: &str| !classify(&e, text).1.is_empty();
    assert!(fires("Le robot est H.S. depuis ce matin"));
    assert!(fires("robot h.s."));
    assert!(fires("presse à l'arrêt"));
    assert!(fires("ARRÊTS D’URGENCE enclenchés"));
    // The written punctuation, whole words: not a longer word, not other separators.
    assert!(!fires("code H.S.E relevé"));
    assert!(!fires("presse à l arrêt"));
    assert!(
        !fires("arrêt\nd'urgence testé"),
        "a line break is not the phrase's space"
    );
    assert!(!fires("l'arrêtoir"));
    let errs = errors(
        "version = 1\n[keywords.k]\nfr = [\"?!\"]\n[[rules]]\nname = \"r\"\npriority = \"faq\"\nqueue = \"q\"\nwhen = { keywords = \"k\" }\n",
    );
    assert!(errs.iter().any(|e| e.contains("without a word")), "{errs:?}");
}

#[test]
fn an_emoji_or_symbol_typed_against_a_word_does_not_hide_it() {
    let engine = Engine::builtin();
    let priority = |text: &str| {
        engine
            .classify(&Input::text(Channel::Whatsapp, "+33600000001", text))
            .priority
    };
    for (glued, spaced) in [
        ("la presse est à l'arrêt😱", "la presse est à l'arrêt 😱"),
        (
            "🚨ligne bloquée🚨 plus rien ne sort",
            "🚨 ligne bloquée 🚨 plus rien ne sort",
        ),
        ("Line 2 stopped…", "Line 2 stopped ..."),
    ] {
        assert_eq!(priority(glued), Priority::Critical, "{glued}");
        assert_eq!(priority(glued), priority(spaced), "{glued}");
    }
}
