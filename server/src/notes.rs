//! Notes: a small thing a logged-in user can write, so the lab's "state-changing request"
//! (CSRF, scopes, the compare view) has a visible, harmless effect.

use app::wire::{Note, NoteList};

use crate::{
    auth::{Authentication, scope},
    error::ApiError,
    state::AppState,
};

/// Longest note, in characters.
pub const MAX_CHARS: usize = 500;

/// The caller's latest notes (needs the `read` scope).
pub async fn list(state: &AppState, auth: &Authentication) -> Result<NoteList, ApiError> {
    auth.require_scope(scope::READ)?;
    let notes = sqlx::query_as::<_, (i64, String, String, i64)>(
        "select id, text, via, created_at from notes where user_id = ? order by id desc limit 50",
    )
    .bind(auth.user().id)
    .fetch_all(&state.db)
    .await?
    .into_iter()
    .map(|(id, text, via, created_at)| Note {
        id,
        text,
        via,
        created_at,
    })
    .collect();
    Ok(NoteList { notes })
}

/// Writes a note as the caller (needs the `write` scope).
pub async fn add(state: &AppState, auth: &Authentication, text: &str) -> Result<Note, ApiError> {
    auth.require_scope(scope::WRITE)?;
    // The limit counts what was sent; blank notes are refused; surrounding space is not kept.
    let chars = text.chars().count();
    let text = text.trim();
    if text.is_empty() || chars > MAX_CHARS {
        return Err(ApiError::Validation(vec![app::wire::FieldError {
            field: "text".into(),
            message: format!("A note has 1 to {MAX_CHARS} characters."),
        }]));
    }
    let now = state.clock.now_ms();
    let via = auth.mode();
    let id = sqlx::query_scalar::<_, i64>(
        "insert into notes (user_id, text, via, created_at) values (?, ?, ?, ?) returning id",
    )
    .bind(auth.user().id)
    .bind(text)
    .bind(via)
    .bind(now)
    .fetch_one(&state.db)
    .await?;
    Ok(Note {
        id,
        text: text.to_owned(),
        via: via.to_owned(),
        created_at: now,
    })
}
