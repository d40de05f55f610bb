//! `GET /api/notes`, `POST /api/notes`: a write endpoint for scopes and CSRF demonstrations.

use app::wire::{NewNote, Note, NoteList};
use axum::{Json, extract::State, http::StatusCode};

use super::ApiJson;
use crate::{auth::Authentication, error::Result, state::AppState};

/// The caller's latest notes.
pub async fn list(State(state): State<AppState>, auth: Authentication) -> Result<Json<NoteList>> {
    Ok(Json(state.notes.list(&auth).await?))
}

/// 201 with the note; 403 `insufficient_scope` for a read-only token.
pub async fn add(
    State(state): State<AppState>,
    auth: Authentication,
    ApiJson(body): ApiJson<NewNote>,
) -> Result<(StatusCode, Json<Note>)> {
    let note = state.notes.add(&auth, &body.text).await?;
    Ok((StatusCode::CREATED, Json(note)))
}
