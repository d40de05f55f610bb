//! Form pieces: labelled fields with their errors, and error boxes.
//!
//! Errors arrive in English, from the server (`AppError::message`, `FieldError::message`). In
//! English they are shown exactly as sent; in another language the well-known ones are shown
//! translated (see [`error_text`] and [`field_text`]), anything else as sent.

use leptos::prelude::*;

use crate::{error::AppError, i18n::*, wire::limits};

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
    let locale = crate::locale::use_locale();
    let id = format!("field-{name}");
    let message = move || {
        error
            .get()
            .and_then(|e| e.field(name))
            .map(|m| field_text(locale, &m))
    };
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
    let locale = crate::locale::use_locale();
    let text = error_text(locale, &error);
    view! {
        <div class="error-box" role="alert" data-testid="error">
            <strong>{text}</strong>
            <span class="muted">{format!(" ({} {})", error.status, error.error)}</span>
        </div>
    }
}

/// The server's messages that wrap a detail: (code, text before it, text after it), as
/// `server::error::ApiError::message` and `AppError::from_server_fn_error` write them.
const DETAILED: [(&str, &str, &str); 9] = [
    (
        "invalid_session",
        "Your session is not valid (",
        "). Please log in again.",
    ),
    ("invalid_token", "The access token was refused: ", "."),
    ("invalid_grant", "The refresh token was refused: ", "."),
    ("csrf_rejected", "Cross-site request refused: ", "."),
    ("forbidden", "Not allowed: ", "."),
    (
        "insufficient_scope",
        "This token's scope does not include ",
        ".",
    ),
    ("conflict", "Conflict: ", "."),
    ("bad_request", "Bad request: ", ""),
    ("bad_request", "The request was malformed: ", ""),
];

/// The message of `err` for the reader, in `locale`.
///
/// English: the server's own message, unchanged. Other languages: the translation for a
/// well-known `error` code, plus (in brackets, as the server wrote it) the detail the message
/// carried, if any; an unknown code keeps the server's message.
pub fn error_text(locale: Locale, err: &AppError) -> String {
    if locale == Locale::en {
        return err.message.clone();
    }
    let text = match err.error.as_str() {
        "invalid_input" => td_string!(locale, auth.errors.invalid_input),
        "username_taken" => td_string!(locale, auth.errors.username_taken),
        "invalid_credentials" => td_string!(locale, auth.errors.invalid_credentials),
        "unauthenticated" => td_string!(locale, auth.errors.unauthenticated),
        "invalid_session" => td_string!(locale, auth.errors.invalid_session),
        "invalid_token" => td_string!(locale, auth.errors.invalid_token),
        "invalid_grant" => td_string!(locale, auth.errors.invalid_grant),
        "csrf_rejected" => td_string!(locale, auth.errors.csrf_rejected),
        "forbidden" => td_string!(locale, auth.errors.forbidden),
        "insufficient_scope" => td_string!(locale, auth.errors.insufficient_scope),
        "too_many_attempts" => return too_many_attempts(locale, err),
        "not_found" => td_string!(locale, auth.errors.not_found),
        "conflict" => td_string!(locale, auth.errors.conflict),
        "bad_request" => td_string!(locale, auth.errors.bad_request),
        "unsupported_media_type" => td_string!(locale, auth.errors.unsupported_media_type),
        "too_large" => td_string!(locale, auth.errors.too_large),
        "provider_not_configured" => td_string!(locale, auth.errors.provider_not_configured),
        "provider_unavailable" => td_string!(locale, auth.errors.provider_unavailable),
        "busy" => td_string!(locale, auth.errors.busy),
        "internal" => td_string!(locale, auth.errors.internal),
        "network" => td_string!(locale, auth.errors.network),
        "bad_response" => td_string!(locale, auth.errors.bad_response),
        "popup_blocked" => td_string!(locale, auth.errors.popup_blocked),
        "lab_off" => td_string!(locale, auth.errors.lab_off),
        "timeout" => td_string!(locale, auth.errors.timeout),
        "browser_only" => td_string!(locale, auth.errors.browser_only),
        _ => return err.message.clone(),
    };
    if !DETAILED.iter().any(|(code, ..)| *code == err.error) {
        return text.to_owned();
    }
    // The detail inside the server's sentence, or, for a sentence of another shape, all of it.
    let detail = DETAILED
        .iter()
        .filter(|(code, ..)| *code == err.error)
        .find_map(|(_, before, after)| err.message.strip_prefix(*before)?.strip_suffix(*after))
        .unwrap_or(err.message.as_str())
        .trim();
    if detail.is_empty() {
        text.to_owned()
    } else {
        format!("{text} ({detail})")
    }
}

/// `too_many_attempts`, with the wait if it is known (`Retry-After`, or the server's message).
fn too_many_attempts(locale: Locale, err: &AppError) -> String {
    let seconds = err.retry_after.or_else(|| {
        err.message
            .strip_prefix("Too many failed attempts. Try again in ")?
            .strip_suffix(" seconds.")?
            .parse()
            .ok()
    });
    match seconds {
        Some(seconds) => td_string!(locale, auth.errors.too_many_attempts)
            .replace("{seconds}", &seconds.to_string()),
        None => td_string!(locale, auth.errors.too_many_attempts_later).to_owned(),
    }
}

/// A field's validation message (see `wire::validate_login` and `wire::validate_registration`)
/// for the reader, in `locale`: English as sent; otherwise the translation of a known message,
/// found by comparing it with the English text of each (with its limits filled in).
///
/// The translations hold `{min}` and `{max}` for the limits (filled in here, not by the locale
/// macros).
pub fn field_text(locale: Locale, message: &str) -> String {
    use limits::{PASSWORD_MAX, PASSWORD_MIN, USERNAME_MAX, USERNAME_MIN};

    if locale == Locale::en {
        return message.to_owned();
    }
    let fill = |template: &str, min: usize, max: usize| {
        template
            .replace("{min}", &min.to_string())
            .replace("{max}", &max.to_string())
    };
    let known = [
        (
            td_string!(Locale::en, auth.validation.login_username),
            td_string!(locale, auth.validation.login_username),
            1,
            USERNAME_MAX,
        ),
        (
            td_string!(Locale::en, auth.validation.login_password),
            td_string!(locale, auth.validation.login_password),
            1,
            PASSWORD_MAX,
        ),
        (
            td_string!(Locale::en, auth.validation.username_far_too_long),
            td_string!(locale, auth.validation.username_far_too_long),
            0,
            0,
        ),
        (
            td_string!(Locale::en, auth.validation.password_far_too_long),
            td_string!(locale, auth.validation.password_far_too_long),
            0,
            0,
        ),
        (
            td_string!(Locale::en, auth.validation.username_length),
            td_string!(locale, auth.validation.username_length),
            USERNAME_MIN,
            USERNAME_MAX,
        ),
        (
            td_string!(Locale::en, auth.validation.username_characters),
            td_string!(locale, auth.validation.username_characters),
            0,
            0,
        ),
        (
            td_string!(Locale::en, auth.validation.password_too_short),
            td_string!(locale, auth.validation.password_too_short),
            PASSWORD_MIN,
            PASSWORD_MAX,
        ),
        (
            td_string!(Locale::en, auth.validation.password_too_long),
            td_string!(locale, auth.validation.password_too_long),
            PASSWORD_MIN,
            PASSWORD_MAX,
        ),
    ];
    known
        .iter()
        .find(|(english, _, min, max)| fill(english, *min, *max) == message)
        .map_or_else(
            || message.to_owned(),
            |(_, translated, min, max)| fill(translated, *min, *max),
        )
}
