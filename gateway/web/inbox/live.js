// The agent websocket (/api/v1/events): new conversations, messages, status
// and delivery changes. It reconnects with backoff; after any gap (a reconnect
// or a "resync" from a slow reader) the screen reloads its lists, since events
// sent meanwhile are gone.

// Close code 4401: the session ended (logout elsewhere, password change,
// account disabled); reconnecting would only be refused.
const SESSION_ENDED = 4401;

export function connectLive({ onEvent, onResync, onState, onEnded }) {
  let socket = null;
  let retry = 0;
  let stopped = false;
  let timer = null;

  function open() {
    if (stopped) return;
    const url = location.origin.replace(/^http/, "ws") + "/api/v1/events";
    onState(retry ? "reconnecting" : "connecting");
    try {
      socket = new WebSocket(url);
    } catch (e) {
      schedule();
      return;
    }
    socket.onopen = () => {
      if (retry) onResync();
      retry = 0;
      onState("live");
    };
    socket.onmessage = (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (event.type === "resync") onResync();
      else onEvent(event);
    };
    socket.onclose = (e) => {
      socket = null;
      // A socket already closed by a new sign-in speaks of the old session.
      if (e.code === SESSION_ENDED && !stopped) {
        stopped = true;
        onState("offline");
        onEnded();
        return;
      }
      schedule();
    };
  }

  function schedule() {
    if (stopped) return;
    retry += 1;
    onState("offline");
    timer = setTimeout(open, Math.min(15000, 500 * 2 ** retry));
  }

  open();
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
      if (socket) socket.close();
    },
  };
}
