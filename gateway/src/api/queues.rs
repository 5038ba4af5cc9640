//! `GET /api/v1/queues`: each queue's load and service-level state, most
//! urgent queue first, for the inbox's left column.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use crate::auth::CurrentAgent;
use crate::sla::SlaState;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(queues))
}

#[derive(Serialize, ToSchema)]
struct Queues {
    queues: Vec<Queue>,
    /// Open conversations assigned to the caller.
    mine: i64,
}

#[derive(Serialize, ToSchema)]
struct Queue {
    name: String,
    /// The most urgent priority waiting in it.
    priority: String,
    open: i64,
    unassigned: i64,
    oldest_waiting_since: Option<i64>,
    oldest_waiting_secs: Option<i64>,
    /// Its worst conversation's.
    sla_state: SlaState,
    sla: SlaCounts,
}

/// The SLA state of every queued conversation, with its queue.
pub(super) async fn queued_sla_states(state: &AppState) -> Result<HashMap<i64, (String, SlaState)>, ApiError> {
    let now = state.clock.now_ms();
    let mut by_conversation: HashMap<i64, (String, Vec<crate::store::sla::TimerRow>)> = HashMap::new();
    for t in state.store.sla_timers_queued().await? {
        by_conversation
            .entry(t.timer.conversation_id)
            .or_insert_with(|| (t.queue, Vec::new()))
            .1
            .push(t.timer);
    }
    let policies = state.sla.current();
    Ok(by_conversation
        .into_iter()
        .map(|(id, (queue, timers))| (id, (queue, crate::sla::view(timers, &policies, now).state)))
        .collect())
}

#[derive(Default, Serialize, ToSchema)]
struct SlaCounts {
    on_time: i64,
    at_risk: i64,
    breached: i64,
}

impl SlaCounts {
    /// The queue's state is its worst conversation's.
    fn state(&self) -> SlaState {
        if self.breached > 0 {
            SlaState::Breached
        } else if self.at_risk > 0 {
            SlaState::AtRisk
        } else if self.on_time > 0 {
            SlaState::OnTime
        } else {
            SlaState::None
        }
    }
}

/// Each queue's load and service-level state, most urgent first.
#[utoipa::path(get, path = "/api/v1/queues", tag = "conversations", responses((status = 200, body = Queues)))]
async fn queues(State(state): State<AppState>, agent: CurrentAgent) -> Result<Json<Queues>, ApiError> {
    let now = state.clock.now_ms();
    let mut counts: HashMap<String, SlaCounts> = HashMap::new();
    for (queue, sla) in queued_sla_states(&state).await?.into_values() {
        let c = counts.entry(queue).or_default();
        match sla {
            SlaState::Breached => c.breached += 1,
            SlaState::AtRisk => c.at_risk += 1,
            SlaState::OnTime => c.on_time += 1,
            SlaState::Paused | SlaState::None => {}
        }
    }
    let (known, _) = super::lists::queues_in_force(&state).await?;
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    let queues: Vec<Queue> = state
        .store
        .queue_summaries(&known)
        .await?
        .into_iter()
        .map(|q| {
            let age = q.oldest_waiting_since.map(|t| ((now - t) / 1000).max(0));
            let sla = counts.remove(&q.name).unwrap_or_default();
            Queue {
                name: q.name,
                priority: q.priority,
                open: q.open,
                unassigned: q.unassigned,
                oldest_waiting_since: q.oldest_waiting_since,
                oldest_waiting_secs: age,
                sla_state: sla.state(),
                sla,
            }
        })
        .collect();
    // The inbox's "Mine" entry: counted here rather than by listing them.
    let mine = state.store.open_count_of(agent.id).await?;
    Ok(Json(Queues { queues, mine }))
}
