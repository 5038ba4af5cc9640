//! The hotline's figures over a period, from the facts of its conversations.
//! Pure: the same rows, period, calendar and instant give the same figures.
//! Their definitions are [`DEFINITIONS`], which the reports page shows.

use std::collections::BTreeMap;

use serde::Serialize;

use super::facts::{ConversationFacts, EventKind, TimerOutcome};
use super::period::{Period, local_day};
use crate::sla::{Calendar, TimerKind};

/// What each figure means, as the reports page states it.
pub const DEFINITIONS: &[(&str, &str)] = &[
    (
        "Conversations",
        "Created in the period. Every rate and time below is over these conversations.",
    ),
    (
        "First response",
        "From creation to the first public reply of a person (an agent, or the WhatsApp Business app); \
         acknowledgements and knowledge answers are not replies. In calendar time and in business time \
         (the hotline's calendar: opening hours, breaks and holidays).",
    ),
    ("Resolution", "From creation to the first resolution."),
    (
        "First-contact resolution",
        "Resolved with at most one reply from a person, and never reopened; over the resolved conversations.",
    ),
    ("Reopened", "Reopened at least once; over the resolved conversations."),
    (
        "Backlog",
        "Open at the period's end (or now, if sooner); its age counts from creation. Also at each day's end.",
    ),
    (
        "SLA met",
        "Per target: met / (met + breached), as of the period's end. Met after the due time, or still running \
         past it, is breached; still running in time, or stopped unmet (resolved before a reply was due), counts \
         in neither.",
    ),
    (
        "Escalated",
        "With a callback or a video escalation; callback outcomes as recorded by agents.",
    ),
    (
        "Self-service",
        "Resolved after a knowledge answer, with no reply from a person.",
    ),
    (
        "Knowledge",
        "Sent: a knowledge answer went with the acknowledgement. Suggested: one was shown to the agent to check. \
         Linked: resolved conversations knowledge took part in (an answer sent or suggested, or an entry written \
         from them). Reused: answers sent or suggested in the period from entries written from resolved cases.",
    ),
    (
        "Satisfaction (CSAT)",
        "Good ratings / (good + bad), over the conversations of the period that were rated; asked once per \
         conversation after its resolution (widget, WhatsApp buttons, one-click mail links).",
    ),
    (
        "Median, p90",
        "Nearest rank: the smallest value with at least half (90 %) of the values at or below it.",
    ),
];

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Durations {
    pub count: usize,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

impl Durations {
    fn of(mut values: Vec<i64>) -> Durations {
        values.sort_unstable();
        Durations {
            count: values.len(),
            median_ms: nearest_rank(&values, 50),
            p90_ms: nearest_rank(&values, 90),
        }
    }
}

/// The smallest value with at least `percent` % of the values at or below it.
fn nearest_rank(sorted: &[i64], percent: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// A time measured on the calendar and in business hours.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = KpiTimes)]
pub struct Times {
    pub calendar: Durations,
    pub business: Durations,
}

impl Times {
    fn of(pairs: impl Iterator<Item = (i64, i64)>, calendar: &Calendar) -> Times {
        let (mut wall, mut business) = (Vec::new(), Vec::new());
        for (from, to) in pairs {
            wall.push((to - from).max(0));
            business.push(calendar.between(from, to));
        }
        Times {
            calendar: Durations::of(wall),
            business: Durations::of(business),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Rate {
    pub count: usize,
    pub of: usize,
    /// `count / of`, absent when `of` is 0.
    pub rate: Option<f64>,
}

impl Rate {
    fn new(count: usize, of: usize) -> Rate {
        Rate {
            count,
            of,
            rate: (of > 0).then(|| count as f64 / of as f64),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AgeBucket {
    pub label: &'static str,
    /// Ages below this (ms); the last bucket has none.
    pub below_ms: Option<i64>,
    pub count: usize,
}

const HOUR: i64 = 3_600_000;
const AGE_BUCKETS: [(&str, Option<i64>); 6] = [
    ("< 1 h", Some(HOUR)),
    ("1–4 h", Some(4 * HOUR)),
    ("4–24 h", Some(24 * HOUR)),
    ("1–3 d", Some(72 * HOUR)),
    ("3–7 d", Some(168 * HOUR)),
    ("≥ 7 d", None),
];

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Backlog {
    /// The instant it is counted at: the period's end, or now if sooner.
    pub at: i64,
    pub open: usize,
    pub age: Vec<AgeBucket>,
    pub oldest_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Day {
    pub date: String,
    pub created: usize,
    /// Resolutions that day (a conversation resolved twice counts twice).
    pub resolved: usize,
    /// Open at the day's end; absent for a day not over yet.
    pub open_at_end: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SlaTarget {
    pub target: &'static str,
    pub met: usize,
    pub breached: usize,
    pub running: usize,
    pub compliance: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Kpis {
    pub volume: usize,
    pub first_response: Times,
    pub unanswered: usize,
    pub resolution: Times,
    pub resolved: usize,
    pub first_contact_resolution: Rate,
    pub reopened: Rate,
    pub backlog: Backlog,
    pub sla: Vec<SlaTarget>,
    pub escalated: Rate,
    pub escalations_by_kind: BTreeMap<String, usize>,
    pub callback_outcomes: BTreeMap<String, usize>,
    pub self_service: Rate,
    pub knowledge_sent: Rate,
    pub knowledge_suggested: Rate,
    /// Resolved conversations knowledge took part in (an answer sent or
    /// suggested, or an entry written from them).
    pub knowledge_linked: Rate,
    /// Answers sent or suggested in the period from entries written from resolved cases.
    pub knowledge_reused: usize,
    /// CSAT: good ratings of all ratings given (good + bad).
    pub satisfaction: Rate,
    pub days: Vec<Day>,
}

/// The figures of `rows` over `period`, business time in `calendar`, days in
/// its time zone, at instant `now`. `rows` must hold every conversation
/// created before the period's end that was open at some time in it.
pub fn compute(rows: &[&ConversationFacts], period: &Period, calendar: &Calendar, now: i64) -> Kpis {
    let cohort: Vec<&ConversationFacts> = rows.iter().copied().filter(|c| period.contains(c.created_at)).collect();
    let volume = cohort.len();
    // Figures are as of the period's end, or now if it has not ended.
    let at = period.end.min(now);
    let answered = cohort
        .iter()
        .filter_map(|c| c.first_response_at.map(|r| (c.created_at, r)));
    let first_response = Times::of(answered, calendar);
    let resolved: Vec<&&ConversationFacts> = cohort.iter().filter(|c| c.first_resolved_at().is_some()).collect();
    let resolution = Times::of(
        resolved
            .iter()
            .filter_map(|c| c.first_resolved_at().map(|r| (c.created_at, r))),
        calendar,
    );

    let mut escalations_by_kind = BTreeMap::new();
    let mut callback_outcomes = BTreeMap::new();
    for e in cohort.iter().flat_map(|c| &c.escalations) {
        *escalations_by_kind.entry(e.kind.clone()).or_insert(0) += 1;
        if e.kind == "callback" {
            let outcome = e.outcome.clone().unwrap_or_else(|| "pending".into());
            *callback_outcomes.entry(outcome).or_insert(0) += 1;
        }
    }

    let sla = [TimerKind::FirstResponse, TimerKind::NextResponse, TimerKind::Resolution]
        .into_iter()
        .map(|kind| {
            let (mut met, mut breached, mut running) = (0, 0, 0);
            for t in cohort.iter().filter_map(|c| c.timer(kind)) {
                match t.outcome(at) {
                    TimerOutcome::Met => met += 1,
                    TimerOutcome::Breached => breached += 1,
                    TimerOutcome::Running => running += 1,
                    TimerOutcome::Stopped => {}
                }
            }
            SlaTarget {
                target: kind.as_str(),
                met,
                breached,
                running,
                compliance: Rate::new(met, met + breached).rate,
            }
        })
        .collect();

    let count = |pred: &dyn Fn(&ConversationFacts) -> bool| cohort.iter().filter(|c| pred(c)).count();
    Kpis {
        volume,
        unanswered: volume - first_response.calendar.count,
        first_response,
        resolved: resolved.len(),
        resolution,
        first_contact_resolution: Rate::new(
            resolved.iter().filter(|c| c.first_contact_resolved()).count(),
            resolved.len(),
        ),
        reopened: Rate::new(resolved.iter().filter(|c| c.reopens() > 0).count(), resolved.len()),
        backlog: backlog(rows, at),
        sla,
        escalated: Rate::new(count(&ConversationFacts::escalated), volume),
        escalations_by_kind,
        callback_outcomes,
        self_service: Rate::new(count(&ConversationFacts::self_served), volume),
        knowledge_sent: Rate::new(count(&ConversationFacts::knowledge_sent), volume),
        knowledge_suggested: Rate::new(
            count(&|c: &ConversationFacts| c.events.iter().any(|e| e.kind == EventKind::KnowledgeSuggested)),
            volume,
        ),
        knowledge_linked: Rate::new(resolved.iter().filter(|c| c.knowledge_linked()).count(), resolved.len()),
        knowledge_reused: rows
            .iter()
            .flat_map(|c| &c.events)
            .filter(|e| {
                e.from_case
                    && period.contains(e.at)
                    && matches!(e.kind, EventKind::KnowledgeSent | EventKind::KnowledgeSuggested)
            })
            .count(),
        satisfaction: Rate::new(
            cohort.iter().filter(|c| c.rating == Some(true)).count(),
            cohort.iter().filter(|c| c.rating.is_some()).count(),
        ),
        days: days(rows, period, calendar, now),
    }
}

/// The figures of `period` and of `previous`, the period before it, from the
/// rows of both (those created before `previous` ends make its figures).
pub fn with_previous(
    rows: &[&ConversationFacts],
    period: &Period,
    previous: &Period,
    calendar: &Calendar,
    now: i64,
) -> (Kpis, Kpis) {
    let earlier: Vec<&ConversationFacts> = rows.iter().copied().filter(|c| c.created_at < previous.end).collect();
    (
        compute(rows, period, calendar, now),
        compute(&earlier, previous, calendar, now),
    )
}

fn backlog(rows: &[&ConversationFacts], at: i64) -> Backlog {
    let ages: Vec<i64> = rows
        .iter()
        .filter(|c| c.open_at(at))
        .map(|c| at - c.created_at)
        .collect();
    let mut age: Vec<AgeBucket> = AGE_BUCKETS
        .iter()
        .map(|&(label, below_ms)| AgeBucket {
            label,
            below_ms,
            count: 0,
        })
        .collect();
    for a in &ages {
        if let Some(bucket) = age.iter_mut().find(|b| b.below_ms.is_none_or(|below| *a < below)) {
            bucket.count += 1;
        }
    }
    Backlog {
        at,
        open: ages.len(),
        oldest_ms: ages.iter().copied().max(),
        age,
    }
}

fn days(rows: &[&ConversationFacts], period: &Period, calendar: &Calendar, now: i64) -> Vec<Day> {
    let tz = calendar.time_zone();
    // Open at each day's end, in one sweep over every open span (a year of
    // days times every conversation would be 36 million checks).
    let mut changes: Vec<(i64, i64)> = rows
        .iter()
        .flat_map(|c| c.open_spans())
        .flat_map(|(from, to)| [(from, 1), (to, -1)])
        .collect();
    changes.sort_unstable();
    let mut next_change = changes.iter().peekable();
    let mut open: i64 = 0;
    let mut out: Vec<Day> = period
        .each_day(tz)
        .into_iter()
        .map(|(date, _, end)| {
            // Open at instant `end - 1`: spans started at or before it and not yet ended.
            while let Some(&&(at, delta)) = next_change.peek()
                && at < end
            {
                open += delta;
                next_change.next();
            }
            Day {
                date: date.to_string(),
                created: 0,
                resolved: 0,
                open_at_end: (end <= now).then(|| usize::try_from(open).unwrap_or(0)),
            }
        })
        .collect();
    let index = |at: i64| -> Option<usize> {
        period
            .contains(at)
            .then(|| (local_day(tz, at) - period.from).num_days())
            .and_then(|d| usize::try_from(d).ok())
    };
    for c in rows {
        if let Some(day) = index(c.created_at).and_then(|i| out.get_mut(i)) {
            day.created += 1;
        }
        for e in c.events.iter().filter(|e| e.kind == super::facts::EventKind::Resolved) {
            if let Some(day) = index(e.at).and_then(|i| out.get_mut(i)) {
                day.resolved += 1;
            }
        }
    }
    out
}

/// What a report is broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Channel,
    Priority,
    Queue,
    Agent,
}

impl Dimension {
    pub fn parse(s: &str) -> Option<Dimension> {
        Some(match s {
            "channel" => Dimension::Channel,
            "priority" => Dimension::Priority,
            "queue" => Dimension::Queue,
            "agent" => Dimension::Agent,
            _ => return None,
        })
    }

    /// The group a conversation falls in: key and label.
    pub fn key_of(self, c: &ConversationFacts) -> (String, String) {
        match self {
            Dimension::Channel => (c.channel.clone(), c.channel.clone()),
            Dimension::Priority => (c.priority.clone(), c.priority.clone()),
            Dimension::Queue => (c.queue.clone(), c.queue.clone()),
            Dimension::Agent => match &c.agent {
                Some((id, name)) => (id.to_string(), name.clone()),
                None => (String::new(), "unassigned".into()),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Group {
    pub key: String,
    pub label: String,
    pub kpis: Kpis,
}

/// The figures of each group, largest volume first.
pub fn by(
    dimension: Dimension,
    rows: &[&ConversationFacts],
    period: &Period,
    calendar: &Calendar,
    now: i64,
) -> Vec<Group> {
    let mut groups: BTreeMap<(String, String), Vec<&ConversationFacts>> = BTreeMap::new();
    for c in rows {
        groups.entry(dimension.key_of(c)).or_default().push(c);
    }
    let mut out: Vec<Group> = groups
        .into_iter()
        .map(|((key, label), rows)| Group {
            key,
            label,
            kpis: compute(&rows, period, calendar, now),
        })
        .collect();
    out.sort_by(|a, b| b.kpis.volume.cmp(&a.kpis.volume).then_with(|| a.label.cmp(&b.label)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::facts::tests::conversation;
    use crate::reports::facts::{EscalationFact, Event, EventKind, TimerFact};

    const MIN: i64 = 60_000;

    /// Paris local time in December 2026.
    fn paris(day: u32, h: u32, m: u32) -> i64 {
        crate::sla::calendar::tests::paris(2026, 12, day, h, m)
    }

    fn office() -> Calendar {
        crate::sla::calendar::tests::office()
    }

    fn timer(kind: TimerKind, met_at: Option<i64>, breached_at: Option<i64>) -> TimerFact {
        TimerFact {
            kind,
            met_at,
            breached_at,
            due_at: None,
            stopped: false,
        }
    }

    fn resolved(at: i64) -> Event {
        Event {
            kind: EventKind::Resolved,
            at,
            from_case: false,
        }
    }

    /// The week of Monday 21 to Sunday 27 December 2026 (Friday 25 a holiday).
    fn week() -> Vec<ConversationFacts> {
        // C1, Mon 11:00, answered 14:00 across lunch, resolved 16:00 after one reply.
        let mut c1 = conversation(1, paris(21, 11, 0));
        c1.first_response_at = Some(paris(21, 14, 0));
        c1.agent_replies = 1;
        c1.events = vec![resolved(paris(21, 16, 0))];
        c1.open = false;
        c1.resolved_at = Some(paris(21, 16, 0));
        c1.timers = vec![
            timer(TimerKind::FirstResponse, Some(paris(21, 14, 0)), None),
            timer(TimerKind::Resolution, Some(paris(21, 16, 0)), None),
        ];
        // C2, Tue 09:00, answered 09:30, resolved 10:00, reopened Wed 09:00, resolved 10:00; two replies.
        let mut c2 = conversation(2, paris(22, 9, 0));
        c2.first_response_at = Some(paris(22, 9, 30));
        c2.agent_replies = 2;
        c2.events = vec![
            resolved(paris(22, 10, 0)),
            Event {
                kind: EventKind::Reopened,
                at: paris(23, 9, 0),
                from_case: false,
            },
            resolved(paris(23, 10, 0)),
        ];
        c2.open = false;
        c2.resolved_at = Some(paris(23, 10, 0));
        c2.timers = vec![
            timer(TimerKind::FirstResponse, Some(paris(22, 9, 30)), None),
            timer(TimerKind::Resolution, Some(paris(23, 10, 0)), None),
        ];
        // C3, Thu 17:00, first response breached at 17:20, answered Sat 10:00; a callback reached the customer.
        let mut c3 = conversation(3, paris(24, 17, 0));
        c3.first_response_at = Some(paris(26, 10, 0));
        c3.agent_replies = 1;
        c3.timers = vec![
            timer(
                TimerKind::FirstResponse,
                Some(paris(26, 10, 0)),
                Some(paris(24, 17, 20)),
            ),
            timer(TimerKind::Resolution, None, None),
        ];
        c3.escalations = vec![EscalationFact {
            kind: "callback".into(),
            outcome: Some("reached".into()),
        }];
        // C4, Fri 25 (holiday) 10:00 on chat: a knowledge answer, resolved 10:30 with no reply.
        let mut c4 = conversation(4, paris(25, 10, 0));
        c4.channel = "webchat".into();
        c4.priority = "faq".into();
        c4.events = vec![
            Event {
                kind: EventKind::KnowledgeSent,
                at: paris(25, 10, 0),
                from_case: false,
            },
            resolved(paris(25, 10, 30)),
        ];
        c4.open = false;
        c4.resolved_at = Some(paris(25, 10, 30));
        // C5, Sunday 20 10:00, before the period, still open.
        let c5 = conversation(5, paris(20, 10, 0));
        // C6, Wed 12:30 (lunch) on WhatsApp, answered 13:45; a video room and a callback not yet made.
        let mut c6 = conversation(6, paris(23, 12, 30));
        c6.channel = "whatsapp".into();
        c6.first_response_at = Some(paris(23, 13, 45));
        c6.agent_replies = 1;
        c6.timers = vec![timer(TimerKind::FirstResponse, Some(paris(23, 13, 45)), None)];
        c6.escalations = vec![
            EscalationFact {
                kind: "video".into(),
                outcome: None,
            },
            EscalationFact {
                kind: "callback".into(),
                outcome: None,
            },
        ];
        vec![c1, c2, c3, c4, c5, c6]
    }

    fn december(from: u32, to: u32) -> Period {
        let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 12, d).unwrap_or_default();
        Period::new(chrono_tz::Europe::Paris, day(from), day(to)).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_figure_of_a_week_matches_its_definition() {
        let rows = week();
        let refs: Vec<&ConversationFacts> = rows.iter().collect();
        let k = compute(&refs, &december(21, 27), &office(), paris(28, 9, 0));

        // The cohort: C1, C2, C3, C4, C6 (C5 was created before the period).
        assert_eq!(k.volume, 5);
        // First responses, calendar: 30 min (C2), 1 h 15 (C6), 3 h (C1), 41 h (C3).
        // Business: C6 15 min (lunch until 13:30), C2 30 min, C3 30 min (Thu
        // 17:00–17:30, then a holiday and a Saturday), C1 1 h 30 (11–12, 13:30–14).
        assert_eq!(k.unanswered, 1, "C4 had only a knowledge answer");
        assert_eq!(k.first_response.calendar.count, 4);
        assert_eq!(k.first_response.calendar.median_ms, Some(75 * MIN));
        assert_eq!(k.first_response.calendar.p90_ms, Some(41 * 60 * MIN));
        assert_eq!(k.first_response.business.median_ms, Some(30 * MIN));
        assert_eq!(k.first_response.business.p90_ms, Some(90 * MIN));
        // Resolutions (first one): C4 30 min (0 business: a holiday), C2 1 h, C1 5 h (3 h 30 business).
        assert_eq!(k.resolved, 3);
        assert_eq!(k.resolution.calendar.median_ms, Some(60 * MIN));
        assert_eq!(k.resolution.calendar.p90_ms, Some(300 * MIN));
        assert_eq!(k.resolution.business.median_ms, Some(60 * MIN));
        assert_eq!(k.resolution.business.p90_ms, Some(210 * MIN));
        // C1 (one reply) and C4 (none) resolved at first contact; C2 had two replies and a reopening.
        assert_eq!(
            (k.first_contact_resolution.count, k.first_contact_resolution.of),
            (2, 3)
        );
        assert_eq!((k.reopened.count, k.reopened.of), (1, 3));
        // Backlog at the period's end, Monday 28 00:00: C3 (79 h), C6 (107 h 30), C5 (182 h).
        assert_eq!(k.backlog.at, paris(28, 0, 0));
        assert_eq!(k.backlog.open, 3);
        let ages: Vec<usize> = k.backlog.age.iter().map(|b| b.count).collect();
        assert_eq!(ages, [0, 0, 0, 0, 2, 1]);
        assert_eq!(k.backlog.oldest_ms, Some(182 * 60 * MIN));
        // First response: 3 met, C3 breached; resolution: 2 met, C3 running; no next-response timers.
        let sla: Vec<(usize, usize, usize, Option<f64>)> = k
            .sla
            .iter()
            .map(|t| (t.met, t.breached, t.running, t.compliance))
            .collect();
        assert_eq!(sla, [(3, 1, 0, Some(0.75)), (0, 0, 0, None), (2, 0, 1, Some(1.0))]);
        assert_eq!((k.escalated.count, k.escalated.of), (2, 5));
        assert_eq!(k.escalations_by_kind.get("callback"), Some(&2));
        assert_eq!(k.escalations_by_kind.get("video"), Some(&1));
        assert_eq!(k.callback_outcomes.get("reached"), Some(&1));
        assert_eq!(k.callback_outcomes.get("pending"), Some(&1));
        assert_eq!((k.self_service.count, k.knowledge_sent.count), (1, 1));
        // C4's answer is the only knowledge; it came with the shipped entries, not from a case.
        assert_eq!((k.knowledge_linked.count, k.knowledge_linked.of), (1, 3));
        assert_eq!((k.knowledge_suggested.count, k.knowledge_reused), (0, 0));
        // Each day: created, resolutions (C2 twice), open at the day's end (C5 throughout).
        let days: Vec<(usize, usize, Option<usize>)> =
            k.days.iter().map(|d| (d.created, d.resolved, d.open_at_end)).collect();
        assert_eq!(
            days,
            [
                (1, 1, Some(1)),
                (1, 1, Some(1)),
                (1, 1, Some(2)),
                (1, 0, Some(3)),
                (1, 1, Some(3)),
                (0, 0, Some(3)),
                (0, 0, Some(3)),
            ]
        );
        assert_eq!(k.days[0].date, "2026-12-21");
    }

    #[test]
    fn a_period_running_to_today_counts_the_backlog_now_and_leaves_future_days_empty() {
        let rows = week();
        let refs: Vec<&ConversationFacts> = rows.iter().collect();
        let now = paris(24, 12, 0);
        let k = compute(&refs, &december(21, 27), &office(), now);
        assert_eq!(k.backlog.at, now);
        // Thursday noon: C5 and C6 open (C3 not yet created, C2 resolved again).
        assert_eq!(k.backlog.open, 2);
        let ends: Vec<Option<usize>> = k.days.iter().map(|d| d.open_at_end).collect();
        assert_eq!(ends, [Some(1), Some(1), Some(2), None, None, None, None]);
    }

    #[test]
    fn groups_split_the_cohort_and_their_volumes_add_up() {
        let rows = week();
        let refs: Vec<&ConversationFacts> = rows.iter().collect();
        let groups = by(Dimension::Channel, &refs, &december(21, 27), &office(), paris(28, 9, 0));
        let volumes: Vec<(&str, usize)> = groups.iter().map(|g| (g.key.as_str(), g.kpis.volume)).collect();
        assert_eq!(volumes, [("email", 3), ("webchat", 1), ("whatsapp", 1)]);
        let whatsapp = groups.iter().find(|g| g.key == "whatsapp").map(|g| &g.kpis);
        assert_eq!(whatsapp.map(|k| k.escalated.count), Some(1));
    }

    #[test]
    fn an_entry_written_from_a_case_counts_its_reuse_in_the_period_it_answered() {
        let mut rows = week();
        // C6 (Wednesday) got a suggestion from an entry written from a resolved case.
        rows[5].events.push(Event {
            kind: EventKind::KnowledgeSuggested,
            at: paris(23, 12, 30),
            from_case: true,
        });
        // C2's resolution became an entry.
        rows[1].events.push(Event {
            kind: EventKind::KnowledgeCreated,
            at: paris(23, 11, 0),
            from_case: true,
        });
        let refs: Vec<&ConversationFacts> = rows.iter().collect();
        let k = compute(&refs, &december(21, 27), &office(), paris(28, 9, 0));
        assert_eq!(k.knowledge_reused, 1, "a creation is not a reuse");
        assert_eq!(k.knowledge_suggested.count, 1);
        assert_eq!((k.knowledge_linked.count, k.knowledge_linked.of), (2, 3), "C2 and C4");
        let before = compute(&refs, &december(14, 20), &office(), paris(28, 9, 0));
        assert_eq!(before.knowledge_reused, 0);
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(nearest_rank(&[], 50), None);
        assert_eq!(nearest_rank(&[7], 90), Some(7));
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 50), Some(2));
        assert_eq!(nearest_rank(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), Some(9));
        assert_eq!(nearest_rank(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90), Some(10));
    }
}
