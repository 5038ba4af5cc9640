//! Which fact to ask the customer for next.

use serde::{Deserialize, Serialize};

/// A fact an expert needs before reading a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fact {
    /// The machine's model or type (a serial also names it).
    Machine,
    Serial,
    FaultCode,
    /// What the problem does to production.
    Impact,
    Photo,
    CallbackNumber,
}

pub const ALL: [Fact; 6] = [
    Fact::Machine,
    Fact::Serial,
    Fact::FaultCode,
    Fact::Impact,
    Fact::Photo,
    Fact::CallbackNumber,
];

impl Fact {
    pub fn as_str(self) -> &'static str {
        match self {
            Fact::Machine => "machine",
            Fact::Serial => "serial",
            Fact::FaultCode => "fault_code",
            Fact::Impact => "impact",
            Fact::Photo => "photo",
            Fact::CallbackNumber => "callback_number",
        }
    }

    pub fn parse(s: &str) -> Option<Fact> {
        ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// Why the questions stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// Everything the queue needs is known (or the customer said they do not have it).
    Complete,
    /// An agent wrote: a human has the conversation now.
    Agent,
    /// The customer left questions unanswered.
    Unanswered,
}

impl Stop {
    pub fn as_str(self) -> &'static str {
        match self {
            Stop::Complete => "complete",
            Stop::Agent => "agent",
            Stop::Unanswered => "unanswered",
        }
    }

    pub fn parse(s: &str) -> Option<Stop> {
        [Stop::Complete, Stop::Agent, Stop::Unanswered]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// Where a conversation's qualification stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct State {
    /// Facts known, or that the customer said they cannot give.
    pub known: Vec<Fact>,
    /// The question waiting for an answer.
    pub asked: Option<Fact>,
    /// Every fact asked so far, in order: none is asked twice.
    pub asked_before: Vec<Fact>,
    /// Questions the customer's next message did not answer.
    pub unanswered: u32,
    pub stopped: Option<Stop>,
}

/// What the configuration asks for, per queue and for critical conversations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub enabled: bool,
    /// Unanswered questions after which Level 1 stops asking.
    pub max_unanswered: u32,
    /// Queue name → facts, in the order they are asked.
    pub needs: Vec<(String, Vec<Fact>)>,
    /// A critical conversation is escalated at once; Level 1 only asks what
    /// the callback needs.
    pub critical: Vec<Fact>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            enabled: true,
            max_unanswered: 2,
            needs: vec![
                (
                    "experts".into(),
                    vec![Fact::Machine, Fact::FaultCode, Fact::Impact, Fact::Photo],
                ),
                ("n1".into(), vec![Fact::Machine]),
            ],
            critical: vec![Fact::CallbackNumber],
        }
    }
}

impl Policy {
    pub fn needs(&self, queue: &str, critical: bool) -> &[Fact] {
        if critical {
            return &self.critical;
        }
        self.needs
            .iter()
            .find(|(q, _)| q == queue)
            .map_or(&[], |(_, f)| f.as_slice())
    }
}

/// The facts triage extracted from a message: a serial, a model, a fault
/// code, an impact, a photo, a phone number to call back.
pub fn facts_in(fields: &triage::Fields) -> Vec<Fact> {
    [
        (!fields.serials.is_empty(), Fact::Serial),
        (!fields.models.is_empty(), Fact::Machine),
        (!fields.fault_codes.is_empty(), Fact::FaultCode),
        (fields.impact.is_some(), Fact::Impact),
        (fields.photos > 0, Fact::Photo),
        (!fields.phones.is_empty(), Fact::CallbackNumber),
    ]
    .into_iter()
    .filter_map(|(yes, fact)| yes.then_some(fact))
    .collect()
}

/// Whether `known` holds every fact `needs` asks for (a serial names the machine).
pub fn complete(needs: &[Fact], known: &[Fact]) -> bool {
    needs
        .iter()
        .all(|f| known.contains(f) || (*f == Fact::Machine && known.contains(&Fact::Serial)))
}

/// One customer message's step: `observed` are the facts this message gives
/// (or declines: a quick answer such as "no code displayed"); returns the new
/// state and the fact to ask for now, if any.
pub fn decide(prev: &State, needs: &[Fact], observed: &[Fact], max_unanswered: u32) -> (State, Option<Fact>) {
    let mut state = prev.clone();
    for f in observed {
        if !state.known.contains(f) {
            state.known.push(*f);
        }
    }
    // A serial names the machine.
    if state.known.contains(&Fact::Serial) && !state.known.contains(&Fact::Machine) {
        state.known.push(Fact::Machine);
    }
    if state.stopped.is_some() {
        state.asked = None;
        return (state, None);
    }
    if let Some(asked) = prev.asked
        && !state.known.contains(&asked)
    {
        state.unanswered += 1;
    }
    state.asked = None;
    if state.unanswered >= max_unanswered {
        state.stopped = Some(Stop::Unanswered);
        return (state, None);
    }
    let next = needs
        .iter()
        .copied()
        .find(|f| !state.known.contains(f) && !state.asked_before.contains(f));
    match next {
        Some(f) => {
            state.asked = Some(f);
            state.asked_before.push(f);
            (state, Some(f))
        }
        None => {
            state.stopped = Some(Stop::Complete);
            (state, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEEDS: [Fact; 4] = [Fact::Machine, Fact::FaultCode, Fact::Impact, Fact::Photo];

    #[test]
    fn the_facts_of_a_message_and_whether_they_are_all_there() {
        let fields = triage::Fields {
            serials: vec!["SN-1".into()],
            fault_codes: vec!["E17".into()],
            photos: 1,
            ..Default::default()
        };
        let known = facts_in(&fields);
        assert_eq!(known, [Fact::Serial, Fact::FaultCode, Fact::Photo]);
        assert!(!complete(&NEEDS, &known), "no impact");
        let mut with_impact = known.clone();
        with_impact.push(Fact::Impact);
        assert!(complete(&NEEDS, &with_impact), "the serial names the machine");
        assert!(complete(&[], &[]));
    }

    #[test]
    fn asks_one_missing_fact_at_a_time_in_order() {
        let (s, ask) = decide(&State::default(), &NEEDS, &[Fact::FaultCode], 2);
        assert_eq!(ask, Some(Fact::Machine), "the code is known: the machine first");
        let (s, ask) = decide(&s, &NEEDS, &[Fact::Machine], 2);
        assert_eq!(ask, Some(Fact::Impact));
        let (s, ask) = decide(&s, &NEEDS, &[Fact::Impact, Fact::Photo], 2);
        assert_eq!(ask, None);
        assert_eq!(s.stopped, Some(Stop::Complete));
        assert_eq!(s.unanswered, 0);
    }

    #[test]
    fn a_serial_names_the_machine() {
        let (s, ask) = decide(&State::default(), &NEEDS, &[Fact::Serial], 2);
        assert_eq!(ask, Some(Fact::FaultCode));
        assert!(s.known.contains(&Fact::Machine));
    }

    #[test]
    fn two_unanswered_questions_stop_the_questions_and_none_is_asked_twice() {
        let (s, ask) = decide(&State::default(), &NEEDS, &[], 2);
        assert_eq!(ask, Some(Fact::Machine));
        let (s, ask) = decide(&s, &NEEDS, &[], 2);
        assert_eq!(ask, Some(Fact::FaultCode), "the machine question is not asked again");
        assert_eq!(s.unanswered, 1);
        let (s, ask) = decide(&s, &NEEDS, &[], 2);
        assert_eq!(ask, None);
        assert_eq!(s.stopped, Some(Stop::Unanswered));
        let (s, ask) = decide(&s, &NEEDS, &[Fact::Photo], 2);
        assert_eq!(ask, None, "stopped stays stopped");
        assert!(s.known.contains(&Fact::Photo), "what comes later is still recorded");
    }

    #[test]
    fn an_agent_stops_it() {
        let state = State {
            stopped: Some(Stop::Agent),
            asked: Some(Fact::Machine),
            ..State::default()
        };
        assert_eq!(decide(&state, &NEEDS, &[], 2).1, None);
    }

    #[test]
    fn names_go_to_the_store_and_back() {
        for fact in ALL {
            assert_eq!(Fact::parse(fact.as_str()), Some(fact));
        }
        for stop in [Stop::Complete, Stop::Agent, Stop::Unanswered] {
            assert_eq!(Stop::parse(stop.as_str()), Some(stop));
        }
        assert_eq!(Fact::parse("colour"), None);
        assert_eq!(Stop::parse(""), None);
        assert_eq!(Fact::CallbackNumber.as_str(), "callback_number");
        assert_eq!(Stop::Unanswered.as_str(), "unanswered");
    }

    #[test]
    fn a_critical_conversation_is_only_asked_for_a_number() {
        let policy = Policy::default();
        assert_eq!(policy.needs("experts", true), [Fact::CallbackNumber]);
        assert_eq!(policy.needs("unknown-queue", false), []);
        let (_, ask) = decide(
            &State::default(),
            policy.needs("critical", true),
            &[Fact::CallbackNumber],
            2,
        );
        assert_eq!(ask, None, "a WhatsApp customer's number is known: nothing to ask");
    }
}
