//! Values the unit tests of several modules build alike.

/// A verdict as triage would give it, with no rules, facts or knowledge answer.
pub fn verdict(priority: triage::Priority, queue: &str, escalation: triage::Escalation) -> triage::Verdict {
    triage::Verdict {
        priority,
        queue: queue.into(),
        escalation,
        ack_template: String::new(),
        rules: Vec::new(),
        fields: triage::Fields::default(),
        ask_for: Vec::new(),
        tags: Vec::new(),
        language: Some("en".into()),
        faq: None,
    }
}
