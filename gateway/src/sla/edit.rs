//! What an admin edits of the service levels from the inbox — the calendars
//! (time zone, weekly slots, holidays) and each priority's targets — how
//! that edit lays over the configuration file, and what a message arriving
//! now would be due at under it (the page's preview). Pure: the API reads
//! and writes around it.

use chrono::TimeZone;
use serde::{Deserialize, Serialize};
use triage::Priority;

use super::{SlaPolicies, TimerKind};
use crate::config::{CalendarConfig, SlaConfig, SlaPolicyConfig};

/// The settings key the edit is stored under.
pub const SETTING_KEY: &str = "sla";

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaEdit {
    pub calendars: Vec<CalendarConfig>,
    pub policies: Vec<SlaPolicyConfig>,
}

impl SlaEdit {
    pub fn of(config: &SlaConfig) -> SlaEdit {
        SlaEdit {
            calendars: config.calendars.clone(),
            policies: config.policies.clone(),
        }
    }

    /// The file's configuration with this edit's calendars and targets.
    pub fn applied_to(&self, file: &SlaConfig) -> SlaConfig {
        SlaConfig {
            calendars: self.calendars.clone(),
            policies: self.policies.clone(),
            ..file.clone()
        }
    }
}

/// The policies `config` compiles to, refused as the gateway refuses them at
/// start — including an on-call calendar that no longer exists.
pub fn compile(config: &SlaConfig, on_call_calendar: &str) -> Result<SlaPolicies, String> {
    let policies = SlaPolicies::parse(config)?;
    if on_call_calendar != "always" && policies.calendar_named(on_call_calendar).is_none() {
        return Err(format!(
            "escalation.on_call_calendar is {on_call_calendar:?}: keep a calendar with that name"
        ));
    }
    Ok(policies)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Due {
    pub priority: &'static str,
    pub timer: &'static str,
    pub minutes: i64,
    pub due_at: i64,
    /// The due time in its calendar's time zone, `YYYY-MM-DD HH:MM`.
    pub local: String,
    pub time_zone: String,
}

/// When each target of each priority would fall for a message arriving at `now`.
pub fn preview(policies: &SlaPolicies, now: i64) -> Vec<Due> {
    let mut out = Vec::new();
    for priority in [Priority::Critical, Priority::Important, Priority::Faq] {
        for kind in [TimerKind::FirstResponse, TimerKind::NextResponse, TimerKind::Resolution] {
            let Some((budget, calendar)) = policies.budget(priority, kind) else {
                continue;
            };
            let due_at = calendar.add(now, budget);
            let tz = calendar.time_zone();
            let local = tz
                .timestamp_millis_opt(due_at)
                .single()
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default();
            out.push(Due {
                priority: priority.as_str(),
                timer: kind.as_str(),
                minutes: budget / 60_000,
                due_at,
                local,
                time_zone: tz.name().to_string(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Friday 4 December 2026, 16:00 in Paris.
    const FRIDAY_4PM: i64 = 1_796_396_400_000;

    fn faq_first(policies: &SlaPolicies) -> String {
        preview(policies, FRIDAY_4PM)
            .into_iter()
            .find(|d| d.priority == "faq" && d.timer == "first_response")
            .map(|d| d.local)
            .unwrap_or_default()
    }

    #[test]
    fn a_holiday_moves_the_due_time_and_a_lost_on_call_calendar_is_refused() {
        let file = SlaConfig::default();
        let policies = compile(&file, "always").unwrap_or_else(|e| panic!("{e}"));
        // 570 business minutes from Friday 16:00: 2 h on Friday, then 7.5 h of
        // Monday's 8:00–12:00 and 13:30–18:00.
        assert_eq!(faq_first(&policies), "2026-12-07 17:00");
        let mut edit = SlaEdit::of(&file);
        edit.calendars[0].holidays = vec!["2026-12-07".into()];
        let policies = compile(&edit.applied_to(&file), "always").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(faq_first(&policies), "2026-12-08 17:00", "Monday closed: Tuesday");
        assert!(compile(&file, "office").is_ok());
        let mut renamed = SlaEdit::of(&file);
        renamed.calendars[0].name = "bureau".into();
        renamed
            .policies
            .iter_mut()
            .filter(|p| p.calendar == "office")
            .for_each(|p| p.calendar = "bureau".into());
        let e = compile(&renamed.applied_to(&file), "office").err().unwrap_or_default();
        assert!(e.contains("on_call_calendar"), "{e}");
        let mut broken = SlaEdit::of(&file);
        broken.calendars[0].monday = vec!["8h-12h".into()];
        assert!(compile(&broken.applied_to(&file), "always").is_err());
    }

    #[test]
    fn the_edit_keeps_the_files_other_settings() {
        let file = SlaConfig {
            check_secs: 42,
            supervisor_webhook: "https://example.com/hook".into(),
            ..SlaConfig::default()
        };
        let mut edit = SlaEdit::of(&file);
        edit.policies.truncate(1);
        let applied = edit.applied_to(&file);
        assert_eq!(
            (applied.check_secs, applied.supervisor_webhook.as_str()),
            (42, "https://example.com/hook")
        );
        assert_eq!(applied.policies.len(), 1);
    }
}
