//! Signing keys: the public JWKS every verifier reads, and the lab's rotation endpoints.
//!
//! `GET /.well-known/jwks.json` is public and cacheable (`max-age` = [`JWKS_MAX_AGE`]); it
//! lists the live Ed25519 public keys with their ids, and nothing under HS256 (a symmetric key
//! is never published). Rotation and retirement are operator actions; authlab exposes them
//! only where the lab is on (development), like its other switches. After either, this server
//! reloads its keys and tells the others (`store::events`).

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::{
    auth::keys::{JWKS_MAX_AGE, Retirement},
    error::ApiError,
    lab::require_switches,
    state::AppState,
    store::events::Event,
};

/// `GET /.well-known/jwks.json`.
pub async fn jwks(State(state): State<AppState>) -> Response {
    let mut res = Json(state.access_tokens.jwks()).into_response();
    let cache = format!("public, max-age={}", JWKS_MAX_AGE.as_secs());
    if let Ok(value) = HeaderValue::from_str(&cache) {
        res.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    res
}

/// The key ids with their lifecycle, and which one signs.
async fn listing(state: &AppState) -> Result<serde_json::Value, ApiError> {
    let rows = state.signing_keys.rows().await?;
    let (_, signing) = state.access_tokens.key_ids();
    Ok(json!({
        "algorithm": state.config.token.algorithm.name(),
        "signing": signing,
        "keys": rows.iter().map(|r| json!({
            "kid": r.kid, "created_at": r.created_at, "retired_at": r.retired_at,
        })).collect::<Vec<_>>(),
    }))
}

/// `GET /api/admin/keys` (lab only).
pub async fn list(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    require_switches(&state)?;
    Ok(Json(listing(&state).await?))
}

/// `POST /api/admin/keys/rotate` (lab only): a new key signs from now on; older ones verify
/// until retired. 409 when `auth::keys::MAX_LIVE_KEYS` are live.
pub async fn rotate(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    require_switches(&state)?;
    let Some(kid) = state.signing_keys.rotate().await? else {
        return Err(ApiError::Conflict(
            "as many signing keys are live as the JWKS holds; retire one first",
        ));
    };
    changed(&state).await?;
    tracing::info!(kid = %kid, "signing key added");
    Ok(Json(listing(&state).await?))
}

/// `POST /api/admin/keys/{kid}/retire` (lab only): tokens signed with `kid` are refused.
pub async fn retire(
    State(state): State<AppState>,
    Path(kid): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_switches(&state)?;
    match state.signing_keys.retire(&kid).await? {
        Retirement::Done => {}
        Retirement::Unknown => return Err(ApiError::NotFound),
        Retirement::LastLive => {
            return Err(ApiError::Conflict(
                "it is the only live signing key; rotate first",
            ));
        }
    }
    changed(&state).await?;
    tracing::info!(kid = %kid, "signing key retired");
    Ok(Json(listing(&state).await?))
}

/// The keys changed in the store: every other server is told whatever happens here, then
/// this one reloads.
async fn changed(state: &AppState) -> Result<(), ApiError> {
    state.store.events.publish(&Event::KeysChanged).await;
    state.access_tokens.reload().await?;
    Ok(())
}
