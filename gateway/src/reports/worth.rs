//! What Switchyard is worth to the hotline: the brief's parametric estimate of
//! expert time, from a few variables. Those Switchyard measures come from the
//! period's conversations; the rest (how much went by phone before, how long
//! a call lasts…) a supervisor enters. Every variable says which it is, and
//! every figure its formula, so the estimate can be checked by hand. Pure.

use serde::Serialize;

use super::facts::ConversationFacts;
use crate::level1::qualify::{self, Fact, Policy};

/// Where a variable's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// From the period's data.
    Measured,
    /// Entered by a supervisor.
    Entered,
    /// Not entered yet: a typical value, to be replaced.
    Assumed,
}

/// A variable a supervisor enters: its name, label, unit, typical value and bounds.
pub struct Input {
    pub name: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub typical: f64,
    pub max: f64,
}

pub const INPUTS: &[Input] = &[
    Input {
        name: "phone_share",
        label: "Share of requests handled by phone before triage",
        unit: "share",
        typical: 0.6,
        max: 1.0,
    },
    Input {
        name: "call_minutes",
        label: "Expert time on one phone call",
        unit: "minutes",
        typical: 20.0,
        max: 1_440.0,
    },
    Input {
        name: "writeup_minutes",
        label: "Write-up after a call",
        unit: "minutes",
        typical: 10.0,
        max: 1_440.0,
    },
    Input {
        name: "faq_minutes",
        label: "Expert time to answer a frequent question",
        unit: "minutes",
        typical: 10.0,
        max: 1_440.0,
    },
    Input {
        name: "report_minutes",
        label: "Time to write an intervention report by hand",
        unit: "minutes",
        typical: 30.0,
        max: 1_440.0,
    },
];

/// Checks a supervisor's values: known names, within bounds.
pub fn check_inputs(values: &[(String, f64)]) -> Result<(), String> {
    for (name, value) in values {
        let Some(input) = INPUTS.iter().find(|i| i.name == name) else {
            return Err(format!("unknown variable {name:?}"));
        };
        if !value.is_finite() || *value < 0.0 || *value > input.max {
            return Err(format!("{name} must be between 0 and {}", input.max));
        }
    }
    Ok(())
}

/// A conversation an agent answered, and what its customer had said before
/// that first answer: the verdicts' extracted fields and the contact details.
#[derive(Debug, Clone, Default)]
pub struct Arrival {
    pub queue: String,
    pub critical: bool,
    pub fields: Vec<triage::Fields>,
    pub phone: bool,
    pub serial: bool,
    /// What Level 1 had recorded as answered by then: given, or declined with
    /// a quick answer ("no code shown"), which an expert could not get either.
    pub qualified: Vec<Fact>,
}

impl Arrival {
    /// The facts known when the agent first answered.
    pub fn known(&self) -> Vec<Fact> {
        let mut known: Vec<Fact> = self.fields.iter().flat_map(qualify::facts_in).collect();
        if self.phone {
            known.push(Fact::CallbackNumber);
        }
        if self.serial {
            known.push(Fact::Serial);
        }
        known.extend(&self.qualified);
        known
    }
}

/// Of the conversations an agent answered, how many had every fact their
/// queue needs (Level 1's policy) before that first answer: (complete, of).
pub fn arrived_complete(arrivals: &[Arrival], policy: &Policy) -> (usize, usize) {
    let complete = arrivals
        .iter()
        .filter(|a| qualify::complete(policy.needs(&a.queue, a.critical), &a.known()))
        .count();
    (complete, arrivals.len())
}

/// What the period's data says, gathered by the caller.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measured {
    /// Conversations created in the period.
    pub requests: usize,
    /// Of them, triaged FAQ.
    pub faq: usize,
    /// Of the FAQ ones, resolved at level 1 with no reply from a person.
    pub faq_self_served: usize,
    /// Of all, escalated to a callback or a video session.
    pub escalated: usize,
    /// Intervention reports validated in the period.
    pub reports: usize,
    /// Median minutes from a report's first draft (proposed from the thread) to its validation.
    pub report_review_minutes: Option<f64>,
    /// Conversations an agent answered with every fact their queue needs already known, of those answered.
    pub arrived_complete: (usize, usize),
}

impl Measured {
    /// The conversation counts of `cohort` (conversations created in the period).
    pub fn of(
        cohort: &[&ConversationFacts],
        reports: usize,
        report_review_minutes: Option<f64>,
        arrived_complete: (usize, usize),
    ) -> Measured {
        let faq: Vec<&&ConversationFacts> = cohort.iter().filter(|c| c.priority == "faq").collect();
        Measured {
            requests: cohort.len(),
            faq: faq.len(),
            faq_self_served: faq.iter().filter(|c| c.self_served()).count(),
            escalated: cohort.iter().filter(|c| c.escalated()).count(),
            reports,
            report_review_minutes,
            arrived_complete,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Variable {
    pub name: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    /// None: not measurable in this period (no conversation, no report).
    pub value: Option<f64>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Figure {
    pub name: &'static str,
    pub label: &'static str,
    pub formula: &'static str,
    /// Expert minutes over the period.
    pub minutes: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Estimate {
    pub variables: Vec<Variable>,
    pub figures: Vec<Figure>,
    /// Expert minutes saved: the sum of the savings that could be computed.
    pub saved_minutes: f64,
}

fn ratio(count: usize, of: usize) -> Option<f64> {
    (of > 0).then(|| count as f64 / of as f64)
}

/// The estimate from what was measured and what was entered (by name).
pub fn estimate(m: &Measured, entered: &[(String, f64)]) -> Estimate {
    let requests = m.requests as f64;
    let faq_share = ratio(m.faq, m.requests);
    let level1_rate = ratio(m.faq_self_served, m.faq);
    let escalation_rate = ratio(m.escalated, m.requests);
    let measured = |name, label, unit, value| Variable {
        name,
        label,
        unit,
        value,
        source: Source::Measured,
    };
    let mut variables = vec![
        measured("requests", "Requests in the period", "requests", Some(requests)),
        measured(
            "faq_share",
            "Share of frequent questions (triaged FAQ)",
            "share",
            faq_share,
        ),
        measured(
            "level1_resolution_rate",
            "Frequent questions resolved at level 1, without a person",
            "share",
            level1_rate,
        ),
        measured(
            "escalation_rate",
            "Requests escalated to a callback or video",
            "share",
            escalation_rate,
        ),
        measured(
            "reports",
            "Intervention reports validated",
            "reports",
            Some(m.reports as f64),
        ),
        measured(
            "arrived_complete",
            "Answered by an agent with every fact the queue needs already given (or declined)",
            "share",
            ratio(m.arrived_complete.0, m.arrived_complete.1),
        ),
        measured(
            "report_review_minutes",
            "Median time from Switchyard's draft report to its validation",
            "minutes",
            m.report_review_minutes,
        ),
    ];
    let mut value = |name: &str| -> f64 {
        let input = INPUTS.iter().find(|i| i.name == name);
        let given = entered.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
        let (v, source) = match (given, input) {
            (Some(v), _) => (v, Source::Entered),
            (None, Some(i)) => (i.typical, Source::Assumed),
            (None, None) => (0.0, Source::Assumed),
        };
        if let Some(i) = input {
            variables.push(Variable {
                name: i.name,
                label: i.label,
                unit: i.unit,
                value: Some(v),
                source,
            });
        }
        v
    };
    let phone_share = value("phone_share");
    let call = value("call_minutes");
    let writeup = value("writeup_minutes");
    let faq_minutes = value("faq_minutes");
    let report_minutes = value("report_minutes");

    let phone_today = requests * phone_share * (call + writeup);
    let calls_avoided = escalation_rate.map(|e| requests * phone_share * (1.0 - e) * call);
    let faq_absorbed = match (faq_share, level1_rate) {
        (Some(share), Some(rate)) => Some(requests * share * faq_minutes * rate),
        _ => None,
    };
    let reports = m.reports as f64 * (report_minutes - m.report_review_minutes.unwrap_or(0.0)).max(0.0);
    let figures = vec![
        Figure {
            name: "phone_time_before",
            label: "Expert time on the phone without triage",
            formula: "requests × phone share × (call + write-up)",
            minutes: Some(phone_today),
        },
        Figure {
            name: "calls_avoided",
            label: "Saved by calls triage avoids (only escalations are called back)",
            formula: "requests × phone share × (1 − escalation rate) × call",
            minutes: calls_avoided,
        },
        Figure {
            name: "faq_absorbed",
            label: "Saved by frequent questions answered at level 1",
            formula: "requests × FAQ share × time per FAQ × level-1 resolution rate",
            minutes: faq_absorbed,
        },
        Figure {
            name: "reports_drafted",
            label: "Saved by reports Switchyard drafts",
            formula: "reports × (report by hand − review time)",
            minutes: Some(reports),
        },
    ];
    let saved_minutes = figures
        .iter()
        .filter(|f| f.name != "phone_time_before")
        .filter_map(|f| f.minutes)
        .sum();
    Estimate {
        variables,
        figures,
        saved_minutes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minutes(e: &Estimate, name: &str) -> Option<f64> {
        e.figures.iter().find(|f| f.name == name).and_then(|f| f.minutes)
    }

    #[test]
    fn the_brief_s_formulas_by_hand() {
        let m = Measured {
            requests: 200,
            faq: 80,
            faq_self_served: 20,
            escalated: 30,
            reports: 10,
            report_review_minutes: Some(5.0),
            arrived_complete: (3, 4),
        };
        let entered = vec![("phone_share".to_string(), 0.5), ("call_minutes".to_string(), 12.0)];
        let e = estimate(&m, &entered);
        // 200 × 0.5 × (12 + 10 assumed)
        assert_eq!(minutes(&e, "phone_time_before"), Some(2_200.0));
        // 200 × 0.5 × (1 − 0.15) × 12
        assert_eq!(minutes(&e, "calls_avoided"), Some(1_020.0));
        // 200 × 0.4 × 10 × 0.25
        assert_eq!(minutes(&e, "faq_absorbed"), Some(200.0));
        // 10 × (30 − 5)
        assert_eq!(minutes(&e, "reports_drafted"), Some(250.0));
        assert_eq!(e.saved_minutes, 1_470.0);
        let source = |name: &str| e.variables.iter().find(|v| v.name == name).map(|v| v.source);
        assert_eq!(source("phone_share"), Some(Source::Entered));
        assert_eq!(source("writeup_minutes"), Some(Source::Assumed));
        assert_eq!(source("faq_share"), Some(Source::Measured));
        let arrived = e
            .variables
            .iter()
            .find(|v| v.name == "arrived_complete")
            .and_then(|v| v.value);
        assert_eq!(arrived, Some(0.75));
    }

    #[test]
    fn an_answered_conversation_is_complete_when_its_queue_needs_were_all_said() {
        let policy = Policy::default();
        let experts = policy.needs("experts", false).to_vec();
        assert!(
            !experts.is_empty(),
            "the default policy asks the experts' queue for facts"
        );
        let everything = triage::Fields {
            serials: vec!["SN-1".into()],
            models: vec!["P200".into()],
            fault_codes: vec!["E17".into()],
            impact: Some("line stopped".into()),
            photos: 1,
            phones: vec!["+33612345678".into()],
            ..Default::default()
        };
        let full = Arrival {
            queue: "experts".into(),
            fields: vec![everything],
            ..Default::default()
        };
        let bare = Arrival {
            queue: "experts".into(),
            fields: vec![triage::Fields::default()],
            ..Default::default()
        };
        let declined_by_the_customer = Arrival {
            queue: "experts".into(),
            qualified: experts.clone(),
            ..Default::default()
        };
        let critical_with_number = Arrival {
            queue: "critical".into(),
            critical: true,
            phone: true,
            ..Default::default()
        };
        assert_eq!(
            arrived_complete(&[full, bare, declined_by_the_customer, critical_with_number], &policy),
            (3, 4)
        );
    }

    #[test]
    fn an_empty_period_estimates_nothing_it_cannot_measure() {
        let e = estimate(&Measured::default(), &[]);
        assert_eq!(minutes(&e, "faq_absorbed"), None);
        assert_eq!(minutes(&e, "calls_avoided"), None);
        assert_eq!(e.saved_minutes, 0.0);
    }

    #[test]
    fn entered_values_are_checked() {
        assert!(check_inputs(&[("phone_share".into(), 0.7)]).is_ok());
        assert!(check_inputs(&[("phone_share".into(), 1.5)]).is_err());
        assert!(check_inputs(&[("call_minutes".into(), f64::NAN)]).is_err());
        assert!(check_inputs(&[("salary".into(), 1.0)]).is_err());
    }
}
