//! One error type for every HTTP answer: `{"error": {"code", "message"}}` with
//! the right status. Server errors are logged once here and never leak details.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;
use crate::store::conversations::ChangeError;

/// Every error answer of the API, whatever its status.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable: `bad_request` codes name the field or
    /// rule (`bad_period`, `bad_json`…), others the kind (`unauthenticated`,
    /// `csrf`, `forbidden`, `not_found`, `conflict`, `too_large`, `busy`,
    /// `too_many_attempts`, `internal`…).
    #[schema(example = "not_found")]
    pub code: &'static str,
    /// For people; its wording may change.
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{1}")]
    BadRequest(&'static str, String),
    #[error("you need to log in")]
    Unauthenticated,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("missing or wrong CSRF token")]
    Csrf,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("file is larger than {0} bytes")]
    TooLarge(usize),
    #[error("too busy; retry in a moment")]
    Busy,
    /// A service the request needs (a translation provider) is not answering.
    #[error("{0}")]
    Unavailable(String),
    #[error("too many login attempts; try again in {0} s")]
    TooManyAttempts(i64),
    #[error("change your one-time password first")]
    PasswordChangeRequired,
    #[error("this account is disabled")]
    Disabled,
    #[error("internal error")]
    Internal(String),
    /// A stored file whose content no longer matches its checksum.
    #[error("the stored file is damaged (its content no longer matches its checksum); it is not served")]
    Damaged,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(code, _) => (StatusCode::BAD_REQUEST, code),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials"),
            ApiError::Csrf => (StatusCode::FORBIDDEN, "csrf"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::TooManyAttempts(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            ApiError::PasswordChangeRequired => (StatusCode::FORBIDDEN, "password_change_required"),
            ApiError::Disabled => (StatusCode::FORBIDDEN, "disabled"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ApiError::Damaged => (StatusCode::INTERNAL_SERVER_ERROR, "file_damaged"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        let body = Json(ErrorBody {
            error: ErrorDetail {
                code,
                message: self.to_string(),
            },
        });
        let mut response = (status, body).into_response();
        let retry_after = match &self {
            ApiError::Busy => Some(1),
            ApiError::TooManyAttempts(secs) => Some(*secs),
            _ => None,
        };
        if let Some(secs) = retry_after
            && let Ok(value) = axum::http::HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<crate::auth::PasswordWorkError> for ApiError {
    fn from(e: crate::auth::PasswordWorkError) -> Self {
        match e {
            crate::auth::PasswordWorkError::Busy => ApiError::Busy,
            crate::auth::PasswordWorkError::Failed(detail) => ApiError::Internal(detail),
        }
    }
}

impl From<ChangeError> for ApiError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::NotFound => ApiError::NotFound("conversation"),
            ChangeError::ClaimedByOther(name) => ApiError::Conflict(format!("already claimed by {name}")),
            ChangeError::UnknownUpload(id) => {
                ApiError::BadRequest("unknown_upload", format!("no upload {id:?} of yours"))
            }
            ChangeError::GiveToOther => ApiError::Forbidden(e.to_string()),
            ChangeError::Changed => ApiError::Conflict(e.to_string()),
            ChangeError::Store(e) => e.into(),
        }
    }
}

/// Rejections from axum's extractors (bad JSON, wrong content type) in our shape.
pub fn json_rejection(rejection: axum::extract::rejection::JsonRejection) -> ApiError {
    ApiError::BadRequest("bad_json", rejection.body_text())
}

/// `Query<T>` whose rejections (a missing or malformed parameter) answer in
/// the API's error shape, `bad_query`.
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::BadRequest("bad_query", rejection.body_text())),
        }
    }
}

/// `Json<T>` whose rejections answer in the API's error shape.
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}
