//! When the customer can expect an answer: the queue's current load (waiting
//! conversations ahead, online agents of the queue, minutes per conversation)
//! counted in the SLA calendar; with nobody online, the SLA itself. A promise
//! the queue cannot keep is not made, even when the SLA would allow it. Said as the
//! customer reads it: "within 15 minutes", "before 14:30", "Monday before 09:00".

use chrono::{Datelike, TimeZone};
use chrono_tz::Tz;
use sqlx::AnyConnection;

use crate::store::StoreError;

/// Load on a queue at the moment a conversation joins it.
pub struct Load {
    /// Unassigned open conversations at least as urgent, this one included
    /// (counted only when someone is online: otherwise the SLA answers).
    pub waiting: i64,
    pub online_agents: i64,
}

/// Agents online on the queue.
pub async fn online_agents(conn: &mut AnyConnection, queue: &str) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM agents a JOIN agent_queues aq ON aq.agent_id = a.id \
         WHERE aq.queue = $1 AND a.presence = 'online'",
    )
    .bind(queue)
    .fetch_one(conn)
    .await?)
}

/// Unassigned open conversations of the queue at least as urgent as `rank`.
/// It walks every waiting entry of the queue: asked only when someone is
/// online to work the backlog off (not at night during a flood).
pub async fn waiting(conn: &mut AnyConnection, queue: &str, rank: i64) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM queue_entries q JOIN conversations c ON c.id = q.conversation_id \
         WHERE q.queue = $1 AND q.priority_rank <= $2 AND c.assignee_id IS NULL AND c.status = 'open'",
    )
    .bind(queue)
    .bind(rank)
    .fetch_one(conn)
    .await?)
}

/// The expected answer time, Unix ms.
pub fn estimate(
    now: i64,
    load: &Load,
    minutes_per_conversation: i64,
    sla: Option<(i64, &crate::sla::Calendar)>,
) -> i64 {
    let by_sla = sla.map(|(budget, calendar)| calendar.add(now, budget));
    if load.online_agents == 0 {
        // Nobody on the queue now: the SLA (in its calendar) is the honest answer.
        return by_sla.unwrap_or(now + minutes_per_conversation * 60_000);
    }
    let ahead = (load.waiting - 1).max(0);
    let rounds = ahead / load.online_agents + 1;
    let work = rounds * minutes_per_conversation * 60_000;
    match sla {
        Some((_, calendar)) => calendar.add(now, work),
        None => now + work,
    }
}

/// "within 15 minutes", "before 14:30", "on Monday 30/11 before 09:00" in the customer's language.
pub fn phrase(language: &str, now: i64, due: i64, tz: Tz) -> String {
    let minutes = ((due - now).max(0) + 59_999) / 60_000;
    if minutes <= 60 {
        let m = (minutes.max(5) + 4) / 5 * 5;
        return match language {
            "fr" => format!("dans les {m} minutes"),
            "de" => format!("innerhalb von {m} Minuten"),
            "es" => format!("en {m} minutos"),
            "it" => format!("entro {m} minuti"),
            _ => format!("within {m} minutes"),
        };
    }
    let (Some(n), Some(d)) = (
        tz.timestamp_millis_opt(now).single(),
        tz.timestamp_millis_opt(due).single(),
    ) else {
        return String::new();
    };
    let time = d.format("%H:%M").to_string();
    if n.date_naive() == d.date_naive() {
        return match language {
            "fr" => format!("avant {time}"),
            "de" => format!("bis {time} Uhr"),
            "es" => format!("antes de las {time}"),
            "it" => format!("entro le {time}"),
            _ => format!("before {time}"),
        };
    }
    let day = d.weekday().num_days_from_monday() as usize;
    let date = d.format("%d/%m").to_string();
    let names: [&str; 7] = match language {
        "fr" => ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
        "de" => [
            "Montag",
            "Dienstag",
            "Mittwoch",
            "Donnerstag",
            "Freitag",
            "Samstag",
            "Sonntag",
        ],
        "es" => ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
        "it" => [
            "lunedì",
            "martedì",
            "mercoledì",
            "giovedì",
            "venerdì",
            "sabato",
            "domenica",
        ],
        _ => [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ],
    };
    let name = names[day];
    match language {
        "fr" => format!("{name} {date} avant {time}"),
        "de" => format!("am {name}, {date}, bis {time} Uhr"),
        "es" => format!("el {name} {date} antes de las {time}"),
        "it" => format!("{name} {date} entro le {time}"),
        _ => format!("on {name} {date} before {time}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paris(d: u32, h: u32, m: u32) -> i64 {
        chrono_tz::Europe::Paris
            .with_ymd_and_hms(2026, 11, d, h, m, 0)
            .single()
            .map(|t| t.timestamp_millis())
            .unwrap_or_default()
    }

    #[test]
    fn phrases_in_the_customers_language() {
        let tz = chrono_tz::Europe::Paris;
        let now = paris(27, 10, 0);
        assert_eq!(phrase("fr", now, now + 12 * 60_000, tz), "dans les 15 minutes");
        assert_eq!(phrase("en", now, paris(27, 14, 30), tz), "before 14:30");
        assert_eq!(phrase("de", now, paris(27, 14, 30), tz), "bis 14:30 Uhr");
        assert_eq!(phrase("fr", now, paris(30, 9, 0), tz), "lundi 30/11 avant 09:00");
        assert_eq!(phrase("en", now, paris(30, 9, 0), tz), "on Monday 30/11 before 09:00");
    }

    #[test]
    fn the_load_is_counted_and_the_sla_bounds_it() {
        let cal = crate::sla::Calendar::always();
        let now = 0;
        // 1 waiting (this one), 2 agents online, 15 min each: 15 minutes.
        let quiet = Load {
            waiting: 1,
            online_agents: 2,
        };
        assert_eq!(estimate(now, &quiet, 15, Some((120 * 60_000, &cal))), 15 * 60_000);
        // 9 ahead for 2 agents: 5 rounds = 75 min, beyond a 60-min SLA: the queue's truth.
        let busy = Load {
            waiting: 10,
            online_agents: 2,
        };
        assert_eq!(estimate(now, &busy, 15, Some((60 * 60_000, &cal))), 75 * 60_000);
        // Nobody online: the SLA.
        let empty = Load {
            waiting: 3,
            online_agents: 0,
        };
        assert_eq!(estimate(now, &empty, 15, Some((30 * 60_000, &cal))), 30 * 60_000);
    }
}
