//! Notes: a small thing a logged-in user can write, so the lab's "state-changing request"
//! (CSRF, scopes, the compare view) has a visible, harmless effect.

use std::sync::Arc;

use app::wire::{Note, NoteList};

use crate::{
    auth::{Authentication, scope},
    clock::Clock,
    error::ApiError,
    store::NoteStore,
};

/// Longest note, in characters.
pub const MAX_CHARS: usize = 500;
/// How many notes a list shows.
const LATEST: i64 = 50;

/// Reading and writing notes.
#[derive(Clone)]
pub struct Notes {
    store: Arc<dyn NoteStore>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Notes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notes")
    }
}

impl Notes {
    /// The service over its store.
    pub fn new(store: Arc<dyn NoteStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// The caller's latest notes (needs the `read` scope).
    pub async fn list(&self, auth: &Authentication) -> Result<NoteList, ApiError> {
        auth.require_scope(scope::READ)?;
        let notes = self
            .store
            .latest_notes(auth.user().id, LATEST)
            .await?
            .into_iter()
            .map(|n| Note {
                id: n.id,
                text: n.text,
                via: n.via.as_str().to_owned(),
                created_at: n.created_at,
            })
            .collect();
        Ok(NoteList { notes })
    }

    /// Writes a note as the caller (needs the `write` scope).
    pub async fn add(&self, auth: &Authentication, text: &str) -> Result<Note, ApiError> {
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
        let now = self.clock.now_ms();
        let via = auth.mode();
        let id = self.store.add_note(auth.user().id, text, via, now).await?;
        Ok(Note {
            id,
            text: text.to_owned(),
            via: via.as_str().to_owned(),
            created_at: now,
        })
    }
}
