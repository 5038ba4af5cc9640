//! The SLA policy of each priority, resolved against the calendars.

use std::collections::HashMap;

use triage::Priority;

use super::Calendar;
use crate::config::SlaConfig;

/// What a timer measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    FirstResponse,
    NextResponse,
    Resolution,
}

impl TimerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::FirstResponse => "first_response",
            TimerKind::NextResponse => "next_response",
            TimerKind::Resolution => "resolution",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "first_response" => Some(TimerKind::FirstResponse),
            "next_response" => Some(TimerKind::NextResponse),
            "resolution" => Some(TimerKind::Resolution),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
struct Policy {
    calendar: String,
    budgets: HashMap<TimerKind, i64>,
}

#[derive(Debug, Clone)]
pub struct SlaPolicies {
    calendars: HashMap<String, Calendar>,
    first_calendar: Option<String>,
    policies: HashMap<Priority, Policy>,
    pub at_risk_ratio: f64,
}

impl Default for SlaPolicies {
    fn default() -> Self {
        match SlaPolicies::parse(&SlaConfig::default()) {
            Ok(p) => p,
            // The built-in configuration is covered by a test; this is not input.
            Err(e) => panic!("built-in SLA configuration: {e}"),
        }
    }
}

impl SlaPolicies {
    pub fn parse(c: &SlaConfig) -> Result<Self, String> {
        let mut calendars = HashMap::new();
        calendars.insert("always".to_string(), Calendar::always());
        for cal in &c.calendars {
            if calendars.insert(cal.name.clone(), Calendar::parse(cal)?).is_some() {
                return Err(format!("calendar {:?} is defined twice", cal.name));
            }
        }
        let mut policies = HashMap::new();
        for p in &c.policies {
            let priority = Priority::parse(&p.priority)
                .ok_or_else(|| format!("sla policy: {:?} is not critical, important or faq", p.priority))?;
            if !calendars.contains_key(&p.calendar) {
                return Err(format!(
                    "sla policy {:?}: no calendar named {:?}",
                    p.priority, p.calendar
                ));
            }
            let mut budgets = HashMap::new();
            for (kind, minutes) in [
                (TimerKind::FirstResponse, p.first_response_minutes),
                (TimerKind::NextResponse, p.next_response_minutes),
                (TimerKind::Resolution, p.resolution_minutes),
            ] {
                if minutes > 0 {
                    budgets.insert(kind, minutes * 60_000);
                }
            }
            policies.insert(
                priority,
                Policy {
                    calendar: p.calendar.clone(),
                    budgets,
                },
            );
        }
        Ok(SlaPolicies {
            first_calendar: c.calendars.first().map(|c| c.name.clone()),
            calendars,
            policies,
            at_risk_ratio: c.at_risk_ratio,
        })
    }

    /// The budget (business ms) and calendar of one timer, when the policy sets one.
    pub fn budget(&self, priority: Priority, kind: TimerKind) -> Option<(i64, &Calendar)> {
        let p = self.policies.get(&priority)?;
        let budget = *p.budgets.get(&kind)?;
        Some((budget, self.calendars.get(&p.calendar)?))
    }

    /// The time zone customers are told times in: the first configured calendar's.
    pub fn display_tz(&self) -> chrono_tz::Tz {
        self.first_calendar
            .as_ref()
            .and_then(|n| self.calendars.get(n))
            .map(Calendar::time_zone)
            .unwrap_or(chrono_tz::Tz::UTC)
    }

    /// The calendar reports count business time and days in: the first
    /// configured one (the one customers are told times in), else `always`.
    pub fn reporting_calendar(&self) -> &Calendar {
        self.calendar(self.first_calendar.as_deref().unwrap_or("always"))
    }

    /// A configured calendar by name (`always` included).
    pub fn calendar_named(&self, name: &str) -> Option<&Calendar> {
        self.calendars.get(name)
    }

    pub fn calendar(&self, name: &str) -> &Calendar {
        static ALWAYS: std::sync::LazyLock<Calendar> = std::sync::LazyLock::new(Calendar::always);
        self.calendars.get(name).unwrap_or(&ALWAYS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_policies_parse_and_match_the_acknowledgements() {
        let p = SlaPolicies::parse(&SlaConfig::default());
        let Ok(p) = p else {
            panic!("{:?}", p.err());
        };
        let Some((budget, cal)) = p.budget(Priority::Critical, TimerKind::FirstResponse) else {
            panic!("critical has a first-response target");
        };
        assert_eq!(budget, 15 * 60_000);
        assert_eq!(cal.name, "always");
        assert!(
            p.budget(Priority::Important, TimerKind::FirstResponse)
                .is_some_and(|(b, c)| b == 2 * 3_600_000 && c.name == "office")
        );
    }

    #[test]
    fn unknown_calendars_and_priorities_are_refused() {
        let mut c = SlaConfig::default();
        c.policies[0].calendar = "nowhere".into();
        assert!(SlaPolicies::parse(&c).is_err());
        let mut c = SlaConfig::default();
        c.policies[0].priority = "urgent".into();
        assert!(SlaPolicies::parse(&c).is_err());
    }
}
