//! `POST /api/opaque/login`, `POST /api/opaque/logout`: the opaque database token mode.

use app::wire::{Credentials, OpaqueToken};
use axum::{Json, extract::State, http::StatusCode};

use super::ApiJson;
use crate::{
    auth::Authentication,
    client::ClientInfo,
    error::{ApiError, Result},
    state::AppState,
};

/// 200 `{token, token_type: "Token"}`.
pub async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Json<OpaqueToken>> {
    Ok(Json(state.opaque.login(&client, creds).await?))
}

/// 204: the token's row is deleted; it is dead at once.
pub async fn logout(State(state): State<AppState>, auth: Authentication) -> Result<StatusCode> {
    let Authentication::Opaque(token) = &auth else {
        return Err(ApiError::InvalidToken(
            "this endpoint takes an opaque token (`Authorization: Token <token>`)",
        ));
    };
    state.opaque.revoke(token.user.id, &token.handle).await?;
    Ok(StatusCode::NO_CONTENT)
}
