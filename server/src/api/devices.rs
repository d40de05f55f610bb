//! `/api/devices`: list and revoke sessions and token families, in either mode.

use app::wire::{DeviceList, Revoked};
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};

use crate::{auth::Authentication, error::Result, state::AppState};

/// `GET /api/devices`.
pub async fn list(State(state): State<AppState>, auth: Authentication) -> Result<Json<DeviceList>> {
    Ok(Json(state.devices.list(&auth).await?))
}

/// `DELETE /api/devices/{id}`: 204, or 404 if it is not the caller's.
pub async fn revoke(
    State(state): State<AppState>,
    auth: Authentication,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    state.devices.revoke(&auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/devices/revoke-others`.
pub async fn revoke_others(
    State(state): State<AppState>,
    auth: Authentication,
) -> Result<Json<Revoked>> {
    let revoked = state.devices.revoke_all(&auth, false).await?;
    Ok(Json(Revoked { revoked }))
}

/// `POST /api/devices/revoke-all`: log out everywhere, this device included.
pub async fn revoke_all(
    State(state): State<AppState>,
    auth: Authentication,
) -> Result<Json<Revoked>> {
    let revoked = state.devices.revoke_all(&auth, true).await?;
    Ok(Json(Revoked { revoked }))
}
