//! The server's one error type: each variant knows its HTTP status and JSON body.
//!
//! Client errors say exactly what was wrong. A 5xx says nothing beyond "internal": its details
//! are logged once, here, at the boundary.

use app::{
    error::AppError,
    wire::{ErrorBody, FieldError},
};
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

/// `Result` with [`ApiError`] as the default error.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// The realm named in every `WWW-Authenticate` challenge.
const REALM: &str = "authlab";

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Input failed validation (422), with every field's problem.
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    /// The username is already registered (409).
    #[error("username taken")]
    UsernameTaken,
    /// Wrong username or password: one answer for both, so it reveals nothing (401).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// No credential was sent (401, bare challenge).
    #[error("not authenticated")]
    Unauthenticated,
    /// A session cookie was sent but names no live session (401).
    #[error("session is not valid: {0}")]
    InvalidSession(&'static str),
    /// A bearer token was sent and refused (401, `error="invalid_token"`).
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),
    /// A refresh token was refused: unknown, expired, reused or revoked (401).
    #[error("refresh token refused: {0}")]
    InvalidGrant(&'static str),
    /// A cross-site state-changing request (403).
    #[error("cross-site request refused: {0}")]
    Csrf(&'static str),
    /// Authenticated but not allowed (403).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The token's scope does not include what this endpoint needs (403, RFC 6750 §3.1).
    #[error("insufficient scope: {0} needed")]
    InsufficientScope(&'static str),
    /// Too many failures; try again after the given seconds (429).
    #[error("too many attempts")]
    Throttled {
        /// Seconds until the next attempt is allowed.
        retry_after: u64,
    },
    /// Nothing here by that id (404).
    #[error("not found")]
    NotFound,
    /// The request conflicts with the current state (409).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The request is malformed (400).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The body's content type is not accepted here (415).
    #[error("unsupported content type")]
    UnsupportedMediaType,
    /// The body is larger than any valid request (413); refused before it is read.
    #[error("body too large")]
    TooLarge,
    /// Sign-in with a provider was asked for, but none is configured (404).
    #[error("no identity provider is configured")]
    ProviderNotConfigured,
    /// The identity provider could not be reached or answered nonsense (502).
    #[error("identity provider unavailable: {0}")]
    ProviderUnavailable(String),
    /// The password-hashing queue is full, or the store is busy (503).
    #[error("server busy")]
    Busy,
    /// Anything unexpected: a database failure, a bug (500). Logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// The HTTP status for this error.
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UsernameTaken => StatusCode::CONFLICT,
            Self::InvalidCredentials
            | Self::Unauthenticated
            | Self::InvalidSession(_)
            | Self::InvalidToken(_)
            | Self::InvalidGrant(_) => StatusCode::UNAUTHORIZED,
            Self::Csrf(_) | Self::Forbidden(_) | Self::InsufficientScope(_) => {
                StatusCode::FORBIDDEN
            }
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::ProviderNotConfigured => StatusCode::NOT_FOUND,
            Self::ProviderUnavailable(_) => StatusCode::BAD_GATEWAY,
            Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code in the body's `error` field.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "invalid_input",
            Self::UsernameTaken => "username_taken",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidSession(_) => "invalid_session",
            Self::InvalidToken(_) => "invalid_token",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::Csrf(_) => "csrf_rejected",
            Self::Forbidden(_) => "forbidden",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::Throttled { .. } => "too_many_attempts",
            Self::NotFound => "not_found",
            Self::Conflict(_) => "conflict",
            Self::BadRequest(_) => "bad_request",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::TooLarge => "too_large",
            Self::ProviderNotConfigured => "provider_not_configured",
            Self::ProviderUnavailable(_) => "provider_unavailable",
            Self::Busy => "busy",
            Self::Internal(_) => "internal",
        }
    }

    /// The human-readable message in the body.
    pub fn message(&self) -> String {
        match self {
            Self::Validation(_) => "Some fields are not valid.".into(),
            Self::UsernameTaken => "That username is already taken.".into(),
            Self::InvalidCredentials => "Wrong username or password.".into(),
            Self::Unauthenticated => "You are not logged in.".into(),
            Self::InvalidSession(why) => {
                format!("Your session is not valid ({why}). Please log in again.")
            }
            Self::InvalidToken(why) => format!("The access token was refused: {why}."),
            Self::InvalidGrant(why) => format!("The refresh token was refused: {why}."),
            Self::Csrf(why) => format!("Cross-site request refused: {why}."),
            Self::Forbidden(why) => format!("Not allowed: {why}."),
            Self::InsufficientScope(scope) => {
                format!("This token's scope does not include `{scope}`.")
            }
            Self::Throttled { retry_after } => {
                format!("Too many failed attempts. Try again in {retry_after} seconds.")
            }
            Self::NotFound => "Not found.".into(),
            Self::Conflict(why) => format!("Conflict: {why}."),
            Self::BadRequest(why) => format!("Bad request: {why}"),
            Self::UnsupportedMediaType => {
                "Send the body as JSON with Content-Type: application/json.".into()
            }
            Self::TooLarge => "The request body is too large.".into(),
            Self::ProviderNotConfigured => {
                "Sign-in with an identity provider is not configured on this server.".into()
            }
            Self::ProviderUnavailable(_) => {
                "The identity provider could not be reached. Try again in a moment.".into()
            }
            Self::Busy => "The server is busy. Try again in a moment.".into(),
            Self::Internal(_) => "Something went wrong on the server.".into(),
        }
    }

    /// The `WWW-Authenticate` challenge for a 401 (RFC 6750 §3).
    pub fn challenge(&self) -> Option<String> {
        match self {
            Self::InvalidToken(why) => Some(format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{why}\""
            )),
            Self::InsufficientScope(scope) => Some(format!(
                "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{scope}\""
            )),
            _ if self.status_code() == StatusCode::UNAUTHORIZED => {
                Some(format!("Bearer realm=\"{REALM}\""))
            }
            _ => None,
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Throttled { retry_after } => Some(*retry_after),
            Self::Busy => Some(1),
            _ => None,
        }
    }

    fn fields(&self) -> Vec<FieldError> {
        match self {
            Self::Validation(fields) => fields.clone(),
            _ => Vec::new(),
        }
    }

    /// Logs a server-side failure once, with its whole cause chain.
    pub(crate) fn log_if_internal(&self) {
        match self {
            Self::Internal(err) => tracing::error!(error = format!("{err:#}"), "request failed"),
            Self::ProviderUnavailable(why) => {
                tracing::warn!(reason = %why, "identity provider unavailable");
            }
            _ => {}
        }
    }

    /// Converts to the error the server functions return (logging a 5xx once).
    pub fn into_app_error(self) -> AppError {
        self.log_if_internal();
        let err = AppError {
            status: self.status_code().as_u16(),
            error: self.code().into(),
            message: self.message(),
            fields: self.fields(),
            retry_after: self.retry_after(),
            challenge: self.challenge(),
        };
        err.apply_to_response();
        err
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log_if_internal();
        let body = ErrorBody {
            error: self.code().into(),
            message: self.message(),
            fields: self.fields(),
        };
        let mut response = (self.status_code(), Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(value) = self
            .challenge()
            .and_then(|c| HeaderValue::from_str(&c).ok())
        {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let Some(secs) = self.retry_after() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        // Errors about credentials must never be cached by a proxy.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(err: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match err {
            // The store could not take the work now: the client may retry (503, Retry-After).
            StoreError::Busy => Self::Busy,
            // Callers that expect a conflict (a taken username) match it themselves.
            StoreError::Conflict => Self::Internal(anyhow::anyhow!("unexpected unique conflict")),
            StoreError::Backend(err) => Self::Internal(err.context("store")),
        }
    }
}

impl From<tower_sessions::session::Error> for ApiError {
    fn from(err: tower_sessions::session::Error) -> Self {
        Self::Internal(anyhow::Error::new(err).context("session store"))
    }
}
