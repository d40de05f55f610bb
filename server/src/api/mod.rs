//! The public JSON API (`/api/...`): the contract used by curl, mobile clients and load tools.
//!
//! Handlers are thin: extract, call the service, shape the response. The UI reaches the same
//! services through server functions (see `crate::ui`).

mod accounts;
mod devices;
mod keys;
mod me;
mod notes;
pub mod oidc;
mod opaque;
mod openapi;
mod session;
pub mod token;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{FromRequest, Request, rejection::JsonRejection},
    http::{StatusCode, header},
    routing::{delete, get, post},
};
use serde::de::DeserializeOwned;

use crate::{error::ApiError, state::AppState};

/// Every JSON API route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/health", get(health))
        .route("/.well-known/jwks.json", get(keys::jwks))
        .route("/api/admin/keys", get(keys::list))
        .route("/api/admin/keys/rotate", post(keys::rotate))
        .route("/api/admin/keys/{kid}/retire", post(keys::retire))
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/auth/register", post(accounts::register))
        .route("/api/session/login", post(session::login))
        .route("/api/session/logout", post(session::logout))
        .route("/api/token/login", post(token::login))
        .route("/api/token/refresh", post(token::refresh))
        .route("/api/token/logout", post(token::logout))
        .route("/api/me", get(me::me))
        .route("/api/devices", get(devices::list))
        .route("/api/devices/{id}", delete(devices::revoke))
        .route("/api/devices/revoke-others", post(devices::revoke_others))
        .route("/api/devices/revoke-all", post(devices::revoke_all))
        .route("/api/notes", get(notes::list).post(notes::add))
        .route("/api/oidc", get(oidc::provider))
        .route("/api/oidc/start", post(oidc::start))
        .route("/api/oidc/links", get(oidc::links))
        .route("/api/token/oidc/handoff", post(oidc::handoff))
        .route(crate::oidc::CALLBACK_PATH, get(oidc::callback))
        .route("/auth/oidc/logout", get(oidc::logout))
        .route("/api/opaque/login", post(opaque::login))
        .route("/api/opaque/logout", post(opaque::logout))
        .merge(crate::lab::routes())
}

/// `GET /api/health`: no auth, no store access — the ceiling for benchmarks.
async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `axum::Json`, but malformed bodies get the API's JSON error instead of plain text.
#[derive(Debug, FromRequest)]
#[from_request(via(Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType,
            too_large if too_large.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::TooLarge,
            JsonRejection::JsonDataError(err) => Self::Validation(vec![app::wire::FieldError {
                field: "body".into(),
                message: err.body_text(),
            }]),
            other => Self::BadRequest(other.body_text()),
        }
    }
}

/// A JSON body that may be left out entirely (then `T::default()`), e.g. the refresh body when
/// the refresh token travels in its cookie.
#[derive(Debug)]
pub struct OptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        if body.is_empty() {
            return Ok(Self(T::default()));
        }
        if !json {
            return Err(ApiError::UnsupportedMediaType);
        }
        serde_json::from_slice(&body)
            .map(Self)
            .map_err(|e| ApiError::BadRequest(format!("the JSON body is not valid: {e}")))
    }
}
