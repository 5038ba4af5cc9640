//! What a report knows of one conversation, read from the store in a few
//! queries, and the facts every figure is defined on. Pure: no I/O.

use serde::Serialize;

use crate::sla::TimerKind;

/// A reporting event, written in the transaction of its cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Resolved,
    Reopened,
    /// A knowledge-base answer went to the customer without a human.
    KnowledgeSent,
    /// A knowledge-base answer was shown to the agent to check and send.
    KnowledgeSuggested,
    /// The conversation's resolution became a knowledge entry.
    KnowledgeCreated,
    /// The customer said a knowledge answer solved it.
    KnowledgeSolved,
    /// The customer said it did not: a person took over.
    KnowledgeDeclined,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Resolved => "resolved",
            EventKind::Reopened => "reopened",
            EventKind::KnowledgeSent => "knowledge_sent",
            EventKind::KnowledgeSuggested => "knowledge_suggested",
            EventKind::KnowledgeCreated => "knowledge_created",
            EventKind::KnowledgeSolved => "knowledge_solved",
            EventKind::KnowledgeDeclined => "knowledge_declined",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        Some(match s {
            "resolved" => EventKind::Resolved,
            "reopened" => EventKind::Reopened,
            "knowledge_sent" => EventKind::KnowledgeSent,
            "knowledge_suggested" => EventKind::KnowledgeSuggested,
            "knowledge_created" => EventKind::KnowledgeCreated,
            "knowledge_solved" => EventKind::KnowledgeSolved,
            "knowledge_declined" => EventKind::KnowledgeDeclined,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub at: i64,
    /// A knowledge event whose entry was written from a resolved case
    /// (rather than shipped or configured as a file): its reuse.
    pub from_case: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerFact {
    pub kind: TimerKind,
    pub met_at: Option<i64>,
    pub breached_at: Option<i64>,
    /// When it runs out, while it runs.
    pub due_at: Option<i64>,
    /// Ended without being met or breached (resolved before a reply was due).
    pub stopped: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerOutcome {
    Met,
    Breached,
    Running,
    Stopped,
}

impl TimerFact {
    /// The outcome at instant `at`, from the facts rather than from whether
    /// the SLA worker has fired yet: met after it was due is breached, and
    /// running past it is breached already.
    pub fn outcome(&self, at: i64) -> TimerOutcome {
        let late = |t: i64| self.due_at.is_some_and(|due| t > due);
        match (self.breached_at, self.met_at) {
            (Some(_), _) => TimerOutcome::Breached,
            (None, Some(met)) if late(met) => TimerOutcome::Breached,
            (None, Some(_)) => TimerOutcome::Met,
            (None, None) if self.stopped => TimerOutcome::Stopped,
            (None, None) if late(at) => TimerOutcome::Breached,
            (None, None) => TimerOutcome::Running,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationFact {
    pub kind: String,
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationFacts {
    pub id: i64,
    pub channel: String,
    pub priority: String,
    pub queue: String,
    /// Who holds it now: id and display name.
    pub agent: Option<(i64, String)>,
    /// Open now (not resolved).
    pub open: bool,
    pub created_at: i64,
    /// The first public reply of a person (an agent, or the business app on
    /// WhatsApp); acknowledgements and knowledge answers are not replies.
    pub first_response_at: Option<i64>,
    /// The last resolution, when resolved now.
    pub resolved_at: Option<i64>,
    /// Public replies by people.
    pub agent_replies: u32,
    /// In order of time.
    pub events: Vec<Event>,
    pub timers: Vec<TimerFact>,
    pub escalations: Vec<EscalationFact>,
    /// The customer's answer to the satisfaction question: good or not.
    pub rating: Option<bool>,
}

impl ConversationFacts {
    /// When it was first resolved (a conversation resolved before events
    /// were recorded has only its last resolution).
    pub fn first_resolved_at(&self) -> Option<i64> {
        self.events
            .iter()
            .find(|e| e.kind == EventKind::Resolved)
            .map(|e| e.at)
            .or(self.resolved_at)
    }

    pub fn reopens(&self) -> usize {
        self.events.iter().filter(|e| e.kind == EventKind::Reopened).count()
    }

    pub fn knowledge_sent(&self) -> bool {
        self.events.iter().any(|e| e.kind == EventKind::KnowledgeSent)
    }

    /// Knowledge took part: an answer sent or suggested, or an entry written from it.
    pub fn knowledge_linked(&self) -> bool {
        self.events.iter().any(|e| {
            matches!(
                e.kind,
                EventKind::KnowledgeSent | EventKind::KnowledgeSuggested | EventKind::KnowledgeCreated
            )
        })
    }

    /// Whether it was open at instant `t`: inside one of its open spans.
    pub fn open_at(&self, t: i64) -> bool {
        self.open_spans().iter().any(|&(from, to)| from <= t && t < to)
    }

    /// The spans `[from, to)` it was open, in order: from creation (or a
    /// reopening) to the next resolution; the last one has no end (`i64::MAX`)
    /// while it is open. A conversation resolved before events were recorded
    /// has only its row's last resolution.
    pub fn open_spans(&self) -> Vec<(i64, i64)> {
        let mut spans = Vec::new();
        let mut from = Some(self.created_at);
        let mut saw_event = false;
        for e in &self.events {
            match (e.kind, from) {
                (EventKind::Resolved, Some(f)) => {
                    saw_event = true;
                    if e.at >= f {
                        spans.push((f, e.at.max(self.created_at)));
                    }
                    from = None;
                }
                (EventKind::Reopened, None) => {
                    saw_event = true;
                    from = Some(e.at.max(self.created_at));
                }
                _ => {}
            }
        }
        if let Some(f) = from {
            let end = match self.resolved_at {
                Some(r) if !saw_event && !self.open => r,
                _ => i64::MAX,
            };
            spans.push((f, end));
        }
        spans.retain(|(a, b)| b > a);
        spans
    }

    /// First-contact resolution: resolved with at most one reply from a
    /// person and never reopened.
    pub fn first_contact_resolved(&self) -> bool {
        self.first_resolved_at().is_some() && self.agent_replies <= 1 && self.reopens() == 0
    }

    /// Self-service: resolved after a knowledge answer, without any reply
    /// from a person.
    pub fn self_served(&self) -> bool {
        self.first_resolved_at().is_some() && self.agent_replies == 0 && self.knowledge_sent()
    }

    pub fn escalated(&self) -> bool {
        !self.escalations.is_empty()
    }

    pub fn timer(&self, kind: TimerKind) -> Option<&TimerFact> {
        self.timers.iter().find(|t| t.kind == kind)
    }
}

/// Which conversations a report looks at; every field set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub channel: Option<String>,
    pub priority: Option<String>,
    pub queue: Option<String>,
    pub agent: Option<i64>,
}

impl Filter {
    pub fn accepts(&self, c: &ConversationFacts) -> bool {
        self.channel.as_ref().is_none_or(|v| *v == c.channel)
            && self.priority.as_ref().is_none_or(|v| *v == c.priority)
            && self.queue.as_ref().is_none_or(|v| *v == c.queue)
            && self
                .agent
                .is_none_or(|v| c.agent.as_ref().is_some_and(|(id, _)| *id == v))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A conversation created at `created_at`, open, with nothing else.
    pub fn conversation(id: i64, created_at: i64) -> ConversationFacts {
        ConversationFacts {
            id,
            channel: "email".into(),
            priority: "important".into(),
            queue: "experts".into(),
            agent: None,
            open: true,
            created_at,
            first_response_at: None,
            resolved_at: None,
            agent_replies: 0,
            events: Vec::new(),
            timers: Vec::new(),
            escalations: Vec::new(),
            rating: None,
        }
    }

    fn event(kind: EventKind, at: i64) -> Event {
        Event {
            kind,
            at,
            from_case: false,
        }
    }

    #[test]
    fn open_at_follows_resolutions_and_reopenings() {
        let mut c = conversation(1, 100);
        c.events = vec![
            event(EventKind::Resolved, 200),
            event(EventKind::Reopened, 300),
            event(EventKind::Resolved, 400),
        ];
        c.open = false;
        c.resolved_at = Some(400);
        let open: Vec<bool> = [50, 100, 199, 200, 250, 300, 399, 400, 500]
            .iter()
            .map(|&t| c.open_at(t))
            .collect();
        assert_eq!(open, [false, true, true, false, false, true, true, false, false]);
        assert_eq!(c.first_resolved_at(), Some(200));
        assert_eq!(c.reopens(), 1);
        assert!(!c.first_contact_resolved(), "reopened");
    }

    #[test]
    fn open_spans_run_from_creation_or_reopening_to_the_next_resolution() {
        let mut reopened = conversation(1, 100);
        reopened.events = vec![
            event(EventKind::Resolved, 200),
            event(EventKind::Reopened, 300),
            event(EventKind::Resolved, 400),
            event(EventKind::Reopened, 500),
        ];
        let mut legacy = conversation(2, 100);
        legacy.open = false;
        legacy.resolved_at = Some(250);
        let mut knowledge = conversation(3, 100);
        knowledge.events = vec![event(EventKind::KnowledgeSent, 100), event(EventKind::Resolved, 100)];
        knowledge.open = false;
        let open = conversation(4, 150);
        assert_eq!(reopened.open_spans(), [(100, 200), (300, 400), (500, i64::MAX)]);
        assert_eq!(legacy.open_spans(), [(100, 250)]);
        assert_eq!(knowledge.open_spans(), [], "resolved the instant it came");
        assert_eq!(open.open_spans(), [(150, i64::MAX)]);
    }

    #[test]
    fn a_conversation_resolved_before_events_existed_counts_by_its_row() {
        let mut c = conversation(1, 100);
        c.open = false;
        c.resolved_at = Some(200);
        assert!(c.open_at(150));
        assert!(!c.open_at(250));
        assert_eq!(c.first_resolved_at(), Some(200));
        assert!(c.first_contact_resolved());
    }

    #[test]
    fn self_service_needs_a_knowledge_answer_and_no_reply_from_a_person() {
        let mut c = conversation(1, 100);
        c.events = vec![event(EventKind::KnowledgeSent, 100), event(EventKind::Resolved, 900)];
        assert!(c.self_served());
        c.agent_replies = 1;
        assert!(!c.self_served());
        assert!(c.first_contact_resolved());
        c.agent_replies = 2;
        assert!(!c.first_contact_resolved());
    }

    #[test]
    fn a_timer_met_late_or_running_past_due_is_breached_before_the_worker_says_so() {
        let t = |met_at, breached_at, stopped| TimerFact {
            kind: TimerKind::FirstResponse,
            met_at,
            breached_at,
            due_at: Some(100),
            stopped,
        };
        assert_eq!(t(Some(90), None, false).outcome(1000), TimerOutcome::Met);
        assert_eq!(t(Some(110), None, false).outcome(1000), TimerOutcome::Breached);
        assert_eq!(t(None, Some(100), false).outcome(1000), TimerOutcome::Breached);
        assert_eq!(t(None, None, false).outcome(50), TimerOutcome::Running);
        assert_eq!(t(None, None, false).outcome(101), TimerOutcome::Breached);
        assert_eq!(t(None, None, true).outcome(1000), TimerOutcome::Stopped);
    }

    #[test]
    fn a_filter_matches_every_field_it_sets() {
        let mut c = conversation(1, 100);
        c.agent = Some((7, "Ana".into()));
        let all = Filter::default();
        assert!(all.accepts(&c));
        let f = Filter {
            channel: Some("email".into()),
            agent: Some(7),
            ..Filter::default()
        };
        assert!(f.accepts(&c));
        let g = Filter {
            agent: Some(8),
            ..Filter::default()
        };
        assert!(!g.accepts(&c));
    }
}
