//! `POST /api/session/login`, `POST /api/session/logout`.

use app::wire::{Credentials, UserView};
use axum::{Json, extract::State, http::StatusCode};
use tower_sessions::Session;

use super::ApiJson;
use crate::{
    client::ClientInfo,
    error::Result,
    state::AppState,
    store::{AuthMode, LoginMethod},
};

/// 200 `{id, username}` and a fresh session cookie.
pub async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    session: Session,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Json<UserView>> {
    let user = state
        .accounts
        .check_password(&client, creds, AuthMode::Session)
        .await?;
    let lifetimes = state.sessions.configured();
    state
        .sessions
        .login(&session, &user, &client, lifetimes, LoginMethod::Password)
        .await?;
    Ok(Json(user.into()))
}

/// 204: the server-side session is gone and the cookie is cleared.
pub async fn logout(State(state): State<AppState>, session: Session) -> Result<StatusCode> {
    state.sessions.logout(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}
