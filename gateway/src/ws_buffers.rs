//! Websocket buffers sized for small frames. A chat or inbox socket mostly
//! sits idle, and tungstenite's default read buffer (128 KiB, allocated when
//! the socket opens) made each one cost ~140 KiB held open. A frame larger
//! than the buffer still arrives whole (the buffer grows while it does); the
//! message size limits stay where each endpoint sets them.

use axum::extract::ws::WebSocketUpgrade;

/// A typical chat or control frame; a longer message grows the buffer while
/// it arrives (measured with `sy-loadgen hold`: 4 KiB left 11 KB per idle
/// socket, 1 KiB 8 KB).
const READ_BUFFER: usize = 1024;

pub fn small_frames(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    // Write buffer 0: each frame goes out at once (they are small and rare).
    ws.read_buffer_size(READ_BUFFER).write_buffer_size(0)
}
