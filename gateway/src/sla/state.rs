//! A conversation's SLA at a glance, for the API and the inbox: the timers
//! with their due times and one state.

use serde::Serialize;

use super::SlaPolicies;
use crate::store::sla::TimerRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// No target applies (none configured, or all met).
    None,
    OnTime,
    /// A running timer has less than `at_risk_ratio` of its budget left.
    AtRisk,
    Breached,
    /// Waiting for the customer: the clocks are stopped.
    Paused,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SlaView {
    pub state: SlaState,
    pub timers: Vec<TimerView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimerView {
    #[serde(flatten)]
    pub row: TimerRow,
    /// Business time left, while running or paused.
    pub remaining_ms: Option<i64>,
}

pub fn view(timers: Vec<TimerRow>, policies: &SlaPolicies, now: i64) -> SlaView {
    let mut state = SlaState::None;
    let mut views = Vec::with_capacity(timers.len());
    for t in timers {
        let calendar = policies.calendar(&t.calendar);
        let remaining = match t.state.as_str() {
            "running" => t
                .due_at
                .map(|due| if due <= now { 0 } else { calendar.between(now, due) }),
            "paused" => Some((t.budget_ms - t.used_ms).max(0)),
            _ => None,
        };
        let this = match (t.state.as_str(), remaining) {
            ("breached", _) => SlaState::Breached,
            ("running", Some(r)) if (r as f64) < policies.at_risk_ratio * t.budget_ms as f64 => SlaState::AtRisk,
            ("running", _) => SlaState::OnTime,
            ("paused", _) => SlaState::Paused,
            _ => SlaState::None,
        };
        state = worse(state, this);
        views.push(TimerView {
            row: t,
            remaining_ms: remaining,
        });
    }
    SlaView { state, timers: views }
}

fn worse(a: SlaState, b: SlaState) -> SlaState {
    let rank = |s: SlaState| match s {
        SlaState::None => 0,
        SlaState::Paused => 1,
        SlaState::OnTime => 2,
        SlaState::AtRisk => 3,
        SlaState::Breached => 4,
    };
    if rank(b) > rank(a) { b } else { a }
}
