//! `POST /api/session/login`, `POST /api/session/logout`.

use app::wire::{Credentials, UserView};
use axum::{Json, extract::State, http::StatusCode};
use tower_sessions::Session;

use super::ApiJson;
use crate::{
    accounts::check_password, auth::session, client::ClientInfo, error::Result, state::AppState,
};

/// 200 `{id, username}` and a fresh session cookie.
pub async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    session: Session,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Json<UserView>> {
    let user = check_password(&state, &client, creds, "session").await?;
    let lifetimes = session::Lifetimes::configured(&state.config.session);
    session::login(&state, &session, &user, &client, lifetimes).await?;
    Ok(Json(user.into()))
}

/// 204: the server-side session is gone and the cookie is cleared.
pub async fn logout(State(state): State<AppState>, session: Session) -> Result<StatusCode> {
    session::logout(&state, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}
