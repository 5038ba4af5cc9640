//! One visitor's websocket, written against `Sink`/`Stream` so it can be driven
//! by a real socket or by channels in tests.

use std::time::Duration;

use channels::webchat::{ClientFrame, ConversationToken, Prechat, ServerFrame, parse_client_frame, to_inbound};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::{FileLinks, Hub, history_item};
use crate::clock::Clock;
use crate::events::{Event, Events};
use crate::ids::ConversationId;
use crate::pipeline::Pipeline;
use crate::store::Store;

/// What the socket delivered, reduced to what the protocol cares about.
#[derive(Debug)]
pub enum SocketIn {
    Text(String),
    Binary,
}

#[derive(Clone)]
pub struct Session {
    pub pipeline: Pipeline,
    pub store: Store,
    pub hub: Hub,
    pub events: Events,
    pub clock: Clock,
    pub endpoint: String,
    pub open_timeout: Duration,
    /// An open socket silent this long is closed; the widget pings well within it.
    pub idle_timeout: Duration,
    pub signer: crate::signing::Signer,
    /// What a rating does (a bad one may reopen the conversation).
    pub feedback: crate::feedback::Settings,
    /// How long the file links in frames stay valid.
    pub file_link_ttl: Duration,
    /// The site's privacy notice, told to the widget.
    pub privacy_url: Option<std::sync::Arc<str>>,
    /// Whether visitors may ask for erasure from the widget.
    pub visitor_erasure: bool,
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// The visitor's address (behind trusted proxies, the one they name).
    pub addr: std::net::IpAddr,
    pub limits: std::sync::Arc<super::ChatLimits>,
}

struct Opened {
    token: ConversationToken,
    prechat: Prechat,
    lang: Option<String>,
    conversation: Option<ConversationId>,
}

impl Session {
    pub async fn run<S, R>(self, mut sink: S, mut stream: R)
    where
        S: Sink<String> + Unpin,
        R: Stream<Item = SocketIn> + Unpin,
    {
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            _ = self.serve(&mut sink, &mut stream) => {}
            _ = crate::state::stopping(&mut shutdown) => {
                let _ = send(&mut sink, &error("shutting_down", "the gateway is restarting; reconnect")).await;
            }
        }
        // Returning drops this session's pipeline handle, so the committer can drain and stop.
        let _ = sink.close().await;
    }

    async fn serve<S, R>(&self, sink: &mut S, stream: &mut R)
    where
        S: Sink<String> + Unpin,
        R: Stream<Item = SocketIn> + Unpin,
    {
        let (push_tx, mut push_rx) = mpsc::channel::<super::hub::Push>(64);
        // The steps that talk to the store are boxed: an idle session's
        // future is as large as its largest step, and thousands sit idle.
        let Some(mut open) = Box::pin(self.wait_for_open(sink, stream)).await else {
            return;
        };
        let key = open.token.key();
        // Register before reading history: a reply committed in between is then
        // either in the history or pushed live, never missed.
        let Some(_registration) = self.hub.register(&key, push_tx) else {
            let _ = send(
                sink,
                &error(
                    "too_many_sockets",
                    "this conversation is open in too many windows; close one",
                ),
            )
            .await;
            return;
        };
        match Box::pin(self.opened_frame(&open.token)).await {
            Ok((frame, conversation)) => {
                open.conversation = conversation;
                if send(sink, &frame).await.is_err() {
                    return;
                }
                if let Some(id) = conversation
                    && let Err(e) = Box::pin(self.store.outbox_deliver_waiting(id, self.clock.now_ms())).await
                {
                    warn!(error = %e, "could not mark waiting replies delivered");
                }
            }
            Err(frame) => {
                let _ = send(sink, &frame).await;
                return;
            }
        }

        let idle = tokio::time::sleep(self.idle_timeout);
        tokio::pin!(idle);
        loop {
            tokio::select! {
                () = &mut idle => {
                    let _ = send(sink, &error("idle_timeout", "nothing received in time; reconnect")).await;
                    return;
                }
                incoming = stream.next() => {
                    let Some(incoming) = incoming else { return };
                    idle.as_mut().reset(tokio::time::Instant::now() + self.idle_timeout);
                    let reply = Box::pin(self.handle(&mut open, &key, incoming)).await;
                    if let Some(frame) = reply
                        && send(sink, &frame).await.is_err()
                    {
                        return;
                    }
                }
                Some(frame) = push_rx.recv() => {
                    if send(sink, &frame).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    async fn wait_for_open<S, R>(&self, sink: &mut S, stream: &mut R) -> Option<Opened>
    where
        S: Sink<String> + Unpin,
        R: Stream<Item = SocketIn> + Unpin,
    {
        let deadline = tokio::time::Instant::now() + self.open_timeout;
        loop {
            let incoming = match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(Some(incoming)) => incoming,
                Ok(None) => return None,
                Err(_) => {
                    let _ = send(sink, &error("open_timeout", "no open frame in time")).await;
                    return None;
                }
            };
            let frame = match incoming {
                SocketIn::Binary => error("binary_not_supported", "frames are JSON text"),
                SocketIn::Text(text) => match parse_client_frame(&text) {
                    Ok(ClientFrame::Open {
                        token: None,
                        prechat,
                        lang,
                    }) => {
                        if !self.may_open(sink).await {
                            return None;
                        }
                        return Some(Opened {
                            token: self.signer.issue_chat_token(),
                            prechat,
                            lang,
                            conversation: None,
                        });
                    }
                    Ok(ClientFrame::Open {
                        token: Some(t),
                        prechat,
                        lang,
                    }) => match ConversationToken::parse(&t) {
                        Ok(token) => {
                            let own = self.own_token(token.clone()).await;
                            // A token someone made up opens a new chat, and counts as one.
                            if own != token && !self.may_open(sink).await {
                                return None;
                            }
                            return Some(Opened {
                                token: own,
                                prechat,
                                lang,
                                conversation: None,
                            });
                        }
                        Err(e) => error("bad_token", &e.to_string()),
                    },
                    Ok(_) => error("not_open", "send an open frame first"),
                    Err(e) => ServerFrame::error(&e),
                },
            };
            send(sink, &frame).await.ok()?;
        }
    }

    /// Whether this address may open one more chat; if not, it is told when
    /// it may, and the socket ends.
    async fn may_open<S: Sink<String> + Unpin>(&self, sink: &mut S) -> bool {
        match self.limits.open(self.addr, self.clock.now_ms()) {
            Ok(()) => true,
            Err(ms) => {
                info!(address = %self.addr, "new chats from this address over the limit");
                let _ = send(sink, &rate_limited("too many new chats from your address", None, ms)).await;
                false
            }
        }
    }

    /// The token itself if this gateway issued it or a conversation has it
    /// (tokens from before tokens were signed); otherwise a fresh one, so a
    /// token someone made up opens nothing and uploads nothing.
    async fn own_token(&self, token: ConversationToken) -> ConversationToken {
        if self.signer.issued(&token) {
            return token;
        }
        match self.store.conversation_by_chat_key(&token.key()).await {
            Ok(Some(_)) => token,
            Ok(None) => self.signer.issue_chat_token(),
            Err(e) => {
                warn!(error = %e, "could not look the visitor's token up; issuing a new one");
                self.signer.issue_chat_token()
            }
        }
    }

    /// The `opened` frame with the visitor's history, and their conversation if they have one.
    async fn opened_frame(
        &self,
        token: &ConversationToken,
    ) -> Result<(ServerFrame, Option<ConversationId>), ServerFrame> {
        let unavailable = |e: crate::store::StoreError| {
            warn!(error = %e, "could not load chat history");
            error("store_unavailable", "history could not be loaded; reconnect")
        };
        let conversation = self
            .store
            .conversation_by_chat_key(&token.key())
            .await
            .map_err(unavailable)?;
        let Some(conversation) = conversation else {
            return Ok((
                ServerFrame::Opened {
                    token: token.as_str().to_string(),
                    conversation: None,
                    history: Vec::new(),
                    privacy_url: self.privacy_url.as_deref().map(str::to_string),
                    erasure: self.visitor_erasure,
                },
                None,
            ));
        };
        let id = ConversationId(conversation.id);
        let messages = self.store.messages(id, false).await.map_err(unavailable)?;
        let attachments = self.store.attachments(id).await.map_err(unavailable)?;
        let links = FileLinks {
            signer: &self.signer,
            expires_ms: self.clock.now_ms() + i64::try_from(self.file_link_ttl.as_millis()).unwrap_or(i64::MAX / 2),
        };
        let history = messages.iter().map(|m| history_item(m, &attachments, &links)).collect();
        Ok((
            ServerFrame::Opened {
                token: token.as_str().to_string(),
                conversation: Some(id.ticket()),
                history,
                privacy_url: self.privacy_url.as_deref().map(str::to_string),
                erasure: self.visitor_erasure,
            },
            Some(id),
        ))
    }

    /// `key`: the chat's key (its token hashed), worked out once per socket.
    async fn handle(&self, open: &mut Opened, key: &str, incoming: SocketIn) -> Option<ServerFrame> {
        let text = match incoming {
            SocketIn::Binary => return Some(error("binary_not_supported", "frames are JSON text")),
            SocketIn::Text(text) => text,
        };
        let frame = match parse_client_frame(&text) {
            Ok(frame) => frame,
            Err(e) => {
                debug!(error = %e, "bad frame from visitor");
                return Some(ServerFrame::error(&e));
            }
        };
        match frame {
            ClientFrame::Open { .. } => Some(error("already_open", "this socket is already open")),
            ClientFrame::Ping => Some(ServerFrame::Pong),
            ClientFrame::EraseRequest => {
                let Some(conversation) = open.conversation.filter(|_| self.visitor_erasure) else {
                    return Some(ServerFrame::EraseRequested { recorded: false });
                };
                Some(
                    match self
                        .store
                        .request_erasure(conversation, "webchat", self.clock.now_ms())
                        .await
                    {
                        Ok(_) => {
                            info!(conversation = conversation.0, "visitor asked for erasure");
                            ServerFrame::EraseRequested { recorded: true }
                        }
                        Err(e) => {
                            debug!(error = %e, "filing an erasure request failed");
                            error("unavailable", "the request could not be filed; try again")
                        }
                    },
                )
            }
            ClientFrame::Rate { good, comment } => {
                let Some(conversation) = open.conversation else {
                    return Some(ServerFrame::Rated { recorded: false });
                };
                let answer = if good {
                    crate::level1::feedback::Answer::Good
                } else {
                    crate::level1::feedback::Answer::Bad
                };
                let rated = self
                    .store
                    .feedback_answer(
                        conversation,
                        answer,
                        comment.as_deref(),
                        "webchat",
                        &self.feedback,
                        self.clock.now_ms(),
                    )
                    .await;
                Some(match rated {
                    Ok(r) => {
                        let recorded = r == crate::store::feedback::Rated::Recorded;
                        if recorded {
                            self.events.publish(Event::ConversationUpdated {
                                conversation: conversation.0,
                            });
                        }
                        ServerFrame::Rated { recorded }
                    }
                    Err(e) => {
                        debug!(error = %e, "recording a rating failed");
                        error("unavailable", "the rating could not be recorded; try again")
                    }
                })
            }
            ClientFrame::Typing { on } => {
                // Over the limit, typing frames are dropped without a word: answering would double the flood.
                if let Some(conversation) = open.conversation
                    && self.limits.typing(key, self.clock.now_ms())
                {
                    self.events.publish(Event::Typing {
                        conversation: conversation.0,
                        on,
                    });
                }
                None
            }
            ClientFrame::Message {
                client_id,
                text,
                attachments,
            } => {
                if let Err(ms) = self.limits.message(self.addr, key, self.clock.now_ms()) {
                    debug!(address = %self.addr, "chat messages over the limit");
                    return Some(rate_limited(
                        "too many messages; send it again later",
                        Some(client_id),
                        ms,
                    ));
                }
                let inbound = to_inbound(
                    &self.endpoint,
                    &open.token,
                    &open.prechat,
                    open.lang.as_deref(),
                    &client_id,
                    &text,
                    &attachments,
                );
                Some(match self.pipeline.submit(inbound).await {
                    Ok(accepted) => {
                        open.conversation = Some(accepted.conversation_id);
                        ServerFrame::Ack {
                            client_id,
                            message_id: accepted.message_id.0,
                            conversation: accepted.conversation_id.ticket(),
                            duplicate: accepted.duplicate,
                        }
                    }
                    Err(e) => ServerFrame::Error {
                        code: e.code().to_string(),
                        message: e.to_string(),
                        client_id: Some(client_id),
                        retry_after_ms: None,
                    },
                })
            }
        }
    }
}

fn error(code: &str, message: &str) -> ServerFrame {
    ServerFrame::Error {
        code: code.to_string(),
        message: message.to_string(),
        client_id: None,
        retry_after_ms: None,
    }
}

/// Over a limit: nothing was stored; the same frame is taken after `ms`.
fn rate_limited(message: &str, client_id: Option<String>, ms: u64) -> ServerFrame {
    ServerFrame::Error {
        code: "rate_limited".to_string(),
        message: format!("{message} (in {} s)", ms.div_ceil(1000)),
        client_id,
        retry_after_ms: Some(ms),
    }
}

async fn send<S: Sink<String> + Unpin>(sink: &mut S, frame: &ServerFrame) -> Result<(), ()> {
    let text = serde_json::to_string(frame).map_err(|_| ())?;
    sink.send(text).await.map_err(|_| ())
}
