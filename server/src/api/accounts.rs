//! `POST /api/auth/register`.

use app::wire::{Credentials, UserView};
use axum::{Json, extract::State, http::StatusCode};

use super::ApiJson;
use crate::{client::ClientInfo, error::Result, state::AppState};

/// 201 `{id, username}`; 409 taken; 422 invalid.
pub async fn register(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<(StatusCode, Json<UserView>)> {
    let user = state.accounts.register(&client, creds).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}
