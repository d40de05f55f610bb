//! Form pieces: labelled fields with their errors, and error boxes.

use leptos::prelude::*;

use crate::error::AppError;

/// A labelled input with its validation message.
#[component]
pub fn Field(
    /// Visible label.
    label: &'static str,
    /// The input's `name` (and the field name the server reports errors for).
    name: &'static str,
    /// `text`, `password`...
    #[prop(default = "text")]
    kind: &'static str,
    /// `autocomplete` hint.
    #[prop(default = "off")]
    autocomplete: &'static str,
    /// The current error, if any.
    #[prop(into)]
    error: Signal<Option<AppError>>,
    /// Optional two-way binding (client-side forms).
    #[prop(optional)]
    value: Option<RwSignal<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let message = move || error.get().and_then(|e| e.field(name));
    // Server-action forms read the input themselves; client-side forms bind it to a signal.
    let value = value.unwrap_or_else(|| RwSignal::new(String::new()));
    let input = view! {
        <input
            id=id.clone()
            name=name
            type=kind
            autocomplete=autocomplete
            required
            aria-invalid=move || message().is_some().to_string()
            bind:value=value
        />
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            {input}
            {move || {
                message()
                    .map(|m| {
                        view! {
                            <p class="field-error" data-testid=format!("error-{name}")>
                                {m}
                            </p>
                        }
                    })
            }}
        </div>
    }
}

/// The form-level error (anything not tied to one field).
#[component]
pub fn FormError(
    /// The current error, if any.
    #[prop(into)]
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|e| e.fields.is_empty())
            .map(|e| view! { <ErrorBox error=e /> })
    }
}

/// An error message with its HTTP status and code.
#[component]
pub fn ErrorBox(
    /// What went wrong.
    error: AppError,
) -> impl IntoView {
    view! {
        <div class="error-box" role="alert" data-testid="error">
            <strong>{error.message.clone()}</strong>
            <span class="muted">{format!(" ({} {})", error.status, error.error)}</span>
        </div>
    }
}
