//! Inside or outside business hours: weekdays and one daily slot in a fixed
//! UTC offset. (Calendars with holidays come with dispatch and SLA.)

use crate::config::TriageConfig;

#[derive(Debug, Clone)]
pub struct BusinessHours {
    days: Vec<u8>,
    start_min: i64,
    end_min: i64,
    offset_min: i64,
}

impl BusinessHours {
    pub fn parse(c: &TriageConfig) -> Result<Self, String> {
        let bad = || format!("triage.business_hours {:?}: use \"HH:MM-HH:MM\"", c.business_hours);
        let (a, b) = c.business_hours.split_once('-').ok_or_else(bad)?;
        let minutes = |s: &str| -> Option<i64> {
            let (h, m) = s.trim().split_once(':')?;
            let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
            ((0..=24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
        };
        let (start_min, end_min) = (minutes(a).ok_or_else(bad)?, minutes(b).ok_or_else(bad)?);
        if let Some(d) = c.business_days.iter().find(|d| !(1..=7).contains(*d)) {
            return Err(format!(
                "triage.business_days: {d} is not a day (1 = Monday … 7 = Sunday)"
            ));
        }
        Ok(BusinessHours {
            days: c.business_days.clone(),
            start_min,
            end_min,
            offset_min: i64::from(c.utc_offset_minutes),
        })
    }

    pub fn is_open(&self, now_ms: i64) -> bool {
        let local_min = now_ms.div_euclid(60_000) + self.offset_min;
        let day_index = local_min.div_euclid(24 * 60);
        // 1970-01-01 was a Thursday (ISO 4).
        let weekday = u8::try_from((day_index + 3).rem_euclid(7) + 1).unwrap_or(1);
        let minute = local_min.rem_euclid(24 * 60);
        self.days.contains(&weekday) && minute >= self.start_min && minute < self.end_min
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_and_hours_in_local_time() {
        let h = BusinessHours::parse(&TriageConfig::default()).unwrap_or_else(|e| panic!("{e}"));
        // 2026-11-23 is a Monday. 07:30 UTC = 08:30 CET.
        let monday_0730_utc = 1_795_419_000_000;
        assert!(h.is_open(monday_0730_utc));
        assert!(!h.is_open(monday_0730_utc - 3_600_000), "06:30 UTC = 07:30 CET, closed");
        assert!(!h.is_open(monday_0730_utc - 2 * 86_400_000), "Saturday");
    }
}
