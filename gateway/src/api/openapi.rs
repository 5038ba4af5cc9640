//! The API's contract: an OpenAPI 3.1 document built from the handlers'
//! own annotations and types (`utoipa`), served at `/api/v1/openapi.json`.
//! Routes are registered through `utoipa_axum::routes!`, so a route and its
//! description come from the same handler; `tests/tests/openapi.rs` checks
//! both directions and the e2e suite validates real answers against it.

use utoipa::Modify;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

use super::error::ErrorBody;

pub const SESSION: &str = "session";
pub const CSRF: &str = "csrf";
pub const CSRF_HEADER: &str = "X-CSRF-Token";
pub const CHAT_TOKEN: &str = "chat_token";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Switchyard agent API",
        description = "The API behind the inbox: conversations, replies, queues, reports, knowledge and the admin pages.\n\n\
            **Sessions.** `POST /api/v1/auth/login` answers with a `csrf_token` and sets the `sy_session` cookie \
            (HttpOnly, SameSite=Strict). Every other operation needs that cookie unless it says otherwise.\n\n\
            **CSRF.** Every request that changes something (`POST`, `PUT`, `PATCH`, `DELETE`) also carries the \
            login's token in the `X-CSRF-Token` header; without it the answer is 403 with the code `csrf`. \
            `GET /api/v1/me` gives the token again after a reload.\n\n\
            **Errors.** Every error, whatever its status, is `{\"error\": {\"code\", \"message\"}}` (the `Error` \
            response): `code` is stable, `message` is for people. 503 `busy` and 429 `too_many_attempts` carry \
            `Retry-After`.\n\n\
            **Live events** come over the websocket at `/api/v1/events` (same cookie).",
        license(name = "Apache-2.0"),
    ),
    components(schemas(ErrorBody))
)]
pub struct ApiDoc;

/// What every operation shares, set in one place once the routes are
/// collected: its security (the session, plus the CSRF header when it
/// changes something) unless the handler says otherwise, and the error shape
/// as its `default` answer.
pub struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "The session cookie set by POST /api/v1/auth/login.",
            ))),
        );
        components.add_security_scheme(
            CSRF,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                CSRF_HEADER,
                "The csrf_token of the login's answer (or of GET /api/v1/me), on every state-changing request.",
            ))),
        );
        components.add_security_scheme(
            CHAT_TOKEN,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Chat-Token",
                "The chat widget's token for its visitor (from the chat socket's hello).",
            ))),
        );
        components.responses.insert(
            "Error".to_string(),
            RefOr::T(
                ResponseBuilder::new()
                    .description("An error, in the API's one shape.")
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            ),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            let operations = [
                (&mut item.get, "get", false),
                (&mut item.head, "head", false),
                (&mut item.post, "post", true),
                (&mut item.put, "put", true),
                (&mut item.patch, "patch", true),
                (&mut item.delete, "delete", true),
            ];
            for (operation, method, changes) in operations {
                if let Some(op) = operation.as_mut() {
                    op.operation_id = Some(operation_id(method, path));
                    conventions(op, changes);
                }
            }
        }
    }
}

/// A generated client's method name: from the method and the path, so it is
/// unique (handlers in different modules share names) and survives a
/// handler's renaming. `post /api/v1/conversations/{id}/reply` →
/// `post_conversations_id_reply`.
pub fn operation_id(method: &str, path: &str) -> String {
    let rest = path.trim_start_matches("/api/v1/");
    let words: String = rest
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let words: Vec<&str> = words.split('_').filter(|w| !w.is_empty()).collect();
    format!("{method}_{}", words.join("_"))
}

fn conventions(op: &mut Operation, changes: bool) {
    if op.security.is_none() {
        let mut needs = SecurityRequirement::new(SESSION, Vec::<String>::new());
        if changes {
            needs = needs.add(CSRF, Vec::<String>::new());
        }
        op.security = Some(vec![needs]);
    }
    op.responses
        .responses
        .entry("default".to_string())
        .or_insert_with(|| RefOr::Ref(Ref::from_response_name("Error")));
}

/// The answer of an action that has nothing more to say.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Done {
    /// Always true: a failure is an error answer.
    pub ok: bool,
}

impl Done {
    pub fn json() -> axum::Json<Done> {
        axum::Json(Done { ok: true })
    }
}

/// The answer of a creation: the new row's id.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: i64,
}
