//! `/api/v1/events`: the agent's websocket of live events.
//!
//! The socket lives only as long as the session that opened it: a revocation
//! on this node closes it at once, and a periodic look at the store catches
//! sessions ended elsewhere (another node, expiry).

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use tokio::sync::broadcast::error::RecvError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{CurrentAgent, Revoked};
use crate::state::AppState;

/// How often an open socket checks that its session still exists.
const SESSION_CHECK: Duration = Duration::from_secs(30);
/// Close code the inbox reads as "log in again".
const SESSION_ENDED: u16 = 4401;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upgrade))
}

/// The agent's websocket of live events (upgrade with the session cookie).
///
/// Each text frame is one event, `{"type": …}`: conversation_created,
/// message_added, conversation_updated, delivery_updated, typing,
/// sla_breached, channel_alert (supervisors and admins only). A slow reader
/// misses events and reloads. The socket closes with code 4401 when the
/// session ends.
#[utoipa::path(get, path = "/api/v1/events", tag = "conversations",
    responses((status = 101, description = "Switching to the websocket; frames are `Event`s"),
              (status = 200, description = "Never sent: the events' shape, for clients", body = crate::events::Event)))]
async fn upgrade(State(state): State<AppState>, agent: CurrentAgent, ws: WebSocketUpgrade) -> Response {
    let events = state.events.subscribe();
    let revocations = state.revocations.subscribe();
    crate::ws_buffers::small_frames(ws).on_upgrade(move |socket| forward(socket, state, agent, events, revocations))
}

/// Whether the session is still in the store, unexpired, for an enabled agent.
async fn session_alive(state: &AppState, agent: &CurrentAgent) -> bool {
    let Ok(Some(session)) = state.store.session_get(&agent.session_hash).await else {
        return false;
    };
    if session.expires_at <= state.clock.now_ms() {
        return false;
    }
    matches!(state.store.agent_by_id(agent.id).await, Ok(Some(a)) if a.disabled == 0)
}

async fn forward(
    mut socket: WebSocket,
    state: AppState,
    agent: CurrentAgent,
    mut events: tokio::sync::broadcast::Receiver<crate::events::Event>,
    mut revocations: tokio::sync::broadcast::Receiver<Revoked>,
) {
    let _counted = state.metrics.session("agent");
    let mut shutdown = state.shutdown.clone();
    let mut check = tokio::time::interval(SESSION_CHECK);
    check.tick().await;
    loop {
        tokio::select! {
            _ = crate::state::stopping(&mut shutdown) => {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
            revoked = revocations.recv() => {
                let ended = match revoked {
                    Ok(r) => r.ends(agent.id.0, &agent.session_hash),
                    // Missed some: ask the store rather than guess.
                    Err(RecvError::Lagged(_)) => !session_alive(&state, &agent).await,
                    Err(RecvError::Closed) => false,
                };
                if ended {
                    return close_ended(socket).await;
                }
            }
            _ = check.tick() => {
                if !session_alive(&state, &agent).await {
                    return close_ended(socket).await;
                }
            }
            event = events.recv() => {
                let text = match event {
                    Ok(event) if !event.for_agents() && !agent.is_supervisor() => continue,
                    Ok(event) => serde_json::to_string(&event).unwrap_or_default(),
                    // Missed events: the screen reloads its lists.
                    Err(RecvError::Lagged(n)) => format!(r#"{{"type":"resync","missed":{n}}}"#),
                    Err(RecvError::Closed) => return,
                };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            }
        }
    }
}

async fn close_ended(mut socket: WebSocket) {
    tracing::debug!("closing an agent socket: its session ended");
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: SESSION_ENDED,
            reason: "session ended".into(),
        })))
        .await;
}
