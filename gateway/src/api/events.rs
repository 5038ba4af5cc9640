//! `/api/v1/events`: the agent's websocket of live events.

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::CurrentAgent;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/events", get(upgrade))
}

async fn upgrade(State(state): State<AppState>, _agent: CurrentAgent, ws: WebSocketUpgrade) -> Response {
    let events = state.events.subscribe();
    let shutdown = state.shutdown.clone();
    ws.on_upgrade(move |socket| forward(socket, events, shutdown))
}

async fn forward(
    mut socket: WebSocket,
    mut events: tokio::sync::broadcast::Receiver<crate::events::Event>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = crate::state::stopping(&mut shutdown) => {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
            event = events.recv() => {
                let text = match event {
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
