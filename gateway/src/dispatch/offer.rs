//! Who is offered which waiting conversation: the decision of one assignment
//! pass, without the store (which reads the facts before and writes the
//! offers after, see `store/dispatch.rs`).
//!
//! Waiting conversations come most urgent and longest waiting first; each goes
//! to the online agent of its queue with the fewest open conversations, under
//! their cap, and not one who already let it go unanswered; ties go to the
//! lower agent id. Each offer counts toward that agent's load at once.

use std::collections::HashMap;

/// An online agent serving one queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    pub agent: i64,
    pub queue: String,
    pub max_open: i64,
    pub open: i64,
}

/// A conversation waiting in a queue, in the order it should be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub conversation: i64,
    pub queue: String,
    /// Agents this conversation was offered to without an answer.
    pub skipped: Vec<i64>,
}

/// (conversation, agent) offers, in serving order.
pub fn plan(seats: &[Seat], waiting: &[Waiting]) -> Vec<(i64, i64)> {
    let mut load: HashMap<i64, (i64, i64)> = HashMap::new();
    let mut by_queue: HashMap<&str, Vec<i64>> = HashMap::new();
    for s in seats {
        load.insert(s.agent, (s.open, s.max_open));
        by_queue.entry(s.queue.as_str()).or_default().push(s.agent);
    }
    let mut offers = Vec::new();
    for w in waiting {
        if !load.values().any(|(open, max)| open < max) {
            break;
        }
        let Some(candidates) = by_queue.get(w.queue.as_str()) else {
            continue;
        };
        let best = candidates
            .iter()
            .filter(|a| !w.skipped.contains(a))
            .filter_map(|a| load.get(a).map(|(open, max)| (*a, *open, *max)))
            .filter(|(_, open, max)| open < max)
            .min_by_key(|(a, open, _)| (*open, *a));
        let Some((agent, _, _)) = best else { continue };
        if let Some(l) = load.get_mut(&agent) {
            l.0 += 1;
        }
        offers.push((w.conversation, agent));
    }
    offers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seat(agent: i64, queue: &str, open: i64, max_open: i64) -> Seat {
        Seat {
            agent,
            queue: queue.into(),
            max_open,
            open,
        }
    }

    fn waiting(conversation: i64, queue: &str, skipped: &[i64]) -> Waiting {
        Waiting {
            conversation,
            queue: queue.into(),
            skipped: skipped.to_vec(),
        }
    }

    #[test]
    fn the_least_loaded_agent_of_the_queue_gets_it_and_the_load_counts_at_once() {
        let seats = [seat(1, "experts", 2, 5), seat(2, "experts", 1, 5), seat(3, "n1", 0, 5)];
        let offers = plan(&seats, &[waiting(10, "experts", &[]), waiting(11, "experts", &[])]);
        // 2 has one open, gets 10 (now two); 1 and 2 tie at two: the lower id.
        assert_eq!(offers, vec![(10, 2), (11, 1)]);
    }

    #[test]
    fn caps_skipped_agents_and_other_queues_are_respected() {
        let seats = [
            seat(1, "experts", 1, 1),
            seat(2, "experts", 0, 3),
            seat(3, "critical", 0, 3),
        ];
        let offers = plan(
            &seats,
            &[
                waiting(10, "experts", &[2]), // 1 is full, 2 let it go: nobody
                waiting(11, "experts", &[]),  // 2
                waiting(12, "billing", &[]),  // no seat in that queue
                waiting(13, "critical", &[]), // 3
            ],
        );
        assert_eq!(offers, vec![(11, 2), (13, 3)]);
    }

    #[test]
    fn an_agent_in_two_queues_has_one_load() {
        let seats = [seat(1, "experts", 0, 2), seat(1, "critical", 0, 2)];
        let offers = plan(
            &seats,
            &[
                waiting(10, "critical", &[]),
                waiting(11, "experts", &[]),
                waiting(12, "experts", &[]),
            ],
        );
        assert_eq!(offers, vec![(10, 1), (11, 1)], "the cap of 2 holds across queues");
    }

    #[test]
    fn nobody_online_offers_nothing() {
        assert!(plan(&[], &[waiting(10, "experts", &[])]).is_empty());
    }
}
