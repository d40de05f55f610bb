//! `GET /api/me`.

use app::wire::Me;
use axum::Json;

use crate::auth::Authentication;

/// 200 `{user, auth: {mode, ...}}` with a session cookie or a bearer token; 401 otherwise.
pub async fn me(auth: Authentication) -> Json<Me> {
    Json(auth.me())
}
