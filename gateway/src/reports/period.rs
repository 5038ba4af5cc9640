//! A reporting period: whole local days of the hotline's calendar, so "last
//! week" means the same days to a supervisor in Paris as to the figures.

use chrono::Datelike as _;
use chrono::{Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;

/// Longest period a report covers: a year, and a day for a leap year.
pub const MAX_DAYS: i64 = 366;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First local day.
    pub from: NaiveDate,
    /// Last local day, included.
    pub to: NaiveDate,
    /// `from`'s local midnight, Unix ms.
    pub start: i64,
    /// The local midnight after `to`, Unix ms (excluded).
    pub end: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeriodError {
    #[error("the period ends ({to}) before it starts ({from})")]
    Reversed { from: NaiveDate, to: NaiveDate },
    #[error("a report covers at most {MAX_DAYS} days")]
    TooLong,
}

/// The instant a local day starts. Where midnight does not exist (a
/// daylight-saving change at midnight), the first instant of the day that does.
pub fn day_start(tz: Tz, day: NaiveDate) -> i64 {
    for minutes in (0..=180).step_by(30) {
        let local = day.and_time(chrono::NaiveTime::MIN) + Duration::minutes(minutes);
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return t.timestamp_millis();
        }
    }
    day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp_millis()
}

/// The local day an instant falls on.
pub fn local_day(tz: Tz, at: i64) -> NaiveDate {
    let utc = chrono::DateTime::from_timestamp_millis(at).unwrap_or_default();
    utc.with_timezone(&tz).date_naive()
}

impl Period {
    pub fn new(tz: Tz, from: NaiveDate, to: NaiveDate) -> Result<Period, PeriodError> {
        if to < from {
            return Err(PeriodError::Reversed { from, to });
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err(PeriodError::TooLong);
        }
        let after = to.succ_opt().unwrap_or(to);
        Ok(Period {
            from,
            to,
            start: day_start(tz, from),
            end: day_start(tz, after),
        })
    }

    /// The `days` local days that end with the day of `now`.
    pub fn last_days(tz: Tz, now: i64, days: i64) -> Period {
        let to = local_day(tz, now);
        let from = to - Duration::days(days.clamp(1, MAX_DAYS) - 1);
        // Both bounds are valid by construction.
        Period::new(tz, from, to).unwrap_or(Period {
            from: to,
            to,
            start: day_start(tz, to),
            end: day_start(tz, to.succ_opt().unwrap_or(to)),
        })
    }

    /// The calendar month before the one of `now`.
    pub fn last_month(tz: Tz, now: i64) -> Period {
        let today = local_day(tz, now);
        let first_of_this = today.with_day(1).unwrap_or(today);
        let to = first_of_this.pred_opt().unwrap_or(first_of_this);
        let from = to.with_day(1).unwrap_or(to);
        Period::new(tz, from, to).unwrap_or_else(|_| Period::last_days(tz, now, 30))
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The period of the same length just before this one.
    pub fn previous(&self, tz: Tz) -> Period {
        let to = self.from.pred_opt().unwrap_or(self.from);
        let from = to - Duration::days(self.days() - 1);
        Period::new(tz, from, to).unwrap_or(*self)
    }

    pub fn contains(&self, at: i64) -> bool {
        self.start <= at && at < self.end
    }

    /// Each local day with its start and end instants.
    pub fn each_day(&self, tz: Tz) -> Vec<(NaiveDate, i64, i64)> {
        let mut out = Vec::with_capacity(self.days() as usize);
        let mut day = self.from;
        while day <= self.to {
            let next = day.succ_opt().unwrap_or(day);
            out.push((day, day_start(tz, day), day_start(tz, next)));
            if next == day {
                break;
            }
            day = next;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn a_period_is_whole_local_days_and_a_dst_day_is_23_hours() {
        let tz: Tz = chrono_tz::Europe::Paris;
        // 2026-03-29: clocks go forward at 02:00 in Paris.
        let p = Period::new(tz, date(2026, 3, 29), date(2026, 3, 29)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.end - p.start, 23 * 3_600_000);
        // Paris midnight on 2026-03-29 is 23:00 UTC the day before.
        assert_eq!(
            p.start,
            date(2026, 3, 28)
                .and_hms_opt(23, 0, 0)
                .unwrap_or_default()
                .and_utc()
                .timestamp_millis()
        );
        assert_eq!(local_day(tz, p.start), date(2026, 3, 29));
        assert_eq!(local_day(tz, p.end - 1), date(2026, 3, 29));
    }

    #[test]
    fn last_month_is_the_calendar_month_before_now_in_local_time() {
        let tz: Tz = chrono_tz::Europe::Paris;
        // 2027-01-01 00:30 in Paris is still 2026-12-31 in UTC.
        let now = date(2026, 12, 31)
            .and_hms_opt(23, 30, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp_millis();
        let p = Period::last_month(tz, now);
        assert_eq!((p.from, p.to), (date(2026, 12, 1), date(2026, 12, 31)));
        let p = Period::last_month(tz, now - 86_400_000);
        assert_eq!((p.from, p.to), (date(2026, 11, 1), date(2026, 11, 30)));
    }

    #[test]
    fn the_previous_period_has_the_same_length_and_ends_the_day_before() {
        let tz: Tz = chrono_tz::Europe::Paris;
        let p = Period::new(tz, date(2026, 11, 23), date(2026, 11, 29)).unwrap_or_else(|e| panic!("{e}"));
        let q = p.previous(tz);
        assert_eq!((q.from, q.to), (date(2026, 11, 16), date(2026, 11, 22)));
        assert_eq!(q.end, p.start);
        assert_eq!(p.each_day(tz).len(), 7);
    }

    #[test]
    fn reversed_and_overlong_periods_are_refused() {
        let tz: Tz = chrono_tz::UTC;
        assert!(matches!(
            Period::new(tz, date(2026, 2, 2), date(2026, 2, 1)),
            Err(PeriodError::Reversed { .. })
        ));
        assert_eq!(
            Period::new(tz, date(2025, 1, 1), date(2026, 1, 2)),
            Err(PeriodError::TooLong)
        );
        assert!(Period::new(tz, date(2024, 1, 1), date(2024, 12, 31)).is_ok());
    }
}
