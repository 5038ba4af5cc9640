//! The weekly summary mail: which week is due, and its text. Pure; the
//! mailer (`mailer.rs`) reads the facts, queues the mail once per week and
//! sends it.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use chrono_tz::Tz;

use super::kpi::Kpis;
use super::period::{Period, day_start, local_day};

pub fn weekday(name: &str) -> Option<Weekday> {
    name.trim().to_lowercase().parse().ok()
}

/// The week (Monday to Sunday) a summary is due for at `now`: the last
/// complete week, once this week's sending day and hour have come.
pub fn due(now: i64, tz: Tz, day: Weekday, hour: u32) -> Option<Period> {
    let today = local_day(tz, now);
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let send_day = monday + Duration::days(i64::from(day.num_days_from_monday()));
    let send_at = day_start(tz, send_day) + i64::from(hour.min(23)) * 3_600_000;
    if now < send_at {
        return None;
    }
    let last_monday: NaiveDate = monday - Duration::days(7);
    Period::new(tz, last_monday, monday - Duration::days(1)).ok()
}

/// The week's key: its Monday.
pub fn key(week: &Period) -> String {
    week.from.to_string()
}

fn minutes(ms: Option<i64>) -> String {
    ms.map_or_else(|| "—".into(), |v| format!("{} min", v / 60_000))
}

fn percent(r: Option<f64>) -> String {
    r.map_or_else(|| "—".into(), |v| format!("{:.0} %", v * 100.0))
}

/// Subject and text of the summary of `week` (`k`) against the week before (`p`).
pub fn summary(week: &Period, k: &Kpis, p: &Kpis, language: &str, inbox_url: &str) -> (String, String) {
    let fr = language == "fr";
    let sla = |k: &Kpis| {
        k.sla
            .iter()
            .find(|t| t.target == "first_response")
            .and_then(|t| t.compliance)
    };
    let lines: Vec<(&str, &str, String, String)> = vec![
        (
            "Conversations",
            "Conversations",
            k.volume.to_string(),
            p.volume.to_string(),
        ),
        (
            "Première réponse (médiane, heures ouvrées)",
            "First response (median, business time)",
            minutes(k.first_response.business.median_ms),
            minutes(p.first_response.business.median_ms),
        ),
        (
            "Sans réponse",
            "Unanswered",
            k.unanswered.to_string(),
            p.unanswered.to_string(),
        ),
        (
            "Résolution (médiane, heures ouvrées)",
            "Resolution (median, business time)",
            minutes(k.resolution.business.median_ms),
            minutes(p.resolution.business.median_ms),
        ),
        (
            "Résolus au premier contact",
            "First-contact resolution",
            percent(k.first_contact_resolution.rate),
            percent(p.first_contact_resolution.rate),
        ),
        (
            "SLA première réponse tenu",
            "First-response SLA met",
            percent(sla(k)),
            percent(sla(p)),
        ),
        (
            "Escaladés",
            "Escalated",
            percent(k.escalated.rate),
            percent(p.escalated.rate),
        ),
        (
            "En attente en fin de semaine",
            "Backlog at the week's end",
            k.backlog.open.to_string(),
            p.backlog.open.to_string(),
        ),
    ];
    let subject = if fr {
        format!("Switchyard — semaine du {} au {}", week.from, week.to)
    } else {
        format!("Switchyard — week {} to {}", week.from, week.to)
    };
    let mut text = String::new();
    text.push_str(if fr {
        "Le bilan de la hotline, comparé à la semaine précédente :\n\n"
    } else {
        "How the hotline did, against the week before:\n\n"
    });
    for (label_fr, label_en, now, before) in lines {
        let label = if fr { label_fr } else { label_en };
        let was = if fr { "avant" } else { "before" };
        text.push_str(&format!("- {label}: {now} ({was}: {before})\n"));
    }
    let more = if fr {
        "Le détail, les conversations derrière chaque chiffre et les exports CSV"
    } else {
        "The details, the conversations behind each figure and the CSV exports"
    };
    if !inbox_url.is_empty() {
        text.push_str(&format!("\n{more}: {inbox_url}#reports\n"));
    }
    (subject, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::calendar::tests::paris;

    #[test]
    fn last_week_is_due_from_the_sending_hour_of_its_day() {
        let tz = chrono_tz::Europe::Paris;
        let monday = Weekday::Mon;
        // Monday 7 December 2026, 06:59 then 07:00 in Paris.
        assert_eq!(due(paris(2026, 12, 7, 6, 59), tz, monday, 7), None);
        let week = due(paris(2026, 12, 7, 7, 0), tz, monday, 7).unwrap_or_else(|| panic!("due"));
        assert_eq!(
            (week.from.to_string(), week.to.to_string()),
            ("2026-11-30".into(), "2026-12-06".into())
        );
        // Later in the week it is still that week.
        let later = due(paris(2026, 12, 10, 15, 0), tz, monday, 7);
        assert_eq!(later.map(|w| key(&w)), Some("2026-11-30".into()));
        // Sent on Fridays: not due on Thursday.
        assert_eq!(due(paris(2026, 12, 10, 15, 0), tz, Weekday::Fri, 7), None);
        assert_eq!(weekday("Monday"), Some(Weekday::Mon));
        assert_eq!(weekday("lundi"), None);
    }
}
