//! Business time: weekly opening slots (several a day), holidays and a time
//! zone with its daylight-saving changes. SLA budgets are counted in it.

use std::collections::HashSet;

use chrono::{Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;

use crate::config::CalendarConfig;

/// Business days looked at before giving up (a calendar with no slot at all).
const HORIZON_DAYS: i64 = 3 * 366;

#[derive(Debug, Clone)]
pub struct Calendar {
    pub name: String,
    tz: Tz,
    /// Minutes after local midnight, Monday first.
    week: [Vec<(u32, u32)>; 7],
    holidays: HashSet<NaiveDate>,
    /// Open around the clock (the built-in `always`).
    always: bool,
}

fn minutes(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

impl Calendar {
    /// Open every minute of every day (UTC).
    pub fn always() -> Self {
        Calendar {
            name: "always".into(),
            tz: Tz::UTC,
            week: Default::default(),
            holidays: HashSet::new(),
            always: true,
        }
    }

    pub fn parse(c: &CalendarConfig) -> Result<Self, String> {
        let tz: Tz = c.time_zone.parse().map_err(|_| {
            format!(
                "calendar {:?}: unknown time zone {:?} (use e.g. \"Europe/Paris\")",
                c.name, c.time_zone
            )
        })?;
        let mut week: [Vec<(u32, u32)>; 7] = Default::default();
        let days = [
            &c.monday,
            &c.tuesday,
            &c.wednesday,
            &c.thursday,
            &c.friday,
            &c.saturday,
            &c.sunday,
        ];
        for (i, slots) in days.iter().enumerate() {
            for slot in slots.iter() {
                let bad = || format!("calendar {:?}: slot {slot:?} is not \"HH:MM-HH:MM\"", c.name);
                let (a, b) = slot.split_once('-').ok_or_else(bad)?;
                let (a, b) = (minutes(a).ok_or_else(bad)?, minutes(b).ok_or_else(bad)?);
                if a >= b {
                    return Err(format!("calendar {:?}: slot {slot:?} ends before it starts", c.name));
                }
                week[i].push((a, b));
            }
            week[i].sort_unstable();
        }
        let mut holidays = HashSet::new();
        for h in &c.holidays {
            let d = NaiveDate::parse_from_str(h, "%Y-%m-%d")
                .map_err(|_| format!("calendar {:?}: holiday {h:?} is not YYYY-MM-DD", c.name))?;
            holidays.insert(d);
        }
        if week.iter().all(Vec::is_empty) {
            return Err(format!("calendar {:?} has no opening hours", c.name));
        }
        Ok(Calendar {
            name: c.name.clone(),
            tz,
            week,
            holidays,
            always: false,
        })
    }

    /// A local wall-clock time as Unix ms; in a DST gap the first valid instant after it.
    fn at(&self, date: NaiveDate, minute: u32) -> i64 {
        let naive = date.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(minute));
        match self.tz.from_local_datetime(&naive) {
            LocalResult::Single(t) => t.timestamp_millis(),
            LocalResult::Ambiguous(a, _) => a.timestamp_millis(),
            LocalResult::None => self
                .tz
                .from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
                .map(|t| t.timestamp_millis())
                .unwrap_or_else(|| naive.and_utc().timestamp_millis()),
        }
    }

    /// The open intervals of one local date, as Unix ms.
    fn intervals(&self, date: NaiveDate) -> Vec<(i64, i64)> {
        if self.holidays.contains(&date) {
            return Vec::new();
        }
        let day = date.weekday().num_days_from_monday() as usize;
        self.week[day]
            .iter()
            .map(|&(a, b)| (self.at(date, a), self.at(date, b)))
            .filter(|(a, b)| a < b)
            .collect()
    }

    fn local_date(&self, t: i64) -> NaiveDate {
        self.tz
            .timestamp_millis_opt(t)
            .single()
            .map(|d| d.date_naive())
            .unwrap_or_default()
    }

    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    pub fn is_open(&self, t: i64) -> bool {
        self.always || self.intervals(self.local_date(t)).iter().any(|&(a, b)| a <= t && t < b)
    }

    /// When `budget_ms` of business time starting at `start` runs out.
    pub fn add(&self, start: i64, budget_ms: i64) -> i64 {
        if self.always || budget_ms <= 0 {
            return start.saturating_add(budget_ms.max(0));
        }
        let mut left = budget_ms;
        let mut date = self.local_date(start);
        for _ in 0..HORIZON_DAYS {
            for (a, b) in self.intervals(date) {
                let from = a.max(start);
                if from >= b {
                    continue;
                }
                if b - from >= left {
                    return from + left;
                }
                left -= b - from;
            }
            date = date.succ_opt().unwrap_or(date);
        }
        i64::MAX
    }

    /// Business time between two instants.
    pub fn between(&self, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        if self.always {
            return to - from;
        }
        let mut total = 0;
        let mut date = self.local_date(from);
        let last = self.local_date(to);
        while date <= last {
            for (a, b) in self.intervals(date) {
                let (x, y) = (a.max(from), b.min(to));
                if y > x {
                    total += y - x;
                }
            }
            match date.succ_opt() {
                Some(d) => date = d,
                None => break,
            }
        }
        total
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Weekdays 08:00–12:00 and 13:30–17:30 in Paris, Christmas 2026 off.
    pub(crate) fn office() -> Calendar {
        let slots = vec!["08:00-12:00".to_string(), "13:30-17:30".to_string()];
        let c = CalendarConfig {
            name: "office".into(),
            time_zone: "Europe/Paris".into(),
            monday: slots.clone(),
            tuesday: slots.clone(),
            wednesday: slots.clone(),
            thursday: slots.clone(),
            friday: slots,
            saturday: vec![],
            sunday: vec![],
            holidays: vec!["2026-12-25".into()],
        };
        match Calendar::parse(&c) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    pub(crate) fn paris(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        chrono_tz::Europe::Paris
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .map(|t| t.timestamp_millis())
            .unwrap_or_default()
    }

    const HOUR: i64 = 3_600_000;

    #[test]
    fn a_budget_crosses_lunch_and_the_weekend() {
        let cal = office();
        // Friday 27 Nov 2026 16:30 + 2 business hours: 1 h on Friday, 1 h on Monday from 08:00.
        let due = cal.add(paris(2026, 11, 27, 16, 30), 2 * HOUR);
        assert_eq!(due, paris(2026, 11, 30, 9, 0));
        // 11:30 + 1 h: half before lunch, half after.
        assert_eq!(cal.add(paris(2026, 11, 30, 11, 30), HOUR), paris(2026, 11, 30, 14, 0));
        // Saturday counts from Monday's opening.
        assert_eq!(cal.add(paris(2026, 11, 28, 10, 0), HOUR), paris(2026, 11, 30, 9, 0));
    }

    #[test]
    fn holidays_are_skipped() {
        let cal = office();
        // Thursday 24 Dec 17:00 + 1 h: 30 min on Thursday, Friday 25 is a holiday, 30 min on Monday 28.
        assert_eq!(cal.add(paris(2026, 12, 24, 17, 0), HOUR), paris(2026, 12, 28, 8, 30));
        assert_eq!(
            cal.between(paris(2026, 12, 24, 17, 0), paris(2026, 12, 28, 8, 30)),
            HOUR
        );
        assert!(!cal.is_open(paris(2026, 12, 25, 10, 0)));
        assert!(cal.is_open(paris(2026, 12, 24, 10, 0)));
        assert!(!cal.is_open(paris(2026, 12, 24, 12, 30)), "lunch");
    }

    #[test]
    fn daylight_saving_changes_keep_local_hours() {
        let cal = office();
        // Summer time ends on Sunday 25 Oct 2026: Monday still opens at 08:00 local.
        assert_eq!(cal.add(paris(2026, 10, 23, 17, 30), HOUR), paris(2026, 10, 26, 9, 0));
        // A whole business week is 40 h whatever the clocks do.
        assert_eq!(
            cal.between(paris(2026, 10, 19, 0, 0), paris(2026, 10, 26, 0, 0)),
            40 * HOUR
        );
    }

    #[test]
    fn always_is_plain_time_and_bad_config_is_refused() {
        assert_eq!(Calendar::always().add(1_000, 5_000), 6_000);
        assert_eq!(Calendar::always().between(1_000, 6_000), 5_000);
        let mut c = CalendarConfig {
            name: "x".into(),
            time_zone: "Mars/Olympus".into(),
            monday: vec!["08:00-12:00".into()],
            ..Default::default()
        };
        assert!(Calendar::parse(&c).is_err());
        c.time_zone = "Europe/Paris".into();
        c.monday = vec!["12:00-08:00".into()];
        assert!(Calendar::parse(&c).is_err());
        c.monday = vec!["8h-12h".into()];
        assert!(Calendar::parse(&c).is_err());
        c.monday = vec!["08:00-12:00".into()];
        c.holidays = vec!["25/12/2026".into()];
        assert!(Calendar::parse(&c).is_err());
    }
}
