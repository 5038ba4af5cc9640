//! The widget's HTTP side: the websocket upgrade, photo/file uploads, and
//! downloads of files in the visitor's own conversation.

use std::time::Duration;

use crate::api::error::ApiQuery as Query;
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use channels::webchat::ConversationToken;
use futures_util::{SinkExt, StreamExt, future};
use serde::Deserialize;

use super::{Session, SocketIn};
use crate::api::error::ApiError;
use crate::blobs::BlobError;
use crate::client_addr::ClientAddr;
use crate::ids::ConversationId;
use crate::state::AppState;
use crate::store::uploads::{self, NewUpload};

/// Frames above this close the socket (1009); up to it, oversize frames get an error frame.
const SOCKET_MAX_MESSAGE: usize = 1024 * 1024;
const TOKEN_HEADER: &str = "x-chat-token";

pub fn router() -> Router<AppState> {
    Router::new().route("/ws/chat", get(upgrade))
}

/// The widget's part of the API: a visitor's uploads and files.
pub fn api_router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(upload))
        .routes(utoipa_axum::routes!(download))
}

async fn upgrade(
    State(state): State<AppState>,
    crate::client_addr::ClientAddr(addr): crate::client_addr::ClientAddr,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let allowed = &state.config.webchat.allowed_origins;
    if !allowed.is_empty() {
        let origin = headers
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .unwrap_or_default();
        if !allowed.iter().any(|a| a == origin) {
            return ApiError::Forbidden(format!("origin {origin:?} may not open the chat")).into_response();
        }
    }
    let session = Session {
        pipeline: state.pipeline.clone(),
        store: state.store.clone(),
        hub: state.hub.clone(),
        events: state.events.clone(),
        clock: state.clock.clone(),
        endpoint: state.config.webchat.endpoint.clone(),
        open_timeout: Duration::from_secs(state.config.webchat.open_timeout_secs),
        idle_timeout: Duration::from_secs(state.config.webchat.idle_timeout_secs.max(1)),
        signer: state.signer.clone(),
        feedback: state.feedback.clone(),
        file_link_ttl: Duration::from_secs(state.config.webchat.file_link_minutes.max(1) * 60),
        privacy_url: Some(state.config.webchat.privacy_url.as_str())
            .filter(|u| !u.is_empty())
            .map(std::sync::Arc::from),
        visitor_erasure: state.config.webchat.visitor_erasure,
        shutdown: state.shutdown.clone(),
        addr,
        limits: state.chat_limits.clone(),
    };
    let metrics = state.metrics.clone();
    crate::ws_buffers::small_frames(ws)
        .max_message_size(SOCKET_MAX_MESSAGE)
        .on_upgrade(move |socket| serve_socket(session, socket, metrics))
}

async fn serve_socket(session: Session, socket: WebSocket, metrics: crate::metrics::Metrics) {
    let _counted = metrics.session("visitor");
    let (sink, stream) = socket.split();
    let sink = sink.with(|text: String| future::ready(Ok::<_, axum::Error>(Message::Text(text.into()))));
    let stream = stream
        .take_while(|m| future::ready(matches!(m, Ok(m) if !matches!(m, Message::Close(_)))))
        .filter_map(|m| {
            future::ready(match m {
                Ok(Message::Text(text)) => Some(SocketIn::Text(text.as_str().to_owned())),
                Ok(Message::Binary(_)) => Some(SocketIn::Binary),
                _ => None,
            })
        });
    session.run(Box::pin(sink), Box::pin(stream)).await;
}

/// The visitor's token, from its header only: a token in a URL ends up in
/// request logs, proxies and browser history.
fn token_from(headers: &HeaderMap) -> Result<ConversationToken, ApiError> {
    let raw = headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Unauthenticated)?;
    ConversationToken::parse(raw).map_err(|e| ApiError::BadRequest("bad_token", e.to_string()))
}

/// `?name=` of an upload: the file name to keep.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// The file name to keep.
    pub name: Option<String>,
}

/// A file received, to attach by its `upload_id`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Uploaded {
    pub upload_id: String,
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
}

/// A chat visitor's upload (the body is the file), with the chat token in `X-Chat-Token`.
///
/// Only with a token this gateway issued to an opened chat (or one that
/// already has a conversation), within the token's and the address's
/// quotas (429 with `Retry-After`). Unattached uploads expire.
#[utoipa::path(post, path = "/api/v1/chat/uploads", tag = "widget", security(("chat_token" = [])),
    params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes, with its own Content-Type"),
    responses((status = 200, body = Uploaded)))]
async fn upload(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Query(query): Query<UploadQuery>,
    body: Body,
) -> Result<Json<Uploaded>, ApiError> {
    let token = token_from(&headers)?;
    let key = token.key();
    if !state.signer.issued(&token) && state.store.conversation_by_chat_key(&key).await?.is_none() {
        return Err(ApiError::Forbidden("open the chat before uploading".into()));
    }
    let now = state.clock.now_ms();
    let c = &state.config.webchat;
    let mut conn = state.store.begin().await?;
    let recent = uploads::count_since(&mut conn, &key, now - 3_600_000).await?;
    drop(conn);
    if recent >= i64::from(c.uploads_per_token_per_hour) {
        return Err(ApiError::TooManyAttempts(60));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Err(wait_ms) = state.upload_budget.admit(addr, declared, now) {
        tracing::info!(%addr, "upload quota reached");
        return Err(ApiError::TooManyAttempts((wait_ms + 999) / 1000));
    }
    let answer = receive_upload(&state, &key, &headers, query.name, body).await?;
    let size = answer.0.size;
    state.upload_budget.charge(addr, size, state.clock.now_ms());
    Ok(answer)
}

/// Streams a file to the content-addressed store and records it as an upload
/// of `owner_key` (a visitor's conversation key, or `agent:<id>`); only that
/// owner can attach it to a message.
/// An upload's id: 128 random bits, hex.
pub fn new_upload_id() -> String {
    ConversationToken::generate().key()[..32].to_string()
}

pub async fn receive_upload(
    state: &AppState,
    owner_key: &str,
    headers: &HeaderMap,
    name: Option<String>,
    body: Body,
) -> Result<Json<Uploaded>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(clean_content_type)
        .unwrap_or_else(|| "application/octet-stream".to_string());
    let limit = state.config.server.max_upload_bytes;
    let stored = state
        .blobs
        .put_stream(body.into_data_stream(), limit)
        .await
        .map_err(|e| match e {
            BlobError::TooLarge { limit } => ApiError::TooLarge(limit),
            BlobError::Interrupted(m) => ApiError::BadRequest("upload_interrupted", m),
            BlobError::Io(e) => ApiError::Internal(e.to_string()),
        })?;
    let id = new_upload_id();
    let name = name.map(|n| n.chars().filter(|c| !c.is_control()).take(200).collect::<String>());
    let size = i64::try_from(stored.size).unwrap_or(i64::MAX);
    let mut tx = state.store.begin().await?;
    uploads::insert(
        &mut tx,
        &NewUpload {
            id: &id,
            owner_key,
            sha256: &stored.sha256,
            size,
            content_type: &content_type,
            name: name.as_deref(),
            now: state.clock.now_ms(),
        },
    )
    .await?;
    tx.commit().await.map_err(crate::store::StoreError::from)?;
    Ok(Json(Uploaded {
        upload_id: id,
        sha256: stored.sha256,
        size: stored.size,
        content_type,
    }))
}

/// A signed file link ([`crate::signing::Signer::file_link_query`]).
#[derive(Deserialize, utoipa::IntoParams)]
struct DownloadQuery {
    /// The signed link's expiry, Unix milliseconds.
    exp: Option<i64>,
    sig: Option<String>,
}

/// A visitor's file: by the signed link the widget was given, or with the chat token in its header.
#[utoipa::path(get, path = "/api/v1/chat/files/{id}", tag = "widget", security((), ("chat_token" = [])),
    params(("id" = i64, Path), DownloadQuery),
    responses((status = 200, description = "The file, with its type", content_type = "application/octet-stream")))]
async fn download(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(query): Query<DownloadQuery>,
) -> Result<Response, ApiError> {
    let attachment = if let (Some(exp), Some(sig)) = (query.exp, query.sig.as_deref()) {
        if !state.signer.file_link_valid(id, exp, sig, state.clock.now_ms()) {
            return Err(ApiError::Forbidden("this file link has expired or is not valid".into()));
        }
        state.store.attachment(id).await?
    } else {
        let token = token_from(&headers)?;
        let conversation = state
            .store
            .conversation_by_chat_key(&token.key())
            .await?
            .ok_or(ApiError::NotFound("file"))?;
        state
            .store
            .attachment_in_conversation(id, ConversationId(conversation.id))
            .await?
    };
    serve_blob(&state, &attachment.ok_or(ApiError::NotFound("file"))?).await
}

/// Sends a stored file with headers that stop a browser from running it.
pub async fn serve_blob(state: &AppState, a: &crate::store::messages::AttachmentRow) -> Result<Response, ApiError> {
    let sha256 = a.sha256.as_deref().ok_or(ApiError::NotFound("file"))?;
    let path = state.blobs.path(sha256).ok_or(ApiError::NotFound("file"))?;
    // Files are named by their content: one that no longer matches is damaged, never served.
    match state.blobs.intact(sha256).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::error!(sha256, path = %path.display(), attachment = a.id, "stored file damaged: its content no longer matches its checksum");
            return Err(ApiError::Damaged);
        }
        Err(_) => return Err(ApiError::NotFound("file")),
    }
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| ApiError::NotFound("file"))?;
    let disposition = crate::api::content_disposition(
        crate::api::shown_inline(&a.content_type),
        a.name.as_deref().unwrap_or("file"),
    );
    let mut response = Body::from_stream(file_chunks(file)).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&a.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(response)
}

fn file_chunks(file: tokio::fs::File) -> impl futures_util::Stream<Item = std::io::Result<Vec<u8>>> {
    use tokio::io::AsyncReadExt;
    futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(buf), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}

/// Keeps `type/subtype` only, lower case, or falls back to octet-stream.
fn clean_content_type(raw: &str) -> String {
    let base = raw.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let ok = base.split_once('/').is_some_and(|(t, s)| {
        !t.is_empty() && !s.is_empty() && base.bytes().all(|b| b.is_ascii_alphanumeric() || b"/.+-".contains(&b))
    });
    if ok {
        base
    } else {
        "application/octet-stream".to_string()
    }
}
